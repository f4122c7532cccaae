"""The training loop: steps, validation, early stopping, the best checkpoint, exact resume, in
1..N processes.

`train()` is what `xiaming train` and `xiaming.train` call. It joins the run's group (a group of one,
or the ranks torchrun started: `parallel.py`), decides the run (`plan.py`), builds the model and its
trainer (`trainer.py`) over the names' source (in memory, or streamed: `sources.py`, `stream.py`),
and steps until a stopping rule fires. Every `eval_interval` steps rank 0 measures the held-out loss
and broadcasts it, so all ranks make the same early-stopping decision; an improvement writes the
checkpoint (the file on disk is always the best model so far), and every validation writes the
resumable state beside it (last and best weights, trainer state, every rank's random streams,
progress), so resuming with as many processes reproduces an uninterrupted run bit for bit. Each
step's stop requests (Ctrl-C, `should_stop`, `max_time` on any rank) are summed across ranks with
the training loss, so all ranks stop after the same step. Rank 0 alone logs, shows the progress
bar, takes the output lock and writes files (atomically); the other ranks receive the state to
resume as bytes, so nodes need no shared disk.
"""

from __future__ import annotations

import contextlib
import json
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
import torch.distributed as dist

from .. import checkpoint as ckpt
from .. import models, validate
from ..data.corpus import describe
from ..errors import CheckpointError, ConfigError, TrainingDiverged
from ..generation.score import UnknownShares
from . import guard
from .config import TrainConfig
from .parallel import (
    Group,
    RunStopped,
    Signals,
    Terminated,
    all_sum,
    broadcast_bytes,
    broadcast_values,
    first_line,
    gather_tensors,
    is_comm_error,
    join,
    leave,
    main_first,
)
from .plan import RunPlan, prepare_run
from .sources import DataSource, as_source
from .trainer import GradientTrainer, Trainer, batches_nll, validation_batches

LN2 = math.log(2)


@dataclass
class Progress:
    """Where a run stands; saved with the resumable state."""

    step: int = 0
    elapsed: float = 0.0  # seconds of training so far, across resumes
    best_val: float = math.inf  # best validation loss, nats per character
    best_step: int = 0
    bad_evals: int = 0  # validations since the last improvement
    chars: int = 0  # target characters seen
    history: list = field(default_factory=list)  # [step, elapsed, train_loss, val_loss] per validation


@dataclass(frozen=True)
class TrainResult:
    """What a run ended with."""

    path: str
    step: int
    best_step: int
    best_val: float  # nats per character
    stopped: str  # max_steps | max_time | early_stop | interrupted | finished
    elapsed: float
    chars_per_sec: float
    parameters: int
    history: list
    reason: str = ""  # `stopped` in words, with the setting that decided it (`stop_reason`)

    @property
    def best_val_bits(self) -> float:
        return self.best_val / LN2


def stop_reason(stopped: str, config: TrainConfig) -> str:
    """Why a run stopped, in words naming the flag that decided it (what `xiaming train` prints)."""
    return {
        "max_steps": f"reached --max-steps {config.max_steps}",
        "max_time": f"reached --max-time {config.max_time:g} s"
        if config.max_time is not None
        else "reached --max-time",
        "early_stop": f"stopped early: no better validation loss in {config.patience} validations (--patience), "
        f"one every {config.eval_interval} steps (--eval-interval)",
        "interrupted": "interrupted; continue with --resume",
        "finished": "training complete (nothing left to learn)",
    }.get(stopped, stopped)


@dataclass
class Session:
    """The built model, its trainer and the validation tensors, on this rank's device."""

    model: object
    trainer: Trainer
    device: torch.device
    val_batches: list  # [(inputs, targets)] of the validation names (`data.length_batches`), on the device
    val_unknown_nats: float  # the cost of spreading the unknown id over the validation names' new characters


