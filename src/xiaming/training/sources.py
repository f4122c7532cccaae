"""Where a run's names come from, behind one small interface (`DataSource`): names in memory
(`ListSource`, over a `corpus.NameList`) or a file streamed in bounded memory (`stream.StreamedNames`).
A source splits its names (the same split either way) and gives the training names as rows of ids
read by index (a `BatchSource`: `TensorSource` here, `stream.PackedSource`).
"""

from __future__ import annotations

from collections.abc import Sized
from dataclasses import dataclass
from typing import Protocol

import torch

from ..data.batches import PAD_TARGET, encode_names, once_seen_ids
from ..data.corpus import NameList, split
from ..data.vocab import Vocab


@dataclass
class Split:
    """The names of a run, split: what the plan needs of them."""

    train_names: Sized  # the training names (a list; a stream gives only their number)
    val_names: list[str]
    vocab: Vocab  # the training names' characters
    longest: int  # the longest name, training or held out, in characters


class BatchSource(Protocol):
    """The training names as rows of ids, read by index."""

    def __len__(self) -> int: ...

    def targets(self, idx: torch.Tensor) -> torch.Tensor:
        """Target characters (name length + 1 for the end) of each row in `idx`, (B,) int64."""

    def rows(self, idx: torch.Tensor, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets) of the names `idx`, padded to `width` columns, each (b, width)."""

    def rare_ids(self) -> torch.Tensor:
        """Character ids that occur exactly once among the targets."""


class DataSource(Protocol):
    """Names to train on: `source` (where from), `names` (every distinct name, for the checkpoint)."""

    source: str
    names: Sized
    streamed: bool  # read in bounded memory (the kinds with their own algorithm need names in memory)

    def split(self, val_fraction: float, seed: int) -> Split:
        """`corpus.split(names, val_fraction, seed)` and what comes of it."""

    def batches(self, plan) -> BatchSource:
        """The training names of `plan` (a `plan.RunPlan`) as rows of ids in its vocabulary."""


class ListSource:
    """Names held in memory."""

    streamed = False

    def __init__(self, data: NameList) -> None:
        self.names, self.source = data.names, data.source

    def split(self, val_fraction: float, seed: int) -> Split:
        train, val = split(self.names, val_fraction, seed)
        return Split(train, val, Vocab.from_names(train), max(len(n) for n in self.names))

    def batches(self, plan) -> TensorSource:
        return TensorSource(*encode_names(plan.vocab, plan.train_names))


def as_source(data) -> DataSource:
    """`data` as a source: a `NameList` is wrapped, a `StreamedNames` is one already."""
    return ListSource(data) if isinstance(data, NameList) else data


class TensorSource:
    """Names already encoded in memory (`data.encode_names`), as a `BatchSource`."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y
        self.counts = (y != PAD_TARGET).sum(dim=1)  # (N,)

    def __len__(self) -> int:
        return len(self.x)

    def targets(self, idx: torch.Tensor) -> torch.Tensor:
        return self.counts[idx]

    def rows(self, idx: torch.Tensor, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[idx, :width], self.y[idx, :width]

    def rare_ids(self) -> torch.Tensor:
        return once_seen_ids(self.y)
