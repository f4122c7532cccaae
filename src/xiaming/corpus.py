"""Reading name lists: files or built-in corpora, cleaned, deduplicated and split.

A names file is text with one name per line. Surrounding whitespace is stripped, blank lines and
repeated names are dropped (first occurrence kept), a UTF-8 BOM and CRLF line ends are accepted.
Other encodings (GBK is common for Chinese lists) are read with `encoding=`. A bad byte is
reported with its line number. The held-out split is seeded, so the same list and seed always give
the same validation names.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import corpora
from .errors import ConfigError, DataError


@dataclass(frozen=True)
class NameList:
    """Clean, distinct names and where they came from."""

    names: list[str]
    source: str  # a file path or "builtin:<corpus>"


def read_names(path: str | Path, encoding: str = "utf-8", dedupe: bool = True) -> list[str]:
    """Stripped, non-blank lines of a file, in order; repeats dropped unless `dedupe` is False
    (a held-out test file is scored line by line, repeats included, as other tools score it)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a names file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except LookupError:
        raise ConfigError(f"--encoding {encoding!r}: unknown encoding") from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path} line {line}: bytes that are not valid {encoding}; pass --encoding (e.g. --encoding gbk)"
        ) from None
    lines = [s for s in (line.strip() for line in text.splitlines()) if s]
    return list(dict.fromkeys(lines)) if dedupe else lines


def load_names(source: str | Path, encoding: str = "utf-8", min_names: int = 2) -> NameList:
    """Names from a file, or from a built-in corpus when `source` names one and no such file exists."""
    path = Path(source)
    if not path.is_file() and corpora.is_builtin(str(source)):
        names, origin = corpora.load(str(source)), f"builtin:{source}"
    elif not path.exists():
        raise DataError(f"{source}: no such file (built-in corpora: {', '.join(corpora.names())})")
    else:
        names, origin = read_names(path, encoding), str(path)
    if not names:
        raise DataError(f"{source}: no names (the file is empty or blank)")
    if len(names) < min_names:
        raise DataError(f"{source}: only {len(names)} distinct name(s); at least {min_names} are needed to train")
    return NameList(names, origin)


def split(names: list[str], val_fraction: float = 0.1, seed: int = 0) -> tuple[list[str], list[str]]:
    """Seeded (train, validation) split; validation holds at least one name, train at least one."""
    if not 0.0 < val_fraction < 1.0:
        raise ConfigError(f"--val-fraction {val_fraction}: must be between 0 and 1")
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
