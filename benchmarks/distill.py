"""Experiment: does the generator improve when it learns from what the critic keeps? (Not shipped.)

    python benchmarks/distill.py jinyong --pool 16 --out runs/distill     # build a candidate, print the table
    xiaming generate runs/distill/jinyong-pool16/jinyong.safetensors -n 60 --seed S   # a panel group

The critic can only choose among the proposals the author model makes, four per name. Choosing
among more helps a little (panels 7, 9, 15, 16: +0.0 to +0.13 points for eight or sixteen) and
costs time. Distillation (expert iteration) would give that choice for free at generation time:
3,000 names as the shipped model prints them, one kept of `--pool` proposals each (names without a
surname left out: they come from their own table), are mixed with the list's training strings and
the shipped author model is fine-tuned further on the mixture (early stopping as for a list). The
candidate is shipped into `--out` with the list, sampling defaults and blend of the shipped model,
beside a copy of its critic whose length ratios are refitted to the candidate's own proposals.

The table compares the shipped model with the candidate on 1,000 names of seed 7 (the critic's mean
P(passable) and P(4-5), the given names of three-character names that repeat within them, the
share of those that are a jieba dictionary word), the character entropy of 114 names (mean over
seeds 7-10, the README's measure; the real names' in brackets) and the bits per character of the
model's panel holdout (real names it never saw) under each.

Blind panel 31 (`python benchmarks/critic_panels.py panel31 --reasons`; the key's first line gives
each group's command) put candidates of pool 4 and pool 16 beside the shipped names: pool 16 gained
+0.02 to +0.12 in all six reviewer rows (mean +0.08), pool 4 +0.00 to +0.08. Both narrow the names:
at pool 16 three times as many given names repeat (Jin Yong 3.7% to 17%) and the entropy of 114
names falls by 0.24-0.37 bits (Jin Yong's 仲 and 彦 double: the critic's favourite characters become
the model's). A gain inside a panel's spread, bought with the variety the issue asks to keep, is not
shipped.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import build_critic  # noqa: E402
import build_pretrained  # noqa: E402

from critic import jieba_words, word_share  # noqa: E402
from xiaming import TrainConfig, corpora, train  # noqa: E402
from xiaming.data.corpus import NameList  # noqa: E402
from xiaming.evidence.critic import critic_path, load_critic, save_critic  # noqa: E402
from xiaming.generation import kinds  # noqa: E402
from xiaming.generation.namer import Namer  # noqa: E402
from xiaming.generation.realism import char_entropy  # noqa: E402
from xiaming.pretrained import shipped_path  # noqa: E402

SYNTH_SEED = 77  # the seed of the names the candidate learns from (the table's seeds are 7-10)
MAX_STEPS = 300  # further fine-tuning steps at most (early stopping on the mixture's validation names)


def kept_names(namer: Namer, n: int, pool: int) -> list[str]:
    """`n` personal names of `namer` (a shipped model) as `generate` prints them, one kept of `pool` proposals."""
    steering = replace(namer.steering(), pool=pool)
    return namer.generate(n, seed=SYNTH_SEED, steering=steering, surnameless=False).names


def build_candidate(corpus: str, n: int, pool: int, out: Path) -> Path:
    """The shipped author model fine-tuned further on its list plus `kept_names`; shipped into `out`
    beside its critic (length ratios refitted). Returns the candidate's path."""
    out.mkdir(parents=True, exist_ok=True)
    shipped = Namer.load(corpus)
    synth = kept_names(shipped, n, pool)
    (out / "kept.txt").write_text("\n".join(synth) + "\n", encoding="utf-8")
    holdout = shipped.train["panel_holdout"]
    strings, held = build_pretrained.list_strings(corpus, holdout["fraction"], holdout["seed"])
    mixed = strings + kinds.encode((name, "name") for name in synth)
    trained = out / "trained.safetensors"
    config = TrainConfig(max_steps=MAX_STEPS, eval_interval=25, patience=10, seed=0)
    train(
        NameList(mixed, f"builtin:{corpus}"),
        "lstm",
        trained,
        config,
        init=shipped_path(corpus),
        force=True,
        progress_bar=False,
    )
    extra = {**kinds.metadata(), "panel_holdout": dict(holdout, names=held), "bridge": []}
    path = build_pretrained.ship(
        trained,
        corpus,
        names=list(build_pretrained.kinds_of(corpus)),
        sampling=build_pretrained.DEFAULTS.get(corpus),
        extra=extra,
        package=out,
        blend=build_pretrained.BLENDS.get(corpus),
    )
    shutil.copy(critic_path(shipped_path(corpus)), critic_path(path))
    critic = load_critic(critic_path(path))
    lengths, plain_long = build_critic.length_ratios(str(path), 4000, critic, corpus=corpus)
    save_critic(replace(critic, lengths=lengths, plain_long=plain_long), critic_path(path))
    return path


def holdout_bits(namer: Namer) -> float:
    """Bits per character (end token counted) of the model's panel holdout under `namer`."""
    scores = namer.score(namer.train["panel_holdout"]["names"])
    nats = sum(-s.log_prob for s in scores) / sum(len(s.char_log_probs) for s in scores)
    return nats / math.log(2)


def row(label: str, namer: Namer, words: set[str], real_entropy: float) -> str:
    """One table row for `namer` (see the module docstring)."""
    names = namer.generate(1000, seed=7, surnameless=False).names
    given = Counter(n[1:] for n in names if len(n) == 3)
    repeats = sum(c - 1 for c in given.values()) / max(sum(given.values()), 1)
    entropy = np.mean([char_entropy(namer.generate(114, seed=s, surnameless=False).names) for s in (7, 8, 9, 10)])
    critic = namer.critic
    return (
        f"| {label} | {critic.rate(names).mean():.3f} | {critic.appeal_of(names).mean():.3f} | {repeats:.1%} "
        f"| {word_share(names, words):.1%} | {entropy:.2f} ({real_entropy:.2f}) | {holdout_bits(namer):.3f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=("jinyong", "gulong", "liangyusheng"), help="shipped wuxia model")
    parser.add_argument("-n", type=int, default=3000, help="kept names the candidate learns from (default 3000)")
    parser.add_argument("--pool", type=int, default=16, help="proposals per kept name (default 16)")
    parser.add_argument("--out", default="runs/distill", help="folder for the candidates (default runs/distill)")
    args = parser.parse_args(argv)
    path = build_candidate(args.model, args.n, args.pool, Path(args.out) / f"{args.model}-pool{args.pool}")
    words = jieba_words()
    shipped = Namer.load(args.model)
    personal = set(corpora.load(args.model, kinds=("name",)))
    real = [n for n in shipped.train["panel_holdout"]["names"] if n in personal]
    real_entropy = char_entropy(real[:114])
    print(
        "| model | P(passable) | P(4-5) | given names repeated | given name a word | entropy of 114 (real) | holdout bits/char |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(row(f"{args.model} (shipped)", shipped, words, real_entropy))
    print(row(f"distilled, pool {args.pool}", Namer.load(path), words, real_entropy))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
