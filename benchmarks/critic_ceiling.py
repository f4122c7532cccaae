"""How far can choosing among the sampler's names take them? The critic against the panels it never saw.

    python benchmarks/critic_ceiling.py                      # panels 15-36, every author
    python benchmarks/critic_ceiling.py --floor 0.7,0.8      # and what a floor on P(passable) would do
    python benchmarks/critic_ceiling.py --pools 8,16         # and what more proposals per name would do
    python benchmarks/critic_ceiling.py --first 1 --oracle   # every panel; how often readers give a 5, and the
                                                             # best quarter by the readers' own mean

The shipped critic (v9) was fitted on the rating rounds of critic/ratings alone, so the blind panels
(panels/critic) are names it never saw, rated by other readers beside the books' own names and a chat
model's. Since panel 15 every generated group was drawn with v9 choosing one name of four proposals,
so those groups are what the sampler keeps. For each author this prints, over the generated names of
those panels (every group but the real names, the chat model's, `critic-off` and panel 37's `readeronly`,
which another critic kept; one row per rating):

- the mean rating and the share rated 1-2 of the names in each band of the critic's P(passable);
- the **ceiling of choosing**: the mean rating of the best 10%, 25% and 50% of those names by the
  sampler's own log weight (`Critic.log_weights`, P(passable) times P(4-5) to the flavour). No
  reweighting of these proposals can keep better names than its best tenth without keeping a tenth
  as many distinct ones;
- the real names' mean in the same panels, split by whether the reader said they knew the character
  (RECOGNISED: "known character", "canonical", "actual Gu Long character (楚留香)", a book's title):
  a generated name cannot earn that 5, so the unrecognised real names are the fairer bar; and the
  chat model's mean.

`--floor T1,T2` also draws 3,000 names per author (seeds 3-5) as the shipped model does, with the
critic's weight of every proposal whose P(passable) is below T set to nothing while any proposal of
its length above T remains (a floor: Azadi et al. 2019's rejection, on top of the resampling), and
prints the share still below T, the mean P(passable), the rating the bands above predict, the share
of three-character names whose given name repeats, the character entropy of as many names as the
panel holdout has (seeds 7-10) and the in-process time of `generate -n 20` (one thread, median of
six calls). The prediction is only as good as the bands: the panels' readers, not a new panel.

`--pools P1,P2` draws 2,000 names per author (seeds 3-4) with P proposals per name kept instead of the
critic's four, and predicts their rating from the deciles of the sampler's log weight over the panels'
names (finer than the bands, and the weight is what more proposals select on), beside the share of
three-character names whose given name repeats and the entropy as above.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from critic_panels import PANELS, reviews  # noqa: E402
from panel import held_out  # noqa: E402

AUTHORS = ("jinyong", "gulong", "liangyusheng")
FIRST_PANEL = 15  # critic v9 chose every generated group from this panel on
NOT_GENERATED = ("real", "llm", "critic-off", "readeronly")  # readeronly: panel 37, kept by another critic
BANDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)
# a reason that says the reader knew the character (checked by hand against the real names' 5s)
RECOGNISED = re.compile(
    r"\bknown\b|canon|\bactual\b|genuine|\breal (gu long|jin yong|liang yusheng|character)"
    r"|(gu long|jin yong|liang yusheng|yong's|long's) (character|name)|historical figure"
    r"|[\u4e00-\u9fff]{2,4}(人物| character)|'s (son|daughter|wife|father|mother|disciple)|lay name",
    re.IGNORECASE,
)
PEN = 1e3  # the log weight taken from a proposal below the floor


def panel_folders(first: int = FIRST_PANEL, last: int | None = None) -> list[Path]:
    """The name panels from `first` to `last` (None: the newest), in number order."""
    found = [
        p
        for p in PANELS.glob("panel*")
        if p.name[5:].isdigit() and first <= int(p.name[5:]) <= (last if last is not None else 1 << 30)
    ]
    return sorted(found, key=lambda p: int(p.name[5:]))


def ratings(author: str, folders: list[Path]) -> dict[str, list[tuple[str, int, str]]]:
    """{"generated" | "real" | "llm": [(name, rating, reason), ...]} over the panels' reviewers."""
    out: dict[str, list[tuple[str, int, str]]] = {"generated": [], "real": [], "llm": []}
    for _, who, _, key, answers in reviews(folders):
        if who != author:
            continue
        for number, (rating, reason) in answers.items():
            if number not in key:
                continue
            group, name = key[number]
            if group in ("real", "llm"):
                out[group].append((name, rating, reason))
            elif group not in NOT_GENERATED:
                out["generated"].append((name, rating, reason))
    return out


