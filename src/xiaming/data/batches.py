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


def length_batches(
    vocab: Vocab, names: list[str], logits: int, max_rows: int = 512
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """`encode_names` of `names` in batches for evaluation: sorted by length, each batch padded to its own
    longest name and holding at most `max_rows` names and about `logits` logits (rows x positions x
    vocabulary; one name alone may pass it). Memory then follows the names' own lengths: one long name
    costs its own row, not a row that long for every name, as one padded tensor would."""
    order = sorted(names, key=len)
    batches, start = [], 0
    while start < len(order):
        end = start + 1
        while (
            end < len(order)
            and end - start < max_rows
            and (end - start + 1) * (len(order[end]) + 1) * vocab.size <= logits
        ):
            end += 1
        batches.append(encode_names(vocab, order[start:end]))
        start = end
    return batches


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
