"""The inference contract every engine honours, numpy or torch: what the sampler, the search, the
scorer and `explain` may ask of a model, and nothing else.

An engine reads ids and gives logits as numpy arrays, float32, whatever computes them. Its state
is opaque to callers: they get it from `initial_state` or `step` and only ever hand it back, or
keep some of its rows with `select_state`. `window` says how many ids the model can read at once
(a Transformer's block size; None for recurrent and count models), which bounds name length.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

State = Any  # an engine's own recurrent state (arrays); callers never look inside
OVERFLOW = "the model's first step gives NaN or infinite scores (damaged weights)"  # why such weights are refused


@runtime_checkable
class Engine(Protocol):
    """Next-character logits over a fixed vocabulary, one character at a time or a whole batch of names."""

    vocab_size: int  # ids, the boundary and unknown ids included
    window: int | None  # the most ids read at once (None: no limit)

    def initial_state(self, batch: int) -> State:
        """The state of `batch` rows before any id is read."""
        ...

    def step(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Read one id per row: (B,) int64 -> (B, V) float32 logits for the next id, and the new state."""
        ...

    def select_state(self, state: State, rows: np.ndarray) -> State:
        """The state of rows `rows` (B',) of a batch, in that order (rows may repeat)."""
        ...

    def logits(self, ids: np.ndarray) -> np.ndarray:
        """(B, T) int64 inputs, each row starting with the boundary -> (B, T, V) float32 logits at every position."""
        ...


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities along the last axis, in float32."""
    top = logits.max(axis=-1, keepdims=True)
    shifted = logits - top
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
