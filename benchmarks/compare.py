"""Benchmark: every model kind trained on the same names with the same wall-clock budget.

Two modes:

    # k-fold cross-validation on a built-in list (or any names file): mean ± spread over folds
    python benchmarks/compare.py --corpus jinyong --folds 5 --budget 60

    # a given train/test split, e.g. makemore's English names (test nats/char comparable with its numbers)
    python benchmarks/compare.py --train ../shared/bench/train.txt --test ../shared/bench/test.txt --budget 240

Each model kind in the registry (or those named with --models) is trained with `xiaming.train`
for --budget seconds of wall clock per fold. `train` holds out its own validation names from the
training names it gets (for early stopping and the best checkpoint); the fold's test names are
never seen in training and are scored with `xiaming.generation.score` (proper probabilities, end token
counted). Before the first fold a short probe measures each model's step rate, so the cosine
learning-rate schedule ends when the budget does (`--max-steps` fixes the steps instead).

With `--stage wuxia` (and `--init base`), each fold's fine-tuned model goes through a training stage
first, as `scripts/build_pretrained.py --stage wuxia` builds the shipped models: the base is
fine-tuned on every name of the three wuxia lists except the fold's test names and the names the next
step validates on (early-stopped like a list, `build_pretrained.list_config`), then that stage model on
the fold's training names:

    python benchmarks/compare.py --corpus jinyong --folds 5 --max-steps 600 --threads 1 --models transformer \
        --init src/xiaming/pretrained/base.safetensors --stage wuxia

Prints one table (model, parameters, steps, characters/s, held-out bits/char, novelty, fragments,
glued, and detectability: the cross-validated accuracy of a classifier telling the run's samples
from the fold's held-out names, see `xiaming.generation.realism`; 50% = indistinguishable; needs scikit-learn,
`--no-realism` skips it) and writes results.json and a PNG of held-out loss against time (matplotlib optional) to
--out. The curve is the test loss of the best checkpoint so far, measured whenever it changes;
that measurement runs inside the budget, so the figures are, if anything, slightly pessimistic.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from build_pretrained import STAGES, list_config, stage_entries  # noqa: E402  (scripts/ is on sys.path)

from xiaming import (  # noqa: E402
    TrainConfig,
    models,  # noqa: E402
    train,
)
from xiaming.checkpoint import load_checkpoint  # noqa: E402
from xiaming.data.corpus import NameList, load_names, read_names, split  # noqa: E402
from xiaming.errors import XiamingError  # noqa: E402
from xiaming.generation.evaluate import draw_samples, held_out, sample_stats  # noqa: E402

LN2 = math.log(2)


@dataclass(frozen=True)
class Setting:
    """How one model kind is trained in the benchmark."""

    size: str | None = None  # size preset (None: the registry's default)
    lr: float | None = None  # peak learning rate (None: the kind's default)
    batch_size: int = 64  # names per step
    shape: dict = field(default_factory=dict)  # config fields over the preset, e.g. {"n_layer": 4}
    init: str | None = None  # a pretrained checkpoint to fine-tune (its kind and shape are kept)
    train: dict = field(default_factory=dict)  # TrainConfig fields over the benchmark's, e.g. {"unk_rate": 0.0}
    stage: str | None = None  # a training stage between `init` and the fold's names (build_pretrained.STAGES)


# Settings meant to do well within minutes on a 2-core CPU; --size, --lr, --batch-size and --shape
# override them. Kinds not listed (minchar, ngram) use their registry defaults: they are baselines.
LARGE_LIST = 50_000  # training characters from which a list counts as large
SMALL_LISTS: dict[str, Setting] = {  # e.g. jinyong: ~1,000 names, ~800 distinct characters
    # tied embeddings: most characters occur once or twice, and a separate head per character overfits
    "rnn": Setting("small", 2e-3, 64, {"tie_weights": True}),
    "lstm": Setting("small", 3e-3, 64, {"tie_weights": True}),
    "gru": Setting("small", 3e-3, 64, {"tie_weights": True}),
    "transformer": Setting("small", 1e-3, 64),
}
LARGE_LISTS: dict[str, Setting] = {  # e.g. makemore's 32k English names, 27 characters
    # wider state and light dropout: in minutes the models see each name ~10-30 times, underfitting
    # is the risk rather than overfitting
    "rnn": Setting("small", 2e-3, 64, {"n_hidden": 256, "dropout": 0.1}),
    "lstm": Setting("small", 3e-3, 64, {"n_hidden": 256, "dropout": 0.1}),
    "gru": Setting("small", 3e-3, 64, {"n_hidden": 256, "dropout": 0.1}),
    # two layers at a high rate beat makemore's four at 1e-3 within minutes on CPU (2.10 vs 2.23
    # nats on its test set after 45 s); for long budgets try --shape "transformer:n_layer=4"
    "transformer": Setting("small", 3e-3, 64, {"dropout": 0.1}),
}


FINETUNED = "finetuned"  # the row of the model fine-tuned from --init, at train()'s fine-tuning rate


@dataclass
class Run:
    """One model trained and tested on one fold."""

    kind: str
    fold: str
    setting: dict
    parameters: int
    steps: int
    max_steps: int
    seconds: float
    stopped: str
    chars_per_sec: float
    val_nats: float  # best loss on train()'s own validation names
    test_nats: float  # the fold's held-out names, scored by xiaming.generation.score
    novelty: float
    uniqueness: float
    fragments: float
    glued: float
    length_tv: float
    test_glued: float  # share of the real test names that are glued by the same rule (a reference)
    test_in_training: float  # share of the test names that are also training names
    curve: list  # [seconds, step, test nats] whenever the best checkpoint changed
    detect: float | None = None  # classifier accuracy, samples against the fold's test names (None: not measured)

    @property
    def test_bits(self) -> float:
        return self.test_nats / LN2


def kfold(names: list[str], k: int, seed: int) -> list[tuple[list[str], list[str]]]:
    """k (train, test) pairs; every name is tested exactly once."""
    order = list(range(len(names)))
    random.Random(seed).shuffle(order)
    folds = []
    for i in range(k):
        test_idx = set(order[i::k])
        folds.append(([n for j, n in enumerate(names) if j not in test_idx], [names[j] for j in sorted(test_idx)]))
    return folds


def train_config(
    setting: Setting, args, max_steps: int, max_time: float, eval_interval: int, n_names: int
) -> TrainConfig:
    val_fraction = args.val_fraction or min(0.1, 2000 / n_names)  # enough names for a steady estimate
    config = TrainConfig(
        max_steps=max_steps,
        max_time=max_time,
        batch_size=setting.batch_size,
        lr=setting.lr,
        warmup_steps=min(100, max(1, max_steps // 20)),
        eval_interval=eval_interval,
        patience=args.patience,
        val_fraction=val_fraction,
        seed=args.seed,
    )
    return replace(config, **setting.train)


def plan_steps(kind: str, data: NameList, setting: Setting, args, workdir: Path) -> tuple[int, int]:
    """(max_steps, eval_interval) so the schedule ends with the budget, from a short timed probe."""
    if args.max_steps:
        return args.max_steps, max(1, args.max_steps // args.evals)
    probe_time = min(20.0, max(2.0, 0.1 * args.budget))
    config = train_config(setting, args, 10**9, probe_time, 10**9, len(data.names))
    result = train(
        data,
        None if setting.init else kind,
        workdir / f"probe-{kind}.safetensors",
        config,
        size=setting.size,
        model_overrides=setting.shape,
        device=args.device,
        log=lambda _m: None,
        progress_bar=False,
        init=setting.init,
    )
    if result.stopped == "finished":  # the model is complete after these steps (e.g. counts)
        return 10**9, max(1, result.step)
    step, before_val = result.history[-1][0], result.history[-1][1]
    rate = step / max(1e-9, before_val)  # steps per second, validation excluded
    val_time = max(0.0, result.elapsed - before_val)  # one validation and checkpoint write
    train_time = max(0.5 * args.budget, args.budget - args.evals * val_time * 1.5)  # 1.5: the test curve too
    max_steps = max(args.evals, int(0.95 * rate * train_time))
    return max_steps, max(1, max_steps // args.evals)


def stage_names(stage: str, leave_out: Iterable[str]) -> NameList:
    """The names of the lists of a training stage (`build_pretrained.STAGES`), without kind markers (as
    `--corpus` reads a list) and without `leave_out`, e.g. a fold's test names."""
    return NameList([name for name, _ in stage_entries(stage, leave_out)], "builtin:" + "+".join(STAGES[stage]))


