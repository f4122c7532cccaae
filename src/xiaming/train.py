"""The training loop: minibatches, AdamW, clipping, a warmup-cosine schedule, validation, early
stopping, the best checkpoint, and exact resume.

`train()` is what `xiaming train` calls. It drives a *trainer*, the object that performs one
update: `GradientTrainer` (AdamW on padded minibatches) serves every PyTorch model; a model kind
with its own algorithm (the classic numpy RNN, the n-gram counts) supplies its own through
`model.make_trainer(...)`. Everything else is shared: every `eval_interval` steps the held-out loss
is measured; an improvement writes the checkpoint (so the file on disk is always the best model so
far), and every validation writes the resumable state beside it (last weights, trainer state, RNG
streams, progress). Resuming from that state reproduces the weights of an uninterrupted run bit
for bit on the same device. Ctrl-C finishes the current step, saves the state and returns.
"""

from __future__ import annotations

import json
import math
import signal
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Protocol

import torch

from . import checkpoint as ckpt
from . import models
from .corpus import NameList, describe, split
from .data import PAD_TARGET, crop, encode_names, hide_targets, once_seen_ids
from .devices import pick_device
from .errors import CheckpointError, ConfigError, DataError
from .score import UnknownShares
from .vocab import Vocab

LN2 = math.log(2)
# Dropout when fine-tuning on a (small) list: the small preset's. In 5-fold cross-validation it gave
# 0.11 (jinyong) and 0.21 (gulong) bits/char lower held-out loss than the base's 0.1 (see README).
FINE_TUNE_DROPOUT = 0.3


@dataclass(frozen=True)
class TrainConfig:
    """How to train; stored in the checkpoint so a run reports itself."""

    max_steps: int = 5000  # updates at most
    max_time: float | None = None  # wall-clock seconds at most (None: no limit)
    batch_size: int = 64  # names per step
    lr: float | None = None  # peak learning rate (None: the model kind's default)
    weight_decay: float = 0.01  # AdamW decoupled weight decay
    grad_clip: float = 1.0  # gradient norm clip
    warmup_steps: int = 100  # linear warmup from 0 to the peak rate
    min_lr_ratio: float = 0.1  # cosine decay ends at this fraction of the peak
    eval_interval: int = 100  # steps between validations
    patience: int = 10  # validations without improvement before stopping early
    val_fraction: float = 0.1  # share of names held out for validation
    unk_rate: float = 0.5  # chance that a character seen once in training is shown as unknown
    seed: int = 0  # seeds the split, the initial weights, dropout and batch order

    def validate(self) -> None:
        """Raise ConfigError naming the flag of the first out-of-range value."""
        checks = [
            ("max-steps", self.max_steps >= 1, "at least 1"),
            ("max-time", self.max_time is None or self.max_time > 0, "positive"),
            ("batch-size", self.batch_size >= 1, "at least 1"),
            ("lr", self.lr is None or self.lr > 0, "positive"),
            ("weight-decay", self.weight_decay >= 0, "non-negative"),
            ("grad-clip", self.grad_clip > 0, "positive"),
            ("warmup-steps", self.warmup_steps >= 0, "non-negative"),
            ("eval-interval", self.eval_interval >= 1, "at least 1"),
            ("patience", self.patience >= 1, "at least 1"),
            ("val-fraction", 0 < self.val_fraction < 1, "between 0 and 1"),
            ("unk-rate", 0 <= self.unk_rate < 1, "in [0, 1)"),
        ]
        for flag, ok, what in checks:
            if not ok:
                raise ConfigError(f"--{flag} {getattr(self, flag.replace('-', '_'))}: must be {what}")


class Trainer(Protocol):
    """One update at a time; its state must be saved and restored for exact resume."""

    finished: bool  # True when further steps cannot change the model (e.g. counts are complete)

    def step(self, step: int) -> tuple[float, int]:
        """Perform update number `step` (0-based); return its training loss and target characters."""

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Everything besides the model weights that resume needs (optimizer, RNG, positions)."""

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Inverse of `state_tensors`."""


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

    @property
    def best_val_bits(self) -> float:
        return self.best_val / LN2


