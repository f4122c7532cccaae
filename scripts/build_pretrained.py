"""Rebuild the models shipped in src/xiaming/pretrained/ from the built-in corpora.

    python scripts/build_pretrained.py                                   # fine-tune the shipped base
    python scripts/build_pretrained.py --ancient ../shared/data/ancient_names.txt   # pretrain a new base first
    python scripts/build_pretrained.py --corpora liangyusheng            # one list; the other files stay as they are
    python scripts/build_pretrained.py --stage wuxia                     # base -> every wuxia name -> each list

With `--ancient` (the 253,589 historical names of shared/data, see README), it first pretrains the
`base` model on that corpus; otherwise it fine-tunes the shipped `base` (or `--base PATH`). Each
built-in list is then fine-tuned from the base (`--init`), with:

- name kinds (`xiaming.generation.kinds`): epithets are written with a marker in front during training, so
  the model can be asked for personal names (the default), epithets or either;
- a panel holdout: a seeded `--holdout` share of the list (10%) is left out of training and its
  names recorded in the model's metadata (`panel_holdout`), so `benchmarks/panel.py` can show
  reviewers real names the shipped model never saw. The shipped name list (for novelty and
  percentiles) is still the whole list, so no generated name repeats a held-out one;
- sampling defaults per model (`DEFAULTS`, chosen with `benchmarks/realism.py` and the blind panels; see docs/realism-panels.md), stored
  in the checkpoint and applied by `xiaming generate` unless flags override them;
- a blend per model (`BLENDS`, chosen by blind panel 8): the shipped model generates mixed, step by
  step, with the base (`card.Blend`, `Namer.load`; `--blend 0` turns it off).

`--defaults-only` rewrites the shipped files' sampling defaults and blends from `DEFAULTS` and
`BLENDS` without training anything (the weights and every other field stay as they are).

With `--bridges`, the wuxia lists are bridged (`BRIDGES`): the base learned historical persons, not
invented characters, so Jin Yong's list is first fine-tuned on Gu Long's (every name of its own list
left out), then on itself, and the other way round (Liang Yusheng's through both). The other
author's invented names are the nearest data there is: held-out bits per character fall by another
0.07-0.09. The shipped models are built without it: it blurs the two authors' styles (`xiaming who` told the shipped models' own
names apart 80.7% of the time with bridges, 87.7% without; README, "Pretraining and fine-tuning"),
and a blind panel saw no better names. `--bridges-only` writes just the bridges
(`WORK/jinyong-bridge.safetensors`), the `--init` that `benchmarks/compare.py` measures.

With `--stage wuxia`, the base is first fine-tuned on every name of the three wuxia lists (`STAGES`),
each list's panel holdout left out (so the panel's real names stay unseen by every shipped model) and
so are the names each list's own fine-tuning then validates on (a stage that saw them would make that
validation, and its early stop, meaningless); each of those lists is then fine-tuned from that one
stage model (`WORK/wuxia-stage.safetensors`). `benchmarks/compare.py --stage wuxia` measures the same
stage per fold, without the fold's test names and validation names: held-out bits per character fall
by 2.1%, 0.9% and 3.5% (Jin Yong, Gu Long, Liang Yusheng). The shipped models are built without it:
each list's fine-tuning stops within 25-150 steps of the stage model, and the three models' own names
are told apart 41.6% of the time over the three authors (`xiaming who`; shipped: 73.2%; README,
"Pretraining and fine-tuning").

Training runs in `--work` (checkpoints and resumable states); the shipped copies are written in
float16, which halves their size. The base model ships without its 250k-name training list (it
would triple the package size).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Iterable

import torch

from xiaming import TrainConfig, corpora, train
from xiaming.card import Blend
from xiaming.checkpoint import load_checkpoint, save_checkpoint
from xiaming.data.corpus import NameList, load_names, split
from xiaming.generation import kinds

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "xiaming" / "pretrained"
BASE_SHAPE = {"n_embd": 96, "n_hidden": 256, "n_layer": 1, "dropout": 0.1, "tie_weights": True}
HOLDOUT = 0.1  # share of each list kept out of training for the blind panel
# list -> the lists it is first fine-tuned on (its own names removed from them): fictional names of the
# other author bridge the gap between the base's historical persons and the list's invented characters
# (Liang Yusheng's list, the third author's, is bridged through both others; jinyong's and gulong's bridges stay
# as benchmarks/compare.py measured them)
BRIDGES: dict[str, tuple[str, ...]] = {
    "jinyong": ("gulong",),
    "gulong": ("jinyong",),
    "liangyusheng": ("jinyong", "gulong"),
}
# Training stages between the base and the lists (`--stage`): one fine-tuning of the base on every name of
# these lists (panel holdouts left out), from which each of them is then fine-tuned
STAGES: dict[str, tuple[str, ...]] = {"wuxia": ("jinyong", "gulong", "liangyusheng")}
# Sampling defaults per shipped model, from the sweep of benchmarks/realism.py (docs/realism-panels.md).
# top-p 0.9 cut the tail of unlikely characters (a Jin Yong sample with a character the list never
# uses: 23% at the plain setting, 9.5% here, 34% of real held-out names), kept the length
# distribution (TV 0.02-0.07) and the most character entropy among settings a classifier tells from
# real names no better than 64% (jinyong 64.1%, gulong 64.2%, poets 57.8%; plain sampling 56-59%).
# Jin Yong's model fine-tuned from the retrained base (issue 15) used fewer characters outside its list
# at top-p 0.9 (2.2% of names; real held-out names 31.5%) and a classifier told them from real names
# 68.3% of the time; at 0.95 it is 65.5% (6.6% with a new character), and a blind panel rated its
# names no worse (2.80 against 2.67 at 0.9, 30 names each; real names 4.67).
# Liang Yusheng's model (issue 22) takes the setting of the others, top-p 0.9, without a sweep of its own.
# Liang Yusheng's model moved to 0.95 with its blend (panel 8 rated the blend at 0.95).
# Blind panel 11 (panels/critic/panel11, two reviewers, 40 names a group): Jin Yong's blended model at
# top-p 0.97 rated 3.77 / 3.83 against 3.60 / 3.73 at 0.95, its 1,000 names' character entropy 8.68
# against 8.60 bits; Gu Long's at 0.95 3.27 / 3.50 against 3.25 / 3.55 at 0.9, entropy 8.10 against
# 7.98, fewer names rated 1-2 (8% / 8% against 12% / 10%): the same reading with more variety, so
# both moved.
# The word lean (`generation/lean.py`), Gu Long's model only. Blind panels 35 and 36 rated, name against
# name, what the lean draws (a given name that is a word no person bore as a name) beside what the same
# draw gives without it: Gu Long's +0.23 / +0.23 and +0.00 / +0.20, Jin Yong's -0.20 / -0.20 and -0.33 /
# -0.38, Liang Yusheng's -0.33 / -0.30 and +0.00 / -0.28 (`python benchmarks/critic_panels.py panel35
# panel36 --pairs unleaned,leaned`). At 3 his given names are words in 28.9% of three-character names
# (21.8% without; his list 36.9%; `python benchmarks/word_lean.py gulong`).
DEFAULTS: dict[str, dict] = {
    "jinyong": {"top_p": 0.97},
    "gulong": {"top_p": 0.95, "word_lean": 3.0},
    "liangyusheng": {"top_p": 0.95},
    "poets": {"top_p": 0.9},
}
# The base's share in each shipped model's blend (`card.Blend`). Blind panel 8 (panels/critic/panel8,
# `python benchmarks/critic_panels.py panel8`; two reviewers per author, 40 names a group) rated Jin
# Yong's names blended at 0.35 3.12 / 3.77 against 2.88 / 3.17 unblended (rated 1-2: 2% against 15-20%),
# Liang Yusheng's 3.67 / 3.62 against 3.38 / 3.33; Gu Long's no better (2.52 / 2.85 against 2.58 / 2.70:
# the base's plain historical names read "modern" beside his), so his model is not blended.
BLENDS: dict[str, Blend] = {
    "jinyong": Blend("base", 0.35),
    "liangyusheng": Blend("base", 0.35),
}


def ship(
    trained: Path,
    name: str,
    keep_names: bool = True,
    names: list[str] | None = None,
    sampling: dict | None = None,
    extra: dict | None = None,
    package: Path = PACKAGE,
    blend: Blend | None = None,
) -> Path:
    """Copy a trained checkpoint into the package in float16; `names` replaces its name list (the
    visible names, for novelty), `sampling` sets its sampling defaults, `extra` adds metadata, `blend`
    the model it generates blended with."""
    ckpt = load_checkpoint(trained)
    out = package / f"{name}.safetensors"
    package.mkdir(parents=True, exist_ok=True)
    info = dict(ckpt.train, shipped_names=keep_names, **(extra or {}))
    # Record where the data and the base came from by name, not by this machine's paths.
    if not str(info.get("source", "")).startswith("builtin:"):
        info["source"] = Path(info["source"]).name
    if info.get("init"):
        via = list(info.get("bridge", [])) + ([f"the {info['stage']} stage"] if info.get("stage") else [])
        info["init"] = "base" + "".join(f" via {b}" for b in via)  # e.g. "base via gulong", "base via the wuxia stage"
    listed = (ckpt.names if names is None else names) if keep_names else []
    save_checkpoint(
        out, ckpt.model, ckpt.kind, ckpt.vocab, info, listed, dtype=torch.float16, sampling=sampling, blend=blend
    )
    print(
        f"shipped {out} ({out.stat().st_size / 1e6:.2f} MB), best validation {ckpt.train['best_val_bits']:.3f} bits/char"
    )
    return out


def kinds_of(corpus: str) -> dict[str, str]:
    """Each distinct name of a built-in list with its kind (a name listed as both kinds is a name)."""
    out: dict[str, str] = {}
    for name, kind in kinds.corpus_entries(corpus):
        if kind == "name" or name not in out:
            out[name] = kind
    return out


def panel_holdout(names: list[str], fraction: float, seed: int) -> list[str]:
    """A seeded `fraction` of `names`, in list order (the same list and seed give the same names)."""
    if fraction <= 0:
        return []
    chosen = set(random.Random(seed).sample(names, round(len(names) * fraction)))
    return [n for n in names if n in chosen]


def list_config(seed: int) -> TrainConfig:
    """How a list of a thousand-odd names is fine-tuned (the bridges too): until early stopping."""
    return TrainConfig(max_steps=5000, eval_interval=25, patience=10, seed=seed)


def bridge(corpus: str, base: Path | str, work: Path, seed: int) -> Path | str:
    """The base fine-tuned on the lists `corpus` is bridged through (`BRIDGES`), without any name of
    `corpus` itself (so cross-validating `corpus` from the bridge sees no held-out name); `base`
    itself for a list without a bridge."""
    through = BRIDGES.get(corpus, ())
    if not through:
        return base
    own = set(kinds_of(corpus))
    entries = [(n, k) for other in through for n, k in kinds_of(other).items() if n not in own]
    out = work / f"{corpus}-bridge.safetensors"
    work.mkdir(parents=True, exist_ok=True)
    train(
        NameList(kinds.encode(entries), "builtin:" + "+".join(through)),
        "lstm",
        out,
        list_config(seed),
        init=base,
        force=True,
        progress_bar=False,
    )
    return out


def stage_entries(stage: str, leave_out: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Every distinct name of the lists of `stage` (`STAGES`) with its kind, in list order, without the
    names in `leave_out` (left out of every list that has them); a name listed as both kinds is a name."""
    left_out = set(leave_out)
    merged: dict[str, str] = {}
    for corpus in STAGES[stage]:
        for name, kind in kinds_of(corpus).items():
            if name not in left_out and (kind == "name" or name not in merged):
                merged[name] = kind
    return list(merged.items())