def train_stage(setting: Setting, fold: str, leave_out: Iterable[str], args, workdir: Path) -> Path:
    """`setting.init` fine-tuned on the names of `setting.stage` but `leave_out` (the fold's test and
    validation names), as build_pretrained trains its stage (`list_config`: early-stopped, its steps
    fixed, not its time)."""
    out = workdir / f"stage-{setting.stage}-{fold}.safetensors"
    train(
        stage_names(setting.stage, leave_out),
        None,
        out,
        list_config(args.seed),
        init=setting.init,
        device=args.device,
        log=lambda _m: None,
        progress_bar=False,
        force=True,
    )
    return out


def run_one(
    kind: str, fold: str, data: NameList, test: list[str], setting: Setting, plan: tuple[int, int], args, workdir: Path
) -> Run:
    """Train `kind` on `data` within the budget (from the fold's stage model when `setting.stage`),
    then score `test` and draw samples."""
    max_steps, eval_interval = plan
    out = workdir / f"{kind}-{fold}.safetensors"
    config = train_config(setting, args, max_steps, args.budget, eval_interval, len(data.names))
    init = setting.init
    if setting.stage:  # the stage sees neither the test names nor those this run validates (stops) on
        validation = split(data.names, config.val_fraction, config.seed)[1]
        init = train_stage(setting, fold, set(test) | set(validation), args, workdir)
    curve: list = []
    seen: list = [None]
    start = time.perf_counter()

    def record(step: int) -> None:
        """Score the test names with the best checkpoint when it has changed."""
        stat = out.stat()
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if key != seen[0]:
            seen[0] = key
            ckpt = load_checkpoint(out, device=args.device)
            curve.append(
                [round(time.perf_counter() - start, 2), step, held_out(ckpt.model, ckpt.vocab, test).nats_per_char]
            )

    def watch(step: int) -> bool:
        if args.curve and step % eval_interval == 0 and out.exists():
            record(step)
        return False

    result = train(
        data,
        None if setting.init else kind,
        out,
        config,
        size=setting.size,
        model_overrides=setting.shape,
        device=args.device,
        log=lambda _m: None,
        progress_bar=False,
        should_stop=watch,
        init=init,
    )
    record(result.step)
    ckpt = load_checkpoint(out, device=args.device)
    score = held_out(ckpt.model, ckpt.vocab, test, ckpt.names)
    samples = draw_samples(ckpt.model, ckpt.vocab, args.samples, args.seed, ckpt.train)
    stats = sample_stats(samples, ckpt.names)
    return Run(
        kind=kind,
        fold=fold,
        setting=asdict(setting),
        parameters=models.count_parameters(ckpt.model),
        steps=result.step,
        max_steps=max_steps,
        seconds=round(result.elapsed, 2),
        stopped=result.stopped,
        chars_per_sec=result.chars_per_sec,
        val_nats=result.best_val,
        test_nats=score.nats_per_char,
        novelty=stats.novelty,
        uniqueness=stats.uniqueness,
        fragments=stats.fragments,
        glued=stats.glued,
        length_tv=stats.length_tv,
        test_glued=score.glued,
        test_in_training=score.in_training,
        curve=curve,
        detect=realism_of(samples, test, data.names, args),
    )


