"""The two kinds that were numpy from the start, behind the inference contract without torch.

`ngram`: the Kneser-Ney model of `models/ngram.py` itself (its prediction is numpy); its state is
the last `order - 1` ids of each row. `minchar`: the classic numpy RNN's forward step, in float64
as trained, from its primed state (see `models/minchar.py`); logits come out as float32.
"""

from __future__ import annotations

import numpy as np

from ..data.vocab import BOUNDARY
from ..models.minchar import PRIME_KEY
from ..models.ngram import NGramConfig, NGramLM, contexts_of
from .protocol import State


class NGramEngine:
    """`Engine` for the ngram kind."""

    def __init__(self, config: dict, arrays: dict[str, np.ndarray]) -> None:
        self.model = NGramLM(NGramConfig(**config))
        self.model.load_arrays(arrays)
        self.vocab_size = self.model.config.vocab_size
        self.window = None
        self.context = self.model.config.order - 1

    def initial_state(self, batch: int) -> State:
        return np.full((batch, self.context), BOUNDARY, dtype=np.int64)

    def select_state(self, state: State, rows: np.ndarray) -> State:
        return state[rows]

    def step(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        if self.context:
            state = np.concatenate([state[:, 1:], ids[:, None].astype(np.int64)], axis=1)  # (B, context)
        return self.model.log_probs(state), state

    def logits(self, ids: np.ndarray) -> np.ndarray:
        B, T = ids.shape
        return self.model.log_probs(contexts_of(ids.astype(np.int64), self.context).reshape(B * T, -1)).reshape(
            B, T, -1
        )


class MinCharEngine:
    """`Engine` for the minchar kind: h = tanh(Wxh x + Whh h + bh), logits = Why h + by."""

    def __init__(self, config: dict, arrays: dict[str, np.ndarray]) -> None:
        w = {k: np.asarray(arrays[k], dtype=np.float64) for k in ("Wxh", "Whh", "Why", "bh", "by")}
        self.wxh_t, self.whh_t = np.ascontiguousarray(w["Wxh"].T), np.ascontiguousarray(w["Whh"].T)  # (V, H), (H, H)
        self.why_t, self.bh, self.by = np.ascontiguousarray(w["Why"].T), w["bh"], w["by"]  # (H, V)
        self.vocab_size = int(config["vocab_size"])
        self.window = None
        h = np.zeros(len(self.bh))
        for i in np.asarray(arrays[PRIME_KEY], dtype=np.int64):  # the start state every name is read from
            h = np.tanh(self.wxh_t[i] + h @ self.whh_t + self.bh)
        self.primed = h

    def initial_state(self, batch: int) -> State:
        return np.broadcast_to(self.primed, (batch, len(self.primed))).copy()

    def select_state(self, state: State, rows: np.ndarray) -> State:
        return state[rows]

    def step(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        h = np.tanh(self.wxh_t[ids] + state @ self.whh_t + self.bh)  # (B, H)
        return (h @ self.why_t + self.by).astype(np.float32), h

    def logits(self, ids: np.ndarray) -> np.ndarray:
        B, T = ids.shape
        h = self.initial_state(B)
        out = np.empty((B, T, self.vocab_size), dtype=np.float32)
        for t in range(T):
            out[:, t], h = self.step(ids[:, t], h)
        return out
