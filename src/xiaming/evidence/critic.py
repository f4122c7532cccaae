"""The critic: how a whole name reads to a reader of the novels, judged from evidence, evaluated with numpy.

Two logistic regressions over the same inputs, fitted offline by `scripts/build_critic.py` to blind
reviewers' 1-5 ratings of the shipped models' own output (critic/ratings/, with the question asked):

- the *failure* head predicts the chance that a reader rates the name 1-2 (gibberish, glued, a
  fragment, an awkward given name, an odd character);
- the *appeal* head predicts the chance of a 4-5 (could be in the book).

Their inputs are the lexicon features (`features.FEATURES`, standardised: is the given name a name
people bore, a word, a phrase of verse; how often each character begins or ends a historical given
name; ...) and one indicator per character of the given name, for the characters the ratings saw
often enough (`chars`). The characters carry what no lexicon table does: which characters readers
find odd in a wuxia name (伟, 建, 琳: modern; 神, 老: titles) and which give it the genre's flavour
(寒, 澄, 啸, 溟, 鸿). With them the failure head's cross-validated AUC rose from 0.79 to 0.82 and
the appeal head's from 0.67 to 0.71 (4,600 ratings).

`rate(names)` is the chance a name is passable, P(not rated 1-2), shown by `--json`, `score` and
`explain`; `appeal(names)` the chance of a 4-5. As evidence for the sampler a name's log weight is
`strength * (log P(passable) + flavour * log P(4-5))`: at strength 0 the critic is off; at 4 a name the
critic gives even odds of passing is kept 16 times less often than a name it is sure of. `flavour`
(stored in the file) says how much the appeal head counts beside the failure head.

A critic may also carry length ratios (`lengths`): for each name length, the list's share of
personal names of that length over its share among the model's own proposals
(`scripts/build_critic.py`). The sampler keeps each length in proportion to its share of the pool
times that ratio (`steer.resample`), so the lengths printed follow the list's: the models made 4-7% of
four-character names, often glued ones, against the lists' 2-5%. With `plain_long`, names of four or
more characters that do not start with a compound surname are a stratum of their own at that weight
(`steer.Steering.stratum`): the lists' ratio times how often the critic expects such proposals to
pass against all of them. The lists' names of that kind are monks and foreigners (玄贞道人, 苏克萨哈),
the models' mostly glued (天如道韶), and readers marked 73-86% of them 1-2.

A critic is a small safetensors file beside a model's checkpoint (`jinyong.safetensors` ->
`jinyong.critic.safetensors`); a model without one behaves as before. Loading checks the format,
the feature list against this version's FEATURES, the character table, shapes, and that every
number is finite, and refuses a damaged or mismatched file with one line naming it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import CheckpointError, ConfigError
from ..tablefile import check_array, check_number, read_arrays, read_metadata, save_arrays, table_error
from .features import FEATURES, name_features, split_name
from .lexicon import Lexicon, shipped_lexicon

FORMAT = "xiaming-critic"
VERSION = 2  # 2: an appeal head and per-character weights (version 1 had the failure head's features only)
MAX_HEADER = 1 << 16  # a critic's header is a few kB (the character table is the largest part)
MAX_CHARS = 8000  # the character table's longest allowed length
MAX_STRENGTH = 10.0
MAX_FLAVOUR = 4.0
FLOOR = 1e-6  # the smallest probability the log weight sees
MAX_LENGTHS = 16  # the length table's longest allowed size
MAX_RATIO = 20.0  # a length ratio lies in [1/MAX_RATIO, MAX_RATIO]


@dataclass(frozen=True)
class Contribution:
    """How far one piece of evidence moved a name's odds of reading as passable from the average name's."""

    feature: str  # a lexicon feature, or "char X" for a character of the given name
    value: float  # the feature's raw value for this name (1 for a character)
    effect: float  # change in the log-odds of reading as passable


@dataclass(frozen=True)
class Head:
    """One logistic regression: log-odds = standardised features @ weights + the given name's character
    weights + intercept."""

    weights: np.ndarray  # (F,) per standard deviation of each feature
    char_weights: np.ndarray  # (C,) one per character of the critic's table
    intercept: float

    def logit(self, z: np.ndarray, present: np.ndarray) -> np.ndarray:
        """Log-odds for standardised features `z` (N, F) and character indicators `present` (N, C)."""
        return z @ self.weights + present @ self.char_weights + self.intercept


@dataclass(frozen=True)
class Critic:
    """A fitted critic (see the module docstring)."""

    mean: np.ndarray  # (F,) feature means of the fitting data
    scale: np.ndarray  # (F,) feature standard deviations (> 0)
    chars: str  # the characters with their own weight (given-name characters the ratings saw often)
    failure: Head  # log-odds of "rated 1-2"
    appeal: Head | None = None  # log-odds of "rated 4-5" (None: not fitted)
    flavour: float = 0.0  # weight of log P(4-5) beside log P(passable) in the sampler's log weight
    strength: float = 2.0  # default strength when sampling
    pool: int = 4  # candidates drawn per name kept
    about: str = ""  # what it was fitted on, for `models` and the README
    path: str = ""
    lexicon: Lexicon | None = None  # None: the shipped lexicon
    lengths: tuple[float, ...] | None = None  # per name length (1, 2, ..., the last for longer names): the
    # list's share of personal names of that length over the share among the model's proposals; the
    # sampler keeps each length in that proportion to its share of the pool (None: the pool's mix)
    plain_long: float | None = None  # the weight of the names of 4+ characters without a compound
    # surname, kept apart from their length (`steer.Steering.stratum`); None: they count with their length

    def _lexicon(self) -> Lexicon:
        return self.lexicon if self.lexicon is not None else shipped_lexicon()

    def _inputs(self, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(standardised features, given-name character indicators) of `names`."""
        lex = self._lexicon()
        z = (name_features(lex, names) - self.mean) / self.scale
        return z, char_indicators(lex, names, self.chars)

    def rate(self, names: Sequence[str]) -> np.ndarray:
        """The chance that a reader finds each name passable: P(not rated 1-2), in [0, 1]."""
        return 1.0 - _sigmoid(self.failure.logit(*self._inputs(names)))

    def appeal_of(self, names: Sequence[str]) -> np.ndarray | None:
        """The chance that a reader rates each name 4-5 (None when the critic has no appeal head)."""
        if self.appeal is None:
            return None
        return _sigmoid(self.appeal.logit(*self._inputs(names)))

    def log_weights(self, names: Sequence[str], strength: float = 1.0) -> np.ndarray:
        """Log importance weight of each name: strength * (log P(passable) + flavour * log P(4-5)) (at
        strength 1, the sampler's `Evidence` protocol; the sampler multiplies by the strength in force)."""
        z, present = self._inputs(names)
        total = np.log(np.maximum(1.0 - _sigmoid(self.failure.logit(z, present)), FLOOR))
        if self.appeal is not None and self.flavour > 0:
            total += self.flavour * np.log(np.maximum(_sigmoid(self.appeal.logit(z, present)), FLOOR))
        return strength * total

    def explain(self, name: str, top: int = 4) -> list[Contribution]:
        """The evidence that moved `name`'s odds of reading as passable most, largest effect first
        (positive: towards passable): lexicon features and the given name's own characters."""
        z, present = self._inputs([name])
        effects = [
            (FEATURES[i], float(z[0, i] * self.scale[i] + self.mean[i]), float(-z[0, i] * self.failure.weights[i]))
            for i in range(len(FEATURES))
        ]
        effects += [
            (f"char {self.chars[j]}", 1.0, float(-self.failure.char_weights[j])) for j in np.flatnonzero(present[0])
        ]
        effects.sort(key=lambda item: -abs(item[2]))
        return [Contribution(f, v, e) for f, v, e in effects[:top] if abs(e) >= 0.01]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def char_indicators(lexicon: Lexicon, names: Sequence[str], chars: str) -> np.ndarray:
    """(N, len(chars)) 0/1: which of `chars` each name's given name holds (each character once)."""
    index = {c: j for j, c in enumerate(chars)}
    present = np.zeros((len(names), len(chars)))
    for i, name in enumerate(names):
        for c in set(split_name(lexicon, name)[1]):
            j = index.get(c)
            if j is not None:
                present[i, j] = 1.0
    return present


