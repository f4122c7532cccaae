"""Reading name lists: files or built-in corpora, cleaned, deduplicated and split.

A names file is text with one name per line. Surrounding whitespace is stripped, blank lines and
repeated names are dropped (first occurrence kept), a UTF-8 BOM and CRLF line ends are accepted.
Other encodings (GBK is common for Chinese lists) are read with `encoding=`. A bad byte is
reported with its line number. The held-out split is seeded, so the same list and seed always give
the same validation names.

Names longer than `max_len` characters (default `MAX_NAME_LEN`, the CLI's `--max-name-len`) are
skipped with one warning that gives their line numbers: a stray paragraph in a names file would
otherwise make every training batch as wide as the paragraph (a 10,000-character line took 6.8 GB
of memory). The file is read in chunks and a line is dropped as soon as it passes the limit, so
memory stays bounded whatever one line holds.
"""

from __future__ import annotations

import codecs
import os
import random
import stat
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .. import corpora
from ..errors import ConfigError, DataError, XiamingWarning
from ..limits import DEFAULT_MAX_NAME_LEN, LONGEST_NAME

MAX_NAME_LEN = DEFAULT_MAX_NAME_LEN  # default longest name read, for training, evaluation and scoring (limits.py)
_CHUNK = 1 << 20  # bytes read at a time
_SLACK = 1024  # whitespace kept around a name before its line counts as too long anyway
_SHOWN = 5  # line numbers listed in the too-long warning


@dataclass(frozen=True)
class NameList:
    """Clean, distinct names and where they came from."""

    names: list[str]
    source: str  # a file path or "builtin:<corpus>"


def check_max_len(max_len: int | None) -> None:
    """Raise ConfigError unless `max_len` is None (no limit) or in 1..`LONGEST_NAME`."""
    if max_len is not None and max_len < 1:
        raise ConfigError("max_name_len", max_len, "must be at least 1")
    if max_len is not None and max_len > LONGEST_NAME:
        raise ConfigError(
            "max_name_len",
            max_len,
            f"at most {LONGEST_NAME} (a longer line is not a name; "
            f"lines over the limit are skipped with their line numbers)",
        )


def check_longest(longest: int, source: str) -> None:
    """DataError if the longest of `source`'s names (read with no length limit) is over `LONGEST_NAME`."""
    if longest > LONGEST_NAME:
        raise DataError(
            f"{source}: a name of {longest:,} characters; a model reads names of at most "
            f"{LONGEST_NAME:,} (read the list with a --max-name-len to skip longer lines)"
        )