def lr_at(step: int, peak: float, config: TrainConfig) -> float:
    """Linear warmup to `peak`, then cosine decay to `min_lr_ratio * peak` at `max_steps`."""
    if step < config.warmup_steps:
        return peak * (step + 1) / config.warmup_steps
    span = max(1, config.max_steps - config.warmup_steps)
    t = min(1.0, (step - config.warmup_steps) / span)
    return peak * (config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


class GradientTrainer:
    """AdamW on random minibatches of padded names, for every PyTorch model.

    Characters that occur once in the training names are shown as the unknown id with chance
    `unk_rate`, so the model learns how often a name holds a character it has never seen; without
    this, held-out names with new characters (common in Chinese lists) get near-zero probability.
    """

    finished = False

    def __init__(self, model, train_x: torch.Tensor, train_y: torch.Tensor, config: TrainConfig, peak_lr: float,
                 device: torch.device) -> None:
        self.model, self.config, self.peak_lr, self.device = model, config, peak_lr, device
        self.train_x, self.train_y = train_x, train_y
        decay = [p for p in model.parameters() if p.dim() >= 2]  # matrices and embeddings
        rest = [p for p in model.parameters() if p.dim() < 2]  # biases and norm gains: no decay
        groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": rest, "weight_decay": 0.0}]
        self.optimizer = torch.optim.AdamW(groups, lr=peak_lr, betas=(0.9, 0.99))
        self.batches = torch.Generator().manual_seed(config.seed)
        self.rare = once_seen_ids(train_y)

    def _hide_rare(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Replace some once-seen characters by UNKNOWN, in the targets and the inputs alike."""
        if self.config.unk_rate == 0 or len(self.rare) == 0:
            return xb, yb
        hide = torch.isin(yb, self.rare) & (torch.rand(yb.shape, generator=self.batches) < self.config.unk_rate)
        return hide_targets(xb, yb, hide)

    def step(self, step: int) -> tuple[float, int]:
        idx = torch.randint(len(self.train_x), (self.config.batch_size,), generator=self.batches)
        xb, yb = self._hide_rare(*crop(self.train_x[idx], self.train_y[idx]))
        xb, yb = xb.to(self.device), yb.to(self.device)  # (B, T)
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(step, self.peak_lr, self.config)
        self.model.train()
        _, loss = self.model(xb, yb)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        return loss.item(), int((yb != PAD_TARGET).sum())

    def state_tensors(self) -> dict[str, torch.Tensor]:
        opt = self.optimizer.state_dict()
        tensors = {f"optim.{pid}.{name}": torch.as_tensor(value)
                   for pid, state in opt["state"].items() for name, value in state.items()}
        tensors["rng.batch"] = self.batches.get_state()
        tensors["optim.param_groups"] = ckpt.text_tensor(json.dumps(opt["param_groups"]))
        return tensors

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        state: dict = {}
        for key, value in tensors.items():
            if key.startswith("optim.") and key != "optim.param_groups":
                _, pid, name = key.split(".", 2)
                state.setdefault(int(pid), {})[name] = value if name == "step" else value.to(self.device)
        self.optimizer.load_state_dict({"state": state, "param_groups": json.loads(ckpt.tensor_text(tensors["optim.param_groups"]))})
        self.batches.set_state(tensors["rng.batch"])


@torch.no_grad()
def mean_nll(model, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512, extra_nats: float = 0.0) -> float:
    """Mean cross-entropy per predicted character (end token counted, padding not), in nats.

    `extra_nats` is added to the total: the cost of spreading the unknown id's probability over
    the characters it stands for (see `score.UnknownShares`), so the figure equals `xiaming eval`'s.
    """
    was_training = getattr(model, "training", False)
    model.eval()
    total, count = extra_nats, 0
    for i in range(0, len(x), batch_size):
        xb, yb = crop(x[i : i + batch_size], y[i : i + batch_size])
        _, loss = model(xb, yb)
        n = int((yb != PAD_TARGET).sum())
        total += float(loss) * n
        count += n
    if was_training:
        model.train()
    return total / max(1, count)


class _StopFlag:
    """Turns the first Ctrl-C into a request to stop after the current step; a second one aborts."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> "_StopFlag":
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: Ctrl-C cannot reach us anyway
            self._previous = None
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _save_state(path: Path, model, best_weights: dict, trainer: Trainer, progress: Progress, run: dict) -> None:
    """Write everything `--resume` needs, atomically."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update({f"best.{k}": v for k, v in best_weights.items()})
    tensors.update({f"trainer.{k}": v for k, v in trainer.state_tensors().items()})
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


def _load_state(path: Path, model, trainer: Trainer) -> tuple[Progress, dict]:
    """Restore what `_save_state` wrote; returns the progress and the best weights."""
    tensors, metadata = ckpt.read_tensors(path, expected_format=ckpt.STATE_FORMAT)
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    trainer.load_state_tensors({k[8:]: v for k, v in tensors.items() if k.startswith("trainer.")})
    torch.set_rng_state(tensors["rng.torch"])
    if "rng.cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng.cuda"])
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
    return Progress(**json.loads(metadata["progress"])), best


def _read_run(path: Path) -> dict:
    _, metadata = ckpt.read_tensors(path, expected_format=ckpt.STATE_FORMAT)
    return json.loads(metadata["run"])


def train(
    data: NameList,
    kind: str | None,
    out: str | Path,
    config: TrainConfig = TrainConfig(),
    size: str | None = None,
    model_overrides: dict | None = None,
    resume: bool = False,
    device: str = "auto",
    log: Callable[[str], None] = print,
    progress_bar: bool = True,
    should_stop: Callable[[int], bool] | None = None,
    init: str | Path | None = None,
) -> TrainResult:
    """Train a `kind` model (None: lstm) on `data`, keep the best checkpoint at `out`, and return how it went.

    With `resume=True` the run continues from the state saved beside `out`; its model and training
    configs are the stored ones, except `max_steps` and `max_time`, which may be raised.
    `should_stop(step)` is checked after every step (the Python API's way to interrupt cleanly).
    `init` fine-tunes a pretrained checkpoint (path or shipped name): its kind and shape are kept,
    the vocabulary becomes the union of its characters and the list's, the default learning rate
    is a third of the kind's and the default dropout `FINE_TUNE_DROPOUT`.
    """
    out = ckpt.check_writable(out)  # fail before training, not at the first save
    state_file = ckpt.state_path(out)
    config.validate()
    stored: dict = {}
    if resume:
        if not state_file.is_file():
            raise CheckpointError(f"{state_file}: no training state to resume from (run without --resume first)")
        stored = _read_run(state_file)
        kind = stored["kind"]
        config = replace(TrainConfig(**stored["train_config"]), max_steps=config.max_steps, max_time=config.max_time)
        init = stored.get("init")
    base = _load_base(init, kind if not resume else None) if init is not None else None
    kind = base.kind if base is not None else (kind or "lstm")
    spec = models.spec(kind)
    train_names, val_names = split(data.names, config.val_fraction, config.seed)
    vocab = Vocab.from_names(train_names)
    if base is not None:
        vocab = base.vocab.union(vocab)
        window = getattr(base.config, "block_size", None)
        if window is not None and max(len(n) for n in data.names) >= window:
            raise ConfigError(f"--init {init}: the base reads names of at most {window - 1} characters; "
                              f"{data.source} has longer ones")
    if resume and vocab.to_dict() != stored["vocab"]:
        raise DataError(f"{data.source}: the names differ from those the run to resume was started with")
    dev = pick_device(device)
    torch.manual_seed(config.seed)
    if resume:
        model_config = models.config_from_dict(kind, stored["model_config"])
    elif base is not None:
        overrides = {k: v for k, v in (model_overrides or {}).items() if v is not None}
        if set(overrides) - {"dropout"}:
            raise ConfigError("--init keeps the base model's shape; only --dropout may be changed")
        overrides.setdefault("dropout", FINE_TUNE_DROPOUT)
        model_config = replace(base.config, vocab_size=vocab.size, **overrides)
    else:
        data_fields = {"vocab_size": vocab.size, "block_size": max(32, max(len(n) for n in data.names) + 1)}
        model_config = models.make_config(kind, data_fields, size, **(model_overrides or {}))
    model = models.build_model(kind, model_config)
    if base is not None and not resume:
        models.transfer_weights(base.model, base.vocab.chars, model, vocab.chars)
    model = model.to(dev)
    default_lr = spec.lr / 3 if base is not None else spec.lr
    peak_lr = config.lr if config.lr is not None else default_lr
    train_x, train_y = encode_names(vocab, train_names)
    val_x, val_y = (t.to(dev) for t in encode_names(vocab, val_names))
    shares = UnknownShares(vocab)
    val_unknown_nats = -sum(shares.log_share(c) for name in val_names for c in name if c not in vocab)
    if hasattr(model, "make_trainer"):
        trainer: Trainer = model.make_trainer(train_x, train_y, config, peak_lr)
    else:
        trainer = GradientTrainer(model, train_x, train_y, config, peak_lr, dev)
    run = {
        "kind": kind,
        "model_config": asdict(model_config),
        "train_config": asdict(config),
        "vocab": vocab.to_dict(),
        "source": data.source,
        "init": None if init is None else str(init),
    }
    progress, best_weights = Progress(), {}
    if resume:
        progress, best_weights = _load_state(state_file, model, trainer)
    n_params = models.count_parameters(model)
    stats = describe(data.names)
    log(
        f"{data.source}: {stats['names']} names ({len(train_names)} train, {len(val_names)} validation), "
        f"{stats['characters']} characters, {stats['distinct_characters']} distinct, vocabulary {vocab.size}, "
        f"lengths {stats['lengths']}"
    )
    log(
        f"{kind} {_describe_config(model_config)}: {n_params:,} parameters on {dev}, seed {config.seed}, "
        f"lr {peak_lr:g}" + (f", resuming at step {progress.step}" if resume else "")
    )
    info = {
        **{k: v for k, v in run.items() if k != "vocab"},
        "data": {**stats, "train_names": len(train_names), "val_names": len(val_names)},
        "max_name_len": max(len(n) for n in data.names),
        "parameters": n_params,
    }

    def validate() -> float:
        """Measure the held-out loss, record it, and keep the model if it is the best so far."""
        progress.elapsed = time.perf_counter() - start
        val = mean_nll(model, val_x, val_y, extra_nats=val_unknown_nats)
        progress.history.append([progress.step, round(progress.elapsed, 3), train_loss, val])
        if val < progress.best_val:
            progress.best_val, progress.best_step, progress.bad_evals = val, progress.step, 0
            best_weights.clear()
            best_weights.update({k: v.detach().clone() for k, v in model.state_dict().items()})
            meta = {**info, "step": progress.step, "best_val_loss": val, "best_val_bits": val / LN2,
                    "parameters": models.count_parameters(model)}  # an n-gram's size grows as it counts
            ckpt.save_checkpoint(out, model, kind, vocab, meta, data.names)
        else:
            progress.bad_evals += 1
        return val

    stopped = "max_steps"
    bar = _progress_bar(config.max_steps, progress.step, enabled=progress_bar)
    start = time.perf_counter() - progress.elapsed
    chars_this_run, t_run = 0, time.perf_counter()
    train_loss = math.nan
    with _StopFlag() as flag:
        while progress.step < config.max_steps:
            if config.max_time is not None and time.perf_counter() - start >= config.max_time:
                stopped = "max_time"
                break
            loss, n_chars = trainer.step(progress.step)
            progress.step += 1
            progress.chars += n_chars
            chars_this_run += n_chars
            train_loss = loss if math.isnan(train_loss) else 0.9 * train_loss + 0.1 * loss
            bar.update(1)
            if progress.step % config.eval_interval == 0 or progress.step == config.max_steps or trainer.finished:
                val = validate()
                speed = chars_this_run / max(1e-9, time.perf_counter() - t_run)
                bar.set_postfix_str(
                    f"train {train_loss:.3f} val {val:.3f} nats ({val / LN2:.3f} bits) best {progress.best_val:.3f} "
                    f"{speed:,.0f} chars/s"
                )
                _save_state(state_file, model, best_weights, trainer, progress, run)
                if trainer.finished:
                    stopped = "finished"
                    break
                if progress.bad_evals >= config.patience:
                    stopped = "early_stop"
                    break
            if flag.requested or (should_stop is not None and should_stop(progress.step)):
                stopped = "interrupted"
                break
    bar.close()
    if not best_weights or (stopped == "max_time" and progress.history[-1][0] != progress.step):
        # Validate the last weights so a run cut short still leaves a model on disk. An interrupted
        # run that already has a best model skips this, so resuming it sees the same validations
        # as a run that was never stopped.
        validate()
    progress.elapsed = time.perf_counter() - start
    _save_state(state_file, model, best_weights, trainer, progress, run)
    return TrainResult(
        path=str(out),
        step=progress.step,
        best_step=progress.best_step,
        best_val=progress.best_val,
        stopped=stopped,
        elapsed=progress.elapsed,
        chars_per_sec=chars_this_run / max(1e-9, time.perf_counter() - t_run),
        parameters=n_params,
        history=progress.history,
    )


def _load_base(init: str | Path, kind: str | None):
    """The pretrained checkpoint to fine-tune; `kind`, when the user named one, must match it."""
    from .pretrained import resolve

    base = ckpt.load_checkpoint(resolve(init))
    if kind is not None and kind != base.kind:
        raise ConfigError(f"--init {init} is a {base.kind} model; --model {kind} does not match it")
    return base


def _describe_config(config) -> str:
    fields = {k: v for k, v in asdict(config).items() if k not in ("vocab_size", "block_size", "cell")}
    return " ".join(f"{k}={v}" for k, v in fields.items())


def _progress_bar(total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, unit="step", dynamic_ncols=True, leave=False)