def build_trainer(plan: RunPlan, data, group: Group) -> Session:
    """The model (fine-tuned weights copied in), its trainer over `data`'s rows, the validation names."""
    source = as_source(data)
    torch.manual_seed(plan.config.seed)
    model = models.build_model(plan.kind, plan.model_config)
    if plan.base is not None:
        models.transfer_weights(plan.base.model, plan.base.vocab.chars, model, plan.vocab.chars)
    model = model.to(group.device)
    rows = source.batches(plan)
    val_batches = validation_batches(plan.vocab, plan.val_names, group.device)
    shares = UnknownShares(plan.vocab)
    unknown_nats = -sum(shares.log_share(c) for name in plan.val_names for c in name if c not in plan.vocab)
    if models.spec(plan.kind).gradient:
        trainer: Trainer = GradientTrainer(model, rows, plan.config, plan.peak_lr, group)
    else:  # a kind with its own algorithm, on names in memory (`check_plan`)
        trainer = model.make_trainer(rows.x, rows.y, plan.config, plan.peak_lr)
    return Session(model, trainer, group.device, val_batches, unknown_nats)


def check_plan(plan: RunPlan, source: DataSource, group: Group) -> None:
    """ConfigError for a run the loop cannot make: a kind with its own algorithm in several processes
    or streamed, a batch smaller than the number of processes."""
    if (group.world > 1 or source.streamed) and not models.spec(plan.kind).gradient:
        how = f"split over {group.world} processes (run it in one)" if group.world > 1 else "streamed (drop {stream})"
        raise ConfigError(
            "model", plan.kind, f"trains with its own algorithm, not gradients; it cannot be {how}", refs=("stream",)
        )
    if plan.config.batch_size < group.world:
        raise ConfigError(
            "batch_size",
            plan.config.batch_size,
            f"must be at least the number of processes ({group.world}), since each computes a share of every batch",
        )


# --- the resumable state -----------------------------------------------------------------------

RANK_RNG = ("rng.rank", "rng.cudarank")  # every rank's random states (dropout), saved by rank 0


def rank_rng(group: Group) -> dict[str, torch.Tensor]:
    """This rank's random states that dropout draws from: the CPU one, and its GPU's when on CUDA."""
    states = {"rng.rank": torch.get_rng_state()}
    if group.device.type == "cuda":
        states["rng.cudarank"] = torch.cuda.get_rng_state(group.device)
    return states