def realism_of(samples: list[str], test: list[str], training: list[str], args) -> float | None:
    """Detectability of `samples` against the held-out `test` names (None: skipped, or too few names)."""
    if not args.realism:
        return None
    from xiaming.generation.realism import detectability

    try:
        return detectability(samples, test, reference=training, seed=args.seed).accuracy
    except XiamingError:  # fewer names than folds, or scikit-learn missing
        return None


def first_time_below(run: Run, target: float) -> float | None:
    """Seconds until the test loss first reached `target` nats (None: never)."""
    return next((t for t, _, nats in run.curve if nats <= target), None)


def _fmt(values: list[float], spec: str, spread: bool) -> str:
    mean = statistics.fmean(values)
    if spread and len(values) > 1:
        return f"{mean:{spec}}±{statistics.stdev(values):{spec}}"
    return f"{mean:{spec}}"


def _detect(runs: list[Run], spread: bool) -> str:
    values = [r.detect for r in runs if r.detect is not None]
    return _fmt([100 * v for v in values], ".1f", spread) + "%" if values else "-"


def table(runs: list[Run], kinds: list[str], with_nats: bool) -> str:
    """One row per model kind: means over folds, ± the standard deviation where there are several."""
    head = (
        ["model", "params", "steps", "chars/s", "bits/char"]
        + (["nats/char"] if with_nats else [])
        + ["novelty", "fragments", "glued", "uniq", "len TV", "detect", "stopped"]
    )
    rows = [head]
    for kind in kinds:
        rs = [r for r in runs if r.kind == kind]
        if not rs:
            continue
        spread = len(rs) > 1
        row = [
            kind,
            f"{rs[0].parameters:,}",
            f"{statistics.fmean(r.steps for r in rs):,.0f}",
            f"{statistics.fmean(r.chars_per_sec for r in rs):,.0f}",
            _fmt([r.test_bits for r in rs], ".3f", spread),
        ]
        if with_nats:
            row.append(_fmt([r.test_nats for r in rs], ".3f", spread))
        row += [
            f"{statistics.fmean(r.novelty for r in rs):.1%}",
            f"{statistics.fmean(r.fragments for r in rs):.1%}",
            f"{statistics.fmean(r.glued for r in rs):.1%}",
            f"{statistics.fmean(r.uniqueness for r in rs):.1%}",
            f"{statistics.fmean(r.length_tv for r in rs):.3f}",
            _detect(rs, spread),
            ",".join(sorted({r.stopped for r in rs})),
        ]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def plot(runs: list[Run], kinds: list[str], path: Path, title: str, targets: list[float]) -> str:
    """Held-out loss against time, one colour per model (one line per fold); returns a note."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plot skipped: matplotlib is not installed (pip install 'xiaming[plot]')"
    fig, ax = plt.subplots(figsize=(8, 5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, kind in enumerate(kinds):
        for j, run in enumerate(r for r in runs if r.kind == kind):
            colour, label = colours[i % len(colours)], kind if j == 0 else None
            if len(run.curve) == 1:  # complete at once (counts): a point, and its level as a baseline
                t, _, nats = run.curve[0]
                ax.plot([t], [nats], marker="o", color=colour, label=label)
                ax.axhline(nats, color=colour, linestyle="--", linewidth=1, alpha=0.6)
            elif run.curve:
                t, _, nats = zip(*run.curve)
                ax.step(t, nats, where="post", color=colour, alpha=0.8, label=label)
    for target in targets:
        ax.axhline(target, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("wall-clock seconds of training")
    ax.set_ylabel("held-out nats per character (best checkpoint)")
    ax.secondary_yaxis("right", functions=(lambda x: x / LN2, lambda x: x * LN2)).set_ylabel("bits per character")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return f"plot: {path}"


def _per_kind(kind_values: list[str], convert, flag: str) -> dict:
    """Parse repeated `KIND=VALUE` (or comma-separated) flags into {kind: value}."""
    out = {}
    for item in ",".join(kind_values).split(","):
        if not item:
            continue
        kind, sep, value = item.partition("=")
        if not sep or kind not in models.MODELS:
            raise SystemExit(
                f"compare.py: error: {flag} {item!r}: expected KIND=VALUE with KIND one of {', '.join(models.MODELS)}"
            )
        try:
            out[kind] = convert(value)
        except ValueError:
            raise SystemExit(f"compare.py: error: {flag} {item!r}: bad value") from None
    return out


def _value(text: str, item: str):
    """A --shape value: true/false, a whole number or a number."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise SystemExit(f"compare.py: error: --shape {item!r}: {text!r} is not a number or true/false") from None