def check_strength(value: float) -> float:
    """A critic strength in [0, MAX_STRENGTH] (ConfigError naming the field otherwise)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not np.isfinite(value)
        or not 0 <= value <= MAX_STRENGTH
    ):
        raise ConfigError("critic_strength", value, f"must be a number from 0 (off) to {MAX_STRENGTH:g}")
    return float(value)


def critic_path(checkpoint: str | Path) -> Path:
    """Where the critic of a checkpoint lives: beside it, `NAME.critic.safetensors`."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(f"{checkpoint.stem}.critic.safetensors")


def _fail(path: Path, field: str, reason: str) -> CheckpointError:
    return table_error(path, "critic", field, reason)


def _check_array(path: Path, arrays: dict[str, np.ndarray], key: str, size: int) -> np.ndarray:
    """arrays[key] as float64, refused unless it is finite float32 of shape (size,)."""
    return check_array(path, "critic", arrays, key, size)


def _check_chars(path: Path, chars: object) -> str:
    """The character table: a string of distinct characters, at most MAX_CHARS of them."""
    if not isinstance(chars, str) or len(chars) > MAX_CHARS or len(set(chars)) != len(chars):
        raise _fail(path, "chars", f"must be a string of at most {MAX_CHARS} distinct characters")
    return chars


