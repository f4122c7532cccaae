"""Names of well-known people: what a generated name must not be, because a reader sees the person.

The models learned what names look like from 253,589 historical names, and now and then one prints
a real person's name: 刘德华, 林青霞, 李鹏, 冯梦龙 (0.37-0.80% of the shipped models' names before this
table). `famous.txt`, beside this module, holds jieba's person names (tags nr, nrfg, nrt) of two to
four characters seen at least five times in its corpus (or less often, when the historical names
record them too: 曹冲, 颜渊), sorted, one a line; `scripts/build_famous.py`
derives it (credit and license in SOURCES.md). The novelty rule `famous` rejects them for every
shipped model, under strict or exact novelty (`generation.novelty.Famous`), and `xiaming verse`
never chooses one (`verse.rank`). The file is read once, when first needed, and checked whole: a
damaged file is refused with one line naming it and the first bad line.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from ..data.pinyin import is_han
from ..errors import CheckpointError

FAMOUS_PATH = Path(__file__).with_name("famous.txt")
SHORTEST, LONGEST = 2, 4  # characters of an entry
MAX_BYTES = 4 << 20  # the file is about 0.25 MB; anything far larger is not this table
_ENTRIES = re.compile(r"(?:[\u3400-\u4dbf\u4e00-\u9fff]{2,4}\n)*")  # the whole file, in one C-speed match


def is_entry(word: str) -> bool:
    """Whether `word` can be an entry: SHORTEST to LONGEST Chinese characters."""
    return SHORTEST <= len(word) <= LONGEST and all(is_han(c) for c in word)


def read_famous(path: str | Path = FAMOUS_PATH) -> frozenset[str]:
    """The names of the table at `path`; CheckpointError naming the file (and line) when it is missing,
    too large, not UTF-8 or holds a line that is not an entry."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise CheckpointError(f"{path}: too large for a table of names ({path.stat().st_size} bytes)", str(path))
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: cannot read the table of well-known names ({exc})", str(path)) from None
    if not _ENTRIES.fullmatch(text):  # the slow way, only to name the first bad line
        for number, line in enumerate(text.splitlines(), 1):
            if not is_entry(line):
                raise CheckpointError(
                    f"{path}: line {number}: {line[:20]!r} is not a name of {SHORTEST}-{LONGEST} Chinese characters",
                    str(path),
                    f"line {number}",
                )
    return frozenset(text.split())


@lru_cache(maxsize=1)
def famous_names() -> frozenset[str]:
    """The shipped table, read once."""
    return read_famous(FAMOUS_PATH)