def _shapes(items: list[str]) -> dict:
    """Parse `KIND:FIELD=VALUE[;FIELD=VALUE]` flags into {kind: {field: value}}."""
    out: dict = {}
    for item in items:
        kind, _, rest = item.partition(":")
        if kind not in models.MODELS or not rest:
            raise SystemExit(
                f"compare.py: error: --shape {item!r}: expected KIND:FIELD=VALUE, e.g. transformer:n_layer=4"
            )
        for pair in rest.split(";"):
            key, _, value = pair.partition("=")
            out.setdefault(kind, {})[key.strip()] = _value(value.strip(), item)
    return out


def settings(args, kinds: list[str], n_chars: int) -> dict[str, Setting]:
    """Each kind's setting for a training list of `n_chars` characters, flags over the defaults."""
    defaults = LARGE_LISTS if n_chars >= LARGE_LIST else SMALL_LISTS
    sizes = _per_kind(args.size, str, "--size")
    lrs = _per_kind(args.lr, float, "--lr")
    batches = _per_kind(args.batch_size, int, "--batch-size")
    shapes = _shapes(args.shape)
    out = {}
    for kind in kinds:
        base = defaults.get(kind, Setting())
        out[kind] = Setting(
            sizes.get(kind, base.size),
            lrs.get(kind, base.lr),
            batches.get(kind, base.batch_size),
            {**base.shape, **shapes.get(kind, {})},
        )
    return out


