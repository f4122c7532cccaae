"""Benchmark: names without a surname (玄慈, 阿朱) in the shipped models' output, against their lists.

    python benchmarks/surnameless.py                                   # the table, every wuxia model
    python benchmarks/surnameless.py --general ../shared/data/ancient_names.txt   # with detectability
    python benchmarks/surnameless.py --write jinyong -n 40 --seed 5    # a panel group: such names only
    python benchmarks/surnameless.py --speed                           # ms per generate -n 20, off and on

For each shipped wuxia model, with names without a surname mixed in (`generate`'s default,
`generation/surnameless.py`) and without (`surnameless=False`, the release before): the share of
names of those families in its list (the panel holdout left out) and in 1,000 names (seed 1), how
many distinct heads they use, the total variation between the names' lengths and the list's,
character entropy of 114 names (mean over seeds 7-10, docs/realism-panels.md's measure; the panel holdout's
own in the header), and with `--general`, detectability (the classifier of `benchmarks/realism.py`
telling 1,000 names from the model's held-out personal names, mean of classifier seeds 0-9, then
of generation seeds 1-6: one seed's figure moves by a point or two; 50% is chance).

`--write MODEL` prints N names drawn the way the mixed-in ones are (`Namer._generate_surnameless`'s
first half: heads by the author's use, the second character by the model among the genre's), for
a blind panel group beside the model's other names.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from xiaming.generation.surnameless import is_surnameless, surnameless_for

MODELS = ("jinyong", "gulong", "liangyusheng")


def only_surnameless(namer, n: int, seed: int, gender: str | None = None) -> list[str]:
    """`n` names of the families as `generate` mixes them in (`Namer.draw_surnameless`), nothing else;
    with `gender`, that gender's heads, the lean choosing the second character."""
    steering = namer.steering(gender=gender)
    options = namer.options()
    rng = np.random.default_rng(seed)
    found, _, _ = namer.draw_surnameless(namer.surnameless_table(options, steering), n, options, None, steering, rng)
    names = list(found)
    return [names[i] for i in rng.permutation(len(names))]


def speed(namer, calls: int = 40, rounds: int = 3) -> tuple[float, float]:
    """ms per `generate(20)` without and with the names mixed in, best of `rounds` alternating rounds
    of `calls` calls each, in this process (so the ratio is fair on a busy machine)."""
    import time

    best = {False: float("inf"), None: float("inf")}
    for _ in range(rounds):
        for flag in best:
            namer.generate(20, seed=0, surnameless=flag)
            start = time.perf_counter()
            for s in range(calls):
                namer.generate(20, seed=s, surnameless=flag)
            best[flag] = min(best[flag], (time.perf_counter() - start) / calls * 1000)
    return best[False], best[None]


def measure(namer, listed: list[str], heads: str, surnameless: bool, general) -> dict:
    """The figures of the module docstring for one model, with or without the mixed-in names."""
    from variety_strata import detect

    from xiaming.generation.realism import char_entropy, length_tv

    flag = None if surnameless else False
    big = namer.generate(1000, seed=1, surnameless=flag).names
    own = [n for n in big if is_surnameless(n) and n[0] in heads]
    small = [char_entropy(namer.generate(114, seed=s, surnameless=flag).names) for s in range(7, 11)]
    return {
        "share": len(own) / len(big),
        "heads": len({n[0] for n in own}),
        "tv": length_tv(big, listed),
        "entropy114": float(np.mean(small)),
        "detect": None
        if general is None
        else float(
            np.mean(
                [
                    detect(
                        namer, namer.train.builtin_corpus, namer.generate(1000, seed=s, surnameless=flag).names, general
                    )
                    for s in range(1, 7)
                ]
            )
        ),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--write", metavar="MODEL", help="print N names of the families only, one per line, and stop")
    p.add_argument("-n", type=int, default=40)
    p.add_argument("--gender", choices=("female", "male"), help="with --write: names of this gender")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--speed", action="store_true", help="print ms per generate -n 20 in process, off and on, and stop")
    p.add_argument("--general", help="a large list of real names, one per line (../shared/data/ancient_names.txt)")
    args = p.parse_args(argv)
    from xiaming import corpora
    from xiaming.generation.namer import Namer
    from xiaming.generation.realism import char_entropy

    if args.speed:
        for model in args.models.split(","):
            off, on = speed(Namer.load(model))
            print(f"{model}: generate -n 20 in process, off {off:.1f} ms, on {on:.1f} ms ({on / off:.2f}x)")
        return 0
    if args.write:
        sys.stdout.write(
            "".join(n + "\n" for n in only_surnameless(Namer.load(args.write), args.n, args.seed, args.gender))
        )
        return 0
    general = None
    if args.general:
        from xiaming.data.corpus import read_names
        from xiaming.generation.realism import char_counts

        general = char_counts(read_names(args.general))
    print(
        "| model | list: share, heads | real held-out entropy (114) | surnameless | share of 1,000 | heads | length TV | entropy (114) | detectability |"
    )
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for model in args.models.split(","):
        namer = Namer.load(model)
        held = frozenset(namer.train.panel_holdout)
        table = surnameless_for(namer.train.builtin_corpus, held)
        heads = "".join(h for h, _ in table.heads)
        listed = [n for n in corpora.load(model, kinds=["name"]) if n not in held]
        real = [n for n in namer.train.panel_holdout if n in set(corpora.load(model, kinds=["name"]))]
        for on in (False, True):
            r = measure(namer, listed, heads, on, general)
            shown = "-" if r["detect"] is None else f"{r['detect']:.1%}"
            print(
                f"| {model} | {table.share:.1%}, {len(heads)} | {char_entropy(real[:114]):.2f} | {'on' if on else 'off'} | "
                f"{r['share']:.1%} | {r['heads']} | {r['tv']:.3f} | {r['entropy114']:.2f} | {shown} |"
            )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))  # variety_strata, beside this file
    raise SystemExit(main())
