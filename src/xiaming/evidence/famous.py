"""Names of well-known people: what a generated name must not be, because a reader sees the person.

The models learned what names look like from 253,589 historical names, and now and then one prints
a real person's name: 刘德华, 林青霞, 李鹏, 冯梦龙 (0.37-0.80% of the shipped models' names before this
table). The table holds jieba's person names (tags nr, nrfg, nrt) of two to four characters seen at
least five times in its corpus (or less often, when the historical names record them too: 曹冲,
颜渊); `scripts/build_famous.py` derives it (credit and license in SOURCES.md). The novelty rule
`famous` rejects them for every shipped model, under strict or exact novelty
(`generation.novelty.Famous`), and `xiaming verse` never chooses one (`verse.rank`).

Only membership is ever asked, so `famous.safetensors` stores no name: each is a 64-bit key (the
first eight bytes of the BLAKE2b digest of its UTF-8), sorted, each once. A name of the source data
sets is not copied into the package, and the chance that an unlisted name shares a key with one of
the ~28,000 is about 1.5e-15. The file is read once, when first needed, and checked: a damaged one is
refused with one line naming it and the field.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np

from ..data.pinyin import is_han
from ..tablefile import read_arrays, read_metadata, save_arrays, table_error

FAMOUS_PATH = Path(__file__).with_name("famous.safetensors")
FORMAT = "xiaming-famous"
WHAT = "table of well-known names"
MAX_HEADER = 1 << 12  # the header holds the format and one array's offsets
MAX_KEYS = 1 << 20  # the table holds ~28,000 keys; far more is not this table
SHORTEST, LONGEST = 2, 4  # characters of an entry


def is_entry(word: str) -> bool:
    """Whether `word` can be an entry: SHORTEST to LONGEST Chinese characters."""
    return SHORTEST <= len(word) <= LONGEST and all(is_han(c) for c in word)


def name_key(name: str) -> int:
    """The 64-bit key of `name`: the first eight bytes of the BLAKE2b digest of its UTF-8, little-endian."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


@dataclass(frozen=True)
class FamousNames:
    """The table as a set: `name in table` is whether `name` is a listed person's."""

    keys: frozenset[int]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and SHORTEST <= len(name) <= LONGEST and name_key(name) in self.keys

    def __len__(self) -> int:
        return len(self.keys)


def read_famous(path: str | Path = FAMOUS_PATH) -> FamousNames:
    """The table at `path`; CheckpointError naming the file and field when it is missing, of another
    format, or its keys are not a sorted uint64 vector without repeats."""
    path = Path(path)
    read_metadata(path, WHAT, FORMAT, MAX_HEADER)
    keys = read_arrays(path, WHAT).get("keys")
    if keys is None or keys.dtype != np.uint64 or keys.ndim != 1 or not 0 < len(keys) <= MAX_KEYS:
        raise table_error(path, WHAT, "keys", f"expected a uint64 vector of 1 to {MAX_KEYS} keys")
    if (keys[1:] <= keys[:-1]).any():
        raise table_error(path, WHAT, "keys", "must be sorted, each once")
    return FamousNames(frozenset(keys.tolist()))


def save_famous(path: str | Path, names: Iterable[str]) -> int:
    """Write the keys of `names` (entries only) as a table at `path`, atomically; returns how many."""
    keys = np.array(sorted({name_key(n) for n in names if is_entry(n)}), dtype=np.uint64)
    save_arrays(path, {"keys": keys}, {"format": FORMAT})
    return len(keys)


@lru_cache(maxsize=1)
def famous_names() -> FamousNames:
    """The shipped table, read once."""
    return read_famous(FAMOUS_PATH)
