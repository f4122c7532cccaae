"""Composed epithets against the model's own, per wuxia model: variety and speed.

    python benchmarks/epithets.py              # 1,000 epithets per model and way, seed 7
    python benchmarks/epithets.py -n 500 --pools 4,8
    python benchmarks/epithets.py -n 400 --genders female,male --models jinyong   # epithets of a gender

For each model of the built-in wuxia lists it draws `-n` epithets (`generate --kind epithet`)
composed from the lists' parts (at each `--pools` value of `epithets.POOL`) and drawn by the model
itself (`--epithets model`), and prints: how many are distinct, the entropy of their heads (what
comes before the last two characters) and of their characters, in bits, how many end in a role
word of the lists (the list's own epithets too, for reference), and the milliseconds one
`generate -n 20` takes in process (mean of 20 seeds; both ways in the same process, so the ratio
is fair). With `--genders`, the same rows for epithets of each gender (`generate --gender`: composed
from that gender's role words, or the model's own leaned by the given-name table). Blind ratings
are in docs/realism-panels.md, "Composed epithets, blind" and "Epithets of a gender, blind".
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from xiaming import corpora  # noqa: E402
from xiaming.evidence.steer import Steering  # noqa: E402
from xiaming.generation import epithets  # noqa: E402
from xiaming.generation.namer import Namer  # noqa: E402


def entropy(counts: Counter) -> float:
    """Shannon entropy of `counts`, in bits."""
    total = sum(counts.values())
    return -sum(k / total * math.log2(k / total) for k in counts.values()) if total else 0.0


def ms_per_20(namer: Namer, compose: bool, steering: Steering | None, seeds: int = 20) -> float:
    """Milliseconds of one `generate -n 20` of epithets, averaged over `seeds` seeds (one warm-up first)."""
    options = namer.options(kind="epithet")
    namer.generate(20, options, seed=0, compose=compose, steering=steering)
    start = time.perf_counter()
    for seed in range(1, seeds + 1):
        namer.generate(20, options, seed=seed, compose=compose, steering=steering)
    return (time.perf_counter() - start) / seeds * 1000


def variety(names: list[str], roles: frozenset[str]) -> str:
    """The table cells of a set of epithets: distinct, head and character entropy, share ending in a role."""
    heads = Counter(name[:-2] for name in names)
    chars = Counter(c for name in names for c in name)
    roled = sum(name[-2:] in roles for name in names) / max(len(names), 1)
    return f"{len(set(names))} of {len(names)} | {entropy(heads):.2f} | {entropy(chars):.2f} | {roled:.0%}"


def row(
    namer: Namer, label: str, n: int, seed: int, compose: bool, roles: frozenset[str], gender: str | None = None
) -> str:
    """One table row: variety of `n` epithets drawn one way (of `gender`, when given), and the time
    of `generate -n 20`."""
    steering = namer.steering(gender=gender) if gender else None
    names = namer.generate(n, namer.options(kind="epithet"), seed=seed, compose=compose, steering=steering).names
    return f"| {label} | {variety(names, roles)} | {ms_per_20(namer, compose, steering):.0f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="epithets per model and way (default 1000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pools", default=str(epithets.POOL), help="compositions per epithet kept, comma-separated")
    parser.add_argument("--models", default=",".join(epithets.WUXIA))
    parser.add_argument("--genders", default="", help="also epithets of these genders (female,male), both ways")
    args = parser.parse_args(argv)
    genre = [e.name for c in epithets.WUXIA for e in corpora.entries(c) if e.kind == "epithet"]
    roles = epithets.role_words(genre)
    shipped = epithets.POOL
    print("| model, way | distinct | head entropy | char entropy | ends in a role word | ms per -n 20 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for model in args.models.split(","):
        namer = Namer.load(model)
        listed = [e.name for e in corpora.entries(model) if e.kind == "epithet"]
        print(f"| {model}, the list's own (fewer: entropy grows with the count) | {variety(listed, roles)} | |")
        for pool in [int(p) for p in args.pools.split(",")]:
            epithets.POOL = pool
            print(row(namer, f"{model}, composed (pool {pool})", args.n, args.seed, True, roles))
        epithets.POOL = shipped
        print(row(namer, f"{model}, the model's own", args.n, args.seed, False, roles))
        for gender in [g for g in args.genders.split(",") if g]:
            print(row(namer, f"{model}, {gender}, composed", args.n, args.seed, True, roles, gender))
            print(row(namer, f"{model}, {gender}, the model's own", args.n, args.seed, False, roles, gender))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
