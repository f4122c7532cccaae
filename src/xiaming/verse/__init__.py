"""Names drawn from classical verse, each with the line it comes from (`xiaming verse`).

    from xiaming import load_model
    from xiaming.verse import verse_names
    result = verse_names(load_model("base"), n=10, surname="李", books="shijing", seed=1)
    result.items[0].name, result.items[0].marked, result.items[0].title

`table.py` reads the shipped lines (built by scripts/build_verse.py; DATASHEET.md says from what);
`rank.py` proposes the candidate given names and ranks them with the model and its evidence.
"""

from .rank import (
    AVOID,
    AVOID_CHARS,
    AVOID_WORDS,
    ModernUse,
    Proposal,
    Scored,
    TonePattern,
    VerseName,
    VerseResult,
    check_surname,
    propose,
    rank,
    score,
    usual_surnames,
    verse_names,
)
from .table import Book, Poem, VerseTable, load_table, shipped_table

__all__ = [
    "AVOID",
    "AVOID_CHARS",
    "AVOID_WORDS",
    "Book",
    "ModernUse",
    "Poem",
    "Proposal",
    "Scored",
    "TonePattern",
    "VerseName",
    "VerseResult",
    "VerseTable",
    "check_surname",
    "load_table",
    "propose",
    "rank",
    "score",
    "shipped_table",
    "usual_surnames",
    "verse_names",
]
