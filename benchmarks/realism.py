"""Benchmark: how natural and how varied each shipped model's names are, across sampling settings.

    python benchmarks/realism.py                                  # jinyong, gulong, poets; 5 folds
    python benchmarks/realism.py --corpora jinyong --folds 5 --per-fold 300 --out runs/realism

Held-out real names are names the model never saw. The shipped models cannot give them (they saw
their whole list), so for each list this script trains fold models the way
`scripts/build_pretrained.py` trains the shipped ones (fine-tuned from the shipped `base`, early
stopping, the same seed) on a seeded (k-1)/k of the list, k times, so that every name of the list
is held out exactly once. Two sets of fold models are trained: `plain` (the list as it is, as the
models shipped before name kinds were) and `kinds` (epithets marked, see `xiaming.generation.kinds`).

For each setting (model set, temperature, top-p, min-p, a character restriction, kind) every fold
model generates `--per-fold` names as `xiaming generate` would (distinct, strict novelty against
its own training names); the names of all folds are pooled and compared with all held-out real
names of the same kind (personal names for `--kind name`, every name for `any`):

- detectability: cross-validated accuracy of a logistic regression telling the two apart
  (`xiaming.generation.realism.detectability`; mean ± sd over 5 folds of the classifier), 50% = chance;
- variety (`xiaming.generation.realism.variety`): character entropy (samples vs real, equal sizes), share
  of names with a character the model's training list never uses (real held-out names: the
  reference), length TV to the real names;
- from `--raw` unfiltered draws per fold model (no novelty filter, repeats kept): the distinct
  share and the novelty (share not in the list).

The character restriction `list` allows after the prefix only the characters of the model's
training names (`charset`); `list2`, those seen at least twice there.

Prints a markdown table, writes results.json and a plot (detectability against character
entropy, one point per setting) to --out, and with --plot also to a docs/ path.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES: dict = {}  # (list, setting label) -> the pooled samples and real names, written to samples.json


@dataclass(frozen=True)
class Setting:
    """One way of sampling, on one set of fold models."""

    label: str  # row label in the table
    models: str = "kinds"  # "plain" or "kinds" fold models
    kind: str = "name"  # name | epithet | any (plain models: any)
    temperature: float = 1.0
    top_p: float | None = None
    min_p: float | None = None
    restrict: str = ""  # "" none; "list": characters of the training list; "listK": seen at least K times

    def options(self) -> dict:
        """The sampling fields of `SampleOptions` this setting sets."""
        out: dict = {"temperature": self.temperature}
        if self.top_p is not None:
            out["top_p"] = self.top_p
        if self.min_p is not None:
            out["min_p"] = self.min_p
        return out


SETTINGS: tuple[Setting, ...] = (
    Setting("old default (no kinds, T 1.0)", models="plain", kind="any"),
    Setting("no kinds, T 0.7", models="plain", kind="any", temperature=0.7),
    Setting("kinds, any, T 1.0", kind="any"),
    Setting("name, T 1.0"),
    Setting("name, T 0.9", temperature=0.9),
    Setting("name, T 0.85", temperature=0.85),
    Setting("name, T 0.8", temperature=0.8),
    Setting("name, T 0.7", temperature=0.7),
    Setting("name, top-p 0.95", top_p=0.95),
    Setting("name, top-p 0.9 (shipped default)", top_p=0.9),
    Setting("name, top-p 0.85", top_p=0.85),
    Setting("name, min-p 0.01", min_p=0.01),
    Setting("name, min-p 0.02", min_p=0.02),
    Setting("name, min-p 0.05", min_p=0.05),
    Setting("name, list chars", restrict="list"),
    Setting("name, list chars, T 0.9", restrict="list", temperature=0.9),
    Setting("name, T 1.5, min-p 0.1", temperature=1.5, min_p=0.1),
    Setting("epithet, T 1.0", kind="epithet"),
)


@dataclass
class Row:
    """The figures of one setting on one list."""

    corpus: str
    setting: dict
    samples: int
    real: int
    detect: float
    detect_sd: float
    detect_other: float | None  # a classifier of another family (naive Bayes), as a check
    entropy: float
    real_entropy: float
    foreign: float
    real_foreign: float
    surname: float | None  # share starting with a surname (of the --general list); None without it
    real_surname: float | None
    length_tv: float
    distinct_raw: float
    novelty_raw: float
    telltales: list = field(default_factory=list)
    examples: list = field(default_factory=list)


def kfold(names: list[str], k: int, seed: int) -> list[tuple[list[str], list[str]]]:
    """k (train, test) pairs over `names`; every name is tested once (the split of compare.py)."""
    order = list(range(len(names)))
    random.Random(seed).shuffle(order)
    out = []
    for i in range(k):
        test = set(order[i::k])
        out.append(([n for j, n in enumerate(names) if j not in test], [names[j] for j in sorted(test)]))
    return out


def train_fold(
    corpus: str, variant: str, fold: int, train_names: list[str], kinds_of: dict[str, str], work: Path, seed: int
) -> Path:
    """A fold model trained like the shipped ones; reused when the file holds the same training names."""
    from xiaming import TrainConfig, train
    from xiaming.checkpoint import load_checkpoint
    from xiaming.data.corpus import NameList
    from xiaming.generation import kinds

    strings = kinds.encode((n, kinds_of[n]) for n in train_names) if variant == "kinds" else list(train_names)
    out = work / f"{corpus}-{variant}-fold{fold}.safetensors"
    if out.is_file() and sorted(load_checkpoint(out).names) == sorted(train_names):
        return out
    config = TrainConfig(max_steps=5000, eval_interval=25, patience=10, seed=seed)
    start = time.perf_counter()
    result = train(
        NameList(strings, f"builtin:{corpus}"),
        "lstm",
        out,
        config,
        init="base",
        log=lambda _m: None,
        progress_bar=False,
        force=True,
    )
    if variant == "kinds":
        kinds.mark_checkpoint(out)
    print(
        f"  trained {out.name}: {result.step} steps, best {result.best_val_bits:.3f} bits/char, "
        f"{time.perf_counter() - start:.0f} s",
        file=sys.stderr,
    )
    return out


def surnames_of(general: list[str], least: int = 50) -> set[str] | None:
    """Surnames: first characters of at least `least` names of a general list, and the compound
    surnames xiaming knows (None without a list)."""
    if not general:
        return None
    from xiaming.data.pinyin import COMPOUND_SURNAMES

    firsts = Counter(name[0] for name in general)
    return {c for c, k in firsts.items() if k >= least} | set(COMPOUND_SURNAMES)


def restrict_chars(rule: str, training: list[str]) -> str | None:
    """The charset of a restriction rule over the (visible) training names."""
    if not rule:
        return None
    k = int(rule[4:] or 1)
    counts = Counter(c for name in training for c in name)
    return "".join(sorted(c for c, m in counts.items() if m >= k))


def generate(path: Path, n: int, setting: Setting, training: list[str], seed: int, novelty: str) -> list[str]:
    """`n` names from a fold model as `xiaming generate` gives them (distinct, new under `novelty`),
    or with `novelty` "off" `n` raw draws (repeats kept, nothing filtered)."""
    from xiaming.generation.kinds import kind_spec
    from xiaming.generation.namer import Namer

    namer = Namer.load(path)
    spec = kind_spec(setting.kind, namer.train)
    options = namer.options(
        **setting.options(),
        charset=restrict_chars(setting.restrict, training),
        hidden_prefix=spec.hidden_prefix,
        ban_first=spec.banned_first,
    )
    if novelty == "off":
        return namer.sample(n, seed, options)
    return namer.generate(n, options, novelty=novelty, seed=seed).names


def run_setting(corpus: str, setting: Setting, folds: list, models: dict, kinds_of: dict, args) -> Row:
    """Pool every fold model's names under `setting` and compare them with the held-out names."""
    from xiaming.generation.realism import detectability, foreign_share, surname_share, variety

    samples, real, raw = [], [], []
    novel = foreign = real_foreign = 0.0
    want = {"name": ("name",), "epithet": ("epithet",), "any": ("name", "epithet")}[setting.kind]
    for i, (train_names, test_names) in enumerate(folds):
        path = models[setting.models][i]
        got = generate(path, args.per_fold, setting, train_names, args.seed + i, "strict")
        held = [n for n in test_names if kinds_of[n] in want]
        samples += got
        real += held
        foreign += foreign_share(got, train_names) * len(got)  # characters this fold model never saw
        real_foreign += foreign_share(held, train_names) * len(held)
        if args.raw:
            draws = generate(path, args.raw, setting, train_names, args.seed + 100 + i, "off")
            raw += draws
            novel += sum(d not in kinds_of for d in draws)
    # Frequency features count the whole list, leave-one-out: real names are described by the others.
    det = detectability(samples, real, reference=list(kinds_of), seed=args.seed, general=args.general_counts)
    other = (
        detectability(
            samples, real, reference=list(kinds_of), seed=args.seed, classifier="bayes", general=args.general_counts
        )
        if args.other
        else None
    )
    SAMPLES[(corpus, setting.label)] = {"samples": samples, "real": real}
    var = variety(samples, real, seed=args.seed)
    surnames = args.surnames
    return Row(
        corpus=corpus,
        setting=asdict(setting),
        samples=len(samples),
        real=len(real),
        detect=det.accuracy,
        detect_sd=det.sd,
        detect_other=other.accuracy if other else None,
        entropy=var.char_entropy,
        real_entropy=var.real_char_entropy,
        foreign=foreign / max(1, len(samples)),
        real_foreign=real_foreign / max(1, len(real)),
        surname=surname_share(samples, surnames) if surnames else None,
        real_surname=surname_share(real, surnames) if surnames else None,
        length_tv=var.length_tv,
        distinct_raw=len(set(raw)) / len(raw) if raw else float("nan"),
        novelty_raw=novel / len(raw) if raw else float("nan"),
        telltales=[asdict(t) for t in det.telltales[:6]],
        examples=random.Random(args.seed).sample(samples, min(12, len(samples))),
    )


