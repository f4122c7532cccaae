"""Turning names into padded id tensors for training and scoring.

A name of n characters becomes the input `[BOUNDARY, c1, ..., cn]` and the target
`[c1, ..., cn, BOUNDARY]`: the model predicts every character and the end of the name. Rows are
right-padded; padded targets are -1 so the loss ignores them.
"""

from __future__ import annotations

import torch

from .vocab import BOUNDARY, Vocab

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