def _check_lengths(path: Path, lengths: object) -> tuple[float, ...] | None:
    """The length ratios as stored (None: none): 1 to MAX_LENGTHS numbers in [1/MAX_RATIO, MAX_RATIO]."""
    if lengths is None:
        return None
    if not isinstance(lengths, list) or not 1 <= len(lengths) <= MAX_LENGTHS:
        raise _fail(path, "lengths", f"must be a list of 1 to {MAX_LENGTHS} numbers")
    for i, value in enumerate(lengths):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(path, f"lengths[{i}]", f"{str(value)[:20]!r} is not a number")
        _check_number(path, f"lengths[{i}]", float(value), 1.0 / MAX_RATIO, MAX_RATIO)
    return tuple(float(v) for v in lengths)


def _check_number(path: Path, field: str, value: float, low: float, high: float) -> float:
    return check_number(path, "critic", field, value, low, high)


def load_critic(path: str | Path) -> Critic:
    """Read and validate a critic file (CheckpointError naming the file and field when it is bad)."""
    path = Path(path)
    meta = read_metadata(path, "critic", FORMAT, MAX_HEADER)
    try:
        version = int(meta.get("version", 1))
        features = json.loads(meta["features"])
        chars = json.loads(meta.get("chars", '""'))
        strength = check_strength(float(meta.get("strength", 2.0)))
        pool = int(meta.get("pool", 4))
        intercept = float(meta["intercept"])
        appeal_intercept = float(meta["appeal_intercept"]) if "appeal_intercept" in meta else None
        flavour = float(meta.get("flavour", 0.0))
        lengths = json.loads(meta["lengths"]) if "lengths" in meta else None
        plain_long = json.loads(meta["plain_long"]) if "plain_long" in meta else None
    except (KeyError, ValueError, TypeError, RecursionError, ConfigError) as exc:
        raise _fail(path, "metadata", f"unreadable ({exc})") from None
    if version != VERSION:
        raise _fail(
            path,
            "version",
            f"{version} is not this version's critic format {VERSION} (rebuild it with scripts/build_critic.py)",
        )
    if features != list(FEATURES):
        raise _fail(path, "features", "do not match this version's features (rebuild it with scripts/build_critic.py)")
    chars = _check_chars(path, chars)
    if not 1 <= pool <= 64:
        raise _fail(path, "pool", f"{pool} is not between 1 and 64")
    _check_number(path, "intercept", intercept, -1e3, 1e3)
    _check_number(path, "flavour", flavour, 0.0, MAX_FLAVOUR)
    lengths = _check_lengths(path, lengths)
    if plain_long is not None:
        if lengths is None:
            raise _fail(path, "plain_long", "comes with the length ratios ('lengths'), which this file lacks")
        if isinstance(plain_long, bool) or not isinstance(plain_long, (int, float)):
            raise _fail(path, "plain_long", f"{str(plain_long)[:20]!r} is not a number")
        plain_long = _check_number(path, "plain_long", float(plain_long), 1.0 / MAX_RATIO, MAX_RATIO)
    arrays = read_arrays(path, "critic")
    f, c = len(FEATURES), len(chars)
    mean, scale = _check_array(path, arrays, "mean", f), _check_array(path, arrays, "scale", f)
    if (scale <= 0).any():
        raise _fail(path, "scale", "must be positive")
    failure = Head(_check_array(path, arrays, "weights", f), _check_array(path, arrays, "char_weights", c), intercept)
    appeal = None
    if appeal_intercept is not None:
        _check_number(path, "appeal_intercept", appeal_intercept, -1e3, 1e3)
        appeal = Head(
            _check_array(path, arrays, "appeal_weights", f),
            _check_array(path, arrays, "appeal_char_weights", c),
            appeal_intercept,
        )
    return Critic(
        mean,
        scale,
        chars,
        failure,
        appeal,
        flavour if appeal is not None else 0.0,
        strength,
        pool,
        str(meta.get("about", "")),
        str(path),
        lengths=lengths,
        plain_long=plain_long,
    )