def validation_names(strings: list[str], seed: int) -> set[str]:
    """The names `train` validates on (kind markers stripped) when given `strings` with `list_config(seed)`."""
    return set(kinds.strip_all(split(strings, list_config(seed).val_fraction, seed)[1]))


def list_strings(corpus: str, holdout: float, seed: int) -> tuple[list[str], list[str]]:
    """(the training strings of a built-in list, kinds marked, its panel holdout left out; the holdout)."""
    listed = kinds_of(corpus)
    held = panel_holdout(list(listed), holdout, seed)
    kept = set(listed) - set(held)
    return kinds.encode((n, k) for n, k in listed.items() if n in kept), held


def stage_leave_out(stage: str, holdout: float, seed: int) -> set[str]:
    """The names the stage model of the shipped lists must not see: every list's panel holdout (chosen as
    `fine_tune` chooses it) and the names its fine-tuning validates on."""
    out: set[str] = set()
    for corpus in STAGES[stage]:
        strings, held = list_strings(corpus, holdout, seed)
        out |= set(held) | validation_names(strings, seed)
    return out


def train_stage(
    stage: str, base: Path | str, work: Path, leave_out: Iterable[str], seed: int, tag: str = "", log=print
) -> Path:
    """The base fine-tuned on every name of the lists of `stage` (name kinds marked) but `leave_out` (see
    `stage_leave_out`, or a fold's held-out and validation names), like a list (`list_config`): the model
    those lists are then fine-tuned from, written as WORK/STAGE-stageTAG.safetensors."""
    entries = stage_entries(stage, leave_out)
    out = work / f"{stage}-stage{tag}.safetensors"
    work.mkdir(parents=True, exist_ok=True)
    train(
        NameList(kinds.encode(entries), "builtin:" + "+".join(STAGES[stage])),
        "lstm",
        out,
        list_config(seed),
        init=base,
        force=True,
        progress_bar=False,
        log=log,
    )
    return out


