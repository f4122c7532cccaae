"""The processes of a run: a group of one, or the ranks torchrun starts, and what they share.

`torchrun --nproc_per_node N -m xiaming train names.txt -o model.safetensors` starts N copies of the
run; each joins the group described by torchrun's environment (gloo on CPU, NCCL with one GPU per
local rank). A run in one process is a group of one, whose collectives do nothing, so the loop
(`loop.py`) is the same code for 1..N processes. When a rank dies, the others fail in their next
collective (a silent rank is given up after `XIAMING_DIST_TIMEOUT` seconds, default 300), or
torchrun ends them with SIGTERM; either way each surviving rank raises `RunStopped`, one line.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..devices import pick_device
from ..errors import ConfigError, XiamingError

DEFAULT_TIMEOUT = 300.0  # seconds a collective waits for a silent rank (env XIAMING_DIST_TIMEOUT)


class RunStopped(XiamingError):
    """A distributed run ended because one of its processes failed or was stopped."""


def launched() -> bool:
    """True inside a process that torchrun (or another launcher) started as one of several ranks."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_main_process() -> bool:
    """False in the ranks other than 0 of a launched run (they print no report of their own)."""
    return not launched() or int(os.environ.get("RANK", "0")) == 0


@dataclass(frozen=True)
class Group:
    """This process's place in the run: rank `rank` of `world`, computing on `device`."""

    rank: int
    world: int
    device: torch.device
    backend: str | None  # "gloo" or "nccl"; None for a group of one (no process group)

    @property
    def main(self) -> bool:
        """Rank 0: the one that validates, logs and writes files."""
        return self.rank == 0

    def shard(self, batch: int) -> tuple[int, int]:
        """Rows [lo, hi) of a global batch of `batch` rows that this rank computes."""
        return self.rank * batch // self.world, (self.rank + 1) * batch // self.world

    def describe(self) -> str:
        return f"rank {self.rank} of {self.world}"


SOLO = Group(0, 1, torch.device("cpu"), None)


def timeout_seconds() -> float:
    """How long a collective waits for a silent rank: `XIAMING_DIST_TIMEOUT` or the default."""
    raw = os.environ.get("XIAMING_DIST_TIMEOUT", "")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        raise ConfigError("XIAMING_DIST_TIMEOUT", raw, "must be a number of seconds") from None
    if not value > 0:
        raise ConfigError("XIAMING_DIST_TIMEOUT", raw, "must be positive")
    return value


def join(device: str = "auto") -> Group:
    """This process's group: a group of one on `device`, or under torchrun (RANK, WORLD_SIZE,
    LOCAL_RANK, MASTER_ADDR, MASTER_PORT) the process group, NCCL when CUDA is used, gloo otherwise."""
    if not launched():
        return Group(0, 1, pick_device(device), None)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if device == "mps":
        raise ConfigError("device", device, "distributed training runs on cpu or cuda")
    chosen = pick_device(
        "cuda" if device == "auto" and torch.cuda.is_available() else "cpu" if device == "auto" else device
    )
    backend = "gloo"
    if chosen.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(
                "device",
                device,
                f"local rank {local_rank} has no GPU of its own ("
                f"{torch.cuda.device_count()} visible); start at most that many processes per node",
            )
        chosen, backend = torch.device("cuda", local_rank), "nccl"
        torch.cuda.set_device(chosen)
    try:
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_seconds()))
    except RuntimeError as exc:  # the rendezvous failed: a wrong address, a port in use, a timeout
        where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
        raise RunStopped(f"rank {rank} could not join the run at {where} ({first_line(exc)})") from None
    return Group(rank, world, chosen, backend)


def leave(group: Group) -> None:
    """Leave the process group (also after a failed peer, so the process exits cleanly)."""
    if group.backend is not None and dist.is_initialized():
        with contextlib.suppress(Exception):
            dist.destroy_process_group()