def _describe_defaults() -> str:
    lines = []
    for title, table in (
        (f"lists under {LARGE_LIST:,} training characters", SMALL_LISTS),
        ("larger lists", LARGE_LISTS),
    ):
        lines.append(f"defaults for {title}:")
        lines += [
            f"  {k}: size={s.size} lr={s.lr:g} batch={s.batch_size} " + " ".join(f"{f}={v}" for f, v in s.shape.items())
            for k, s in table.items()
        ]
    return "\n".join(lines + ["other kinds: their registry defaults"])


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_describe_defaults(),
    )
    data = p.add_argument_group("data (one of)")
    data.add_argument("--corpus", help="built-in corpus or names file for k-fold cross-validation")
    data.add_argument("--folds", type=int, default=5, help="folds of the cross-validation (default 5)")
    data.add_argument("--train", help="training names file (every line kept, repeats included, as makemore does)")
    data.add_argument("--test", help="test names file, scored line by line")
    p.add_argument("--models", default=",".join(models.MODELS), help="comma-separated kinds (default: all registered)")
    p.add_argument("--budget", type=float, default=60.0, help="wall-clock seconds per model per fold (default 60)")
    p.add_argument("--max-steps", type=int, default=0, help="fixed step count instead of the timed probe (0: probe)")
    p.add_argument("--evals", type=int, default=40, help="validations per run (default 40)")
    p.add_argument(
        "--patience", type=int, default=10, help="validations without improvement before stopping (default 10)"
    )
    p.add_argument(
        "--val-fraction",
        type=float,
        default=None,
        help="share of the training names train() holds out (default: 10%%, at most 2,000 names)",
    )
    p.add_argument("--size", action="append", default=[], help="KIND=PRESET, e.g. lstm=medium (repeatable)")
    p.add_argument("--lr", action="append", default=[], help="KIND=RATE, e.g. transformer=5e-4")
    p.add_argument("--batch-size", action="append", default=[], help="KIND=NAMES, e.g. transformer=32")
    p.add_argument(
        "--shape", action="append", default=[], help="KIND:FIELD=VALUE[;FIELD=VALUE], e.g. transformer:n_layer=4"
    )
    p.add_argument("--samples", type=int, default=1000, help="names drawn per run for the sample statistics")
    p.add_argument(
        "--no-realism",
        dest="realism",
        action="store_false",
        help="skip the detectability column (it needs scikit-learn: pip install 'xiaming[eval]')",
    )
    p.add_argument(
        "--reach", default="", help="comma-separated test losses in nats: report when each was first reached"
    )
    p.add_argument("--no-curve", dest="curve", action="store_false", help="do not score the test names during training")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch CPU threads (default: torch's choice); use 1 on a busy machine, where threads "
        "competing for cores can make each step many times slower",
    )
    p.add_argument(
        "--init",
        action="append",
        default=[],
        help="also fine-tune this pretrained checkpoint (path or 'base') on each fold, as the model "
        "'finetuned' (repeatable: one row 'finetuned:STEM' per checkpoint)",
    )
    p.add_argument(
        "--stage",
        choices=sorted(STAGES),
        default=None,
        help="fine-tune each --init first on every name of the stage's lists but the fold's test names "
        "(scripts/build_pretrained.py's STAGES; needs --corpus and --init); rows 'finetuned+STAGE'",
    )
    p.add_argument("--out", default=None, help="folder for results.json and the plot (default runs/compare-<data>)")
    args = p.parse_args(argv)
    if bool(args.corpus) == bool(args.train) or bool(args.train) != bool(args.test):
        p.error("give either --corpus (with --folds) or both --train and --test")
    if args.corpus and args.folds < 2:
        p.error("--folds must be at least 2")
    if args.stage and not (args.corpus and args.init):
        p.error("--stage needs --corpus and --init")
    if args.budget <= 0 or args.evals < 1 or args.samples < 0:
        p.error("--budget and --evals must be positive, --samples 0 or more")
    return args


