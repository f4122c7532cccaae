"""The verse table: lines of classical verse and their candidate characters, shipped inside the package.

Built by `scripts/build_verse.py` from the chinese-poetry database (credit and license in
DATASHEET.md beside this file); read here with numpy and safetensors only. The texts and the poems
(book, title, author, section) are JSON in the file's metadata; the arrays say, per line, which of
its characters are CJK (code point, position in the text, reading in that line):

- `line_poem` (L,) uint16: the poem of each line
- `line_start` (L + 1,) uint32: line i's characters are `han[line_start[i]:line_start[i + 1]]`
- `chars` (U,) uint32: the distinct characters' code points, sorted; `han_char` (C,) uint16: the
  character of each line's each candidate position (index into `chars`; `han` = chars[han_char]);
  `han_pos` (C,) uint16: its position in the line's text; `han_reading` (C,) uint16: its reading in
  that line (index into the syllables)

A candidate given name is one of a line's characters or two of them in order (not necessarily
adjacent); `Candidates` enumerates them for chosen books with numpy (`candidates`). Loading checks
the format, every array's dtype and shape, the offsets, and that each position holds its character,
and reads nothing as code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import CheckpointError, ConfigError
from ..tablefile import read_arrays, read_metadata, save_arrays, table_error

VERSE_PATH = Path(__file__).with_name("verse.safetensors")
FORMAT = "xiaming-verse"
MAX_HAN = 20  # a sentence with more characters is cut at its commas (a 论语 passage): names come from a phrase
MAX_HEADER = 8 << 20  # bytes of safetensors header (the texts are ~0.6 MB)
# book key -> its file in the shared data; the order is the order of the table
BOOK_FILES = {
    "shijing": "shijing.jsonl",
    "chuci": "chuci.jsonl",
    "tangshi300": "tangshi300.jsonl",
    "songci300": "songci300.jsonl",
    "lunyu": "lunyu.jsonl",
}
ARRAYS = {
    "line_poem": np.uint16,
    "line_start": np.uint32,
    "chars": np.uint32,
    "han_char": np.uint16,
    "han_pos": np.uint16,
    "han_reading": np.uint16,
}


@dataclass(frozen=True)
class Book:
    key: str  # shijing, chuci, ... (what --book takes)
    name: str  # 诗经, 楚辞, ...
    poems: int
    lines: int


@dataclass(frozen=True)
class Poem:
    book: str  # the book's Chinese name
    title: str
    author: str  # "" when anonymous (诗经, 论语)
    section: str  # 国风·周南 and the like; "" when none


@dataclass(frozen=True)
class VerseTable:
    """The lines and their characters, validated (see the module docstring)."""

    books: tuple[Book, ...]
    poems: tuple[Poem, ...]
    poem_book: np.ndarray  # (P,) book index of each poem
    lines: tuple[str, ...]
    syllables: tuple[str, ...]
    readings: dict  # char -> default reading (toned pinyin), for surnames
    surnames: str  # the single-character surnames of the 百家姓
    line_poem: np.ndarray
    line_start: np.ndarray
    chars: np.ndarray  # (U,) distinct code points, sorted
    han_char: np.ndarray  # (C,) int64 index into chars
    han: np.ndarray  # (C,) code points (chars[han_char])
    han_pos: np.ndarray
    han_before: np.ndarray  # (C,) code point of the character just before it in its line (0 at the start)
    han_reading: np.ndarray
    about: dict

    def book_keys(self) -> list[str]:
        return [b.key for b in self.books]

    def resolve_books(self, books: str | Sequence[str] | None) -> list[int]:
        """Book indices of `books` (keys such as shijing, or names such as 诗经; comma-separated text
        or a list; None or empty: all). An unknown book is a ConfigError listing the valid ones."""
        if books is None:
            return list(range(len(self.books)))
        items = books.split(",") if isinstance(books, str) else list(books)
        items = [b.strip() for b in items if b and b.strip()]
        if not items:
            return list(range(len(self.books)))
        out = []
        for item in items:
            found = [i for i, b in enumerate(self.books) if item.lower() == b.key or item == b.name]
            if not found:
                valid = ", ".join(f"{b.key} ({b.name})" for b in self.books)
                raise ConfigError("books", item, f"no such book; choose from {valid}")
            out.extend(i for i in found if i not in out)
        return out

    def line_chars(self, line: int) -> np.ndarray:
        """Code points of one line's candidate characters."""
        return self.han[self.line_start[line] : self.line_start[line + 1]]

    def poem_of(self, line: int) -> Poem:
        return self.poems[int(self.line_poem[line])]

    def reading(self, index: int) -> str:
        """The reading of the character at `han` index `index`, in its line."""
        return self.syllables[int(self.han_reading[index])]


def _fail(path: Path, field: str, reason: str) -> CheckpointError:
    return table_error(path, "verse table", field, reason)