def save_critic(critic: Critic, path: str | Path) -> None:
    """Write `critic` atomically (temporary file, then rename)."""
    meta = {
        "format": FORMAT,
        "version": str(VERSION),
        "features": json.dumps(list(FEATURES)),
        "chars": json.dumps(critic.chars, ensure_ascii=False),
        "intercept": repr(float(critic.failure.intercept)),
        "flavour": repr(float(critic.flavour)),
        "strength": repr(float(critic.strength)),
        "pool": str(int(critic.pool)),
        "about": critic.about,
    }
    if critic.lengths is not None:
        meta["lengths"] = json.dumps([float(x) for x in critic.lengths])
        if critic.plain_long is not None:
            meta["plain_long"] = json.dumps(float(critic.plain_long))
    arrays = {
        "mean": critic.mean,
        "scale": critic.scale,
        "weights": critic.failure.weights,
        "char_weights": critic.failure.char_weights,
    }
    if critic.appeal is not None:
        meta["appeal_intercept"] = repr(float(critic.appeal.intercept))
        arrays |= {"appeal_weights": critic.appeal.weights, "appeal_char_weights": critic.appeal.char_weights}
    save_arrays(path, {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}, meta)


def char_table(lexicon: Lexicon, names: Sequence[str], min_count: int) -> str:
    """The given-name characters seen in at least `min_count` of `names`, in code-point order."""
    counts = Counter(c for name in names for c in set(split_name(lexicon, name)[1]))
    return "".join(sorted(c for c, k in counts.items() if k >= min_count))


def fit_head(
    z: np.ndarray, present: np.ndarray, target: np.ndarray, ridge: float, char_ridge: float, iterations: int = 50
) -> Head:
    """L2-penalised logistic regression of `target` by Newton's method: features shrunk by `ridge`,
    character weights (sparse, each seen in a few names) by `char_ridge`; the intercept is not shrunk."""
    x = np.hstack([z, present, np.ones((len(z), 1))])
    penalty = np.concatenate([np.full(z.shape[1], ridge), np.full(present.shape[1], char_ridge), [0.0]])
    y = np.asarray(target, dtype=np.float64)
    w = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = _sigmoid(x @ w)
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    f = z.shape[1]
    return Head(w[:f], w[f:-1], float(w[-1]))


def fit_critic(
    names: Sequence[str],
    bad: Sequence[bool],
    good: Sequence[bool] | None = None,
    ridge: float = 10.0,
    char_ridge: float = 1.0,
    min_count: int = 3,
    lexicon: Lexicon | None = None,
    **settings,
) -> Critic:
    """Fit the failure head (`bad`: rated 1-2) and, given `good` (rated 4-5), the appeal head on the
    standardised lexicon features and the given-name characters seen in at least `min_count` of
    `names` (the build step; numpy only)."""
    lex = lexicon if lexicon is not None else shipped_lexicon()
    x = name_features(lex, names)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    chars = char_table(lex, names, min_count)
    z, present = (x - mean) / scale, char_indicators(lex, names, chars)
    failure = fit_head(z, present, np.asarray(bad), ridge, char_ridge)
    appeal = None if good is None else fit_head(z, present, np.asarray(good), ridge, char_ridge)
    return Critic(mean, scale, chars, failure, appeal, lexicon=lexicon, **settings)
