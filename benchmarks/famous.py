"""Benchmark: how often the shipped models print a well-known person's name, with the `famous` rule and without.

    python benchmarks/famous.py                  # 3,000 names per model, seed 11
    python benchmarks/famous.py -n 1000 --seed 5

The models learned from 253,589 historical names, and some of what they print is a real person's
name a reader knows (刘德华, 李鹏, 冯梦龙: see `xiaming.evidence.famous`). For each shipped model (the
wuxia lists', the poets' and base) this prints the share of `-n` default names that are in the table
of well-known names, with the novelty rule `famous` (as shipped) and without it (the filter built as
before the rule), those names, and the time of `generate -n 20` in process both ways (one thread,
median of 15 calls). With `--verse`, the same for `xiaming verse` (the base model, as the command's
default): 100 names for each of its ten usual surnames, seed 1, with the filter and without it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from xiaming.evidence.famous import famous_names  # noqa: E402
from xiaming.generation import namer as namer_module  # noqa: E402
from xiaming.generation.namer import Namer  # noqa: E402


@contextmanager
def without_famous():
    """Namer's novelty filters built without the `famous` rule, as before it existed."""
    original = namer_module.novelty_filter
    namer_module.novelty_filter = lambda names, mode, known=(), famous=False: original(names, mode, known)
    try:
        yield
    finally:
        namer_module.novelty_filter = original


@contextmanager
def verse_without_famous():
    """`xiaming verse`'s choice made without the table of well-known names, as before it used it."""
    import xiaming.verse  # noqa: F401  (the package exports a function named rank: take the module)

    module = sys.modules["xiaming.verse.rank"]
    original = module.famous_names
    module.famous_names = lambda: frozenset()
    try:
        yield
    finally:
        module.famous_names = original


def verse_table(n: int, seed: int) -> None:
    """The share of well-known names among `n` verse names for each of the base model's ten usual surnames."""
    from xiaming.verse import verse_names
    from xiaming.verse.rank import usual_surnames

    namer = Namer.load("base")
    famous = famous_names()
    surnames, _ = usual_surnames(namer, top=10)
    found = {}
    for label, context in (("without the filter", verse_without_famous), ("with it", nullcontext)):
        names = []
        with context():
            for surname in surnames:
                names += verse_names(namer, n, surname=surname, seed=seed).names
        found[label] = [x for x in names if x in famous]
        print(
            f"verse, {label}: {len(found[label])} of {len(names)} names are well-known people's ({len(found[label]) / len(names):.1%})"
        )
    print(f"  without the filter: {' '.join(found['without the filter'])}")


def ms_per_20(namer: Namer) -> float:
    """Median milliseconds of `generate(20)` over 15 seeds."""
    times = []
    for seed in range(15):
        start = time.perf_counter()
        namer.generate(20, seed=seed)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="jinyong,gulong,liangyusheng,poets,base")
    parser.add_argument("-n", type=int, default=3000, help="names per model (default 3000)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--verse", action="store_true", help="measure `xiaming verse` instead")
    args = parser.parse_args(argv)
    if args.verse:
        verse_table(100, 1)
        return 0
    famous = famous_names()
    print("| model | well-known names without the rule | with it | ms per `generate -n 20` without / with |")
    print("| --- | ---: | ---: | ---: |")
    seen = {}
    for model in args.models.split(","):
        namer = Namer.load(model)
        with without_famous():
            before = [n for n in namer.generate(args.n, seed=args.seed).names if n in famous]
            slow_before = ms_per_20(namer)
        after = [n for n in namer.generate(args.n, seed=args.seed).names if n in famous]
        slow_after = ms_per_20(namer)
        seen[model] = before
        print(
            f"| {model} | {len(before) / args.n:.2%} ({len(before)}) | {len(after) / args.n:.2%} ({len(after)}) "
            f"| {slow_before:.1f} / {slow_after:.1f} |"
        )
    for model, names in seen.items():
        print(f"\n{model}, without the rule: {' '.join(names)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