def run_shipped(corpus: str, args) -> Row:
    """The shipped model's default output against its panel holdout (real names it never saw, of
    the kind it generates by default), and `--raw` x folds unfiltered draws for distinct and novelty."""
    from xiaming import corpora
    from xiaming.generation.namer import Namer
    from xiaming.generation.realism import detectability, foreign_share, surname_share, variety

    namer = Namer.load(Path(args.models) / f"{corpus}.safetensors" if args.models else corpus, blend=args.blend)
    held = (namer.train.get("panel_holdout") or {}).get("names") or []
    if not held:
        raise SystemExit(f"realism.py: error: the shipped {corpus} model records no panel holdout")
    personal = set(corpora.load(corpus, kinds=["name"]))
    real = [n for n in held if n in personal]
    options = namer.options()
    samples = namer.generate(args.per_fold * args.folds, options, seed=args.seed).names
    raw = namer.sample(args.raw * args.folds, args.seed + 100, options) if args.raw else []
    trained = [n for n in namer.names if n not in set(held)]
    listed = set(namer.names)
    det = detectability(samples, real, reference=namer.names, seed=args.seed, general=args.general_counts)
    other = (
        detectability(
            samples, real, reference=namer.names, seed=args.seed, classifier="bayes", general=args.general_counts
        )
        if args.other
        else None
    )
    var = variety(samples, real, seed=args.seed)
    SAMPLES[(corpus, "shipped default")] = {"samples": samples, "real": real}
    setting = Setting(
        f"shipped model, defaults ({namer.describe_sampling(options).removeprefix('sampling: ')})",
        models="shipped",
        **{k: v for k, v in namer.sampling.items() if k in ("temperature", "top_p", "min_p")},
    )
    return Row(
        corpus=corpus,
        setting=asdict(setting),
        samples=len(samples),
        real=len(real),
        detect=det.accuracy,
        detect_sd=det.sd,
        detect_other=other.accuracy if other else None,
        entropy=var.char_entropy,
        real_entropy=var.real_char_entropy,
        foreign=foreign_share(samples, trained),
        real_foreign=foreign_share(real, trained),
        surname=surname_share(samples, args.surnames) if args.surnames else None,
        real_surname=surname_share(real, args.surnames) if args.surnames else None,
        length_tv=var.length_tv,
        distinct_raw=len(set(raw)) / len(raw) if raw else float("nan"),
        novelty_raw=sum(r not in listed for r in raw) / len(raw) if raw else float("nan"),
        telltales=[asdict(t) for t in det.telltales[:6]],
        examples=random.Random(args.seed).sample(samples, min(12, len(samples))),
    )


