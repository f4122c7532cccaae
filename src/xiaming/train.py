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
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Protocol

import torch

from . import checkpoint as ckpt
from . import guard, kinds, models, validate
from .corpus import NameList, check_longest, describe, split
from .data import PAD_TARGET, crop, encode_names, hide_targets, length_batches, once_seen_ids
from .devices import pick_device
from .errors import CheckpointError, ConfigError, DataError, TrainingDiverged, XiamingWarning
from .score import UnknownShares
from .vocab import Vocab

LN2 = math.log(2)
# TrainConfig and FINE_TUNE_DROPOUT live in train_config.py (torch-free, for the CLI's parser).
from .train_config import FINE_TUNE_DROPOUT, TrainConfig  # noqa: E402


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
    reason: str = ""  # `stopped` in words, with the setting that decided it (`stop_reason`)

    @property
    def best_val_bits(self) -> float:
        return self.best_val / LN2


def stop_reason(stopped: str, config: TrainConfig) -> str:
    """Why a run stopped, in words naming the flag that decided it (what `xiaming train` prints)."""
    return {
        "max_steps": f"reached --max-steps {config.max_steps}",
        "max_time": f"reached --max-time {config.max_time:g} s" if config.max_time is not None else "reached --max-time",
        "early_stop": f"stopped early: no better validation loss in {config.patience} validations (--patience), "
                      f"one every {config.eval_interval} steps (--eval-interval)",
        "interrupted": "interrupted; continue with --resume",
        "finished": "training complete (nothing left to learn)",
    }.get(stopped, stopped)


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


VALIDATION_LOGITS = 1 << 21  # logits (rows x positions x vocabulary) per validation batch: 8 MB of float32


