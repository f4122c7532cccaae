"""Turning names into padded id tensors for training and scoring.

A name of n characters becomes the input `[BOUNDARY, c1, ..., cn]` and the target
`[c1, ..., cn, BOUNDARY]`: the model predicts every character and the end of the name. Rows are
right-padded; padded targets are -1 so the loss ignores them.
"""

from __future__ import annotations

import torch

from .vocab import BOUNDARY, N_SPECIAL, UNKNOWN, Vocab

PAD_TARGET = -1


def encode_names(vocab: Vocab, names: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets), both (N, T) with T = longest name + 1."""
    T = max(len(n) for n in names) + 1
    x = torch.full((len(names), T), BOUNDARY, dtype=torch.long)
    y = torch.full((len(names), T), PAD_TARGET, dtype=torch.long)
    for i, name in enumerate(names):
        ids = torch.tensor(vocab.encode(name), dtype=torch.long)
        n = len(ids)
        x[i, 1 : n + 1] = ids
        y[i, :n] = ids
        y[i, n] = BOUNDARY
    return x, y


def crop(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop the columns that are padding in every row of a batch."""
    T = int((y != PAD_TARGET).sum(dim=1).max())
    return x[:, :T], y[:, :T]


def once_seen_ids(y: torch.Tensor) -> torch.Tensor:
    """Character ids that occur exactly once among the targets `y`."""
    ids, counts = y[y >= N_SPECIAL].unique(return_counts=True)
    return ids[counts == 1]


def hide_targets(x: torch.Tensor, y: torch.Tensor, hide: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Show the target positions `hide` (N, T) as UNKNOWN, and the same characters where they are inputs."""
    x = x.clone()
    x[:, 1:] = x[:, 1:].masked_fill(hide[:, :-1], UNKNOWN)  # input t + 1 is target t
    return x, y.masked_fill(hide, UNKNOWN)
