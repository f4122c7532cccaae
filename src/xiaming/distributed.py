"""Data-parallel training across processes, launched by torchrun, and the streamed run's driver.

`torchrun --nproc_per_node N -m xiaming train names.txt -o model.safetensors` starts N copies of
the trainer; `train.train()` sees torchrun's environment (`WORLD_SIZE` > 1) and hands the run to
`run()` here. Every process (a *rank*) builds the same model from the same seed and draws the same
global batch of `--batch-size` names from the same batch generator, then reads and computes only
its own contiguous share of the rows. DistributedDataParallel (gloo on CPU, NCCL on CUDA) averages
the gradients; each rank's loss is weighted by its share of the batch's target characters, so the
update equals, up to float rounding, the update of one process on the whole batch (the loss is a
mean per character, and shares hold different numbers of characters).

Rank 0 alone validates, shows the progress bar, logs, takes the output lock and writes the
checkpoint and the resumable state (atomically, through `checkpoint.atomic_write_tensors`); the
validation loss is broadcast, so every rank makes the same early-stopping decision, and each
step's stop requests (Ctrl-C, `should_stop`, `--max-time` on any rank) are summed across ranks
in the same all-reduce that sums the training loss, so all ranks stop after the same step. The
state holds every rank's torch random state, so `--resume` with the same number of processes
continues exactly; the other ranks receive the state from rank 0 as bytes, so only rank 0 needs to
see the output folder (nodes need no shared disk).

When a rank dies, the others fail in their next collective (gloo reports the lost connection at
once; a rank that hangs is given up after `XIAMING_DIST_TIMEOUT` seconds, default 300), or torchrun
ends them with SIGTERM; either way each surviving rank raises `RunStopped`, one line saying at
which step the last resumable state was saved. The state on disk is never half-written.

`run()` also drives a single-process streamed run (`stream.StreamedNames`), which reads its
batches from a packed file instead of tensors in memory: same loop, a group of one.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import signal
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Protocol

import torch
import torch.distributed as dist

from . import checkpoint as ckpt
from . import guard, models
from .data import PAD_TARGET, crop, hide_targets, once_seen_ids
from .devices import pick_device
from .errors import ConfigError, XiamingError
from .train import (
    GradientTrainer,
    Progress,
    RunPlan,
    Session,
    TrainConfig,
    TrainingLoop,
    TrainResult,
    _load_state,
    _progress_bar,
    _report_start,
    _StopFlag,
    build_trainer,
    lr_at,
    prepare_run,
)

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
        raise ConfigError(f"XIAMING_DIST_TIMEOUT={raw!r}: must be a number of seconds") from None
    if not value > 0:
        raise ConfigError(f"XIAMING_DIST_TIMEOUT={raw!r}: must be positive")
    return value


def setup(device: str = "auto") -> Group:
    """Join the process group described by torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK,
    MASTER_ADDR, MASTER_PORT): NCCL with one GPU per local rank when CUDA is used, gloo otherwise."""
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if device == "mps":
        raise ConfigError("--device mps: distributed training runs on cpu or cuda")
    chosen = pick_device("cuda" if device == "auto" and torch.cuda.is_available() else
                         "cpu" if device == "auto" else device)
    if chosen.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(f"--device {device}: local rank {local_rank} has no GPU of its own "
                              f"({torch.cuda.device_count()} visible); start at most that many processes per node")
        chosen = torch.device("cuda", local_rank)
        torch.cuda.set_device(chosen)
        backend = "nccl"
    else:
        backend = "gloo"
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_seconds()))
    return Group(rank, world, chosen, backend)


def teardown(group: Group) -> None:
    """Leave the process group (also after a failed peer, so the process exits cleanly)."""
    if group.backend is not None and dist.is_initialized():
        with contextlib.suppress(Exception):
            dist.destroy_process_group()


def is_comm_error(exc: BaseException) -> bool:
    """Whether `exc` came from the communication layer (a lost peer, a timeout), not from our code."""
    dist_error = getattr(dist, "DistError", ())
    if dist_error and isinstance(exc, dist_error):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and any(
        mark in text for mark in ("gloo", "Gloo", "NCCL", "Connection reset", "Connection closed", "Timed out",
                                  "timed out", "Socket Timeout"))


class _Terminated(RunStopped):
    """SIGTERM arrived (torchrun ends the surviving ranks this way when one fails).

    A RunStopped itself, so that even a SIGTERM landing while another error is already being
    reported ends the rank with one line, never a traceback."""

    def __init__(self) -> None:
        super().__init__("torchrun ended this process (another process failed or was stopped)")


class _TermSwitch:
    """Whether SIGTERM still raises `_Terminated`: once the rank has decided how it stops (an error
    it is reporting, or a finished run), a late SIGTERM must not replace that report."""

    armed = True


@contextlib.contextmanager
def _term_as_error(active: bool) -> Iterator[_TermSwitch]:
    """Turn SIGTERM into `_Terminated` while the block runs and the switch is armed, so the rank can
    say what happened."""
    switch = _TermSwitch()
    if not active:
        yield switch
        return

    def handle(signum, frame):
        if switch.armed:
            switch.armed = False
            raise _Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handle)
    except ValueError:  # not the main thread
        yield switch
        return
    try:
        yield switch
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- collectives that do nothing in a group of one ----------------------------------------------

def all_sum(group: Group, values: list[float]) -> list[float]:
    """The element-wise sum of `values` over all ranks (float64)."""
    if group.world == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=group.device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def broadcast_values(group: Group, values: list[float]) -> list[float]:
    """Rank 0's `values` on every rank."""
    if group.world == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=group.device)
    dist.broadcast(t, src=0)
    return t.tolist()


