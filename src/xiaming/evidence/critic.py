"""The critic: does a whole name read as passable, judged from lexicon evidence, evaluated with numpy.

A logistic regression over `features.FEATURES` (standardised), fitted offline by
`scripts/build_critic.py` to blind reviewers' 1-5 ratings of the shipped models' own output
(critic/ratings/, with the question asked): it predicts the chance that a reader rates the name
1-2 (gibberish, glued, a fragment, an awkward given name). The ratings showed why it aims at the
failures: the reviewers' 1-2 marks are predictable from the lexicon (cross-validated AUC 0.76)
but their 4-5 marks, the flavour of a good name, are not (0.61), and a critic that pushed every
name towards the predicted best rating made names plainer ("passable, generic"), keeping fewer of
the names readers liked.

`rate(names)` is the chance a name is passable, P(not rated 1-2), shown by `--json`, `score` and
`explain`. As evidence for the sampler its log weight is `strength * log P(passable)`: at strength 0
the critic is off; at 4 a name the critic gives even odds is kept 16 times less often than a name
it is sure of, and names it finds passable are kept about as the model proposed them.

A critic is a small safetensors file beside a model's checkpoint (`jinyong.safetensors` ->
`jinyong.critic.safetensors`); a model without one behaves as before. Loading checks the format,
the feature list against this version's FEATURES, shapes, and that every number is finite, and
refuses a damaged or mismatched file with one line naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import CheckpointError, ConfigError
from ..tablefile import read_arrays, read_metadata, save_arrays, table_error
from .features import FEATURES, name_features
from .lexicon import Lexicon, shipped_lexicon

FORMAT = "xiaming-critic"
MAX_HEADER = 1 << 16  # a critic's header is a few kB
MAX_STRENGTH = 10.0
FLOOR = 1e-6  # the smallest P(passable) the log weight sees


@dataclass(frozen=True)
class Contribution:
    """How far one feature moved a name's predicted rating from the average name's."""

    feature: str
    value: float  # the feature's raw value for this name
    effect: float  # change in the log-odds of reading as passable


@dataclass(frozen=True)
class Critic:
    """A fitted critic (see the module docstring)."""

    mean: np.ndarray  # (F,) feature means of the fitting data
    scale: np.ndarray  # (F,) feature standard deviations (> 0)
    weights: np.ndarray  # (F,) log-odds of "rated 1-2" per standard deviation
    intercept: float  # log-odds of "rated 1-2" for a name with average features
    strength: float = 2.0  # default strength when sampling
    pool: int = 4  # candidates drawn per name kept
    about: str = ""  # what it was fitted on, for `models` and the README
    path: str = ""
    lexicon: Lexicon | None = None  # None: the shipped lexicon

    def _lexicon(self) -> Lexicon:
        return self.lexicon if self.lexicon is not None else shipped_lexicon()

    def rate(self, names: Sequence[str]) -> np.ndarray:
        """The chance that a reader finds each name passable: P(not rated 1-2), in [0, 1]."""
        x = name_features(self._lexicon(), names)
        logit_bad = ((x - self.mean) / self.scale) @ self.weights + self.intercept
        return 1.0 / (1.0 + np.exp(np.clip(logit_bad, -50, 50)))

    def log_weights(self, names: Sequence[str], strength: float = 1.0) -> np.ndarray:
        """Log importance weight of each name: strength * log P(passable) (at 1, the sampler's `Evidence`
        protocol; the sampler multiplies by the strength in force)."""
        return strength * np.log(np.maximum(self.rate(names), FLOOR))

    def explain(self, name: str, top: int = 4) -> list[Contribution]:
        """The features that moved `name`'s odds of reading as passable most, largest effect first
        (positive: towards passable)."""
        x = name_features(self._lexicon(), [name])[0]
        effects = -(x - self.mean) / self.scale * self.weights
        order = np.argsort(-np.abs(effects))[:top]
        return [Contribution(FEATURES[i], float(x[i]), float(effects[i])) for i in order if abs(effects[i]) >= 0.01]


def check_strength(value: float) -> float:
    """A critic strength in [0, MAX_STRENGTH] (ConfigError naming the field otherwise)."""
    if not isinstance(value, (int, float)) or not np.isfinite(value) or not 0 <= value <= MAX_STRENGTH:
        raise ConfigError(f"--critic-strength {value!r}: must be a number from 0 (off) to {MAX_STRENGTH:g}")
    return float(value)


def critic_path(checkpoint: str | Path) -> Path:
    """Where the critic of a checkpoint lives: beside it, `NAME.critic.safetensors`."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(f"{checkpoint.stem}.critic.safetensors")


def _fail(path: Path, field: str, reason: str) -> CheckpointError:
    return table_error(path, "critic", field, reason)


def load_critic(path: str | Path) -> Critic:
    """Read and validate a critic file (CheckpointError naming the file and field when it is bad)."""
    path = Path(path)
    meta = read_metadata(path, "critic", FORMAT, MAX_HEADER)
    try:
        features = json.loads(meta["features"])
        strength = check_strength(float(meta.get("strength", 2.0)))
        pool = int(meta.get("pool", 4))
        intercept = float(meta["intercept"])
    except (KeyError, ValueError, TypeError, RecursionError, ConfigError) as exc:
        raise _fail(path, "metadata", f"unreadable ({exc})") from None
    if features != list(FEATURES):
        raise _fail(path, "features", "do not match this version's features (rebuild it with scripts/build_critic.py)")
    arrays = read_arrays(path, "critic")
    if not 1 <= pool <= 64:
        raise _fail(path, "pool", f"{pool} is not between 1 and 64")
    if not np.isfinite(intercept):
        raise _fail(path, "intercept", "is not finite")
    for key in ("mean", "scale", "weights"):
        array = arrays.get(key)
        if array is None or array.dtype != np.float32 or array.shape != (len(FEATURES),):
            raise _fail(path, key, f"expected float32 of shape ({len(FEATURES)},)")
        if not np.isfinite(array).all():
            raise _fail(path, key, "holds non-finite numbers")
    if (arrays["scale"] <= 0).any():
        raise _fail(path, "scale", "must be positive")
    return Critic(arrays["mean"].astype(np.float64), arrays["scale"].astype(np.float64),
                  arrays["weights"].astype(np.float64), intercept, strength, pool, str(meta.get("about", "")), str(path))


def save_critic(critic: Critic, path: str | Path) -> None:
    """Write `critic` atomically (temporary file, then rename)."""
    meta = {"format": FORMAT, "features": json.dumps(list(FEATURES)), "intercept": repr(float(critic.intercept)),
            "strength": repr(float(critic.strength)), "pool": str(int(critic.pool)), "about": critic.about}
    save_arrays(path, {k: np.asarray(getattr(critic, k), dtype=np.float32) for k in ("mean", "scale", "weights")}, meta)


def fit_critic(names: Sequence[str], bad: Sequence[bool], ridge: float = 10.0, lexicon: Lexicon | None = None,
               iterations: int = 50, **settings) -> Critic:
    """L2-penalised logistic regression of `bad` (rated 1-2) on the standardised features of `names`,
    by Newton's method (the build step; numpy only)."""
    lex = lexicon if lexicon is not None else shipped_lexicon()
    x = name_features(lex, names)
    y = np.asarray(bad, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])  # (N, F + 1), the last column the intercept
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], ridge)
    penalty[-1] = 0.0  # the intercept is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -50, 50)))
        gradient = z.T @ (p - y) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return Critic(mean, scale, w[:-1], float(w[-1]), lexicon=lexicon, **settings)