def save_state(
    path: Path,
    model,
    best_weights: dict,
    trainer: Trainer,
    progress: Progress,
    run: dict,
    ranks: dict[str, list[torch.Tensor]],
) -> None:
    """Write everything `--resume` needs, atomically."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update({f"best.{k}": v for k, v in best_weights.items()})
    tensors.update({f"trainer.{k}": v for k, v in trainer.state_tensors().items()})
    tensors.update(
        {f"trainer.{name}{rank}": state for name, states in ranks.items() for rank, state in enumerate(states)}
    )
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    metadata = {
        "format": ckpt.STATE_FORMAT,
        "format_version": str(ckpt.FORMAT_VERSION),
        "run": json.dumps(run, ensure_ascii=False),
        "progress": json.dumps(asdict(progress)),
    }
    ckpt.atomic_write_tensors(path, tensors, metadata)


def load_state(path: Path, model, trainer: Trainer, group: Group) -> tuple[Progress, dict]:
    """Restore what `save_state` wrote; returns the progress and the best weights. The state is
    checked as a checkpoint is (`validate`): its run description field by field, its model and best
    weights against the run's config before any is read, every float finite. A rank takes its own
    random states when the run was saved by as many ranks (with another number, dropout draws differ)."""
    from .plan import check_run

    run: dict = {}

    def check(header: validate.Header) -> None:
        run.update(check_run(path, header.metadata))
        config = models.config_from_dict(run["kind"], run["model_config"])
        validate.check_tensors(header, run["kind"], config, prefix="model.")
        if any(name.startswith("best.") for name in header.tensors):
            validate.check_tensors(header, run["kind"], config, prefix="best.")

    tensors, metadata = validate.read_file(path, ckpt.STATE_FORMAT, check=check, framework="pt")
    progress = _check_progress(path, metadata)
    own = {k[8:]: v for k, v in tensors.items() if k.startswith("trainer.") and not k[8:].startswith(RANK_RNG)}
    try:
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        trainer.load_state_tensors(own)
        torch.set_rng_state(tensors["rng.torch"])
        if "rng.cuda" in tensors and torch.cuda.is_available():
            torch.cuda.set_rng_state(tensors["rng.cuda"])
        if sum(1 for k in tensors if k.startswith("trainer.rng.rank")) == group.world:
            if f"trainer.rng.rank{group.rank}" in tensors:
                torch.set_rng_state(tensors[f"trainer.rng.rank{group.rank}"])
            if f"trainer.rng.cudarank{group.rank}" in tensors and group.device.type == "cuda":
                torch.cuda.set_rng_state(tensors[f"trainer.rng.cudarank{group.rank}"], group.device)
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise CheckpointError(
            f"{path}: damaged training state ({str(exc).splitlines()[0][:120] or type(exc).__name__})", path=str(path)
        ) from None
    return progress, {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}


def _check_progress(path: Path, metadata: dict[str, str]) -> Progress:
    """The progress saved with a training state, typed."""
    if "progress" not in metadata:
        raise validate.fail(path, "progress", "missing (damaged training state)")
    data = validate.parse_json(metadata["progress"], path, "progress")
    validate.check_fields(Progress, data, path, "progress")
    for key in ("step", "best_step", "bad_evals", "chars"):
        if data.get(key, 0) < 0:
            raise validate.fail(path, f"progress.{key}", f"{data[key]} must be at least 0")
    if not isinstance(data.get("history", []), list):
        raise validate.fail(path, "progress.history", "must be a list")
    return Progress(**data)


# --- the loop ----------------------------------------------------------------------------------


class TrainingLoop:
    """Steps, validations and saves of one run on one rank; `run()` goes until a stopping rule fires.

    Every validation that improves on the best writes the checkpoint at `out`; every validation
    writes the resumable state beside it, so a run killed at any moment loses at most one
    validation interval. Rank 0 validates and writes; the decisions are shared.
    """

    def __init__(
        self, plan: RunPlan, session: Session, data, out: Path, progress: Progress, best_weights: dict, group: Group
    ) -> None:
        source = as_source(data)
        self.plan, self.session, self.out, self.group = plan, session, out, group
        self.progress, self.best_weights = progress, best_weights
        self.saved_step: int | None = progress.step if plan.resume else None
        self.train_loss = math.nan  # smoothed training loss
        self.start = time.perf_counter() - progress.elapsed  # progress.elapsed counts earlier sessions too
        self.chars_this_run, self.t_run = 0, time.perf_counter()
        self.run_record = {
            "kind": plan.kind,
            "model_config": asdict(plan.model_config),
            "train_config": asdict(plan.config),
            "vocab": plan.vocab.to_dict(),
            "source": source.source,
            "init": plan.init,
            **plan.inherited,
        }
        self.info = {
            **{k: v for k, v in self.run_record.items() if k != "vocab"},
            "data": {**describe(source.names), "train_names": len(plan.train_names), "val_names": len(plan.val_names)},
            "max_name_len": max(len(n) for n in source.names),
            "parameters": models.count_parameters(session.model),
        }
        self.names = source.names  # the checkpoint's copy, for novelty checks

    def validate(self) -> float:
        """Rank 0 measures the held-out loss (and saves the checkpoint when it is the best so far);
        every rank records the same value."""
        p, model = self.progress, self.session.model
        p.elapsed = time.perf_counter() - self.start
        val = math.nan
        if self.group.main:
            val = batches_nll(model, self.session.val_batches, extra_nats=self.session.val_unknown_nats)
        val = broadcast_values(self.group, [val])[0]
        p.history.append([p.step, round(p.elapsed, 3), self.train_loss, val])
        if not (math.isfinite(val) and val < p.best_val):  # a non-finite model is never saved (`check_finite`)
            p.bad_evals += 1
            return val
        p.best_val, p.best_step, p.bad_evals = val, p.step, 0
        if self.group.main:
            self.best_weights.clear()
            self.best_weights.update({k: v.detach().clone() for k, v in model.state_dict().items()})
            meta = {
                **self.info,
                "step": p.step,
                "best_val_loss": val,
                "best_val_bits": val / LN2,
                "parameters": models.count_parameters(model),
            }  # an n-gram's size grows as it counts
            ckpt.save_checkpoint(self.out, model, self.plan.kind, self.plan.vocab, meta, self.names)
        return val

    def check_finite(self, loss: float, what: str) -> None:
        """Stop the run (TrainingDiverged) if `loss` is NaN or infinite: the weights that gave it are not
        saved, so the checkpoint keeps the best model so far and the state its last validation. The
        loss is the same on every rank (summed or broadcast), so all ranks stop together."""
        if math.isfinite(loss):
            return
        p = self.progress
        kept = (
            f"{self.out} keeps the best model so far, from step {p.best_step}"
            if math.isfinite(p.best_val)
            else "no model was saved (the run diverged before its first validation)"
        )
        raise TrainingDiverged(
            f"step {p.step}: the {what} loss is {loss}, so the run stopped (it diverged); {kept}; "
            f"train again with a lower --lr or --grad-clip"
        )

    def save_state(self) -> None:
        """Every rank's random states to rank 0 (a collective), which writes the resumable state."""
        ranks = {name: gather_tensors(self.group, state) for name, state in rank_rng(self.group).items()}
        if self.group.main:
            save_state(
                ckpt.state_path(self.out),
                self.session.model,
                self.best_weights,
                self.session.trainer,
                self.progress,
                self.run_record,
                ranks,
            )
        self.saved_step = self.progress.step

    def run(self, flag: Signals, should_stop: Callable[[int], bool] | None = None, progress_bar: bool = True) -> str:
        """Train until a stopping rule fires on any rank; returns why (see `TrainResult.stopped`)."""
        p, config, trainer, group = self.progress, self.plan.config, self.session.trainer, self.group
        if flag.requested:  # Ctrl-C while the run was being set up
            return "interrupted"
        bar = _progress_bar(config.max_steps, p.step, enabled=progress_bar and group.main)
        try:
            while p.step < config.max_steps:
                loss, n_chars = trainer.step(p.step)
                p.step += 1
                interrupt = flag.requested or (should_stop is not None and should_stop(p.step))
                late = config.max_time is not None and time.perf_counter() - self.start >= config.max_time
                if group.world > 1:  # the batch's mean loss per character, and any rank's stop request
                    loss_sum, n_chars, interrupt, late = all_sum(group, [loss * n_chars, n_chars, interrupt, late])
                    loss, n_chars = loss_sum / n_chars, int(n_chars)
                self.check_finite(loss, "training")
                p.chars += n_chars
                self.chars_this_run += n_chars
                self.train_loss = loss if math.isnan(self.train_loss) else 0.9 * self.train_loss + 0.1 * loss
                bar.update(1)
                if p.step % config.eval_interval == 0 or p.step == config.max_steps or trainer.finished:
                    val = self.validate()
                    self.check_finite(val, "validation")
                    speed = self.chars_this_run / max(1e-9, time.perf_counter() - self.t_run)
                    bar.set_postfix_str(
                        f"train {self.train_loss:.3f} val {val:.3f} nats ({val / LN2:.3f} bits) "
                        f"best {p.best_val:.3f} {speed:,.0f} chars/s"
                    )
                    self.save_state()
                    if trainer.finished:
                        return "finished"
                    if p.bad_evals >= config.patience:
                        return "early_stop"
                if interrupt:
                    return "interrupted"
                if late and p.step < config.max_steps:
                    return "max_time"
            return "max_steps"
        finally:
            bar.close()

    def finish(self, stopped: str) -> TrainResult:
        """Make sure a model is on disk, save the final state, and report the run."""
        p = self.progress
        if math.isinf(p.best_val) or (stopped == "max_time" and p.history[-1][0] != p.step):
            # Validate the last weights so a run cut short still leaves a model on disk. An interrupted
            # run that already has a best model skips this, so resuming it sees the same validations
            # as a run that was never stopped. (Every rank knows the best loss, rank 0 alone the weights.)
            self.check_finite(self.validate(), "validation")
        p.elapsed = time.perf_counter() - self.start
        self.save_state()
        return TrainResult(
            path=str(self.out),
            step=p.step,
            best_step=p.best_step,
            best_val=p.best_val,
            stopped=stopped,
            elapsed=p.elapsed,
            chars_per_sec=self.chars_this_run / max(1e-9, time.perf_counter() - self.t_run),
            parameters=models.count_parameters(self.session.model),
            history=p.history,
            reason=stop_reason(stopped, self.plan.config),
        )