def load_splits(args) -> tuple[str, list[tuple[str, NameList, list[str]]]]:
    """A label for the data and its (fold, training names, test names) triples."""
    if args.corpus:
        names = load_names(args.corpus)
        folds = kfold(names.names, args.folds, args.seed)
        label = f"{Path(args.corpus).stem}, {args.folds}-fold cross-validation"
        return label, [(f"fold{i + 1}", NameList(tr, names.source), te) for i, (tr, te) in enumerate(folds)]
    train_names = read_names(args.train, dedupe=False)  # repeats kept: name frequency is data too
    test_names = read_names(args.test, dedupe=False)
    return f"{Path(args.train).name} -> {Path(args.test).name}", [
        ("test", NameList(train_names, args.train), test_names)
    ]


def report(runs: list[Run], kinds: list[str], label: str, args, targets: list[float], out_dir: Path) -> None:
    """Print the table and the times to reach `targets`; write results.json and the plot."""
    spread = " (mean ± standard deviation over folds)" if args.corpus else ""
    print(
        f"\n{label}, budget {args.budget:g} s per model per fold, held-out names scored with xiaming.generation.score{spread}"
    )
    print(table(runs, kinds, with_nats=not args.corpus))
    if runs:
        print(
            f"for reference, the real held-out names: {statistics.fmean(r.test_glued for r in runs):.1%} glued, "
            f"{statistics.fmean(r.test_in_training for r in runs):.1%} also in the training list"
        )
    for target in targets:
        reached = []
        for kind in kinds:
            times = [first_time_below(r, target) for r in runs if r.kind == kind]
            done = [t for t in times if t is not None]
            reached.append(
                f"{kind} {statistics.fmean(done):.0f} s"
                if len(done) == len(times)
                else f"{kind} not reached" + (f" in {len(times) - len(done)} of {len(times)} folds" if done else "")
            )
        print(f"first at or below {target} nats: " + ", ".join(reached))
    (out_dir / "results.json").write_text(
        json.dumps(
            {"data": label, "args": vars(args), "runs": [{**asdict(r), "test_bits": r.test_bits} for r in runs]},
            indent=1,
            ensure_ascii=False,
        )
    )
    note = plot(runs, kinds, out_dir / "loss_vs_time.png", f"{label}, {args.budget:g} s per run", targets)
    print(f"results: {out_dir / 'results.json'}; {note}")


def main(argv=None) -> int:
    args = parse_args(argv)
    kinds = [k.strip() for k in args.models.split(",") if k.strip()]
    for kind in kinds:
        models.spec(kind)
    targets = [float(t) for t in args.reach.split(",") if t.strip()]
    label, splits = load_splits(args)
    out_dir = Path(args.out or f"runs/compare-{Path(args.corpus or args.train).stem}")
    out_dir.mkdir(parents=True, exist_ok=True)
    setting_of = settings(args, kinds, sum(len(n) for n in splits[0][1].names))
    for init in args.init:
        row = (
            FINETUNED
            + (f"+{args.stage}" if args.stage else "")
            + ("" if len(args.init) == 1 else f":{Path(init).stem}")
        )
        kinds.append(row)
        setting_of[row] = Setting(init=init, stage=args.stage)
    if args.threads:
        torch.set_num_threads(args.threads)
    load, cores, threads = os.getloadavg()[0], os.cpu_count() or 1, torch.get_num_threads()
    busy = "; the machine is busy: timings are not comparable" + (" (try --threads 1)" if threads > 1 else "")
    print(
        f"torch threads {threads}, {cores} cores, load average {load:.1f}" + (busy if load > cores / 2 else ""),
        file=sys.stderr,
    )
    print(
        f"{label}: {len(kinds)} models x {len(splits)} fold(s) x {args.budget:g} s = about "
        f"{len(kinds) * len(splits) * args.budget / 60:.0f} min of training (plus a probe per model)",
        file=sys.stderr,
    )
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="xiaming-compare-") as tmp:
        workdir = Path(tmp)
        for kind in kinds:
            plan = plan_steps(kind, splits[0][1], setting_of[kind], args, workdir)
            for fold, data, test in splits:
                run = run_one(kind, fold, data, test, setting_of[kind], plan, args, workdir)
                runs.append(run)
                print(
                    f"{kind:<12} {fold}: {run.steps:,} steps (planned {plan[0]:,}) in {run.seconds:.0f} s, "
                    f"{run.stopped}; test {run.test_nats:.4f} nats = {run.test_bits:.4f} bits/char",
                    file=sys.stderr,
                )
    report(runs, kinds, label, args, targets, out_dir)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except XiamingError as exc:
        sys.exit(f"compare.py: error: {exc}")
