"""A weighted per-step mixture of engines: several models read as one.

At every step each model reads the same characters and gives its distribution of the next one; the
mixture is their weighted average,

    p(c | c_<t) = sum_i w_i p_i(c | c_<t),

over the union of the models' vocabularies. A character model i lacks gets what model i's scorer
would give it: its unknown-character probability times the character's share of it
(`score.UnknownShares`); the mixture's own unknown id keeps the rest, for characters no model
knows. So a mixture's scores are proper probabilities, and weights 1 and 0 give the first model's
distribution exactly (a model of weight 0 is not even run). The markers of name kinds (`kinds.py`)
may only come first in a mixture: after a context one model finds unfamiliar, its guess could
otherwise put a marker inside a name, where no model ever saw one.

`MixtureEngine` honours the engine contract (`engine.protocol.Engine`), so the sampler, the
constraints, the search and the scorer work on a mixture unchanged. Two front ends build one: style
mixing (`style/mix.py`, `--style jinyong=0.7,gulong=0.3`) and a model's blend (`card.Blend`,
`Namer.load`): a shipped wuxia model generates blended with the base model of historical names.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..data.vocab import BOUNDARY, N_SPECIAL, UNKNOWN, Vocab
from ..engine.protocol import Engine, State, log_softmax
from ..errors import ConfigError
from .score import UnknownShares

FLOOR = np.float32(np.finfo(np.float32).tiny)  # the least probability a mixture gives (about e^-87)


class MixtureEngine:
    """Weighted per-step mixture of engines over the union of their vocabularies."""

    def __init__(
        self, engines: Sequence[Engine], vocabs: Sequence[Vocab], weights: Sequence[float], first_only: str = ""
    ) -> None:
        if not (len(engines) == len(vocabs) == len(weights)) or not engines:
            raise ConfigError("a mixture needs one weight and one vocabulary per model")
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ConfigError("style", list(weights), "weights must be 0 or more, and not all 0")
        total = float(sum(weights))
        self.vocab = Vocab(tuple(sorted(set().union(*(v.chars for v in vocabs)))))
        self.vocab_size = self.vocab.size
        windows = [e.window for e in engines if e.window is not None]
        self.window = min(windows) if windows else None
        self.parts: list[tuple[Engine, float, np.ndarray, np.ndarray]] = []  # (engine, log w, id map, log correction)
        for engine, vocab, w in zip(engines, vocabs, weights):
            if w > 0:
                to_model, extra = self._mapping(vocab)
                self.parts.append((engine, math.log(w / total), to_model, extra))
        # Ids that may only come first (kind markers): one model's guess after an unfamiliar context
        # could otherwise put them inside a name, where no model ever saw one. A single model is left as it is.
        ids = [self.vocab.id(c) for c in first_only if c in self.vocab]
        self.first_only = np.array(ids if len(self.parts) > 1 else [], dtype=np.int64)
        # per part, the union ids whose probability is a share of its unknown mass (the characters it
        # lacks, and the unknown id's rest), and those shares
        self.shares = [
            (np.flatnonzero(extra), np.exp(extra[extra != 0]).astype(np.float32)) for *_, extra in self.parts
        ]
        self.identity = [np.array_equal(to_model, np.arange(self.vocab_size)) for _, _, to_model, _ in self.parts]

    def _mapping(self, vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
        """For one model: the model id of each union id (UNKNOWN where it lacks the character), and
        the log factor turning its unknown probability into that character's (0 where it has it)."""
        to_model = np.array([BOUNDARY, UNKNOWN] + [vocab.id(c) for c in self.vocab.chars], dtype=np.int64)
        extra = np.zeros(self.vocab_size, dtype=np.float64)
        shares = UnknownShares(vocab)
        missing = [i + N_SPECIAL for i, c in enumerate(self.vocab.chars) if c not in vocab]
        taken = 0.0
        for i in missing:
            extra[i] = shares.log_share(self.vocab.chars[i - N_SPECIAL])
            taken += math.exp(extra[i])
        extra[UNKNOWN] = math.log(max(1.0 - taken, 1e-300))  # characters outside every vocabulary
        return to_model, extra

    def _combine(self, logits: list[np.ndarray], later: np.ndarray) -> np.ndarray:
        """log sum_i w_i p_i (..., U) from each part's logits (..., V_i), the first-only ids removed where
        `later` (...) and the rest renormalised.

        Several parts are summed as probabilities, in float32: one exp per model and one log, several
        times faster than a log-sum-exp over stacked float64 log-probabilities (a blended search spent
        most of its time there). A probability below FLOOR (e^-87, the smallest normal float32)
        counts as FLOOR: the character is as good as impossible either way, and a score stays finite
        (a marker after the first step stays impossible). One part is its log-softmax on the union
        ids, so weights 1 and 0 give the first model's distribution exactly."""
        if len(self.parts) == 1:
            _, logw, to_model, extra = self.parts[0]
            return (logw + log_softmax(logits[0].astype(np.float64))[..., to_model] + extra).astype(np.float32)
        total = None
        for (_, logw, to_model, _), (cols, shares), same, z in zip(self.parts, self.shares, self.identity, logits):
            z = np.array(z, dtype=np.float32)  # a copy, computed on in place
            z -= z.max(axis=-1, keepdims=True)
            np.exp(z, out=z)
            norm = np.float32(math.exp(logw)) / z.sum(axis=-1, keepdims=True)  # its weight over its softmax's sum
            q = z if same else z[..., to_model]
            q *= norm
            q[..., cols] *= shares  # a character it lacks: that character's share of its unknown mass
            total = q if total is None else np.add(total, q, out=total)
        np.maximum(total, FLOOR, out=total)
        if len(self.first_only) and later.any():  # a marker after the first step: impossible, not just unlikely
            total[..., self.first_only] = np.where(later[..., None], np.float32(0), total[..., self.first_only])
            total /= total.sum(axis=-1, keepdims=True)
        with np.errstate(divide="ignore"):
            return np.log(total, out=total)

    def initial_state(self, batch: int) -> State:
        return [engine.initial_state(batch) for engine, *_ in self.parts], np.zeros(batch, dtype=np.int64)

    def step(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        states, position = state
        parts, new = [], []
        for (engine, _, to_model, _), s in zip(self.parts, states):
            logits, s = engine.step(to_model[ids], s)  # (B, V_i)
            parts.append(logits)
            new.append(s)
        # position counts the ids read: after the start token alone, the next id is a name's first
        return self._combine(parts, position >= 1), (new, position + 1)  # (B, U) log-probabilities

    def select_state(self, state: State, rows: np.ndarray) -> State:
        states, position = state
        return [engine.select_state(s, rows) for (engine, *_), s in zip(self.parts, states)], position[rows]

    def logits(self, ids: np.ndarray) -> np.ndarray:
        logits = [engine.logits(to_model[ids]) for engine, _, to_model, _ in self.parts]
        later = np.broadcast_to(np.arange(ids.shape[1]) >= 1, ids.shape)
        return self._combine(logits, later)  # (B, T, U)
