"""Steering: evidence that reweights the model's own proposals, keeping every rule and the variety.

`Steering` holds the evidence in force with a strength each (the critic; a gender lean; any object
with `log_weights(names)`), and how many proposals to draw per name kept (`pool`). The namer draws
`pool * n` distinct candidates that already meet every constraint and the novelty rule, then keeps
`n` of them by sampling without replacement in proportion to exp(sum of strength * log weight)
(`resample`: Gumbel top-k, the without-replacement form of sampling-importance-resampling; Deng et
al. 2020, residual energy-based models; Azadi et al. 2019, discriminator rejection sampling). So
the names follow the model's distribution reweighted by the evidence: a name the evidence likes is
kept more often, none is kept always, and at strength 0 the output is the model's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from ..data.pinyin import split_surname

PLAIN_LONG = 0  # the stratum of names of LONG or more characters that do not start with a compound surname
LONG = 4


class Evidence(Protocol):
    """Per-name evidence: a log weight per name at strength 1."""

    def log_weights(self, names: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Steering:
    """The evidence in force and the proposals drawn per name kept (see the module docstring)."""

    evidence: tuple[tuple[str, Evidence, float], ...] = ()  # (label, evidence, strength > 0)
    pool: int = 1  # proposals per name kept
    length_weights: tuple[float, ...] = ()  # each length's share of the pool times this
    # (entry L-1 for names of L characters, the last for longer ones; empty: the pool's mix as it is)
    plain_long_weight: float | None = None  # with it, names of LONG or more characters that do not start
    # with a compound surname are a stratum of their own (PLAIN_LONG) kept at this weight (None: by length)

    def length_weight(self, length: int) -> float:
        """How much names of `length` characters count beside their share of the pool (1: as they are);
        `length` PLAIN_LONG is the stratum of long names without a compound surname."""
        if length == PLAIN_LONG and self.plain_long_weight is not None:
            return self.plain_long_weight
        if not self.length_weights:
            return 1.0
        return self.length_weights[min(max(length, 1), len(self.length_weights)) - 1]

    def stratum(self, name: str) -> int:
        """The stratum `name` is kept in: its length, or PLAIN_LONG for a name of LONG or more characters
        without a compound surname when that stratum has a weight of its own."""
        return PLAIN_LONG if self.plain_long_weight is not None and is_plain_long(name) else len(name)

    @property
    def active(self) -> bool:
        return self.pool > 1 and bool(self.evidence)

    def log_weights(self, names: Sequence[str]) -> np.ndarray:
        """Sum over the evidence of strength * log weight, per name."""
        total = np.zeros(len(names))
        for _, evidence, strength in self.evidence:
            total += strength * np.asarray(evidence.log_weights(names), dtype=np.float64)
        return total

    def describe(self) -> str:
        """One line for --verbose: which evidence, how strong, how many proposals."""
        if not self.active:
            return "steering: off"
        parts = ", ".join(f"{label} {strength:g}" for label, _, strength in self.evidence)
        return f"steering: {parts} (one name kept of {self.pool} proposals)"


def is_plain_long(name: str) -> bool:
    """Whether `name` has LONG or more characters and does not start with a compound surname. The lists'
    names of that kind are monks and foreigners (玄贞道人, 苏克萨哈); a model's are mostly glued (天如道韶)."""
    return len(name) >= LONG and len(split_surname(name)[0]) == 1


OFF = Steering()


def resample(
    log_weights: np.ndarray,
    n: int,
    rng: np.random.Generator,
    strata: np.ndarray | None = None,
    stratum_weight=None,
) -> np.ndarray:
    """Indices of `n` items drawn without replacement with probability proportional to exp(log_weights)
    (Gumbel top-k). With `strata` (one label per item, e.g. the name's length), each stratum keeps
    its share of the pool (largest remainders), so evidence that prefers one stratum (the critic
    likes two-character names) reweights names within it without shifting the strata's mix; with
    `stratum_weight` (a function of the label), each stratum's share is its share of the pool times
    that weight, renormalised (the stratum-level importance ratio, e.g. a list's share of
    four-character names over the model's), never more than the stratum holds."""
    keys = np.asarray(log_weights, dtype=np.float64) + rng.gumbel(size=len(log_weights))
    if strata is None:
        return np.argsort(-keys, kind="stable")[:n]
    labels, counts = np.unique(strata, return_counts=True)
    weights = np.array([1.0 if stratum_weight is None else float(stratum_weight(label)) for label in labels])
    quota = quotas(counts, weights, n)
    chosen = [
        idx[np.argsort(-keys[idx], kind="stable")[:q]]
        for label, q in zip(labels, quota)
        for idx in [np.flatnonzero(strata == label)]
    ]
    picked = np.concatenate(chosen) if chosen else np.zeros(0, dtype=int)
    return picked[np.argsort(-keys[picked], kind="stable")]


def quotas(counts: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """How many of `n` picks each stratum gets: in proportion to count * weight, by largest remainders,
    each at most its count (what a full stratum cannot take goes to the others, in the same
    proportions). More than counts.sum() picks cannot be had: that many are given."""
    counts = np.asarray(counts, dtype=np.int64)
    n = min(int(n), int(counts.sum()))
    mass = counts * np.maximum(np.asarray(weights, dtype=np.float64), 0.0)
    quota = np.zeros(len(counts), dtype=np.int64)
    left = n
    while left > 0:
        room = counts - quota
        open_ = (room > 0) & (mass > 0)
        if not open_.any():  # only weight-0 strata have room: fill them by their counts
            open_ = room > 0
            share = np.where(open_, room, 0).astype(np.float64)
        else:
            share = np.where(open_, mass, 0.0)
        exact = share * left / share.sum()
        add = np.minimum(np.floor(exact).astype(np.int64), room)
        rest = left - add.sum()
        order = np.argsort(-(exact - np.floor(exact)), kind="stable")
        for i in order:
            if rest <= 0:
                break
            if open_[i] and add[i] < room[i]:
                add[i] += 1
                rest -= 1
        if add.sum() == 0:  # rounding left nothing to add: give one to the largest open share
            add[int(np.argmax(np.where(open_, exact, -1.0)))] += 1
        quota += add
        left = n - quota.sum()
    return quota
