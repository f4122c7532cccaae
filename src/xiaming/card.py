"""The model card: what a checkpoint says about itself, typed and checked once when it is read.

`ModelCard` is the kind, the config, the vocabulary, the training record and the sampling defaults
of one checkpoint; `TrainingRecord` is its training record with a typed field for everything a
caller reads (the longest training name, the source list, the name-kind markers, ...) and one
default each, for a record that does not say. Every field is checked in `TrainingRecord.from_dict`
(a CheckpointError naming `train.<field>` otherwise), so a caller reads `record.max_name_len` and
never `.get("max_name_len", 12)`.

The record keeps every key it was stored with (`stored`: the data statistics, the configs, what a
build script added), so a checkpoint written back from it loses nothing; it reads as that mapping
too (`record["step"]`, `{**record, "stage": ...}`).

This module sits beside `validate.py`, which builds the card while checking a file's header, and
`checkpoint.py`, which hands it out (and re-exports both classes); it imports neither, so both can
use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .data.vocab import Vocab
from .errors import CheckpointError
from .limits import LONGEST_NAME

DEFAULT_MAX_NAME_LEN = 12  # the longest training name of a record that does not say (a typical Chinese name's room)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return _is_int(value) and value >= 0


def _is_number(value: Any) -> bool:
    return value is None or _is_int(value) or (isinstance(value, float) and not math.isnan(value))


def _holdout(value: Any) -> bool:
    names = value.get("names", []) if isinstance(value, dict) else None
    return value is None or (isinstance(names, list) and all(isinstance(n, str) for n in names))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# key -> (test, what it must be): the keys of a stored training record that callers read
RULES: dict[str, tuple[Any, str]] = {
    "source": (lambda v: isinstance(v, str), "a string"),
    "init": (lambda v: v is None or isinstance(v, str), "a string or null"),
    "kind": (lambda v: isinstance(v, str), "a string"),
    "max_name_len": (lambda v: _is_int(v) and 1 <= v <= LONGEST_NAME, f"an integer in 1..{LONGEST_NAME}"),
    "parameters": (_is_count, "a count (an integer of at least 0)"),
    "step": (_is_count, "a count (an integer of at least 0)"),
    "best_val_loss": (_is_number, "a number"),
    "best_val_bits": (_is_number, "a number"),
    "data": (
        lambda v: isinstance(v, dict) and (v.get("names") is None or _is_count(v["names"])),
        "an object whose names is a count",
    ),
    "model_config": (lambda v: isinstance(v, dict), "an object"),
    "train_config": (lambda v: isinstance(v, dict), "an object"),
    "panel_holdout": (_holdout, "an object whose names are a list of strings"),
    "kinds": (
        lambda v: (
            isinstance(v, dict) and all(isinstance(k, str) and isinstance(m, str) and len(m) == 1 for k, m in v.items())
        ),
        "an object of kind names and one-character markers",
    ),
}


@dataclass(frozen=True)
class TrainingRecord(Mapping):
    """A checkpoint's training record: the fields callers read, typed, each with its one default."""

    source: str = ""  # the names file, or builtin:<corpus> for a built-in list ("" when unknown)
    init: str | None = None  # the checkpoint it was fine-tuned from (None: trained from scratch)
    max_name_len: int = DEFAULT_MAX_NAME_LEN  # the longest training name: the length cap generation uses by default
    parameters: int = 0  # the model's parameter count (0 when unknown)
    step: int = 0  # the optimizer step of these weights
    best_val_loss: float | None = None  # the best validation loss of the run, nats per character
    best_val_bits: float | None = None  # the same in bits per character
    names: int | None = None  # how many distinct training names (data.names)
    kinds: Mapping[str, str] = field(default_factory=dict)  # {name kind: its one-character marker} (kinds.py)
    panel_holdout: tuple[str, ...] = ()  # names held out of training for the reading panels
    stored: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)  # every key as stored

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any] | None, path: str | Path = "", vocab: Vocab | None = None
    ) -> "TrainingRecord":
        """The record stored as `data` (None: an empty one), each field callers read checked; a
        CheckpointError naming `train.<field>` of the file at `path` otherwise. With `vocab`, each
        name-kind marker must be one of its characters."""
        if isinstance(data, TrainingRecord):
            return data
        data = dict(data or {})
        for key, (test, words) in RULES.items():
            if key in data and not test(data[key]):
                raise _fail(path, f"train.{key}", f"{_short(data[key])} must be {words}")
        kinds = dict(data.get("kinds") or {})
        for kind, mark in kinds.items():
            if vocab is not None and mark not in vocab:
                raise _fail(path, f"train.kinds.{kind}", f"marker {mark!r} is not in the vocabulary")
        held = data.get("panel_holdout") or {}
        present = {
            key: data[key]
            for key in ("source", "init", "max_name_len", "parameters", "step", "best_val_loss", "best_val_bits")
            if data.get(key) is not None
        }
        return cls(
            **present,
            names=(data.get("data") or {}).get("names"),
            kinds=kinds,
            panel_holdout=tuple(held.get("names", [])),
            stored=data,
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as it is stored (every key, those no field reads included)."""
        return dict(self.stored)

    @property
    def builtin_corpus(self) -> str:
        """The built-in corpus it was trained on ("" for any other list)."""
        return self.source.split(":", 1)[1] if self.source.startswith("builtin:") else ""

    # the stored record, read as a mapping: for writing it back and for code that reads stored keys
    def __getitem__(self, key: str) -> Any:
        return self.stored[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.stored)

    def __len__(self) -> int:
        return len(self.stored)


@dataclass(frozen=True)
class Blend:
    """A shipped model this one is blended with when it generates: every next-character distribution is
    (1 - weight) times its own plus weight times that model's (`Namer.load`; docs/realism-panels.md, "The blend").

    The shipped wuxia models are blended with `base`, the model of 250k historical names: a list of
    1,500 names cannot say which characters go together in a name, the base can."""

    model: str  # a shipped model's name (pretrained.SHIPPED), never a path: the file must come with the package
    weight: float  # the other model's share, in (0, 1)

    def to_dict(self) -> dict[str, Any]:
        """As the checkpoint's `blend` metadata stores it."""
        return {"model": self.model, "weight": self.weight}


@dataclass(frozen=True)
class ModelCard:
    """What a checkpoint's metadata says, every field checked (its tensors are checked against it)."""

    kind: str  # registry name, e.g. "lstm"
    config: Any  # the kind's frozen config dataclass
    vocab: Vocab
    train: TrainingRecord
    sampling: Mapping[str, Any] = field(default_factory=dict)  # sampling defaults (SampleOptions fields), checked
    blend: Blend | None = None  # the model it generates blended with, if any


def _fail(path: str | Path, field_name: str, reason: str) -> CheckpointError:
    """validate.fail's one-line error, written here so that validate.py can import this module."""
    return CheckpointError(f"{path}: damaged {field_name}: {reason}", path=str(path), field=field_name)