def bands(critic, rows: list[tuple[str, int, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean rating, share rated 1-2, count) of the names in each band of P(passable)."""
    p = critic.rate([name for name, _, _ in rows])
    y = np.array([rating for _, rating, _ in rows], dtype=float)
    which = np.digitize(p, BANDS) - 1
    means = np.array([y[which == b].mean() if (which == b).any() else np.nan for b in range(len(BANDS) - 1)])
    low = np.array([(y[which == b] <= 2).mean() if (which == b).any() else np.nan for b in range(len(BANDS) - 1)])
    return means, low, np.bincount(which, minlength=len(BANDS) - 1)


def ceiling(critic, rows: list[tuple[str, int, str]], shares=(0.1, 0.25, 0.5)) -> list[float]:
    """Mean rating of the best `share` of the names by the sampler's log weight, for each share."""
    w = critic.log_weights([name for name, _, _ in rows])
    y = np.array([rating for _, rating, _ in rows], dtype=float)[np.argsort(-w, kind="stable")]
    return [float(y[: max(1, int(len(y) * s))].mean()) for s in shares]


def oracle(rows: dict[str, list[tuple[str, int, str]]]) -> str:
    """One table row: the share of ratings of 5 per group (generated, real, chat model), and the mean rating of
    the best quarter of the generated names rated twice or more, chosen by the readers' own mean (an oracle:
    the most any choosing among these names could keep at a quarter)."""
    fives = [np.mean([r == 5 for _, r, _ in rows[g]]) for g in ("generated", "real", "llm")]
    by_name: dict[str, list[int]] = {}
    for name, rating, _ in rows["generated"]:
        by_name.setdefault(name, []).append(rating)
    means = np.sort([np.mean(v) for v in by_name.values() if len(v) >= 2])[::-1]
    best = means[: max(1, len(means) // 4)].mean()
    return " | ".join(f"{100 * f:.1f}%" for f in fives) + f" | {best:.2f} (of {len(means)} names)"


def recognised_split(rows: list[tuple[str, int, str]]) -> tuple[float, float, float]:
    """(share of ratings whose reason says the reader knew the character, their mean, the others' mean)."""
    known = np.array([bool(RECOGNISED.search(reason)) for _, _, reason in rows])
    y = np.array([rating for _, rating, _ in rows], dtype=float)
    return float(known.mean()), float(y[known].mean()) if known.any() else np.nan, float(y[~known].mean())


def repeated_given(names: list[str]) -> float:
    """The share of three-character names whose given name an earlier one of `names` already has."""
    given = [nm[1:] for nm in names if len(nm) == 3]
    return 1 - len(set(given)) / len(given)


def holdout_entropy(namer, size: int, steering=None) -> float:
    """Mean character entropy of `size` names (the panel holdout's size) over generation seeds 7-10."""
    from xiaming.generation.realism import char_entropy

    return float(np.mean([char_entropy(namer.generate(size, seed=s, steering=steering).names) for s in (7, 8, 9, 10)]))


def ms_per_20(namer, steering=None) -> float:
    """Median in-process milliseconds of `generate(20)` over six seeds, after one warm-up call."""
    times = []
    for s in range(7):
        start = time.perf_counter()
        namer.generate(20, seed=100 + s, steering=steering)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times[1:]))


class Floored:
    """The critic's log weight, with PEN taken from every name it gives a P(passable) below `floor`."""

    def __init__(self, critic, floor: float) -> None:
        self.critic, self.floor = critic, floor

    def log_weights(self, names):
        return self.critic.log_weights(names) - PEN * (self.critic.rate(names) < self.floor)


def floor_row(namer, floor: float, band_means: np.ndarray, band_low: np.ndarray, holdout: int) -> str:
    """One table row: what the shipped sampler keeps with the critic floored at `floor` (0: as shipped)."""
    base = namer.steering()
    evidence = tuple(
        (label, Floored(e, floor) if label == "critic" and floor > 0 else e, s) for label, e, s in base.evidence
    )
    steering = replace(base, evidence=evidence)
    names = [nm for seed in (3, 4, 5) for nm in namer.generate(1000, seed=seed, steering=steering).names]
    p = namer.critic.rate(names)
    which = np.digitize(p, BANDS) - 1
    label = f"{floor:g}" if floor else "none (shipped)"
    return (
        f"| {label} | {100 * np.mean(p < (floor or 0.8)):.1f}% | {p.mean():.3f} | {np.nanmean(band_means[which]):.2f} "
        f"| {100 * np.nanmean(band_low[which]):.1f}% | {100 * repeated_given(names):.1f}% "
        f"| {holdout_entropy(namer, holdout, steering):.2f} | {ms_per_20(namer, steering):.0f} |"
    )


def weight_deciles(critic, rows: list[tuple[str, int, str]]) -> tuple[np.ndarray, np.ndarray]:
    """(the nine inner decile edges of the sampler's log weight over `rows`, the mean rating in each decile)."""
    w = critic.log_weights([name for name, _, _ in rows])
    y = np.array([rating for _, rating, _ in rows], dtype=float)
    edges = np.quantile(w, np.linspace(0, 1, 11))[1:-1]
    which = np.digitize(w, edges)
    return edges, np.array([y[which == d].mean() for d in range(10)])


def pool_row(namer, pool: int, edges: np.ndarray, means: np.ndarray, holdout: int) -> str:
    """One table row: what the shipped sampler keeps with `pool` proposals per name."""
    steering = replace(namer.steering(), pool=pool)
    names = [nm for seed in (3, 4) for nm in namer.generate(1000, seed=seed, steering=steering).names]
    predicted = means[np.digitize(namer.critic.log_weights(names), edges)].mean()
    return (
        f"| {pool} | {namer.critic.rate(names).mean():.3f} | {predicted:.2f} "
        f"| {100 * repeated_given(names):.1f}% | {holdout_entropy(namer, holdout, steering):.2f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--authors", default=",".join(AUTHORS), help="comma-separated (default all three)")
    parser.add_argument("--first", type=int, default=FIRST_PANEL, help="the first panel counted (default 15)")
    parser.add_argument("--last", type=int, default=None, help="the last panel counted (default the newest)")
    parser.add_argument("--floor", default="", help="comma-separated floors on P(passable) to try, e.g. 0.7,0.8")
    parser.add_argument("--pools", default="", help="comma-separated proposals per name to try, e.g. 8,16")
    parser.add_argument(
        "--oracle", action="store_true", help="also the share of 5s per group and the readers' own best quarter"
    )
    args = parser.parse_args(argv)

    from xiaming.generation.namer import Namer

    folders = panel_folders(args.first, args.last)
    floors = [float(f) for f in args.floor.split(",") if f]
    pools = [int(p) for p in args.pools.split(",") if p]
    print(f"panels {folders[0].name}-{folders[-1].name}; ratings (one per reader and name)\n")
    heads = " | ".join(f"P {lo:g}-{min(hi, 1):g}" for lo, hi in zip(BANDS, BANDS[1:]))
    print(
        f"| author | generated: mean (1-2) | {heads} | best 10% / 25% / 50% | real: known, unknown, all | chat model |"
    )
    print("| --- | ---: |" + " ---: |" * (len(BANDS) + 2))
    curves = {}
    for author in args.authors.split(","):
        namer = Namer.load(author)
        rows = ratings(author, folders)
        gen = rows["generated"]
        means, low, counts = bands(namer.critic, gen)
        curves[author] = (namer, means, low, *weight_deciles(namer.critic, gen))
        y = np.array([r for _, r, _ in gen], dtype=float)
        cells = " | ".join(f"{m:.2f} ({100 * lo:.0f}%, n {c})" if c else "-" for m, lo, c in zip(means, low, counts))
        best = " / ".join(f"{v:.2f}" for v in ceiling(namer.critic, gen))
        share, known, unknown = recognised_split(rows["real"])
        real = np.mean([r for _, r, _ in rows["real"]])
        llm = np.mean([r for _, r, _ in rows["llm"]])
        print(
            f"| {author} | {y.mean():.2f} ({100 * np.mean(y <= 2):.0f}%, n {len(y)}) | {cells} | {best} "
            f"| {known:.2f} ({100 * share:.0f}% of ratings), {unknown:.2f}, {real:.2f} | {llm:.2f} |"
        )
    if args.oracle:
        print("\n| author | rated 5: generated | real | chat model | the readers' best quarter of the generated |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for author in args.authors.split(","):
            print(f"| {author} | {oracle(ratings(author, folders))} |")
    if pools:
        for author, (namer, _, _, edges, deciles) in curves.items():
            holdout = len(held_out(namer, "name"))
            print(
                f"\n{author}: proposals per name (2,000 names, seeds 3-4; rating by decile of the weight: "
                f"{' '.join(f'{m:.2f}' for m in deciles)})\n"
            )
            print(
                "| proposals | mean P(passable) | predicted rating | given names repeated | entropy of the holdout's size |"
            )
            print("| ---: | ---: | ---: | ---: | ---: |")
            for pool in [namer.critic.pool, *pools]:
                print(pool_row(namer, pool, edges, deciles, holdout), flush=True)
    if floors:
        for author, (namer, means, low, _, _) in curves.items():
            holdout = len(held_out(namer, "name"))  # the personal names a panel draws its real group from
            print(f"\n{author}: a floor on P(passable) (3,000 names, seeds 3-5)\n")
            print(
                "| floor | kept below it (below 0.8 unfloored) | mean P(passable) | predicted rating "
                "| predicted 1-2 | given names repeated | entropy of the holdout's size | ms per generate -n 20 |"
            )
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for floor in [0.0, *floors]:
                print(floor_row(namer, floor, means, low, holdout), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