def fine_tune(
    corpus: str,
    base: Path | str,
    work: Path,
    holdout: float,
    seed: int,
    package: Path = PACKAGE,
    bridged: bool = False,
    stage: tuple[str, Path] | None = None,
) -> Path:
    """Fine-tune `base` (through the list's bridge when `bridged`; from the model of a `stage`, given as
    (stage name, its model from `train_stage`), when given) on a built-in list with name kinds and a
    panel holdout; ship it."""
    listed = kinds_of(corpus)
    strings, held = list_strings(corpus, holdout, seed)
    out = work / f"{corpus}.safetensors"
    init = stage[1] if stage else bridge(corpus, base, work, seed) if bridged else base
    train(
        NameList(strings, f"builtin:{corpus}"),
        "lstm",
        out,
        list_config(seed),
        init=init,
        force=True,
        progress_bar=False,
    )
    extra = {
        **kinds.metadata(),
        "panel_holdout": {"fraction": holdout, "seed": seed, "names": held},
        "bridge": list(BRIDGES.get(corpus, ())) if bridged and not stage else [],
    }
    if stage:
        extra["stage"] = stage[0]
        extra["stage_lists"] = list(STAGES[stage[0]])
    return ship(
        out,
        corpus,
        names=list(listed),
        sampling=DEFAULTS.get(corpus),
        extra=extra,
        package=package,
        blend=BLENDS.get(corpus),
    )