def is_comm_error(exc: BaseException) -> bool:
    """Whether `exc` came from the communication layer (a lost peer, a timeout), not from our code."""
    dist_error = getattr(dist, "DistError", ())
    if dist_error and isinstance(exc, dist_error):
        return True
    return isinstance(exc, RuntimeError) and any(
        mark in str(exc)
        for mark in (
            "gloo",
            "Gloo",
            "NCCL",
            "Connection reset",
            "Connection closed",
            "Timed out",
            "timed out",
            "Socket Timeout",
        )
    )


def first_line(exc: BaseException) -> str:
    """The gist of a communication error: gloo writes "[file:line] what happened. advice..."."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return first.split("] ")[-1].split(". ")[0][:160]


class Terminated(RunStopped):
    """SIGTERM arrived (torchrun ends the surviving ranks this way when one fails). A RunStopped
    itself, so that a SIGTERM landing while another error is reported still ends in one line."""

    def __init__(self) -> None:
        super().__init__("torchrun ended this process (another process failed or was stopped)")


class Signals:
    """Ctrl-C and SIGTERM while a run is on. The first Ctrl-C asks to stop after the current step
    (`requested`); a second one aborts. With `term` (a run of several ranks), SIGTERM raises
    `Terminated` while `armed`: once the rank has decided how it stops (an error it is reporting,
    or a finished run), a late SIGTERM must not replace that report."""

    def __init__(self, term: bool = False) -> None:
        self.requested, self.armed, self.term, self._previous = False, True, term, {}

    def __enter__(self) -> Signals:
        handlers = {signal.SIGINT: self._interrupt, **({signal.SIGTERM: self._terminate} if self.term else {})}
        for sig, handler in handlers.items():
            with contextlib.suppress(ValueError):  # not the main thread: the signal cannot reach us anyway
                self._previous[sig] = signal.signal(sig, handler)
        return self

    def _interrupt(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def _terminate(self, signum, frame) -> None:
        if self.armed:
            self.armed = False
            raise Terminated()

    def __exit__(self, *exc) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)


# --- collectives that do nothing in a group of one ----------------------------------------------


def all_sum(group: Group, values: list[float]) -> list[float]:
    """The element-wise sum of `values` over all ranks (float64)."""
    return _collective(group, values, lambda t: dist.all_reduce(t, op=dist.ReduceOp.SUM))


def broadcast_values(group: Group, values: list[float]) -> list[float]:
    """Rank 0's `values` on every rank."""
    return _collective(group, values, lambda t: dist.broadcast(t, src=0))


def _collective(group: Group, values: list[float], op: Callable[[torch.Tensor], object]) -> list[float]:
    if group.world == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=group.device)
    op(t)
    return t.tolist()


def broadcast_bytes(group: Group, data: bytes | None) -> bytes:
    """Rank 0's `data` (a file's content) on every rank: the length first, then the bytes."""
    if group.world == 1:
        return data or b""
    n = int(broadcast_values(group, [len(data or b"")])[0])
    buf = (
        torch.frombuffer(bytearray(data), dtype=torch.uint8) if group.main and n else torch.zeros(n, dtype=torch.uint8)
    )
    if n:
        buf = buf.to(group.device)
        dist.broadcast(buf, src=0)
    return bytes(buf.cpu().numpy().tobytes())


def gather_tensors(group: Group, tensor: torch.Tensor) -> list[torch.Tensor]:
    """Every rank's `tensor` (same shape and dtype on all), in rank order, on every rank."""
    if group.world == 1:
        return [tensor]
    local = tensor.to(group.device)
    out = [torch.empty_like(local) for _ in range(group.world)]
    dist.all_gather(out, local)
    return [t.cpu() for t in out]


def main_first(group: Group, fn: Callable[[], object]) -> object:
    """Run `fn` on rank 0 first; if it fails there, the other ranks raise RunStopped instead of
    repeating the same error (so a bad flag prints one message, rank 0's). Then the others run it."""
    error: BaseException | None = None
    result = None
    if group.main:
        try:
            result = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after telling the others
            error = exc
    ok = broadcast_values(group, [0.0 if error is not None else 1.0])[0] == 1.0
    if group.main:
        if error is not None:
            raise error
        return result
    if not ok:
        raise RunStopped(f"{group.describe()}: rank 0 refused to start the run (its message says why)")
    return fn()