def train(
    data,
    kind: str | None,
    out: str | Path,
    config: TrainConfig | None = None,
    size: str | None = None,
    model_overrides: dict | None = None,
    resume: bool = False,
    device: str = "auto",
    log: Callable[[str], None] = print,
    progress_bar: bool = True,
    should_stop: Callable[[int], bool] | None = None,
    init: str | Path | None = None,
    force: bool = False,
) -> TrainResult:
    """Train a `kind` model (None: lstm) on `data`, keep the best checkpoint at `out`, and return how it went.

    `data` is a `corpus.NameList`, or a `stream.StreamedNames` for a file too large to hold.
    `out` must not be the names file, and an existing `out` is replaced only with `force=True` or
    when resuming its run; a second run writing the same `out` at the same time fails at once
    (`guard.OutputBusy`). With `resume=True` the run continues from the state saved beside `out`
    with its stored settings; a `kind`, `config`, `size`, `model_overrides` or `init` that differs
    from them is a ConfigError listing every difference, unless `force=True` (then the stored ones
    are used). Only `max_steps`, `max_time` and `patience` may change on resume.
    `should_stop(step)` is checked after every step (the Python API's way to interrupt cleanly);
    Ctrl-C does the same, and the result then says `stopped == "interrupted"`.
    `init` fine-tunes a pretrained checkpoint (path or shipped name): its kind and shape are kept,
    the vocabulary becomes the union of its characters and the list's, the default learning rate
    is a third of the kind's and the default dropout `FINE_TUNE_DROPOUT`.
    Under torchrun every rank calls this with the same arguments; the result is the same on every rank.
    """
    source = as_source(data)
    group = join(device)
    if not group.main:
        log, progress_bar = (lambda _msg: None), False
    with contextlib.ExitStack() as stack:
        signals = stack.enter_context(Signals(term=group.world > 1))
        stack.callback(leave, group)  # inside the SIGTERM handler's scope: a late SIGTERM cannot cut it short
        loop: TrainingLoop | None = None
        try:

            def claim_output() -> Path:  # rank 0 owns the output: it checks it, locks it, reads the state
                path = ckpt.check_writable(out)  # fail before training, not at the first save
                guard.check_not_input([path, ckpt.state_path(path), guard.lock_path(path)], [source.source])
                stack.enter_context(guard.OutputLock(path))
                guard.check_replace([path, ckpt.state_path(path)], force=force, resume=resume)
                return path

            target = main_first(group, claim_output if group.main else (lambda: None))
            # the other ranks work on a private copy of the state; they never touch the output
            here = (
                Path(target)
                if group.main
                else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="xiaming-rank-"))) / "rank.safetensors"
            )
            if resume and group.world > 1:
                state = ckpt.state_path(here)
                content = broadcast_bytes(group, state.read_bytes() if group.main and state.is_file() else None)
                if not group.main and content:
                    state.write_bytes(content)

            def plan_run() -> RunPlan:
                plan = prepare_run(source, here, kind, config, size, model_overrides, resume, init, force, log)
                check_plan(plan, source, group)
                return plan

            plan = main_first(group, plan_run)
            session = build_trainer(plan, source, group)
            if group.rank > 0:  # dropout differs per rank; rank 0 keeps the one-process stream
                torch.manual_seed(plan.config.seed * 1_000_003 + group.rank)
            progress, best_weights = Progress(), {}
            if resume:
                progress, best_weights = load_state(ckpt.state_path(here), session.model, session.trainer, group)
            loop = TrainingLoop(plan, session, source, here, progress, best_weights, group)
            _report_start(plan, session, source, progress, group, log)
            result = replace(loop.finish(loop.run(signals, should_stop, progress_bar)), path=str(out))
            if group.world > 1:
                # leave together: a rank that tears its process group down while another still uses
                # it can make that one abort in gloo's threads (seen once in a few hundred test runs)
                dist.barrier()
            signals.armed = False
            return result
        except Terminated:
            raise RunStopped(
                _stopped_message(group, loop, "torchrun ended it (another process failed or was stopped)")
            ) from None
        except RuntimeError as exc:
            signals.armed = False  # this report stands, whatever torchrun sends while it is made
            if group.world > 1 and is_comm_error(exc):
                raise RunStopped(
                    _stopped_message(group, loop, f"it lost contact with another process ({first_line(exc)})")
                ) from None
            raise
        except BaseException:
            signals.armed = False  # an error on its way out (a bad flag, Ctrl-C) is what the rank reports
            raise


