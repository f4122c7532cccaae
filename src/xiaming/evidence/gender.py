"""Gender lean: whether a name's given-name characters are those of women's or men's names.

A compact table shipped inside the package (`gender.safetensors`, built by
`scripts/build_gender.py` from ngender's character counts in modern given names; credit and
license in SOURCES.md beside this file) gives each character a smoothed log-odds, female vs male:
positive where a character is relatively more frequent in women's names (蓉 +3.0, 燕 +2.6), negative
in men's (刚 -3.0, 龙 -2.4), 0 for a character the table never saw. A name's lean is the mean over
its given-name characters; the surname never counts (it is split off with `features.split_name`:
one character, or a 百家姓 compound such as 令狐).

`GenderLean(gender)` is sampling evidence (see `steer.py`): its log weight is the lean for
"female" and minus the lean for "male", so at strength s a name leaning one log-odds further the
asked way is e^s times as likely to be kept from the pool of proposals. `lean(name)` gives the
lean with each character's contribution, for `score` and `--json`.

The table is modern usage: characters whose gender shifted (靖, a man's character in the novels,
is now slightly more common in women's names) lean the modern way; benchmarks/gender.py measures
how often the lean agrees with the wuxia lists' own characters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import NO_VALUE, CheckpointError, ConfigError
from ..tablefile import read_arrays, read_metadata, save_arrays, table_error
from .features import split_name
from .lexicon import Lexicon, shipped_lexicon

GENDER_PATH = Path(__file__).with_name("gender.safetensors")
FORMAT = "xiaming-gender"
GENDERS = ("female", "male")
PRIOR = 10.0  # pseudo-names of shrinkage toward no lean (scripts/build_gender.py)
CLIP = 4.0  # largest |log-odds| a character may have
MAX_HEADER = 1 << 20  # bytes of safetensors header: the character list is ~40 kB
STRENGTH = 6.0  # default strength when generating: a name leaning 1 further is e^6 = 403 times as likely kept
# (4 before the length strata held under a gender: a three-character name needs two characters that lean
# the asked way; in blind panel 23 readers took 40 of 40 of Gu Long's women's names at 6 for women's, 32-36 at 4)
MAX_STRENGTH = 10.0
POOL = 32  # proposals drawn per name kept when a gender is asked (the base and wuxia lists are mostly men's names)


@dataclass(frozen=True)
class GenderTable:
    """Per-character lean and the counts behind it, validated (see the module docstring)."""

    chars: tuple[str, ...]  # sorted characters, id = position
    lean: np.ndarray  # (V,) float32 log-odds female vs male, in [-CLIP, CLIP]
    female: np.ndarray  # (V,) uint32 occurrences in women's given names
    male: np.ndarray  # (V,) uint32 occurrences in men's given names
    about: dict  # what it was built from (source, totals, prior)

    @property
    def index(self) -> dict[str, int]:
        return _index(self.chars)

    def char_lean(self, char: str) -> float:
        """The log-odds of one character (0 when the table does not hold it)."""
        i = self.index.get(char)
        return 0.0 if i is None else float(self.lean[i])


@lru_cache(maxsize=4)
def _index(chars: tuple[str, ...]) -> dict[str, int]:
    return {c: i for i, c in enumerate(chars)}


def _fail(path: Path, field: str, reason: str) -> CheckpointError:
    return table_error(path, "gender table", field, reason)


def load_gender_table(path: str | Path = GENDER_PATH) -> GenderTable:
    """Read and validate a gender table (CheckpointError naming the file and field when it is damaged)."""
    path = Path(path)
    meta = read_metadata(path, "gender table", FORMAT, MAX_HEADER)
    try:
        chars = tuple(json.loads(meta["chars"]))
        about = json.loads(meta.get("about", "{}"))
    except (ValueError, KeyError, TypeError, RecursionError):
        raise _fail(path, "metadata", "missing or not valid JSON") from None
    if (
        not chars
        or not all(isinstance(c, str) and len(c) == 1 for c in chars)
        or any(a >= b for a, b in zip(chars, chars[1:]))
    ):
        raise _fail(path, "chars", "must be single characters, sorted, each once")
    arrays = read_arrays(path, "gender table")
    for name, dtype in (("lean", np.float32), ("female", np.uint32), ("male", np.uint32)):
        array = arrays.get(name)
        if array is None or array.dtype != dtype or array.shape != (len(chars),):
            raise _fail(path, name, f"expected {np.dtype(dtype)} of shape ({len(chars)},)")
    if not np.isfinite(arrays["lean"]).all() or (np.abs(arrays["lean"]) > CLIP).any():
        raise _fail(path, "lean", f"holds numbers that are not finite or beyond +-{CLIP:g}")
    return GenderTable(
        chars, arrays["lean"], arrays["female"], arrays["male"], about if isinstance(about, dict) else {}
    )


@lru_cache(maxsize=1)
def shipped_gender_table() -> GenderTable:
    """The table shipped inside the package, loaded once."""
    return load_gender_table(GENDER_PATH)


def save_gender_table(
    path: str | Path, chars: list[str], lean: np.ndarray, female: np.ndarray, male: np.ndarray, about: dict
) -> None:
    """Write a gender table atomically (temporary file in the same folder, then rename)."""
    meta = {"format": FORMAT, "chars": json.dumps(list(chars), ensure_ascii=False), "about": json.dumps(about)}
    save_arrays(
        path,
        {
            "lean": np.asarray(lean, dtype=np.float32),
            "female": np.asarray(female, dtype=np.uint32),
            "male": np.asarray(male, dtype=np.uint32),
        },
        meta,
    )


@dataclass(frozen=True)
class CharLean:
    """One given-name character's contribution to a name's lean."""

    char: str
    lean: float  # its log-odds female vs male (0: not in the table)
    female: int  # occurrences in women's given names
    male: int  # occurrences in men's given names

    def to_dict(self) -> dict:
        return {"char": self.char, "lean": round(self.lean, 3), "female": self.female, "male": self.male}


@dataclass(frozen=True)
class Lean:
    """A name's gender lean and the evidence for it."""

    name: str
    surname: str  # split off, never counted
    chars: tuple[CharLean, ...]  # the given name's characters

    @property
    def lean(self) -> float:
        """Mean log-odds over the given name's characters: > 0 leans female, < 0 male."""
        return float(np.mean([c.lean for c in self.chars])) if self.chars else 0.0

    @property
    def known(self) -> bool:
        """Whether the table holds any of the given name's characters."""
        return any(c.female or c.male for c in self.chars)

    @property
    def verdict(self) -> str:
        """ "female", "male", "neutral" (lean 0) or "unknown" (no character in the table)."""
        if not self.known:
            return "unknown"
        return "female" if self.lean > 0 else "male" if self.lean < 0 else "neutral"

    def describe(self) -> str:
        """One line: 'female +2.21 (蓉 +3.01, 儿 +1.41)'."""
        if not self.known:
            return "unknown (no given-name character in the table)"
        chars = ", ".join(f"{c.char} {c.lean:+.2f}" for c in self.chars)
        return f"{self.verdict} {self.lean:+.2f} ({chars})"

    def to_dict(self) -> dict:
        return {
            "lean": round(self.lean, 3),
            "verdict": self.verdict,
            "surname": self.surname,
            "chars": [c.to_dict() for c in self.chars],
        }


