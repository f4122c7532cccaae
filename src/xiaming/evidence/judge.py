"""The epithet judge: how a composed epithet reads to a reader of the novels, evaluated with numpy.

Composed epithets (`generation/epithets.py`) are a head and a role word: 南海 + 鳄神, 钟二 + 先生.
Readers mark some pairings 1-2 and others 4-5 (round epithet2 of critic/ratings: 900 raw
compositions, one reviewer per author, a reason each): 观音, 岛主 and 才子 rarely fit the heads
they are given, 老人, 上人 and 先生 nearly always do; a surname heads a title better than a
modifier; a head that is a word (南海, 冷面) reads better than one that is not (中平, 火手). The
author model, asked the same, hardly knows (its log-probability correlates with panel ratings at r
0.01-0.07).

The judge is one logistic regression for "rated 1-2", fitted offline by `scripts/build_judge.py` on
those ratings: standardised `FEATURES` of the head, and one weight per role word and per head
character that the ratings saw often enough (`tokens`). `passable(names)` is P(not rated 1-2); as
evidence for `generation/epithets.py` a name's log weight is `strength * log P(passable)`.

One judge serves the three wuxia models: `pretrained/epithets.judge.safetensors`. Loading checks
the format, version, features, token table, shapes and that every number is finite, and refuses a
damaged or mismatched file with one line naming it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import CheckpointError, ConfigError
from ..tablefile import check_array, check_number, read_arrays, read_metadata, save_arrays, table_error
from .critic import FLOOR, Contribution, Head, _sigmoid, check_strength, fit_head
from .lexicon import Lexicon, shipped_lexicon

FORMAT = "xiaming-epithet-judge"
VERSION = 1
JUDGE_PATH = Path(__file__).resolve().parent.parent / "pretrained" / "epithets.judge.safetensors"
WHAT = "epithet judge"
MAX_HEADER = 1 << 16
MAX_TOKENS = 4000
WUXIA = ("jinyong", "gulong", "liangyusheng")  # the built-in lists whose epithets are composed
RANKS = "大二三四五六七八九老"  # what may stand between a surname and its title (钟二先生, 胡大先生, 郭老夫人)
ROLE_LENGTH = 2  # a composed epithet ends in a two-character role word
FEATURES = (
    "person",  # the head is one character, or one and a rank: a surname (彭先生, 钟二先生)
    "name_head",  # the head is a personal name of the wuxia lists or one's given name (延庆, 曼青)
    "word_head",  # the head is a dictionary word (南海, 冷面)
    "length",  # characters
)


@dataclass(frozen=True)
class Judge:
    """A fitted epithet judge (see the module docstring)."""

    mean: np.ndarray  # (F,) feature means of the fitting data
    scale: np.ndarray  # (F,) feature standard deviations (> 0)
    tokens: tuple[str, ...]  # role words (two characters) and head characters (one) with a weight each
    failure: Head  # log-odds of "rated 1-2"; its char_weights are the tokens' weights
    strength: float = 4.0  # the sampler's default strength
    about: str = ""
    path: str = ""

    def passable(self, names: Sequence[str]) -> np.ndarray:
        """The chance that a reader does not rate each epithet 1-2, in [0, 1]."""
        z = (judge_features(names) - self.mean) / self.scale
        return 1.0 - _sigmoid(self.failure.logit(z, token_indicators(names, self.tokens)))

    def log_weights(self, names: Sequence[str]) -> np.ndarray:
        """Log importance weight of each epithet at strength 1: log P(passable)."""
        return np.log(np.maximum(self.passable(names), FLOOR))

    def explain(self, name: str, top: int = 4) -> list[Contribution]:
        """The evidence that moved `name`'s odds of reading as passable most, largest effect first
        (positive: towards passable): the head's features, its role word ("role 先生") and the
        characters of its head ("char 南")."""
        x = judge_features([name])[0]
        z = (x - self.mean) / self.scale
        effects = [(FEATURES[i], float(x[i]), float(-z[i] * self.failure.weights[i])) for i in range(len(FEATURES))]
        present = token_indicators([name], self.tokens)[0]
        effects += [
            (
                f"{'role' if len(self.tokens[j]) == ROLE_LENGTH else 'char'} {self.tokens[j]}",
                1.0,
                float(-self.failure.char_weights[j]),
            )
            for j in np.flatnonzero(present)
        ]
        effects.sort(key=lambda item: -abs(item[2]))
        return [Contribution(f, v, e) for f, v, e in effects[:top] if abs(e) >= 0.01]


@lru_cache(maxsize=1)
def _name_heads() -> frozenset[str]:
    """The personal names of the wuxia lists, and the given names of those of three characters or more."""
    from .. import corpora
    from ..data.pinyin import split_surname

    names = [e.name for c in WUXIA for e in corpora.entries(c) if e.kind == "name"]
    return frozenset(names) | frozenset(split_surname(n)[1] for n in names if len(n) >= 3)


def _is_person(head: str) -> bool:
    return len(head) == 1 or (len(head) == 2 and head[-1] in RANKS)


def judge_features(names: Sequence[str], lexicon: Lexicon | None = None) -> np.ndarray:
    """(N, len(FEATURES)) raw features of each epithet's head (what comes before its role word)."""
    lex = lexicon if lexicon is not None else shipped_lexicon()
    heads = [n[:-ROLE_LENGTH] for n in names]
    pairs = np.array([lex.ids(h[:2]) if len(h) == 2 else [-1, -1] for h in heads], dtype=np.int64).reshape(-1, 2)
    words = lex.word_pos(pairs[:, 0], pairs[:, 1]) >= 0
    named = _name_heads()
    return np.array(
        [[float(_is_person(h)), float(h in named), float(w), float(len(n))] for n, h, w in zip(names, heads, words)]
    ).reshape(-1, len(FEATURES))


