"""Output guards: a training run never destroys data it was not told to replace.

Three checks stand between `xiaming train` and its first write:

- `check_not_input`: the output (or its training-state companion) is not the names file being read,
  compared after resolving links and relative paths, so `train names.txt -o names.txt` cannot
  replace the user's list with a checkpoint.
- `check_replace`: an existing output is replaced only when asked (`--force`) or when the run is
  the continuation of the one that wrote it (`--resume`).
- `OutputLock`: one run at a time per output. A lock file beside the output
  (`model.safetensors.lock`) is created with O_EXCL and holds the owner's pid, host and start time.
  A second run writing the same output fails at once, naming the owner. A lock whose owner is gone
  (killed with `kill -9`, the machine rebooted) is taken over with a note: on POSIX an advisory
  `flock` held for the life of the run tells a live owner from a dead one for certain (the kernel
  drops it when the process dies, whatever killed it); elsewhere the pid is checked. The lock is
  released on every exit path, Ctrl-C included (the `with` block).
"""

from __future__ import annotations

import json
import os
import socket
import time
import warnings
from pathlib import Path
from typing import Callable

from ..errors import ConfigError, XiamingError, XiamingWarning

try:  # POSIX only; elsewhere a lock's owner is judged by its pid alone
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class OutputBusy(XiamingError):
    """Another live run is writing the same output."""


def _same_file(a: Path, b: Path) -> bool:
    """True when `a` and `b` name one file (after resolving links), whether or not `a` exists yet."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_not_input(outputs: list[Path], inputs: list[str | Path], field: str = "out") -> None:
    """ConfigError when one of `outputs` is one of the `inputs` (a names file being read)."""
    for source in inputs:
        source_path = Path(source)
        if not source_path.is_file():
            continue  # a built-in corpus, or nothing to overwrite
        for out in outputs:
            if _same_file(out, source_path):
                raise ConfigError(
                    field,
                    str(out),
                    f"is the names file being trained on ({source}); "
                    f"writing there would destroy it; choose another output",
                )


def check_replace(paths: list[Path], force: bool, resume: bool, field: str = "out") -> None:
    """ConfigError when one of `paths` exists and neither `force` nor `resume` allows replacing it."""
    if force or resume:
        return
    existing = [p for p in paths if p.exists()]
    if existing:
        what = " and ".join(str(p) for p in existing)
        raise ConfigError(
            field,
            str(paths[0]),
            f"{what} already exist{'s' if len(existing) == 1 else ''}; "
            "pass {force} to replace, or {resume} to continue its run",
            refs=("force", "resume"),
        )


def lock_path(out: Path) -> Path:
    """The lock file beside an output: `m.safetensors` -> `m.safetensors.lock`."""
    return out.with_name(out.name + ".lock")


def _pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _describe(owner: dict) -> str:
    started = owner.get("time")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if isinstance(started, (int, float)) else "?"
    return f"pid {owner.get('pid', '?')} on {owner.get('host', '?')}, started {when}"


def _read_owner(path: Path) -> dict:
    try:
        owner = json.loads(path.read_text(encoding="utf-8") or "{}")
        return owner if isinstance(owner, dict) else {}
    except (OSError, ValueError):
        return {}


class OutputLock:
    """An exclusive lock on one output path for the length of a `with` block.

    `OutputLock(out, note=print)`; entering raises OutputBusy at once when a live run holds it.
    `note` receives one line when a stale lock (its owner is gone) is taken over (default: a
    XiamingWarning, which the CLI prints as one line).
    """

    def __init__(self, out: str | Path, note: Callable[[str], None] | None = None) -> None:
        self.out = Path(out)
        self.path = lock_path(self.out)
        self.note = note or (lambda msg: warnings.warn(msg, XiamingWarning, stacklevel=4))
        self._fd: int | None = None

    def _owner_record(self) -> bytes:
        return json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time(), "output": str(self.out)}
        ).encode("utf-8")

    def _busy(self, owner: dict) -> OutputBusy:
        return OutputBusy(
            f"{self.out}: another training run is writing it ({_describe(owner)}); wait for it to "
            f"finish or write elsewhere (if no such run exists, delete {self.path})"
        )

    def _create(self) -> int | None:
        """The new lock file's descriptor, or None when one exists already."""
        try:
            return os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
        except FileExistsError:
            return None
        except OSError as exc:
            raise ConfigError(
                "out", str(self.out), f"cannot create the lock file {self.path} ({exc.strerror or exc})"
            ) from None

    def _flock(self, fd: int) -> bool:
        if fcntl is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _take_over_stale(self) -> int | None:
        """The descriptor of the existing lock file if its owner is gone (now ours), else None."""
        owner = _read_owner(self.path)
        if fcntl is not None:
            try:
                fd = os.open(self.path, os.O_RDWR)
            except FileNotFoundError:
                return None  # released meanwhile: try creating again
            if not self._flock(fd):
                os.close(fd)
                raise self._busy(_read_owner(self.path) or owner)
            try:  # the file may have been unlinked and re-created between open and flock
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                return None
        else:  # pragma: no cover - Windows: judge the owner by its pid
            if owner.get("host") != socket.gethostname() or _pid_alive(int(owner.get("pid", 0) or 0)):
                raise self._busy(owner)
            self.path.unlink(missing_ok=True)
            return None
        self.note(f"taking over the lock {self.path} left by a run that is no longer running ({_describe(owner)})")
        return fd

    def acquire(self) -> None:
        """Hold the lock, or raise OutputBusy naming the run that holds it."""
        self.out.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):  # a few races with a releasing owner at most
            fd = self._create()
            if fd is not None:
                if not self._flock(fd):  # another process took the brand-new file between create and flock
                    os.close(fd)
                    continue
            else:
                fd = self._take_over_stale()
                if fd is None:
                    continue
            try:
                os.ftruncate(fd, 0)
                os.write(fd, self._owner_record())
                os.fsync(fd)
            except BaseException:  # e.g. Ctrl-C right after the file was made: leave no lock behind
                self._fd = fd
                self.release()
                raise
            self._fd = fd
            return
        raise self._busy(_read_owner(self.path))

    def release(self) -> None:
        """Remove the lock file and drop the lock (unlink first, so no one locks a file about to vanish)."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> "OutputLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