def check_gender(value: str | None) -> str | None:
    """None, "female" or "male" (ConfigError naming the field otherwise)."""
    if value is not None and value not in GENDERS:
        raise ConfigError("gender", value, "choose female or male")
    return value


def check_gender_strength(value: float) -> float:
    """A gender strength in [0, MAX_STRENGTH] (ConfigError naming the field otherwise)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not np.isfinite(value)
        or not 0 <= value <= MAX_STRENGTH
    ):
        raise ConfigError("gender_strength", value, f"must be a number from 0 (off) to {MAX_STRENGTH:g}")
    return float(value)


class GenderLean:
    """Sampling evidence toward `gender` (see the module docstring)."""

    def __init__(self, gender: str, table: GenderTable | None = None, lexicon: Lexicon | None = None) -> None:
        self.gender = check_gender(gender)
        if gender is None:
            raise ConfigError("gender", NO_VALUE, "choose female or male")
        self.table = table if table is not None else shipped_gender_table()
        self.lexicon = lexicon if lexicon is not None else shipped_lexicon()
        self.sign = 1.0 if gender == "female" else -1.0

    def lean(self, name: str) -> Lean:
        """`name`'s lean with each given-name character's contribution."""
        return lean_of(name, self.table, self.lexicon)

    def leans(self, names: Sequence[str]) -> np.ndarray:
        """(N,) the lean of each name (> 0 female)."""
        return np.array([self.lean(name).lean for name in names], dtype=np.float64)

    def log_weights(self, names: Sequence[str]) -> np.ndarray:
        """How far the given name's least fitting character leans toward the asked gender: every
        character must read that way (with the mean, one strongly male character passed in a woman's
        name, 王士瑛, 姚凤翱, and a blind reader took half of the base model's female names for men's)."""
        return np.array(
            [min((self.sign * c.lean for c in self.lean(name).chars), default=0.0) for name in names], dtype=np.float64
        )


# Characters whose lean in today's names (women's names hold 侠 three times as often as men's) the
# genre reverses or erases: a blind reader took 慧侠, 褚侠, 西侠, 阿侠, 张竺 and 殷沙, steered to be women's
# names, for men's. They count as neutral (their counts are still reported).
GENRE_NEUTRAL = frozenset("侠竺沙")


def lean_of(name: str, table: GenderTable | None = None, lexicon: Lexicon | None = None) -> Lean:
    """`name`'s gender lean under `table` (default: the shipped one), surname split by `lexicon`;
    GENRE_NEUTRAL characters lean 0."""
    table = table if table is not None else shipped_gender_table()
    surname, given = split_name(lexicon if lexicon is not None else shipped_lexicon(), name) if name else ("", "")
    index = table.index
    chars = []
    for c in given:
        i = index.get(c)
        chars.append(
            CharLean(c, 0.0, 0, 0)
            if i is None
            else CharLean(
                c, 0.0 if c in GENRE_NEUTRAL else float(table.lean[i]), int(table.female[i]), int(table.male[i])
            )
        )
    return Lean(name, surname, tuple(chars))


def gender_evidence(gender: str, strength: float | None = None) -> tuple[str, GenderLean, float]:
    """The (label, evidence, strength) of `Namer.steering`'s `extra` for a gender (default strength STRENGTH)."""
    evidence = GenderLean(gender)
    return f"gender {gender}", evidence, STRENGTH if strength is None else check_gender_strength(strength)
