"""Name kinds: personal names and epithets, learned by one model and asked for separately.

The built-in lists mix personal names (令狐冲) with epithets (南海鳄神, 金毛狮王); a model trained on
the mixture blends the two ("火敌婆", "四鬼宗"). The kind column of the corpora is taught to the
model by a marker character: each epithet is written with `EPITHET_MARK` (a private-use code
point, never in a real name) in front during training, personal names without it. At generation:

- `name` (the default): the marker is banned at the first generated position, so the model
  continues as it does for personal names;
- `epithet`: the marker is fed as a hidden prefix before the user's prefix (and banned as the
  first generated character), and stripped from the output;
- `any`: neither, so names come in the list's own mix; a marker the model generates is not shown
  (markers are not printed, see `vocab.Vocab.display`), though it counts towards `--max-len`.

A checkpoint trained this way records `{"kinds": {"epithet": MARK}}` in its training metadata;
`kind_spec` turns a requested kind into the hidden prefix and the banned first characters that
the generation object applies. Models without that record know one kind: `any` and `name` ask
nothing of them, `epithet` is a ConfigError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from ..card import TrainingRecord
from ..errors import ConfigError

EPITHET_MARK = "\ue000"  # private-use code point: marks an epithet during training, never shown (vocab.MARKERS)
KINDS = ("name", "epithet", "any")  # what `--kind` accepts
DEFAULT_KIND = "name"
METADATA_KEY = "kinds"  # training-metadata key: {kind: marker} for the marked kinds


@dataclass(frozen=True)
class KindSpec:
    """What generation does for one kind."""

    kind: str
    hidden_prefix: str  # fed before the user's prefix and stripped from every output
    banned_first: str  # characters that may not be generated first (after any prefix)


def markers(train_info: dict | None) -> dict[str, str]:
    """{kind: marker} recorded in a checkpoint's training metadata (empty: a model of one kind)."""
    value = TrainingRecord.from_dict(train_info).kinds
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def metadata() -> dict[str, dict[str, str]]:
    """The training-metadata entry of a model trained on `encode`d names."""
    return {METADATA_KEY: {"epithet": EPITHET_MARK}}


def kind_spec(kind: str | None, train_info: dict | None) -> KindSpec:
    """The hidden prefix and banned first characters for `kind` (None: the default, `name`)."""
    kind = DEFAULT_KIND if kind is None else kind
    if kind not in KINDS:
        raise ConfigError("kind", kind, f"must be one of {', '.join(KINDS)}")
    marks = markers(train_info)
    if kind == "any" or not marks:
        if kind == "epithet":
            raise ConfigError(
                "kind",
                kind,
                "this model was not trained with name kinds (the shipped wuxia models are); use {kind} any",
                refs=("kind",),
            )
        return KindSpec(kind, "", "")
    # no marker may come first: a second marker after the hidden one would make an empty name
    return KindSpec(kind, marks.get(kind, ""), "".join(marks.values()))


def kind_settings(kind: str | None, train_info: dict | None) -> dict[str, str]:
    """The `SampleOptions` fields (hidden_prefix, ban_first) that ask a model for `kind`."""
    spec = kind_spec(kind, train_info)
    return {"hidden_prefix": spec.hidden_prefix, "ban_first": spec.banned_first}


def describe(hidden_prefix: str, ban_first: str, train_info: dict | None) -> str:
    """Which kind options with these fields ask for, in words ('' for a model of one kind)."""
    marks = markers(train_info)
    if not marks:
        return ""
    for kind, mark in marks.items():
        if hidden_prefix.startswith(mark):
            return f"kind {kind}"
    return "kind name" if ban_first and set(marks.values()) <= set(ban_first) else "kind any"


def encode(entries: Iterable[tuple[str, str]]) -> list[str]:
    """Training strings for (name, kind) pairs: an epithet gets the marker in front. A name listed
    as both kinds (in different works) is kept once, as a personal name."""
    out: dict[str, None] = {}
    kinds: dict[str, str] = {}
    for name, kind in entries:
        if kind == "name" or name not in kinds:
            kinds[name] = kind
    for name, kind in kinds.items():
        out[EPITHET_MARK + name if kind == "epithet" else name] = None
    return list(out)


def strip(name: str) -> str:
    """A generated or training string without its kind marker."""
    return name[1:] if name.startswith(EPITHET_MARK) else name


def strip_all(names: Sequence[str]) -> list[str]:
    """`strip` over a list, order kept."""
    return [strip(n) for n in names]


def corpus_entries(corpus: str) -> list[tuple[str, str]]:
    """(name, kind) pairs of a built-in corpus, in file order."""
    from .. import corpora

    return [(e.name, e.kind) for e in corpora.entries(corpus)]


def mark_checkpoint(path, names: Sequence[str] | None = None) -> None:
    """Rewrite a checkpoint trained on `encode`d names so generation knows its kinds: the kinds
    record goes into its training metadata and its name list (used for novelty and percentiles)
    becomes the visible names, markers stripped (`names`, when given, replaces it: e.g. the whole
    list when part of it was held out of training)."""
    from ..checkpoint import load_checkpoint, save_checkpoint

    ckpt = load_checkpoint(path)
    visible = list(dict.fromkeys(strip_all(ckpt.names if names is None else names)))
    save_checkpoint(path, ckpt.model, ckpt.kind, ckpt.vocab, {**ckpt.train, **metadata()}, visible)