def broadcast_bytes(group: Group, data: bytes | None) -> bytes:
    """Rank 0's `data` (a file's content) on every rank: the length first, then the bytes."""
    if group.world == 1:
        return data or b""
    n = int(broadcast_values(group, [len(data or b"")])[0])
    buf = torch.zeros(n, dtype=torch.uint8)
    if group.main and n:
        buf = torch.frombuffer(bytearray(data), dtype=torch.uint8)
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


# --- where a batch's rows come from ------------------------------------------------------------

class BatchSource(Protocol):
    """The training names as rows of ids, read by index (in memory or from a packed file)."""

    def __len__(self) -> int: ...

    def targets(self, idx: torch.Tensor) -> torch.Tensor:
        """Target characters (name length + 1 for the end) of each row in `idx`, (B,) int64."""

    def rows(self, idx: torch.Tensor, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets) of the names `idx`, padded to `width` columns, each (b, width)."""

    def rare_ids(self) -> torch.Tensor:
        """Character ids that occur exactly once among the targets."""


class TensorSource:
    """Names already encoded in memory (`data.encode_names`), as `build_trainer` makes them."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y
        self.counts = (y != PAD_TARGET).sum(dim=1)  # (N,)

    def __len__(self) -> int:
        return len(self.x)

    def targets(self, idx: torch.Tensor) -> torch.Tensor:
        return self.counts[idx]

    def rows(self, idx: torch.Tensor, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[idx, :width], self.y[idx, :width]

    def rare_ids(self) -> torch.Tensor:
        return once_seen_ids(self.y)


class ShardedTrainer(GradientTrainer):
    """`GradientTrainer`'s update, computed by `group.world` ranks on their shares of each batch.

    The batch indices and the unknown-character noise are drawn for the whole batch on every rank,
    from the same generator as `GradientTrainer`, so a group of one reproduces it bit for bit and a
    group of N reproduces it up to float rounding. Each rank's mean loss is weighted by
    (its target characters / the batch's) * N before DDP averages the gradients: the sum over ranks
    is then the batch's mean loss per character.
    """

    def __init__(self, model, source: BatchSource, config: TrainConfig, peak_lr: float, group: Group) -> None:
        self.model, self.config, self.peak_lr, self.device = model, config, peak_lr, group.device
        self.source, self.group = source, group
        decay = [p for p in model.parameters() if p.dim() >= 2]  # as GradientTrainer: no decay on biases
        rest = [p for p in model.parameters() if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": rest, "weight_decay": 0.0}]
        self.optimizer = torch.optim.AdamW(groups, lr=peak_lr, betas=(0.9, 0.99))
        self.batches = torch.Generator().manual_seed(config.seed)
        self.rare = source.rare_ids()
        self.net = model
        if group.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.net = DistributedDataParallel(model, device_ids=[group.device.index] if group.device.type == "cuda"
                                               else None, gradient_as_bucket_view=True)  # no gradient copy
        self._rank_rng: dict[str, torch.Tensor | None] = {}

    def step(self, step: int) -> tuple[float, int]:
        """Update `step`; returns this rank's mean loss and its target characters (the loop sums them)."""
        B, g = self.config.batch_size, self.group
        idx = torch.randint(len(self.source), (B,), generator=self.batches)  # the whole batch, on every rank
        counts = self.source.targets(idx)  # (B,)
        width, total = int(counts.max()), int(counts.sum())
        lo, hi = g.shard(B)
        xb, yb = self.source.rows(idx[lo:hi], width)  # (b, width): only this rank's rows are read
        if self.config.unk_rate > 0 and len(self.rare) > 0:
            noise = torch.rand((B, width), generator=self.batches)[lo:hi]  # drawn whole to keep the stream
            xb, yb = hide_targets(xb, yb, torch.isin(yb, self.rare) & (noise < self.config.unk_rate))
        xb, yb = crop(xb, yb)
        xb, yb = xb.to(self.device), yb.to(self.device)  # (b, T)
        mine = int(counts[lo:hi].sum())
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(step, self.peak_lr, self.config)
        self.net.train()
        _, loss = self.net(xb, yb)
        weighted = loss if g.world == 1 else loss * (mine * g.world / total)
        self.optimizer.zero_grad(set_to_none=True)
        weighted.backward()  # DDP averages the gradients over the ranks here
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        return loss.item(), mine

    def _rng_states(self) -> dict[str, torch.Tensor]:
        """This rank's random states that dropout draws from: the CPU one, and its GPU's when on CUDA."""
        states = {"rng.rank": torch.get_rng_state()}
        if self.device.type == "cuda":
            states["rng.cudarank"] = torch.cuda.get_rng_state(self.device)
        return states

    def gather_rng(self) -> None:
        """Collect every rank's random states for the next `state_tensors` (a collective: all ranks call it)."""
        self._gathered = {name: gather_tensors(self.group, state) for name, state in self._rng_states().items()}

    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = super().state_tensors()
        for name, states in getattr(self, "_gathered", {}).items():
            tensors.update({f"{name}{rank}": state for rank, state in enumerate(states)})
        return tensors

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        super().load_state_tensors({k: v for k, v in tensors.items() if not k.startswith(("rng.rank", "rng.cudarank"))})
        self._saved_world = sum(1 for k in tensors if k.startswith("rng.rank"))
        self._rank_rng = {name: tensors.get(f"{name}{self.group.rank}") for name in ("rng.rank", "rng.cudarank")}

    def restore_rank_rng(self) -> None:
        """After `train._load_state` (which restores rank 0's states everywhere), take this rank's own,
        when the run was saved by as many ranks (with another number, dropout draws differ from then on)."""
        if getattr(self, "_saved_world", 0) != self.group.world:
            return
        if self._rank_rng.get("rng.rank") is not None:
            torch.set_rng_state(self._rank_rng["rng.rank"])
        if self._rank_rng.get("rng.cudarank") is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(self._rank_rng["rng.cudarank"], self.device)


# --- the loop -----------------------------------------------------------------------------------

class DistributedLoop(TrainingLoop):
    """`TrainingLoop` for a group of ranks: rank 0 validates and saves, decisions are shared."""

    def __init__(self, plan: RunPlan, session: Session, data, out: Path, progress: Progress, best_weights: dict,
                 log: Callable[[str], None], group: Group) -> None:
        super().__init__(plan, session, data, out, progress, best_weights, log)
        self.group = group
        self.saved_step: int | None = progress.step if plan.resume else None

    def validate(self) -> float:
        """Rank 0 measures (and saves on improvement); every rank records the same value."""
        p = self.progress
        if self.group.main:
            val = super().validate()
            broadcast_values(self.group, [val])
            return val
        val = broadcast_values(self.group, [math.nan])[0]
        p.elapsed = time.perf_counter() - self.start
        p.history.append([p.step, round(p.elapsed, 3), self.train_loss, val])
        if val < p.best_val:
            p.best_val, p.best_step, p.bad_evals = val, p.step, 0
        else:
            p.bad_evals += 1
        return val

    def save_state(self) -> None:
        """Every rank's random state to rank 0, which writes the resumable state."""
        self.session.trainer.gather_rng()
        if self.group.main:
            super().save_state()
        self.saved_step = self.progress.step

    def run(self, flag: _StopFlag, should_stop: Callable[[int], bool] | None = None,
            progress_bar: bool = True) -> str:
        """Train until a stopping rule fires on any rank; all ranks stop after the same step."""
        p, config, trainer = self.progress, self.plan.config, self.session.trainer
        stopped = "max_steps"
        bar = _progress_bar(config.max_steps, p.step, enabled=progress_bar and self.group.main)
        try:
            if flag.requested:  # Ctrl-C while the run was being set up
                return "interrupted"
            while p.step < config.max_steps:
                loss, n_chars = trainer.step(p.step)
                p.step += 1
                interrupt = flag.requested or (should_stop is not None and should_stop(p.step))
                late = config.max_time is not None and time.perf_counter() - self.start >= config.max_time
                loss_sum, n_chars, interrupts, lates = all_sum(
                    self.group, [loss * n_chars, float(n_chars), float(interrupt), float(late)])
                loss, n_chars = loss_sum / n_chars, int(n_chars)  # the batch's mean loss per character
                self.check_finite(loss, "training")  # the same sum on every rank: all stop together
                p.chars += n_chars
                self.chars_this_run += n_chars
                self.train_loss = loss if math.isnan(self.train_loss) else 0.9 * self.train_loss + 0.1 * loss
                bar.update(1)
                if p.step % config.eval_interval == 0 or p.step == config.max_steps:
                    val = self.validate()
                    self.check_finite(val, "validation")  # broadcast from rank 0: all stop together
                    speed = self.chars_this_run / max(1e-9, time.perf_counter() - self.t_run)
                    bar.set_postfix_str(
                        f"train {self.train_loss:.3f} val {val:.3f} nats ({val / math.log(2):.3f} bits) "
                        f"best {p.best_val:.3f} {speed:,.0f} chars/s")
                    self.save_state()
                    if p.bad_evals >= config.patience:
                        stopped = "early_stop"
                        break
                if interrupts:
                    stopped = "interrupted"
                    break
                if lates and p.step < config.max_steps:
                    stopped = "max_time"
                    break
        finally:
            bar.close()
        return stopped


# --- the driver ---------------------------------------------------------------------------------

def _check_plan(plan: RunPlan, group: Group, streamed: bool) -> None:
    """ConfigError for a run this driver cannot make: a kind with its own algorithm, a batch too small."""
    if not isinstance(models.build_model(plan.kind, plan.model_config), torch.nn.Module):
        how = f"split over {group.world} processes (run it in one)" if group.world > 1 else "streamed (drop --stream)"
        raise ConfigError(f"--model {plan.kind} trains with its own algorithm, not gradients; it cannot be {how}")
    if plan.config.batch_size < group.world:
        raise ConfigError(f"--batch-size {plan.config.batch_size}: must be at least the number of processes "
                          f"({group.world}), since each computes a share of every batch")


def run(data, kind: str | None, out: str | Path, config: TrainConfig | None = None, size: str | None = None,
        model_overrides: dict | None = None, resume: bool = False, device: str = "auto",
        log: Callable[[str], None] = print, progress_bar: bool = True,
        should_stop: Callable[[int], bool] | None = None, init: str | Path | None = None,
        force: bool = False) -> TrainResult:
    """`train.train()` for torchrun's ranks and for streamed names (same arguments, same result).

    `data` is a `corpus.NameList` or a `stream.StreamedNames`. In a torchrun launch every rank
    calls this with the same arguments; the result is the same on every rank.
    """
    from . import stream

    streamed = isinstance(data, stream.StreamedNames)
    try:
        group = setup(device) if launched() else Group(0, 1, pick_device(device), None)
    except RuntimeError as exc:  # the rendezvous failed: a wrong address, a port in use, a timeout
        where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
        raise RunStopped(f"rank {os.environ.get('RANK', '?')} could not join the run at {where} "
                         f"({_first_line(exc)})") from None
    if not group.main:
        log, progress_bar = (lambda _msg: None), False
    with contextlib.ExitStack() as stack:
        term = stack.enter_context(_term_as_error(group.world > 1))
        stack.callback(teardown, group)  # inside the SIGTERM handler's scope: a late SIGTERM cannot cut it short
        flag = stack.enter_context(_StopFlag())
        private = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="xiaming-rank-")))
        loop: DistributedLoop | None = None
        try:
            # Rank 0 owns the output: it checks it, locks it and reads the state to resume.
            def claim_output() -> Path:
                path = ckpt.check_writable(out)
                guard.check_not_input([path, ckpt.state_path(path), guard.lock_path(path)], [data.source])
                stack.enter_context(guard.OutputLock(path))
                guard.check_replace([path, ckpt.state_path(path)], force=force, resume=resume)
                return path

            target = main_first(group, claim_output if group.main else (lambda: None))
            # the other ranks work on a private copy of the state; they never touch the output
            here = Path(target) if group.main else private / "rank.safetensors"
            if resume and group.world > 1:
                state = ckpt.state_path(here)
                content = state.read_bytes() if group.main and state.is_file() else None
                content = broadcast_bytes(group, content)
                if not group.main and content:
                    state.write_bytes(content)

            def plan_run() -> RunPlan:
                if streamed:
                    plan = stream.prepare_run(data, here, kind, config, size, model_overrides, resume, init, force, log)
                else:
                    plan = prepare_run(data, here, kind, config, size, model_overrides, resume, init, force, log)
                _check_plan(plan, group, streamed)
                return plan

            plan = main_first(group, plan_run)
            session = stream.build_trainer(plan, data, group) if streamed else build_trainer(plan, str(group.device))
            if not streamed:
                session.trainer = ShardedTrainer(session.model, TensorSource(session.trainer.train_x,
                                                 session.trainer.train_y), plan.config, plan.peak_lr, group)
            if group.rank > 0:  # dropout differs per rank; rank 0 keeps the one-process stream
                torch.manual_seed(plan.config.seed * 1_000_003 + group.rank)
            progress, best_weights = Progress(), {}
            if resume:
                progress, best_weights = _load_state(ckpt.state_path(here), session.model, session.trainer)
                session.trainer.restore_rank_rng()
            loop = DistributedLoop(plan, session, data, here, progress, best_weights, log, group)
            if streamed:
                loop.data = data.for_checkpoint()  # the name list saved in blocks, not as millions of strings
            _report_start(plan, session, data, progress, log)
            if group.world > 1:
                share = plan.config.batch_size // group.world
                log(f"data parallel: {group.world} processes ({group.backend}), {plan.config.batch_size} names per "
                    f"step, about {share} per process")
            stopped = loop.run(flag, should_stop, progress_bar)
            result = replace(loop.finish(stopped), path=str(out))  # the output, also on ranks that work on a copy
            if group.world > 1:
                # leave together: a rank that tears its process group down while another still uses
                # it can make that one abort in gloo's threads (seen once in a few hundred test runs)
                dist.barrier()
            term.armed = False
            return result
        except _Terminated:
            raise RunStopped(_stopped_message(group, loop, "torchrun ended it (another process failed or was stopped)"))\
                from None
        except RuntimeError as exc:
            term.armed = False  # this report stands, whatever torchrun sends while it is made
            if group.world > 1 and is_comm_error(exc):
                reason = f"it lost contact with another process ({_first_line(exc)})"
                raise RunStopped(_stopped_message(group, loop, reason)) from None
            raise
        except BaseException:
            term.armed = False  # an error on its way out (a bad flag, Ctrl-C) is what the rank reports
            raise


def _first_line(exc: BaseException) -> str:
    """The gist of a communication error: gloo writes "[file:line] what happened. advice..."."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return first.split("] ")[-1].split(". ")[0][:160]


def _stopped_message(group: Group, loop: DistributedLoop | None, reason: str) -> str:
    """One line: which rank stopped, when, why, and what can be resumed."""
    if loop is None:
        return f"{group.describe()} stopped while starting: {reason}"
    saved = loop.saved_step
    where = (f"the state saved at step {saved} beside {loop.out if group.main else 'the output'} is resumable: "
             f"run the same command with --resume") if saved is not None else "no state was saved yet"
    return f"{group.describe()} stopped at step {loop.progress.step}: {reason}; {where}"