@torch.no_grad()
def mean_nll(model, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512, extra_nats: float = 0.0) -> float:
    """Mean cross-entropy per predicted character (end token counted, padding not) of padded names
    `x`, `y` (as `data.encode_names` gives them), in nats; see `batches_nll`."""
    lengths = (y != PAD_TARGET).sum(dim=1)  # (N,) targets per row
    order = torch.argsort(lengths, stable=True)
    vocab_size = getattr(getattr(model, "config", None), "vocab_size", 1)
    batches, start = [], 0
    while start < len(order):  # rows of similar length together, each batch within the logits budget
        width = int(lengths[order[min(len(order), start + batch_size) - 1]])
        rows = max(1, min(batch_size, VALIDATION_LOGITS // max(1, width * vocab_size)))
        idx = order[start : start + rows]
        batches.append((x[idx], y[idx]))
        start += rows
    return batches_nll(model, batches, extra_nats)


@torch.no_grad()
def batches_nll(model, batches: list[tuple[torch.Tensor, torch.Tensor]], extra_nats: float = 0.0) -> float:
    """Mean cross-entropy per predicted character (end token counted, padding not) over `batches` of
    (inputs, targets), in nats.

    `extra_nats` is added to the total: the cost of spreading the unknown id's probability over
    the characters it stands for (see `score.UnknownShares`), so the figure equals `xiaming eval`'s.
    Each batch is cropped to its longest name; `data.length_batches` makes batches of names of
    similar length holding about `VALIDATION_LOGITS` logits, so a validation costs no more memory
    than a training step whatever the vocabulary (it was the peak of rank 0 in streamed runs over
    3,000 characters), and one long name costs its own row only (a limit raised with --max-name-len
    made every row as long as the longest name: 8.9 GB for one 50 MB line).
    """
    was_training = getattr(model, "training", False)
    model.eval()
    total, count = extra_nats, 0
    for xb, yb in batches:
        xb, yb = crop(xb, yb)
        _, loss = model(xb, yb)
        n = int((yb != PAD_TARGET).sum())
        total += float(loss) * n
        count += n
    if was_training:
        model.train()
    return total / max(1, count)


def validation_batches(vocab: Vocab, names: list[str], device) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The validation names encoded in length-sorted batches within `VALIDATION_LOGITS`, on `device`."""
    return [(x.to(device), y.to(device)) for x, y in length_batches(vocab, names, VALIDATION_LOGITS)]


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
    """Restore what `_save_state` wrote; returns the progress and the best weights. The state is
    checked as a checkpoint is (`validate`): its run description field by field, its model and best
    weights against the run's config before any is read, every float finite."""
    run: dict = {}

    def check(header: validate.Header) -> None:
        run.update(_check_run(path, header.metadata))
        config = models.config_from_dict(run["kind"], run["model_config"])
        validate.check_tensors(header, run["kind"], config, prefix="model.")
        if any(name.startswith("best.") for name in header.tensors):
            validate.check_tensors(header, run["kind"], config, prefix="best.")

    tensors, metadata = validate.read_file(path, ckpt.STATE_FORMAT, check=check, framework="pt")
    progress = _check_progress(path, metadata)
    try:
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        trainer.load_state_tensors({k[8:]: v for k, v in tensors.items() if k.startswith("trainer.")})
        torch.set_rng_state(tensors["rng.torch"])
        if "rng.cuda" in tensors and torch.cuda.is_available():
            torch.cuda.set_rng_state(tensors["rng.cuda"])
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise CheckpointError(f"{path}: damaged training state ({str(exc).splitlines()[0][:120] or type(exc).__name__})",
                              path=str(path)) from None
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
    return progress, best


def _check_run(path: Path, metadata: dict[str, str]) -> dict:
    """The run description saved with a training state, every field that resuming reads checked."""
    if "run" not in metadata:
        raise validate.fail(path, "run", "missing (damaged training state)")
    run = validate.parse_json(metadata["run"], path, "run")
    if not isinstance(run, dict):
        raise validate.fail(path, "run", "must be a JSON object")
    if run.get("kind") not in models.MODELS:
        raise validate.fail(path, "run.kind", f"{str(run.get('kind'))[:40]!r} is not a model kind")
    config = validate.check_config(run["kind"], run.get("model_config"), path, "run.model_config")
    vocab = validate.check_vocab(run.get("vocab"), path, "run.vocab")
    if config.vocab_size != vocab.size:
        raise validate.fail(path, "run.model_config.vocab_size", f"{config.vocab_size}, but the vocabulary has "
                                                                 f"{vocab.size} ids")
    validate.check_fields(TrainConfig, run.get("train_config"), path, "run.train_config")
    try:
        TrainConfig(**run["train_config"]).validate()
    except ConfigError as exc:
        raise validate.fail(path, "run.train_config", str(exc)) from None
    for key in ("init", "source"):
        if run.get(key) is not None and not isinstance(run[key], str):
            raise validate.fail(path, f"run.{key}", "must be a string")
    return run


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


def read_run(state_file: Path) -> dict:
    """The run description saved with a training state; CheckpointError if missing or damaged."""
    if not state_file.exists():
        raise CheckpointError(f"{state_file}: no training state to resume from (run without --resume first)")
    return _check_run(state_file, validate.read_metadata(state_file, ckpt.STATE_FORMAT).metadata)


# Settings `--resume` may change: they decide when to stop, not what each step computes.
CHANGEABLE_ON_RESUME = ("max_steps", "max_time", "patience")
SCALED = ("eval_interval", "patience")  # None in a config: scaled to the list (`train_config.cadence`)


def resume_config(out: str | Path, given: dict) -> TrainConfig | None:
    """The saved run's training config with the `given` fields replaced (what a user typed on the
    command line), or None when there is no state to resume (train() then says so)."""
    state_file = ckpt.state_path(out)
    if not state_file.is_file():
        return None
    return replace(TrainConfig(**read_run(state_file)["train_config"]), **given)


def _flag(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def resume_differences(run: dict, kind: str | None, config: TrainConfig | None, size: str | None,
                       model_overrides: dict | None, init: str | Path | None) -> list[str]:
    """Every requested setting a resumed run cannot honour, as `--flag value (saved value)`."""
    diffs: list[str] = []
    saved_kind = run["kind"]
    if kind is not None and kind != saved_kind:
        diffs.append(f"--model {kind} (saved {saved_kind})")
    if init is not None and str(init) != str(run.get("init")):
        diffs.append(f"--init {init} (saved {run.get('init') or 'none'})")
    if config is not None:
        saved = run["train_config"]
        for name, value in asdict(config).items():
            if name in SCALED and value is None:  # unset: the saved run's value stands
                continue
            if name not in CHANGEABLE_ON_RESUME and saved.get(name) != value:
                was = saved.get(name)
                diffs.append(f"{_flag(name)} {value} (saved {'the default' if was is None else was})")
    typed = {k: v for k, v in (model_overrides or {}).items() if v is not None}
    preset = models.spec(saved_kind).presets.get(size, {}) if size is not None else {}
    for name, value in {**preset, **typed}.items():
        saved_value = run["model_config"].get(name, "not a setting of this kind")
        if saved_value != value:
            source = "" if name in typed else f" from --size {size}"
            diffs.append(f"{_flag(name)} {value}{source} (saved {saved_value})")
    return diffs


@dataclass
class RunPlan:
    """Everything decided before the first step: what model to build and how to train it."""

    kind: str
    model_config: object  # the kind's frozen config dataclass
    config: TrainConfig
    vocab: Vocab
    train_names: list[str]
    val_names: list[str]
    peak_lr: float
    init: str | None = None  # the checkpoint fine-tuned from (path or shipped name)
    base: object = None  # its loaded Checkpoint, for a fresh fine-tuning run only
    resume: bool = False
    inherited: dict = field(default_factory=dict)  # training metadata carried from the base (`inherited_metadata`)

    def __post_init__(self) -> None:
        # an unset validation cadence is scaled to the list here, so every run (fresh, fine-tuned,
        # streamed) uses, reports and saves concrete values; a resumed run's saved ones are kept
        self.config = self.config.resolved(len(self.train_names))


INHERITED_KEYS = (kinds.METADATA_KEY,)


def inherited_metadata(info: dict | None) -> dict:
    """What a fine-tuned model keeps of its base's (or a resumed run's) training metadata: its name
    kinds. A base trained with kinds has the epithet marker in its vocabulary, so the fine-tuned model
    does too; without the record, generation would not keep the marker from coming first (an empty
    name) and `--kind epithet` would be refused."""
    return {key: info[key] for key in INHERITED_KEYS if key in (info or {})}


def resumed_config(run: dict, kind: str | None, config: TrainConfig | None, size: str | None,
                   model_overrides: dict | None, init: str | Path | None, force: bool,
                   log: Callable[[str], None]) -> TrainConfig:
    """The saved run's training config with the flags a resume may change (`CHANGEABLE_ON_RESUME`)
    applied and printed; any other flag that differs is refused, or with `force` warned about."""
    saved = TrainConfig(**run["train_config"])
    diffs = resume_differences(run, kind, config, size, model_overrides, init)
    if diffs and not force:
        raise ConfigError("--resume: the saved run differs from the flags given: " + "; ".join(diffs)
                          + ". Drop those flags, or pass --force to continue with the saved values")
    if diffs:  # a warning, not a log line: it shows even with --quiet
        warnings.warn("--force: continuing with the saved values, not " + "; ".join(diffs), XiamingWarning,
                      stacklevel=4)
    changes = {} if config is None else {
        name: getattr(config, name) for name in CHANGEABLE_ON_RESUME
        if getattr(config, name) not in (None, getattr(saved, name))}
    for name, value in changes.items():
        log(f"--resume: {_flag(name)} {value} (was {getattr(saved, name)})")
    config = replace(saved, **changes)
    config.validate()
    return config


def _plan_resume(data: NameList, state_file: Path, kind: str | None, config: TrainConfig | None,
                 size: str | None, model_overrides: dict | None, init: str | Path | None, force: bool,
                 log: Callable[[str], None]) -> RunPlan:
    """Continue the saved run: its kind, shapes and training settings, except when to stop."""
    run = read_run(state_file)
    config = resumed_config(run, kind, config, size, model_overrides, init, force, log)
    kind = run["kind"]
    train_names, val_names = split(data.names, config.val_fraction, config.seed)
    vocab = Vocab.from_dict(run["vocab"])
    listed = Vocab.from_names(train_names)
    fits = set(listed.chars) <= set(vocab.chars) if run.get("init") else listed.to_dict() == run["vocab"]
    if not fits:
        raise DataError(f"{data.source}: the names differ from those the run to resume was started with")
    default_lr = models.spec(kind).lr / (3 if run.get("init") else 1)
    return RunPlan(kind, models.config_from_dict(kind, run["model_config"]), config, vocab, train_names, val_names,
                   config.lr if config.lr is not None else default_lr, run.get("init"), None, resume=True,
                   inherited=inherited_metadata(run))


def _plan_fine_tune(data: NameList, kind: str | None, config: TrainConfig, model_overrides: dict | None,
                    init: str | Path) -> RunPlan:
    """Start from a pretrained checkpoint: its kind and shape, a grown vocabulary, a gentler rate."""
    base = _load_base(init, kind)
    overrides = {k: v for k, v in (model_overrides or {}).items() if v is not None}
    if set(overrides) - {"dropout"}:
        raise ConfigError("--init keeps the base model's shape; only --dropout may be changed")
    window = getattr(base.config, "block_size", None)
    if window is not None and max(len(n) for n in data.names) >= window:
        raise ConfigError(f"--init {init}: the base reads names of at most {window - 1} characters; "
                          f"{data.source} has longer ones")
    train_names, val_names = split(data.names, config.val_fraction, config.seed)
    vocab = base.vocab.union(Vocab.from_names(train_names))
    if "dropout" in models.config_fields(base.kind):
        overrides.setdefault("dropout", FINE_TUNE_DROPOUT)
    shape = {k: v for k, v in asdict(base.config).items() if k not in overrides}
    # make_config checks the overrides as it does for a fresh model (--dropout 1.5 is an error, not a traceback)
    model_config = models.make_config(base.kind, {**shape, "vocab_size": vocab.size}, None, **overrides)
    peak_lr = config.lr if config.lr is not None else models.spec(base.kind).lr / 3
    return RunPlan(base.kind, model_config, config, vocab, train_names, val_names, peak_lr, str(init), base,
                   inherited=inherited_metadata(base.train))


def _plan_fresh(data: NameList, kind: str | None, config: TrainConfig, size: str | None,
                model_overrides: dict | None) -> RunPlan:
    """A new model of `kind` (default lstm) sized by the preset and the data."""
    kind = kind or "lstm"
    spec = models.spec(kind)
    train_names, val_names = split(data.names, config.val_fraction, config.seed)
    vocab = Vocab.from_names(train_names)
    data_fields = {"vocab_size": vocab.size, "block_size": max(32, max(len(n) for n in data.names) + 1)}
    model_config = models.make_config(kind, data_fields, size, **(model_overrides or {}))
    peak_lr = config.lr if config.lr is not None else spec.lr
    return RunPlan(kind, model_config, config, vocab, train_names, val_names, peak_lr)


def prepare_run(data: NameList, out: Path, kind: str | None = None, config: TrainConfig | None = None,
                size: str | None = None, model_overrides: dict | None = None, resume: bool = False,
                init: str | Path | None = None, force: bool = False,
                log: Callable[[str], None] = print) -> RunPlan:
    """Decide the run: resume the one saved beside `out`, fine-tune `init`, or start fresh."""
    check_longest(max(len(n) for n in data.names), data.source)  # names read with no limit (the Python API)
    if resume:
        return _plan_resume(data, ckpt.state_path(out), kind, config, size, model_overrides, init, force, log)
    config = config or TrainConfig()
    config.validate()
    if init is not None:
        return _plan_fine_tune(data, kind, config, model_overrides, init)
    return _plan_fresh(data, kind, config, size, model_overrides)


@dataclass
class Session:
    """The built model, its trainer and the validation tensors, on one device."""

    model: object
    trainer: Trainer
    device: torch.device
    val_batches: list  # [(inputs, targets)] of the validation names (`data.length_batches`), on the device
    val_unknown_nats: float  # the cost of spreading the unknown id over the validation names' new characters


def build_trainer(plan: RunPlan, device: str = "auto") -> Session:
    """The model (fine-tuned weights copied in), its trainer, and the encoded validation names."""
    dev = pick_device(device)
    torch.manual_seed(plan.config.seed)
    model = models.build_model(plan.kind, plan.model_config)
    if plan.base is not None:
        models.transfer_weights(plan.base.model, plan.base.vocab.chars, model, plan.vocab.chars)
    model = model.to(dev)
    train_x, train_y = encode_names(plan.vocab, plan.train_names)
    val_batches = validation_batches(plan.vocab, plan.val_names, dev)
    shares = UnknownShares(plan.vocab)
    unknown_nats = -sum(shares.log_share(c) for name in plan.val_names for c in name if c not in plan.vocab)
    if hasattr(model, "make_trainer"):
        trainer: Trainer = model.make_trainer(train_x, train_y, plan.config, plan.peak_lr)
    else:
        trainer = GradientTrainer(model, train_x, train_y, plan.config, plan.peak_lr, dev)
    return Session(model, trainer, dev, val_batches, unknown_nats)


class TrainingLoop:
    """Steps, validations and saves of one run; `run()` goes until a stopping rule fires.

    Every validation that improves on the best writes the checkpoint at `out`; every validation
    writes the resumable state beside it, so a run killed at any moment loses at most one
    validation interval.
    """

    def __init__(self, plan: RunPlan, session: Session, data: NameList, out: Path, progress: Progress,
                 best_weights: dict, log: Callable[[str], None] = print) -> None:
        self.plan, self.session, self.data, self.out = plan, session, data, out
        self.state_file = ckpt.state_path(out)
        self.progress, self.best_weights, self.log = progress, best_weights, log
        self.train_loss = math.nan  # smoothed training loss
        self.start = time.perf_counter() - progress.elapsed  # progress.elapsed counts earlier sessions too
        self.chars_this_run, self.t_run = 0, time.perf_counter()
        self.run_record = {
            "kind": plan.kind,
            "model_config": asdict(plan.model_config),
            "train_config": asdict(plan.config),
            "vocab": plan.vocab.to_dict(),
            "source": data.source,
            "init": plan.init,
            **plan.inherited,
        }
        stats = describe(data.names)
        self.info = {
            **{k: v for k, v in self.run_record.items() if k != "vocab"},
            "data": {**stats, "train_names": len(plan.train_names), "val_names": len(plan.val_names)},
            "max_name_len": max(len(n) for n in data.names),
            "parameters": models.count_parameters(session.model),
        }

    def validate(self) -> float:
        """Measure the held-out loss, record it, and write the checkpoint if it is the best so far."""
        p, model = self.progress, self.session.model
        p.elapsed = time.perf_counter() - self.start
        val = batches_nll(model, self.session.val_batches, extra_nats=self.session.val_unknown_nats)
        p.history.append([p.step, round(p.elapsed, 3), self.train_loss, val])
        if math.isfinite(val) and val < p.best_val:  # a non-finite model is never saved (`check_finite`)
            p.best_val, p.best_step, p.bad_evals = val, p.step, 0
            self.best_weights.clear()
            self.best_weights.update({k: v.detach().clone() for k, v in model.state_dict().items()})
            meta = {**self.info, "step": p.step, "best_val_loss": val, "best_val_bits": val / LN2,
                    "parameters": models.count_parameters(model)}  # an n-gram's size grows as it counts
            ckpt.save_checkpoint(self.out, model, self.plan.kind, self.plan.vocab, meta, self.data.names)
        else:
            p.bad_evals += 1
        return val

    def check_finite(self, loss: float, what: str) -> None:
        """Stop the run (TrainingDiverged) if `loss` is NaN or infinite: the weights that gave it are not
        saved, so the checkpoint keeps the best model so far and the state its last validation."""
        if math.isfinite(loss):
            return
        p = self.progress
        kept = (f"{self.out} keeps the best model so far, from step {p.best_step}" if math.isfinite(p.best_val)
                else "no model was saved (the run diverged before its first validation)")
        raise TrainingDiverged(f"step {p.step}: the {what} loss is {loss}, so the run stopped (it diverged); {kept}; "
                               f"train again with a lower --lr or --grad-clip")

    def save_state(self) -> None:
        """Write the resumable state (atomically)."""
        _save_state(self.state_file, self.session.model, self.best_weights, self.session.trainer, self.progress,
                    self.run_record)

    def run(self, flag: "_StopFlag", should_stop: Callable[[int], bool] | None = None,
            progress_bar: bool = True) -> str:
        """Train until a stopping rule fires; returns why it stopped (see `TrainResult.stopped`)."""
        p, config, trainer = self.progress, self.plan.config, self.session.trainer
        stopped = "max_steps"
        bar = _progress_bar(config.max_steps, p.step, enabled=progress_bar)
        try:
            while p.step < config.max_steps:
                if flag.requested:  # Ctrl-C while the run was being set up
                    stopped = "interrupted"
                    break
                if config.max_time is not None and time.perf_counter() - self.start >= config.max_time:
                    stopped = "max_time"
                    break
                loss, n_chars = trainer.step(p.step)
                p.step += 1
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
                        f"best {p.best_val:.3f} {speed:,.0f} chars/s")
                    self.save_state()
                    if trainer.finished:
                        stopped = "finished"
                        break
                    if p.bad_evals >= config.patience:
                        stopped = "early_stop"
                        break
                if flag.requested or (should_stop is not None and should_stop(p.step)):
                    stopped = "interrupted"
                    break
        finally:
            bar.close()
        return stopped

    def finish(self, stopped: str) -> TrainResult:
        """Make sure a model is on disk, save the final state, and report the run."""
        p = self.progress
        if math.isinf(p.best_val) or (stopped == "max_time" and p.history[-1][0] != p.step):
            # Validate the last weights so a run cut short still leaves a model on disk. An interrupted
            # run that already has a best model skips this, so resuming it sees the same validations
            # as a run that was never stopped. (No best loss yet is no best model yet; unlike the best
            # weights, which only the process that saves keeps, every rank of a DDP run knows it.)
            self.check_finite(self.validate(), "validation")
        p.elapsed = time.perf_counter() - self.start
        self.save_state()
        return TrainResult(
            path=str(self.out), step=p.step, best_step=p.best_step, best_val=p.best_val, stopped=stopped,
            elapsed=p.elapsed, chars_per_sec=self.chars_this_run / max(1e-9, time.perf_counter() - self.t_run),
            parameters=models.count_parameters(self.session.model), history=p.history,
            reason=stop_reason(stopped, self.plan.config),
        )


def train(
    data: NameList,
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
    Under torchrun (several ranks) or with `data` a `stream.StreamedNames`, `distributed.run` drives the run.
    """
    from . import distributed, stream

    if distributed.launched() or isinstance(data, stream.StreamedNames):
        return distributed.run(data, kind, out, config, size, model_overrides, resume, device, log, progress_bar,
                               should_stop, init, force)
    out = ckpt.check_writable(out)  # fail before training, not at the first save
    state_file = ckpt.state_path(out)
    guard.check_not_input([out, state_file, guard.lock_path(out)], [data.source])
    with guard.OutputLock(out), _StopFlag() as flag:
        guard.check_replace([out, state_file], force=force, resume=resume)
        plan = prepare_run(data, out, kind, config, size, model_overrides, resume, init, force, log)
        session = build_trainer(plan, device)
        progress, best_weights = Progress(), {}
        if resume:
            progress, best_weights = _load_state(state_file, session.model, session.trainer)
        loop = TrainingLoop(plan, session, data, out, progress, best_weights, log)
        _report_start(plan, session, data, progress, log)
        stopped = loop.run(flag, should_stop, progress_bar)
        return loop.finish(stopped)


def _report_start(plan: RunPlan, session: Session, data: NameList, progress: Progress,
                  log: Callable[[str], None]) -> None:
    """The two lines a run prints first: the data, then the model and its settings."""
    stats = describe(data.names)
    log(
        f"{data.source}: {stats['names']} names ({len(plan.train_names)} train, {len(plan.val_names)} validation), "
        f"{stats['characters']} characters, {stats['distinct_characters']} distinct, vocabulary {plan.vocab.size}, "
        f"lengths {stats['lengths']}"
    )
    log(
        f"{plan.kind} {_describe_config(plan.model_config)}: {models.count_parameters(session.model):,} parameters "
        f"on {session.device}, seed {plan.config.seed}, lr {plan.peak_lr:g}, validation every "
        f"{plan.config.eval_interval} steps, patience {plan.config.patience}"
        + (f", resuming at step {progress.step}" if plan.resume else "")
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