def token_indicators(names: Sequence[str], tokens: Sequence[str]) -> np.ndarray:
    """(N, len(tokens)) 0/1: whether each epithet ends in the role word, or its head holds the character."""
    index = {t: j for j, t in enumerate(tokens)}
    present = np.zeros((len(names), len(tokens)))
    for i, name in enumerate(names):
        for token in {name[-ROLE_LENGTH:]} | set(name[:-ROLE_LENGTH]):
            j = index.get(token)
            if j is not None:
                present[i, j] = 1.0
    return present


def fit_judge(
    names: Sequence[str], bad: Sequence[bool], min_count: int = 3, ridge: float = 10.0, token_ridge: float = 1.0, **kw
) -> Judge:
    """Fit the judge to epithets and whether readers rated them 1-2 (the build step; numpy only): the
    role words and head characters seen in at least `min_count` epithets get a weight each."""
    counts = Counter(t for n in names for t in {n[-ROLE_LENGTH:]} | set(n[:-ROLE_LENGTH]))
    tokens = tuple(sorted(t for t, k in counts.items() if k >= min_count))
    x = judge_features(names)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    head = fit_head((x - mean) / scale, token_indicators(names, tokens), np.asarray(bad), ridge, token_ridge)
    return Judge(mean, scale, tokens, head, **kw)


def _fail(path: Path, field: str, reason: str) -> CheckpointError:
    return table_error(path, WHAT, field, reason)


def _check_tokens(path: Path, tokens: object) -> tuple[str, ...]:
    """The token table: distinct strings of one or two characters, at most MAX_TOKENS of them."""
    if (
        not isinstance(tokens, list)
        or len(tokens) > MAX_TOKENS
        or not all(isinstance(t, str) and 1 <= len(t) <= ROLE_LENGTH for t in tokens)
        or len(set(tokens)) != len(tokens)
    ):
        raise _fail(path, "tokens", f"must be a list of at most {MAX_TOKENS} distinct strings of 1 or 2 characters")
    return tuple(tokens)


def load_judge(path: str | Path = JUDGE_PATH) -> Judge:
    """Read and validate a judge file (CheckpointError naming the file and field when it is bad)."""
    path = Path(path)
    meta = read_metadata(path, WHAT, FORMAT, MAX_HEADER)
    try:
        version = int(meta.get("version", 0))
        features = json.loads(meta["features"])
        tokens = json.loads(meta["tokens"])
        intercept = float(meta["intercept"])
        strength = check_strength(float(meta.get("strength", 4.0)))
    except (KeyError, ValueError, TypeError, RecursionError, ConfigError) as exc:
        raise _fail(path, "metadata", f"unreadable ({exc})") from None
    if version != VERSION:
        raise _fail(path, "version", f"{version} is not this version's format {VERSION} (scripts/build_judge.py)")
    if features != list(FEATURES):
        raise _fail(path, "features", "do not match this version's features (rebuild it with scripts/build_judge.py)")
    check_number(path, WHAT, "intercept", intercept, -1e3, 1e3)
    tokens = _check_tokens(path, tokens)
    arrays = read_arrays(path, WHAT)
    f = len(FEATURES)
    mean, scale = check_array(path, WHAT, arrays, "mean", f), check_array(path, WHAT, arrays, "scale", f)
    if (scale <= 0).any():
        raise _fail(path, "scale", "must be positive")
    failure = Head(
        check_array(path, WHAT, arrays, "weights", f),
        check_array(path, WHAT, arrays, "token_weights", len(tokens)),
        intercept,
    )
    return Judge(mean, scale, tokens, failure, strength, str(meta.get("about", "")), str(path))


def save_judge(judge: Judge, path: str | Path = JUDGE_PATH) -> None:
    """Write `judge` atomically (temporary file, then rename)."""
    meta = {
        "format": FORMAT,
        "version": str(VERSION),
        "features": json.dumps(list(FEATURES)),
        "tokens": json.dumps(list(judge.tokens), ensure_ascii=False),
        "intercept": repr(float(judge.failure.intercept)),
        "strength": repr(float(judge.strength)),
        "about": judge.about,
    }
    arrays = {
        "mean": judge.mean,
        "scale": judge.scale,
        "weights": judge.failure.weights,
        "token_weights": judge.failure.char_weights,
    }
    save_arrays(path, {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}, meta)


@lru_cache(maxsize=1)
def shipped_judge() -> Judge | None:
    """The judge shipped in the package, validated (None when the file is absent)."""
    return load_judge(JUDGE_PATH) if JUDGE_PATH.is_file() else None
