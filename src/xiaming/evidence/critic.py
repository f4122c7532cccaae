"""The critic: how real a whole name reads, predicted from lexicon evidence, evaluated with numpy.

A linear model over `features.FEATURES` (standardised), fitted offline by
`scripts/build_critic.py` to blind reviewers' 1-5 ratings of the shipped models' own output
(critic/ratings/, with the question asked). Its output is a predicted rating on that scale, so
`--json` and `score` can show it as "reads as real: 3.6 of 5". As evidence for the sampler its log
weight is `strength * (rating - 3)`: at strength 0 the critic is off, at 2 a name predicted one
point better is e^2 = 7.4 times as likely to be kept from the pool of proposals.

A critic is a small safetensors file beside a model's checkpoint (`jinyong.safetensors` ->
`jinyong.critic.safetensors`); a model without one behaves as before. Loading checks the format,
the feature list against this version's FEATURES, shapes, and that every number is finite, and
refuses a damaged or mismatched file with one line naming it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import CheckpointError, ConfigError
from .features import FEATURES, name_features
from .lexicon import Lexicon, shipped_lexicon

FORMAT = "xiaming-critic"
MAX_HEADER = 1 << 16  # a critic's header is a few kB
MIDPOINT = 3.0  # the rating scale's middle: log weight 0
MAX_STRENGTH = 10.0


@dataclass(frozen=True)
class Contribution:
    """How far one feature moved a name's predicted rating from the average name's."""

    feature: str
    value: float  # the feature's raw value for this name
    effect: float  # change in predicted rating (points)


@dataclass(frozen=True)
class Critic:
    """A fitted critic (see the module docstring)."""

    mean: np.ndarray  # (F,) feature means of the fitting data
    scale: np.ndarray  # (F,) feature standard deviations (> 0)
    weights: np.ndarray  # (F,) rating points per standard deviation
    intercept: float  # predicted rating of a name with average features
    strength: float = 2.0  # default strength when sampling
    pool: int = 8  # proposals drawn per name kept
    about: str = ""  # what it was fitted on, for `models` and the README
    path: str = ""
    lexicon: Lexicon | None = None  # None: the shipped lexicon

    def _lexicon(self) -> Lexicon:
        return self.lexicon if self.lexicon is not None else shipped_lexicon()

    def rate(self, names: Sequence[str]) -> np.ndarray:
        """Predicted 1-5 rating of each name (clipped to the scale)."""
        x = name_features(self._lexicon(), names)
        return np.clip(((x - self.mean) / self.scale) @ self.weights + self.intercept, 1.0, 5.0)

    def log_weights(self, names: Sequence[str], strength: float | None = None) -> np.ndarray:
        """Log importance weight of each name: strength * (predicted rating - 3)."""
        s = self.strength if strength is None else strength
        return s * (self.rate(names) - MIDPOINT)

    def explain(self, name: str, top: int = 4) -> list[Contribution]:
        """The features that moved `name`'s predicted rating most, largest effect first."""
        x = name_features(self._lexicon(), [name])[0]
        effects = (x - self.mean) / self.scale * self.weights
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
    return CheckpointError(f"{path}: critic field {field}: {reason}")


def load_critic(path: str | Path) -> Critic:
    """Read and validate a critic file (CheckpointError naming the file and field when it is bad)."""
    from safetensors.numpy import load_file

    path = Path(path)
    try:
        with open(path, "rb") as f:
            size = int.from_bytes(f.read(8), "little")
            if not 2 <= size <= MAX_HEADER:
                raise _fail(path, "header", f"size {size} is not a critic's")
            header = json.loads(f.read(size))
        meta = header["__metadata__"]
        features = json.loads(meta["features"])
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the critic ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError, RecursionError):
        raise _fail(path, "metadata", "missing or not valid JSON") from None
    if meta.get("format") != FORMAT:
        raise _fail(path, "format", f"{meta.get('format')!r} is not {FORMAT!r}")
    if features != list(FEATURES):
        raise _fail(path, "features", "do not match this version's features (rebuild it with scripts/build_critic.py)")
    try:
        arrays = load_file(str(path))
        strength = check_strength(float(meta.get("strength", 2.0)))
        pool = int(meta.get("pool", 8))
        intercept = float(meta["intercept"])
    except CheckpointError:
        raise
    except Exception as exc:  # safetensors' own errors, bad numbers: all one line
        raise _fail(path, "values", f"unreadable ({exc})") from None
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
    from safetensors.numpy import save_file

    path = Path(path)
    meta = {"format": FORMAT, "features": json.dumps(list(FEATURES)), "intercept": repr(float(critic.intercept)),
            "strength": repr(float(critic.strength)), "pool": str(int(critic.pool)), "about": critic.about}
    arrays = {k: np.asarray(getattr(critic, k), dtype=np.float32) for k in ("mean", "scale", "weights")}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        save_file(arrays, tmp, metadata=meta)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fit_critic(names: Sequence[str], ratings: Sequence[float], ridge: float = 10.0, lexicon: Lexicon | None = None,
               **settings) -> Critic:
    """Ridge regression of `ratings` on the standardised features of `names` (the build step)."""
    lex = lexicon if lexicon is not None else shipped_lexicon()
    x = name_features(lex, names)
    y = np.asarray(ratings, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = (x - mean) / scale
    weights = np.linalg.solve(z.T @ z + ridge * np.eye(z.shape[1]), z.T @ (y - y.mean()))
    return Critic(mean, scale, weights, float(y.mean()), lexicon=lexicon, **settings)
