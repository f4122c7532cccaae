"""The lexicon: compact tables of how Chinese names and words are made, shipped inside the package.

Built by `scripts/build_lexicon.py` from jieba's dictionary, 253,589 historical names, Tang-Song
verse bigrams and 百家姓 (sources and licenses in SOURCES.md beside this file); read here with
numpy only. It gives the critic evidence a character model trained on one list cannot have: is
this pair of characters a word, a given name people bore, a phrase of verse; is this character
ever a surname, or a given name's first or second character?

Per-character tables are float32 log(1 + count) indexed by character id; pair tables are sorted
uint32 keys (first id << SHIFT | second id) with uint16 values, looked up with `np.searchsorted`
for a whole batch at once. Loading validates every table (names, dtypes, shapes, sorted keys,
finite values) and reads nothing as code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import CheckpointError
from ..tablefile import read_arrays, read_metadata, save_arrays, table_error

LEXICON_PATH = Path(__file__).with_name("lexicon.safetensors")
FORMAT = "xiaming-lexicon"
SHIFT = 14  # bits of the second character's id in a pair key (alphabet < 16,384 characters)
POS_CLASSES = ("person", "proper", "noun", "verb", "adjective", "idiom", "other")  # jieba tags, coarsened
CHAR_TABLES = (
    "surname",
    "given1",
    "given2",
    "single",  # log(1 + count) in the historical names
    "verse_char",  # log(1 + count) of the character in the verse pairs (how classical it is)
    "wuxia",  # log(1 + count) of the character in the given names of the built-in wuxia lists
    "modern",
)  # log(1 + count) of the character in modern given names (ngender's charfreq)
PAIR_TABLES = {  # keys table -> (values table, dtype)
    "given_pair_keys": ("given_pair_counts", np.uint16),
    "word_keys": ("word_freq", np.uint16),
    "verse_keys": ("verse_counts", np.uint16),
}
MAX_HEADER = 4 << 20  # bytes of safetensors header a lexicon may have


@dataclass(frozen=True)
class Lexicon:
    """The tables, validated; look-ups take arrays of character ids (-1 for unknown characters)."""

    chars: tuple[str, ...]  # the alphabet, id = position
    compounds: frozenset[str]  # two-character surnames
    arrays: dict  # table name -> numpy array (see the module docstring)
    sources: dict  # what the tables were built from (counts)

    @property
    def index(self) -> dict[str, int]:
        return _index(self.chars)

    def ids(self, text: str) -> list[int]:
        """Character ids of `text`, -1 where a character is not in the alphabet."""
        index = self.index
        return [index.get(c, -1) for c in text]

    def char_table(self, table: str, ids: np.ndarray) -> np.ndarray:
        """log(1 + count) of each id in `table` (0 for unknown ids)."""
        values = self.arrays[table]
        ids = np.asarray(ids, dtype=np.int64)
        return np.where(ids >= 0, values[np.clip(ids, 0, len(values) - 1)], 0.0).astype(np.float64)

    def pair_table(self, table: str, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """The value stored for each pair (first[i], second[i]) in the pair table `table` (0 when absent)."""
        keys = self.arrays[table]
        values = self.arrays[PAIR_TABLES[table][0]]
        first = np.asarray(first, dtype=np.int64)
        second = np.asarray(second, dtype=np.int64)
        known = (first >= 0) & (second >= 0)
        query = ((np.clip(first, 0, None) << SHIFT) | np.clip(second, 0, None)).astype(np.int64)
        pos = np.searchsorted(keys, query)
        pos = np.clip(pos, 0, max(len(keys) - 1, 0))
        hit = known & (len(keys) > 0) & (keys[pos].astype(np.int64) == query)
        return np.where(hit, values[pos].astype(np.float64), 0.0)

    def word_pos(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Part-of-speech class index of each pair as a dictionary word, -1 when it is not a word."""
        keys = self.arrays["word_keys"]
        query = ((np.clip(first, 0, None).astype(np.int64) << SHIFT) | np.clip(second, 0, None)).astype(np.int64)
        pos = np.clip(np.searchsorted(keys, query), 0, max(len(keys) - 1, 0))
        hit = (np.asarray(first) >= 0) & (np.asarray(second) >= 0) & (keys[pos].astype(np.int64) == query)
        return np.where(hit, self.arrays["word_pos"][pos].astype(np.int64), -1)


@lru_cache(maxsize=4)
def _index(chars: tuple[str, ...]) -> dict[str, int]:
    return {c: i for i, c in enumerate(chars)}


def _fail(path: Path, field: str, reason: str) -> CheckpointError:
    return table_error(path, "lexicon", field, reason)


def _expected(n: int) -> dict[str, tuple[type, int | None]]:
    """Table name -> (dtype, length or None for any length)."""
    out: dict[str, tuple[type, int | None]] = {name: (np.float32, n) for name in CHAR_TABLES}
    for keys, (values, dtype) in PAIR_TABLES.items():
        out[keys] = (np.uint32, None)
        out[values] = (dtype, None)
    out["word_pos"] = (np.uint8, None)
    return out


def load_lexicon(path: str | Path = LEXICON_PATH) -> Lexicon:
    """Read and validate a lexicon file (CheckpointError naming the file and field when it is damaged)."""
    path = Path(path)
    meta = read_metadata(path, "lexicon", FORMAT, MAX_HEADER)
    try:
        chars = tuple(json.loads(meta["chars"]))
        compounds = frozenset(json.loads(meta["compounds"]))
        sources = json.loads(meta.get("sources", "{}"))
    except (KeyError, ValueError, TypeError, RecursionError) as exc:
        raise _fail(path, "metadata", f"unreadable ({exc})") from None
    if not chars or not all(isinstance(c, str) and len(c) == 1 for c in chars) or len(chars) >= 1 << SHIFT:
        raise _fail(path, "chars", "must be distinct single characters, fewer than 16,384")
    arrays = read_arrays(path, "lexicon")
    for name, (dtype, length) in _expected(len(chars)).items():
        array = arrays.get(name)
        if array is None:
            raise _fail(path, name, "missing")
        if array.dtype != dtype or array.ndim != 1 or (length is not None and len(array) != length):
            raise _fail(
                path,
                name,
                f"{array.dtype} of shape {array.shape}, expected {np.dtype(dtype)}"
                f"{'' if length is None else f' of length {length}'}",
            )
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise _fail(path, name, "holds non-finite numbers")
    for keys, (values, _) in PAIR_TABLES.items():
        k = arrays[keys]
        if len(arrays[values]) != len(k) or (len(k) > 1 and not (np.diff(k.astype(np.int64)) > 0).all()):
            raise _fail(path, keys, "keys must be strictly increasing and match their values in length")
    if len(arrays["word_pos"]) != len(arrays["word_keys"]) or (arrays["word_pos"] >= len(POS_CLASSES)).any():
        raise _fail(path, "word_pos", "length or class out of range")
    return Lexicon(chars, compounds, arrays, sources)


@lru_cache(maxsize=1)
def shipped_lexicon() -> Lexicon:
    """The lexicon shipped inside the package, loaded once."""
    return load_lexicon(LEXICON_PATH)


def save_lexicon(path: str | Path, chars: list[str], compounds: list[str], arrays: dict, sources: dict) -> None:
    """Write a lexicon atomically (temporary file in the same folder, then rename)."""
    meta = {
        "format": FORMAT,
        "chars": json.dumps(chars, ensure_ascii=False),
        "compounds": json.dumps(compounds, ensure_ascii=False),
        "sources": json.dumps(sources),
    }
    save_arrays(path, arrays, meta)