def reship_defaults(corpus: str, package: Path = PACKAGE) -> None:
    """Rewrite a shipped model with today's `DEFAULTS` and `BLENDS` (`ship` from its own file: the
    weights, name list and record stay as they are; float16 to float32 and back is exact)."""
    ship(
        package / f"{corpus}.safetensors",
        corpus,
        sampling=DEFAULTS.get(corpus),
        package=package,
        blend=BLENDS.get(corpus),
    )
    print(f"  sampling {DEFAULTS.get(corpus)}, blend {BLENDS.get(corpus)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ancient", help="path of ancient_names.txt: pretrain a new base on it first")
    parser.add_argument(
        "--base",
        default=str(PACKAGE / "base.safetensors"),
        help="the base checkpoint to fine-tune when --ancient is not given (default: the shipped base)",
    )
    parser.add_argument("--work", default="runs/pretrained", help="folder for training runs")
    parser.add_argument(
        "--base-minutes", type=float, default=45.0, help="wall-clock budget of the base model (minutes)"
    )
    parser.add_argument(
        "--base-steps",
        type=int,
        default=30_000,
        help="steps of the base model (the learning-rate schedule ends there; default 30,000)",
    )
    parser.add_argument(
        "--holdout",
        type=float,
        default=HOLDOUT,
        help=f"share of each list kept out of training for the blind panel (default {HOLDOUT}; 0: none)",
    )
    parser.add_argument("--corpora", default=",".join(corpora.names()), help="lists to fine-tune (default all)")
    parser.add_argument("--out", default=str(PACKAGE), help="folder to ship into (default: the package's pretrained/)")
    parser.add_argument(
        "--bridges",
        action="store_true",
        help="fine-tune each wuxia list through the other authors' lists first (see BRIDGES)",
    )
    parser.add_argument(
        "--bridges-only",
        action="store_true",
        help="write only the bridges (WORK/LIST-bridge.safetensors), for benchmarks/compare.py --init",
    )
    parser.add_argument(
        "--stage",
        choices=sorted(STAGES),
        help="fine-tune the base on every name of the stage's lists first (panel holdouts left out), "
        "then each of those lists from it (see STAGES)",
    )
    parser.add_argument(
        "--defaults-only",
        action="store_true",
        help="only rewrite the shipped --corpora files' sampling defaults and blends (DEFAULTS, BLENDS)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    if args.defaults_only:
        for corpus in [c.strip() for c in args.corpora.split(",") if c.strip()]:
            reship_defaults(corpus, Path(args.out))
        return
    if args.stage and (args.bridges or args.bridges_only):
        parser.error("--stage and --bridges are two recipes: give one")
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    base: Path | str = Path(args.base)
    if args.ancient:
        base = work / "base.safetensors"
        config = TrainConfig(
            max_steps=args.base_steps,
            max_time=args.base_minutes * 60,
            batch_size=128,
            lr=3e-3,
            eval_interval=500,
            patience=6,
            val_fraction=0.02,
            seed=args.seed,
        )
        train(load_names(args.ancient), "lstm", base, config, model_overrides=BASE_SHAPE, force=True)
        ship(base, "base", keep_names=False, package=Path(args.out))
    elif Path(base).resolve().parent == PACKAGE.resolve():
        # fine-tuning the shipped base: copy it first, since shipping the lists rewrites nothing of it
        # but a run must not read a file the same build may replace
        work.mkdir(parents=True, exist_ok=True)
        copy = work / "base-shipped.safetensors"
        copy.write_bytes(Path(base).read_bytes())
        base = copy
    chosen = [c.strip() for c in args.corpora.split(",") if c.strip()]
    staged: tuple[str, Path] | None = None
    if args.stage and not args.bridges_only and set(chosen) & set(STAGES[args.stage]):
        leave_out = stage_leave_out(args.stage, args.holdout, args.seed)
        staged = (args.stage, train_stage(args.stage, base, work, leave_out, args.seed))
        print(f"{args.stage} stage: {staged[1]}")
    for corpus in chosen:
        if args.bridges_only:
            print(f"{corpus}: {bridge(corpus, base, work, args.seed)}")
        else:
            in_stage = staged if staged and corpus in STAGES[staged[0]] else None
            fine_tune(corpus, base, work, args.holdout, args.seed, Path(args.out), bridged=args.bridges, stage=in_stage)


if __name__ == "__main__":
    main()