def load_table(path: str | Path = VERSE_PATH) -> VerseTable:
    """Read and validate a verse table (CheckpointError naming the file and field when it is damaged)."""
    path = Path(path)
    meta = read_metadata(path, "verse table", FORMAT, MAX_HEADER)
    try:
        books = tuple(Book(b["key"], b["name"], int(b["poems"]), int(b["lines"])) for b in json.loads(meta["books"]))
        raw_poems = json.loads(meta["poems"])
        poems = tuple(Poem(books[int(b)].name, str(t), str(a), str(s)) for b, t, a, s in raw_poems)
        poem_book = np.array([int(p[0]) for p in raw_poems], dtype=np.int64)
        lines = tuple(str(s) for s in json.loads(meta["lines"]))
        syllables = tuple(str(s) for s in json.loads(meta["syllables"]))
        readings = {str(k): str(v) for k, v in json.loads(meta["readings"]).items()}
        surnames = str(meta["surnames"])
        about = json.loads(meta.get("about", "{}"))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError):
        raise _fail(path, "metadata", "missing or not valid") from None
    arrays = read_arrays(path, "verse table")
    for name, dtype in ARRAYS.items():
        array = arrays.get(name)
        if array is None or array.dtype != dtype or array.ndim != 1:
            raise _fail(path, name, f"expected a 1-d {np.dtype(dtype)} array")
    start, codes = arrays["line_start"].astype(np.int64), arrays["chars"]
    han_char = arrays["han_char"].astype(np.int64)
    if (len(codes) > 1 and (np.diff(codes.astype(np.int64)) <= 0).any()) or (han_char >= len(codes)).any():
        raise _fail(path, "chars", "must be sorted and distinct, and han_char must index them")
    han = codes[han_char]
    n_lines = len(lines)
    if len(arrays["line_poem"]) != n_lines or len(start) != n_lines + 1:
        raise _fail(path, "line_start", "does not match the number of lines")
    if start[0] != 0 or start[-1] != len(han) or (np.diff(start) < 0).any():
        raise _fail(path, "line_start", "offsets must rise from 0 to the number of characters")
    if len(arrays["han_pos"]) != len(han) or len(arrays["han_reading"]) != len(han):
        raise _fail(path, "han_pos", "does not match the characters in length")
    if (arrays["line_poem"] >= len(poems)).any() or (arrays["han_reading"] >= len(syllables)).any():
        raise _fail(path, "line_poem", "index out of range")
    if (poem_book < 0).any() or (poem_book >= len(books)).any():
        raise _fail(path, "poems", "book index out of range")
    line_of = np.repeat(np.arange(n_lines), np.diff(start))
    lengths = np.array([len(s) for s in lines], dtype=np.int64)
    text = np.frombuffer("".join(lines).encode("utf-32-le"), dtype=np.uint32)  # every line's code points, run on
    offset = np.concatenate([[0], np.cumsum(lengths)])
    pos = arrays["han_pos"].astype(np.int64)
    if (pos >= lengths[line_of]).any() or (text[offset[line_of] + np.minimum(pos, lengths[line_of] - 1)] != han).any():
        raise _fail(path, "han_pos", "a position does not hold its character")
    before = np.where(pos > 0, text[offset[line_of] + np.maximum(pos - 1, 0)], 0)
    return VerseTable(
        books,
        poems,
        poem_book,
        lines,
        syllables,
        readings,
        surnames,
        arrays["line_poem"].astype(np.int64),
        start,
        codes,
        han_char,
        han,
        pos,
        before,
        arrays["han_reading"],
        about if isinstance(about, dict) else {},
    )


@lru_cache(maxsize=1)
def shipped_table() -> VerseTable:
    """The table shipped inside the package, loaded once."""
    from importlib import resources

    return load_table(Path(str(resources.files(__package__).joinpath("verse.safetensors"))))


def save_table(
    path: str | Path,
    books: list[dict],
    poems: list[list],
    lines: list[str],
    syllables: list[str],
    readings: dict,
    arrays: dict,
    about: dict,
    surnames: str,
) -> None:
    """Write a verse table atomically (temporary file in the same folder, then rename)."""

    def dump(value) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    meta = {
        "format": FORMAT,
        "books": dump(books),
        "poems": dump(poems),
        "lines": dump(lines),
        "syllables": dump(syllables),
        "readings": dump(readings),
        "surnames": surnames,
        "about": dump(about),
    }
    save_arrays(path, {k: np.asarray(v, dtype=ARRAYS[k]) for k, v in arrays.items()}, meta)


@dataclass(frozen=True)
class Candidates:
    """Every candidate given name of some books: one character (`second` -1) or two in order of one line.

    Arrays of one row per candidate occurrence; `first` and `second` are indices into `han` (so the
    line, the characters, their positions and readings all follow).
    """

    line: np.ndarray  # (K,) int64 line index
    first: np.ndarray  # (K,) int64 index into han
    second: np.ndarray  # (K,) int64 index into han, -1 for a one-character given name

    def __len__(self) -> int:
        return len(self.line)


def candidates(table: VerseTable, books: list[int], lengths: Sequence[int] = (1, 2)) -> Candidates:
    """The candidate given names of lines of `books` (book indices), of the given name lengths `lengths`."""
    book_of_line = table.poem_book[table.line_poem.astype(np.int64)]
    chosen = np.flatnonzero(np.isin(book_of_line, np.asarray(books, dtype=np.int64)))
    starts = table.line_start[chosen]
    sizes = table.line_start[chosen + 1] - starts
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if 1 in lengths:
        line_of = np.repeat(np.arange(len(table.lines)), np.diff(table.line_start))  # (C,) line of each character
        first = np.flatnonzero(np.isin(line_of, chosen))
        parts.append((line_of[first], first, np.full(len(first), -1, dtype=np.int64)))
    if 2 in lengths:
        for size in np.unique(sizes):
            if size < 2:
                continue
            rows = sizes == size
            i, j = np.triu_indices(int(size), 1)  # every ordered pair of positions
            base = starts[rows][:, None]  # (R, 1)
            parts.append((np.repeat(chosen[rows], len(i)), (base + i).ravel(), (base + j).ravel()))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Candidates(empty, empty, empty)
    return Candidates(*(np.concatenate([p[k] for p in parts]).astype(np.int64) for k in range(3)))