def _stopped_message(group: Group, loop: TrainingLoop | None, reason: str) -> str:
    """One line: which rank stopped, when, why, and what can be resumed."""
    if loop is None:
        return f"{group.describe()} stopped while starting: {reason}"
    saved = loop.saved_step
    where = (
        (
            f"the state saved at step {saved} beside {loop.out if group.main else 'the output'} is resumable: "
            f"run the same command with --resume"
        )
        if saved is not None
        else "no state was saved yet"
    )
    return f"{group.describe()} stopped at step {loop.progress.step}: {reason}; {where}"


def _report_start(
    plan: RunPlan, session: Session, source: DataSource, progress: Progress, group: Group, log: Callable[[str], None]
) -> None:
    """The lines a run prints first: the data, the model and its settings, the processes."""
    stats = describe(source.names)
    log(
        f"{source.source}: {stats['names']} names ({len(plan.train_names)} train, {len(plan.val_names)} validation), "
        f"{stats['characters']} characters, {stats['distinct_characters']} distinct, vocabulary {plan.vocab.size}, "
        f"lengths {stats['lengths']}"
    )
    shape = " ".join(
        f"{k}={v}" for k, v in asdict(plan.model_config).items() if k not in ("vocab_size", "block_size", "cell")
    )
    log(
        f"{plan.kind} {shape}: {models.count_parameters(session.model):,} parameters on {session.device}, seed "
        f"{plan.config.seed}, lr {plan.peak_lr:g}, validation every {plan.config.eval_interval} steps, patience "
        f"{plan.config.patience}" + (f", resuming at step {progress.step}" if plan.resume else "")
    )
    if group.world > 1:
        log(
            f"data parallel: {group.world} processes ({group.backend}), {plan.config.batch_size} names per step, "
            f"about {plan.config.batch_size // group.world} per process"
        )


def _progress_bar(total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, unit="step", dynamic_ncols=True, leave=False)