def _share(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def markdown(rows: list[Row]) -> str:
    """The table printed and pasted into the README."""
    head = (
        "| list | setting | detectability | naive Bayes | char entropy (real) | new chars (real) | "
        "surname first (real) | length TV | distinct | novelty |"
    )
    lines = [head, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        bayes = f"{r.detect_other:.1%}" if r.detect_other is not None else ""
        lines.append(
            f"| {r.corpus} | {r.setting['label']} | {r.detect:.1%} ± {r.detect_sd:.1%} | {bayes} | "
            f"{r.entropy:.2f} ({r.real_entropy:.2f}) | {r.foreign:.1%} ({r.real_foreign:.1%}) | "
            f"{_share(r.surname)} ({_share(r.real_surname)}) | "
            f"{r.length_tv:.3f} | {r.distinct_raw:.1%} | {r.novelty_raw:.1%} |"
        )
    return "\n".join(lines)


def plot(rows: list[Row], path: Path) -> str:
    """Detectability against character entropy, one panel per list; returns a note."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plot skipped: matplotlib is not installed"
    corpora = list(dict.fromkeys(r.corpus for r in rows))
    fig, axes = plt.subplots(1, len(corpora), figsize=(6 * len(corpora), 5), squeeze=False)
    for ax, corpus in zip(axes[0], corpora):
        rs = [r for r in rows if r.corpus == corpus]
        for r in rs:
            colour = {"plain": "tab:red", "shipped": "black"}.get(
                r.setting["models"], "tab:green" if r.setting["restrict"] else "tab:blue"
            )
            if "default" in r.setting["label"] and r.setting["models"] == "kinds":
                colour = "black"
            ax.errorbar(r.entropy - r.real_entropy, r.detect, yerr=r.detect_sd, fmt="o", color=colour, capsize=2)
            ax.annotate(
                r.setting["label"],
                (r.entropy - r.real_entropy, r.detect),
                fontsize=6,
                xytext=(3, 3),
                textcoords="offset points",
            )
        ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
        ax.axvline(0.0, color="grey", linestyle=":", linewidth=1)
        ax.set_title(f"{corpus}: samples vs held-out real names")
        ax.set_xlabel("character entropy of samples minus real names (bits; left = less varied)")
        ax.set_ylabel("detectability (classifier accuracy; 0.5 = indistinguishable)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return f"plot: {path}"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--corpora", default="jinyong,gulong,poets", help="built-in lists (default all three)")
    p.add_argument("--folds", type=int, default=5, help="fold models per list (default 5)")
    p.add_argument("--per-fold", type=int, default=300, help="names generated per fold model and setting (default 300)")
    p.add_argument(
        "--raw", type=int, default=200, help="unfiltered draws per fold model for distinct/novelty (0: skip)"
    )
    p.add_argument("--settings", default="", help="labels of the settings to run, separated by ';' (default: all)")
    p.add_argument("--other", action="store_true", help="also report a naive Bayes classifier's accuracy")
    p.add_argument(
        "--general",
        default=None,
        metavar="FILE",
        help="a large list of real names of any style (e.g. ../shared/data/ancient_names.txt): the "
        "classifier also sees how common each character is in names at all",
    )
    p.add_argument(
        "--shipped",
        action="store_true",
        help="measure the shipped models' default output against their panel holdout instead of a sweep "
        "(--per-fold x --folds names generated, --raw x --folds raw draws)",
    )
    p.add_argument(
        "--models",
        default=None,
        metavar="DIR",
        help="with --shipped: take DIR/LIST.safetensors instead of the shipped models (e.g. a trial build)",
    )
    p.add_argument(
        "--blend",
        type=float,
        default=None,
        help="with --shipped: the base's share of each model's blend (default: the model's own; 0: the model alone)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads for training (default 1)")
    p.add_argument("--work", default="runs/realism-models", help="folder of the fold models (reused between runs)")
    p.add_argument("--out", default="runs/realism", help="folder for results.json and the plot")
    p.add_argument("--plot", default=None, help="also write the plot here (e.g. docs/realism.png)")
    return p.parse_args(argv)


def save(rows: list[Row], args, out: Path) -> None:
    """Write results.json (the rows) and samples.json (the pooled names of each setting)."""
    shown = {k: v for k, v in vars(args).items() if k not in ("general_counts", "surnames")}
    (out / "results.json").write_text(
        json.dumps({"args": shown, "rows": [asdict(r) for r in rows]}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (out / "samples.json").write_text(
        json.dumps([{"list": c, "setting": s, **v} for (c, s), v in SAMPLES.items()], ensure_ascii=False),
        encoding="utf-8",
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    from xiaming.data.corpus import read_names
    from xiaming.generation import kinds
    from xiaming.generation.realism import char_counts

    general = read_names(args.general) if args.general else []
    args.general_counts = char_counts(general) if general else None
    args.surnames = surnames_of(general)
    out, work = Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    wanted = {s.strip() for s in args.settings.split(";") if s.strip()}
    settings = [s for s in SETTINGS if not wanted or s.label in wanted]
    rows: list[Row] = []
    for corpus in [c.strip() for c in args.corpora.split(",") if c.strip()]:
        kinds_of: dict[str, str] = {}
        for name, kind in kinds.corpus_entries(corpus):
            if kind == "name" or name not in kinds_of:
                kinds_of[name] = kind
        folds = kfold(list(kinds_of), args.folds, args.seed)
        print(f"{corpus}: {len(kinds_of)} names, {args.folds} folds", file=sys.stderr)
        if args.shipped:
            row = run_shipped(corpus, args)
            rows.append(row)
            print(
                f"  shipped: detectability {row.detect:.1%} ± {row.detect_sd:.1%} against {row.real} held-out "
                f"names, e.g. {' '.join(row.examples[:6])}",
                file=sys.stderr,
            )
            continue
        models = {
            v: [train_fold(corpus, v, i, tr, kinds_of, work, args.seed) for i, (tr, _) in enumerate(folds)]
            for v in sorted({s.models for s in settings})
        }
        for setting in settings:
            want = ("name", "epithet") if setting.kind == "any" else (setting.kind,)
            if (setting.kind == "epithet" and setting.models == "plain") or sum(
                k in want for k in kinds_of.values()
            ) < 10 * args.folds:
                continue  # plain models know no kinds; too few real names of the kind to compare
            row = run_setting(corpus, setting, folds, models, kinds_of, args)
            rows.append(row)
            print(
                f"  {setting.label}: detectability {row.detect:.1%} ± {row.detect_sd:.1%}, entropy "
                f"{row.entropy:.2f} ({row.real_entropy:.2f}), e.g. {' '.join(row.examples[:6])}",
                file=sys.stderr,
            )
        save(rows, args, out)  # after each list, so a long run keeps what it measured
    print(markdown(rows))
    save(rows, args, out)
    notes = [plot(rows, out / "realism.png")]
    if args.plot:
        notes.append(plot(rows, Path(args.plot)))
    print(f"results: {out / 'results.json'}; " + "; ".join(notes), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
