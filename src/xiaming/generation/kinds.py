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
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Sequence

from ..card import TrainingRecord
from ..data.pinyin import COMPOUND_SURNAMES
from ..errors import ConfigError

if TYPE_CHECKING:
    from .novelty import NoveltyFilter, Rejection

TITLE_MIN_EPITHETS = 3  # a title ending: at least this many epithets of the built-in lists end so ...
TITLE_EPITHETS_PER_NAME = 5  # ... and at least this many epithets per personal name that does (居士 7 : 1)
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


@lru_cache(maxsize=1)
def title_endings() -> frozenset[str]:
    """Two-character endings that the built-in lists give to epithets, not to personal names: 先生,
    夫人, 大侠, 长老, 公子, 居士 (at least `TITLE_MIN_EPITHETS` epithets and `TITLE_EPITHETS_PER_NAME`
    epithets per personal name end so; 大师 and 道人 end many personal names too and are not titles).

    A model trained with kinds still glues a title on now and then when asked for personal names
    (花孝先生, 青平居士: 0.3-0.4% of the shipped models' names), and readers mark those 2 of 5
    ("glued title")."""
    from collections import Counter

    from .. import corpora

    counts: dict[str, Counter] = {"name": Counter(), "epithet": Counter()}
    for corpus in corpora.names():
        for entry in corpora.entries(corpus):
            if len(entry.name) > 2:
                counts[entry.kind][entry.name[-2:]] += 1
    return frozenset(
        end
        for end, n in counts["epithet"].items()
        if n >= TITLE_MIN_EPITHETS and n >= TITLE_EPITHETS_PER_NAME * counts["name"][end]
    )


class PersonalFilter:
    """A novelty filter that also rejects, as rule `title`, a name ending in one of `title_endings()`:
    what a model trained with kinds is asked for under kind name is a personal name, not an epithet.
    As rule `surnames`, it rejects a name that starts with two compound surnames (上官西门, 欧阳欧阳): no
    name of the lists does, and a reader sees two surnames glued together (the shipped models make one
    in a few thousand names). With `heads` (`surnameless.other_heads` under a gender lean), it also
    rejects, as rule `head`, a two-character name starting with one of them: a monk's or a nun's name
    of the other gender."""

    def __init__(self, inner: "NoveltyFilter", heads: str = "") -> None:
        self.inner = inner
        self.mode = inner.mode
        self.endings = title_endings()
        self.heads = heads

    def check(self, name: str) -> "Rejection | None":
        """None when `name` is new under the inner filter, ends in no title, starts with no two compound
        surnames and with none of `heads` as a two-character name, else the rule broken."""
        from .novelty import Rejection

        why = self.inner.check(name)
        if why is None and len(name) > 2 and name[-2:] in self.endings:
            return Rejection("title", name[-2:])
        if why is None and name[:2] in COMPOUND_SURNAMES and name[2:4] in COMPOUND_SURNAMES:
            return Rejection("surnames", name[:4])
        if why is None and len(name) == 2 and name[0] in self.heads and name[1] != name[0]:
            return Rejection("head", name[0])
        return why
