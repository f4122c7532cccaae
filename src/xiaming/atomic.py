"""Atomic file writes: write a temporary file beside the target, then rename it over the target, so a
reader (or a crash) never sees half a file and a failed write leaves the old file as it was.

Every file xiaming writes (checkpoints, tables, pictures, name lists) goes through `atomic_path`,
or `temp_beside` and `replace` for a file written over time. The file gets the mode an ordinary
`open(path, "w")` would give it (0o666 less the umask), not `mkstemp`'s private 0o600.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def temp_beside(path: str | Path, suffix: str = ".tmp") -> Path:
    """A new empty temporary file in `path`'s folder (OSError if it cannot be made there)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    return Path(tmp)


def replace(tmp: str | Path, path: str | Path) -> None:
    """Give the written temporary file `tmp` an ordinary file's mode and rename it to `path`."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside `path` for the block to write; renamed to `path` when the block
    ends, removed when it raises. `suffix` is for writers that choose the format by it (".png").
    A folder at `path` is refused first, by its own name rather than the temporary file's."""
    if Path(path).is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    tmp = temp_beside(path, suffix)
    try:
        yield tmp
        replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
