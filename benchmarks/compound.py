"""Benchmark: names of a compound surname and one character (南宫柳, 欧阳坚) in the shipped models' output.

    python benchmarks/compound.py                                  # the shares, every wuxia model
    python benchmarks/compound.py --write gulong -n 60 --seed 5    # such names only (see below)

The strict novelty rule rejects a name one replacement from a training name; for a surname and a
one-character given name (阿青 beside 阿紫) it lets a replacement through unless the two characters
sound alike, but a compound surname and one character (南宫柳 beside 南宫灵) falls under the full
rule: of the real ones held out of the lists, 11 of 12 are one edit from a training name, and the
models make 0.1-0.4% of such names against the lists' 2.1-4.9%. This prints, for each shipped wuxia
model, the share of its list's personal names (panel holdout left out) and of 2,000 of its names
(seed 4) that have a compound surname and one given character, and those that have two.

Commit 97f4c31 treated both shapes alike, and blind panel 28 rated forty such names per author
beside the shipped names (`python benchmarks/critic_panels.py panel28 --reasons`): -0.08 and -0.28
for Jin Yong, +0.06 and -0.07 for Gu Long, +0.37 and +0.31 for Liang Yusheng; the low marks were a
weak character alone after the surname (欧阳若, 南宫方, 耶律士, 完颜承: "a fragment"), and Gu Long's
model then made 6.9% of them against his list's 4.9%. The rule was put back. `--write MODEL` prints N
names of the shape as `generate` makes them (the critic and the blend as shipped), each surname
drawn by how many of the author's such names bear it; under today's rule most are refused, so it
rebuilds panel 28's group only at that commit.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

import numpy as np

from xiaming.data.pinyin import split_surname

MODELS = ("jinyong", "gulong", "liangyusheng")


def shape(name: str) -> tuple[int, int]:
    """(surname length, given-name length) as the novelty rule splits a name."""
    surname, given = split_surname(name)
    return len(surname), len(given)


def shares(names: list[str]) -> tuple[float, float]:
    """The shares of `names` with a compound surname and one, and two, given characters."""
    shapes = Counter(shape(n) for n in names)
    return shapes[(2, 1)] / len(names), shapes[(2, 2)] / len(names)


def write(model: str, n: int, seed: int) -> list[str]:
    """`n` names of a compound surname and one character (see the module docstring)."""
    from xiaming import corpora
    from xiaming.generation.namer import Namer

    namer = Namer.load(model)
    held = set(namer.train.panel_holdout)
    own = Counter(
        split_surname(x)[0] for x in corpora.load(model, kinds=["name"]) if x not in held and shape(x) == (2, 1)
    )
    rng = np.random.default_rng(seed)
    surnames = sorted(own)
    picks = rng.multinomial(n, np.array([own[s] for s in surnames], dtype=float) / sum(own.values()))
    names: list[str] = []
    for surname, k in zip(surnames, picks):
        if k:
            options = namer.options(prefix=surname, min_len=3, max_len=3)
            names += namer.generate(int(k), options, seed=int(rng.integers(2**31))).names
    return [names[i] for i in rng.permutation(len(names))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--write", metavar="MODEL", help="print N names of a compound surname and one character, and stop")
    p.add_argument("-n", type=int, default=40)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    if args.write:
        sys.stdout.write("".join(x + "\n" for x in write(args.write, args.n, args.seed)))
        return 0
    from xiaming import corpora
    from xiaming.generation.namer import Namer

    print("| model | list: compound + 1 / + 2 | 2,000 names: compound + 1 / + 2 |")
    print("| --- | ---: | ---: |")
    for model in args.models.split(","):
        namer = Namer.load(model)
        held = set(namer.train.panel_holdout)
        listed = [x for x in dict.fromkeys(corpora.load(model, kinds=["name"])) if x not in held]
        (l1, l2), (g1, g2) = shares(listed), shares(namer.generate(2000, seed=4).names)
        print(f"| {model} | {l1:.1%} / {l2:.1%} | {g1:.1%} / {g2:.1%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