def check_names_file(path: str | Path, label: str | None = None) -> Path:
    """`path` as a Path once it is something names can be read from: a regular file, or a pipe (read once,
    from start to end). A directory, device or socket is a DataError naming it (`label`, e.g. "--file x",
    when the user typed it with a flag): /dev/zero would never end, a directory has no lines."""
    path = Path(path)
    label = label or str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"{label}: no such file") from None
    except OSError as exc:
        raise DataError(f"{label}: cannot read it ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"{label}: is a directory, not a names file")
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
        raise DataError(f"{label}: is a device or socket, not a names file; give a file with one name per line")
    return path


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8")


def _decoder(encoding: str) -> codecs.IncrementalDecoder:
    """An incremental decoder for `encoding` (UTF-8 skips a BOM); ConfigError for an unknown one."""
    try:
        return codecs.getincrementaldecoder("utf-8-sig" if _is_utf8(encoding) else encoding)(errors="strict")
    except LookupError:
        raise ConfigError("encoding", encoding, "unknown encoding") from None


def iter_lines(
    path: str | Path, encoding: str = "utf-8", max_len: int | None = MAX_NAME_LEN, hint: str | None = None
) -> Iterator[tuple[int, str | None]]:
    """(line number, stripped line) for every line of a file, read in bounded memory.

    A line whose stripped text is longer than `max_len` characters comes back as None, and is
    never held whole: once it passes `max_len` plus `_SLACK` characters of surrounding whitespace
    the rest is counted, not kept. Lines end as in `str.splitlines` (LF, CRLF, CR and the Unicode
    separators). A byte that is not valid in `encoding` is a DataError naming the line (and `hint`, what
    to do, when given: by default, to pass --encoding).
    """
    path = check_names_file(path)
    check_max_len(max_len)
    decoder = _decoder(encoding)
    cap = None if max_len is None else max_len + _SLACK
    line_no, newlines = 1, 0  # the line being read; LF bytes in the chunks decoded so far
    part: list[str] = []
    part_len, overflow, after_cr = 0, False, False
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    with f:
        while True:
            try:
                chunk = f.read(_CHUNK)
            except OSError as exc:  # EIO, a file that vanished from a network share, /proc/self/mem
                raise DataError(f"{path} line {line_no}: cannot read it ({exc.strerror or exc})") from None
            pending = len(decoder.getstate()[0])  # bytes of the last chunk still undecoded
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                line = newlines + chunk[: max(0, exc.start - pending)].count(b"\n") + 1
                hint = hint or (
                    "pass --encoding (e.g. --encoding gbk)" if _is_utf8(encoding) else "is it another encoding?"
                )
                raise DataError(f"{path} line {line}: bytes that are not valid {encoding}; {hint}") from None
            newlines += chunk.count(b"\n")
            if after_cr and text.startswith("\n"):  # the LF of a CRLF split between two chunks
                text = text[1:]
            after_cr = text.endswith("\r")
            for piece in text.splitlines(keepends=True):
                body = piece.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
                ended = len(body) < len(piece)
                if not overflow:
                    part.append(body)
                    part_len += len(body)
                    if cap is not None and part_len > cap:
                        kept = "".join(part).lstrip()
                        part, part_len, overflow = [kept], len(kept), len(kept) > cap
                if ended:
                    name = None if overflow else "".join(part).strip()
                    yield line_no, (None if name is None or (max_len is not None and len(name) > max_len) else name)
                    line_no, part, part_len, overflow = line_no + 1, [], 0, False
            if not chunk:
                break
    if part or overflow:  # the last line had no line end
        name = None if overflow else "".join(part).strip()
        yield line_no, (None if name is None or (max_len is not None and len(name) > max_len) else name)


class TooLong:
    """Collects the line numbers of names over the length limit and warns once about them."""

    def __init__(self, source: str | Path, max_len: int | None) -> None:
        self.source, self.max_len = source, max_len
        self.lines: list[int] = []
        self.count = 0

    def add(self, line: int) -> None:
        self.count += 1
        if len(self.lines) < _SHOWN:
            self.lines.append(line)

    def warn(self, unit: str = "line") -> None:
        """One XiamingWarning listing the first few lines (or names) and how many there were in all."""
        if not self.count:
            return
        where = ", ".join(map(str, self.lines)) + (
            f" and {self.count - len(self.lines)} more" if self.count > len(self.lines) else ""
        )
        units = unit + ("s" if self.count > 1 else "")
        warnings.warn(
            f"{self.source}: skipped {self.count} {units} longer than {self.max_len} "
            f"characters ({units} {where}); raise --max-name-len to keep them",
            XiamingWarning,
            stacklevel=3,
        )


def no_names(source: str | Path, too_long: TooLong | None = None, unit: str = "non-blank line") -> DataError:
    """The error for a source that gave no name: empty or blank, or every line (or name of a built-in
    corpus: `unit`) over the length limit; then it says so, beside the warning that listed them,
    instead of calling the file blank."""
    if too_long is not None and too_long.count:
        one, many = f"its one {unit} is", f"all {too_long.count} {unit}s are"
        lines = one if too_long.count == 1 else many
        return DataError(
            f"{source}: no names of at most {too_long.max_len} characters ({lines} longer); "
            "raise --max-name-len to keep them"
        )
    return DataError(f"{source}: no names (the file is empty or blank)")


def drop_long(names: list[str], max_len: int | None, source: str = "NAME") -> list[str]:
    """`names` without those over `max_len` characters, with one warning giving their positions
    (1-based); for names that did not come from a file (command-line arguments, standard input)."""
    check_max_len(max_len)
    if max_len is None:
        return names
    too_long = TooLong(source, max_len)
    kept = []
    for i, name in enumerate(names, 1):
        if len(name) > max_len:
            too_long.add(i)
        else:
            kept.append(name)
    too_long.warn("name")
    return kept


def read_names(
    path: str | Path, encoding: str = "utf-8", dedupe: bool = True, max_len: int | None = MAX_NAME_LEN
) -> list[str]:
    """Stripped, non-blank lines of a file, in order; repeats dropped unless `dedupe` is False
    (a held-out test file is scored line by line, repeats included, as other tools score it).
    Lines longer than `max_len` characters are skipped with one warning naming their lines; a file
    with no name left is a `DataError` (`no_names`)."""
    names: list[str] = []
    too_long = TooLong(path, max_len)
    for line, name in iter_lines(path, encoding, max_len):
        if name is None:
            too_long.add(line)
        elif name:
            names.append(name)
    too_long.warn()
    if not names:
        raise no_names(path, too_long)
    return list(dict.fromkeys(names)) if dedupe else names


def load_names(
    source: str | Path, encoding: str = "utf-8", min_names: int = 2, max_len: int | None = MAX_NAME_LEN
) -> NameList:
    """Names from a file, or from a built-in corpus when `source` names one and no such file exists;
    names longer than `max_len` characters are skipped with a warning (see `read_names`)."""
    path = Path(source)
    if not path.is_file() and corpora.is_builtin(str(source)):
        check_max_len(max_len)
        names, origin = corpora.load(str(source)), f"builtin:{source}"
        if max_len is not None and any(len(n) > max_len for n in names):
            listed, names = len(names), drop_long(names, max_len, f"builtin:{source}")
            if not names:
                too_long = TooLong(source, max_len)
                too_long.count = listed
                raise no_names(source, too_long, unit="name")
    elif not path.exists():
        raise DataError(f"{source}: no such file (built-in corpora: {', '.join(corpora.names())})")
    else:
        names, origin = read_names(path, encoding, max_len=max_len), str(path)
    if not names:  # an empty built-in corpus (a file's own case is read_names')
        raise no_names(source)
    if len(names) < min_names:
        raise DataError(f"{source}: only {len(names)} distinct name(s); at least {min_names} are needed to train")
    return NameList(names, origin)


def split(names: list[str], val_fraction: float = 0.1, seed: int = 0) -> tuple[list[str], list[str]]:
    """Seeded (train, validation) split; validation holds at least one name, train at least one."""
    if not 0.0 < val_fraction < 1.0:
        raise ConfigError("val_fraction", val_fraction, "must be between 0 and 1")
    order = list(range(len(names)))
    random.Random(seed).shuffle(order)
    n_val = min(max(1, round(len(names) * val_fraction)), len(names) - 1)
    val_idx = set(order[:n_val])
    train = [n for i, n in enumerate(names) if i not in val_idx]
    val = [n for i, n in enumerate(names) if i in val_idx]
    return train, val


def describe(names: list[str]) -> dict:
    """Data statistics printed at the start of training: counts, characters and lengths."""
    lengths = Counter(len(n) for n in names)
    return {
        "names": len(names),
        "characters": sum(len(n) for n in names),
        "distinct_characters": len({c for n in names for c in n}),
        "lengths": dict(sorted(lengths.items())),
        "mean_length": sum(len(n) for n in names) / max(1, len(names)),
    }
