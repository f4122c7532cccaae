"""The run plan: everything decided before the first step, for a fresh model, a fine-tuning run
(`init`: the base's kind and shape, a vocabulary grown by the list's characters, a gentler rate)
or a resumed one (the saved settings; only when to stop may change). The plan is the same for
names in memory and streamed ones (`sources.py`). A run in stages (base -> genre -> author) is a
sequence of fine-tuning runs, each with `init` the last one's checkpoint (`scripts/build_pretrained.py`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sized
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .. import checkpoint as ckpt
from .. import models, validate
from ..data.corpus import check_longest
from ..data.vocab import Vocab
from ..errors import NO_VALUE, CheckpointError, ConfigError, DataError, XiamingWarning
from ..generation import kinds
from .config import FINE_TUNE_DROPOUT, TrainConfig
from .sources import DataSource, as_source

# Settings `--resume` may change: they decide when to stop, not what each step computes.
CHANGEABLE_ON_RESUME = ("max_steps", "max_time", "patience")
SCALED = ("eval_interval", "patience")  # None in a config: scaled to the list (`config.cadence`)
INHERITED_KEYS = (kinds.METADATA_KEY,)


@dataclass
class RunPlan:
    """Everything decided before the first step: what model to build and how to train it."""

    kind: str
    model_config: object  # the kind's frozen config dataclass
    config: TrainConfig
    vocab: Vocab
    train_names: Sized  # a list, or for a streamed run only their number (`sources.Split`)
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


def inherited_metadata(info: dict | None) -> dict:
    """What a fine-tuned model keeps of its base's (or a resumed run's) training metadata: its name
    kinds. A base trained with kinds has the epithet marker in its vocabulary, so the fine-tuned model
    does too; without the record, generation would not keep the marker from coming first (an empty
    name) and `--kind epithet` would be refused."""
    return {key: info[key] for key in INHERITED_KEYS if key in (info or {})}


def prepare_run(
    data,
    out: Path,
    kind: str | None = None,
    config: TrainConfig | None = None,
    size: str | None = None,
    model_overrides: dict | None = None,
    resume: bool = False,
    init: str | Path | None = None,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> RunPlan:
    """Decide the run on `data` (a `NameList` or a source): resume the one saved beside `out`,
    fine-tune `init`, or start fresh."""
    source: DataSource = as_source(data)
    run = read_run(ckpt.state_path(out)) if resume else None
    if run is not None:
        config = resumed_config(run, kind, config, size, model_overrides, init, force, log)
    else:
        config = config or TrainConfig()
        config.validate()
    names = source.split(config.val_fraction, config.seed)
    check_longest(names.longest, source.source)  # names read with no limit (the Python API)
    if run is not None:  # continue the saved run: its kind, shapes and training settings
        kind, vocab = run["kind"], Vocab.from_dict(run["vocab"])
        fits = set(names.vocab.chars) <= set(vocab.chars) if run.get("init") else names.vocab.to_dict() == run["vocab"]
        if not fits:
            raise DataError(f"{source.source}: the names differ from those the run to resume was started with")
        lr = models.spec(kind).lr / (3 if run.get("init") else 1)
        return RunPlan(
            kind,
            models.config_from_dict(kind, run["model_config"]),
            config,
            vocab,
            names.train_names,
            names.val_names,
            config.lr or lr,
            run.get("init"),
            None,
            resume=True,
            inherited=inherited_metadata(run),
        )
    if init is not None:  # fine-tune: the base's kind and shape, a grown vocabulary, a gentler rate
        base = _load_base(init, kind)
        overrides = {k: v for k, v in (model_overrides or {}).items() if v is not None}
        if set(overrides) - {"dropout"}:
            other = min(set(overrides) - {"dropout"})
            raise ConfigError(
                other,
                overrides[other],
                "{init} keeps the base model's shape; only {dropout} may be changed",
                refs=("init", "dropout"),
            )
        window = getattr(base.config, "block_size", None)
        if window is not None and names.longest >= window:
            raise ConfigError(
                "init",
                str(init),
                f"the base reads names of at most {window - 1} characters; {source.source} has longer ones",
            )
        vocab = base.vocab.union(names.vocab)
        if "dropout" in models.config_fields(base.kind):
            overrides.setdefault("dropout", FINE_TUNE_DROPOUT)
        shape = {k: v for k, v in asdict(base.config).items() if k not in overrides}
        # make_config checks the overrides as it does for a fresh model (dropout 1.5 is an error, not a traceback)
        model_config = models.make_config(base.kind, {**shape, "vocab_size": vocab.size}, None, **overrides)
        return RunPlan(
            base.kind,
            model_config,
            config,
            vocab,
            names.train_names,
            names.val_names,
            config.lr or models.spec(base.kind).lr / 3,
            str(init),
            base,
            inherited=inherited_metadata(base.train),
        )
    kind = kind or "lstm"  # a new model sized by the preset and the data
    data_fields = {"vocab_size": names.vocab.size, "block_size": max(32, names.longest + 1)}
    model_config = models.make_config(kind, data_fields, size, **(model_overrides or {}))
    return RunPlan(
        kind, model_config, config, names.vocab, names.train_names, names.val_names, config.lr or models.spec(kind).lr
    )


def _load_base(init: str | Path, kind: str | None):
    """The pretrained checkpoint to fine-tune; `kind`, when the user named one, must match it."""
    from ..pretrained import resolve

    base = ckpt.load_checkpoint(resolve(init))
    if kind is not None and kind != base.kind:
        raise ConfigError("model", kind, f"does not match {{init}} {init}, a {base.kind} model", refs=("init",))
    return base


# --- resuming ----------------------------------------------------------------------------------


def read_run(state_file: Path) -> dict:
    """The run description saved with a training state; CheckpointError if missing or damaged."""
    if not state_file.exists():
        raise CheckpointError(f"{state_file}: no training state to resume from (run without --resume first)")
    return check_run(state_file, validate.read_metadata(state_file, ckpt.STATE_FORMAT).metadata)


def check_run(path: Path, metadata: dict[str, str]) -> dict:
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
        raise validate.fail(
            path, "run.model_config.vocab_size", f"{config.vocab_size}, but the vocabulary has {vocab.size} ids"
        )
    validate.check_fields(TrainConfig, run.get("train_config"), path, "run.train_config")
    try:
        TrainConfig(**run["train_config"]).validate()
    except ConfigError as exc:
        raise validate.fail(path, "run.train_config", str(exc)) from None
    for key in ("init", "source"):
        if run.get(key) is not None and not isinstance(run[key], str):
            raise validate.fail(path, f"run.{key}", "must be a string")
    return run


def resume_config(out: str | Path, given: dict) -> TrainConfig | None:
    """The saved run's training config with the `given` fields replaced (what a user typed on the
    command line), or None when there is no state to resume (train() then says so)."""
    state_file = ckpt.state_path(out)
    if not state_file.is_file():
        return None
    return replace(TrainConfig(**read_run(state_file)["train_config"]), **given)


def _flag(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def resume_differences(
    run: dict,
    kind: str | None,
    config: TrainConfig | None,
    size: str | None,
    model_overrides: dict | None,
    init: str | Path | None,
) -> list[tuple[str, str]]:
    """Every requested setting a resumed run cannot honour, as (field, "value (saved value)")."""
    diffs: list[tuple[str, str]] = []
    saved_kind = run["kind"]
    if kind is not None and kind != saved_kind:
        diffs.append(("model", f"{kind} (saved {saved_kind})"))
    if init is not None and str(init) != str(run.get("init")):
        diffs.append(("init", f"{init} (saved {run.get('init') or 'none'})"))
    if config is not None:
        saved = run["train_config"]
        for name, value in asdict(config).items():
            if name in SCALED and value is None:  # unset: the saved run's value stands
                continue
            if name not in CHANGEABLE_ON_RESUME and saved.get(name) != value:
                was = saved.get(name)
                diffs.append((name, f"{value} (saved {'the default' if was is None else was})"))
    typed = {k: v for k, v in (model_overrides or {}).items() if v is not None}
    preset = models.spec(saved_kind).presets.get(size, {}) if size is not None else {}
    for name, value in {**preset, **typed}.items():
        saved_value = run["model_config"].get(name, "not a setting of this kind")
        if saved_value != value:
            source = "" if name in typed else f" from --size {size}"
            diffs.append((name, f"{value}{source} (saved {saved_value})"))
    return diffs


def resumed_config(
    run: dict,
    kind: str | None,
    config: TrainConfig | None,
    size: str | None,
    model_overrides: dict | None,
    init: str | Path | None,
    force: bool,
    log: Callable[[str], None],
) -> TrainConfig:
    """The saved run's training config with the flags a resume may change (`CHANGEABLE_ON_RESUME`)
    applied and printed; any other flag that differs is refused, or with `force` warned about."""
    saved = TrainConfig(**run["train_config"])
    diffs = resume_differences(run, kind, config, size, model_overrides, init)
    if diffs and not force:
        raise ConfigError(
            "resume",
            NO_VALUE,
            "the saved run differs from the settings given: "
            + "; ".join(f"{{{name}}} {text}" for name, text in diffs)
            + ". Drop those settings, or pass {force} to continue "
            "with the saved values",
            refs=(*dict.fromkeys(name for name, _ in diffs), "force"),
        )
    if diffs:  # a warning, not a log line: it shows even with --quiet
        warnings.warn(
            "--force: continuing with the saved values, not "
            + "; ".join(f"{_flag(name)} {text}" for name, text in diffs),
            XiamingWarning,
            stacklevel=4,
        )
    changes = (
        {}
        if config is None
        else {
            name: getattr(config, name)
            for name in CHANGEABLE_ON_RESUME
            if getattr(config, name) not in (None, getattr(saved, name))
        }
    )
    for name, value in changes.items():
        log(f"--resume: {_flag(name)} {value} (was {getattr(saved, name)})")
    config = replace(saved, **changes)
    config.validate()
    return config
