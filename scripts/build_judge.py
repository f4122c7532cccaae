"""Fit the epithet judge to blind readers' ratings of composed epithets and ship it.

    python scripts/build_judge.py            # fit on critic/ratings/epithet2, write pretrained/epithets.judge.safetensors
    python scripts/build_judge.py --cv       # also the 5-fold cross-validated AUC, the AUC on the panels'
                                             # composed epithets (never fitted on) and what sampling would keep

Reads the rating rounds of composed epithets (`ROUNDS`; critic/README.md says how they were made),
centres each reviewer on their own mean and puts it at 3, labels an epithet bad when its centred
rating is below 2.5 (a 1-2 mark), fits `xiaming.evidence.judge.fit_judge` and writes the judge.
Rerunnable. The panels' ratings (panels/critic/epithets2 and epithets3, their composed groups) are
read only to measure the judge on epithets it never saw, rated beside real ones.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from build_critic import BAD, answers_of, auc, offline_keep, read_ratings  # noqa: E402

from xiaming.evidence.judge import JUDGE_PATH, fit_judge, save_judge  # noqa: E402

RATINGS = ROOT / "critic" / "ratings"
PANELS = ROOT / "panels" / "critic"
ROUNDS = ("epithet2",)  # raw compositions (one kept of one), one reviewer per author
PANEL_GROUPS = {"epithets2": ("composed",), "epithets3": ("shipped", "pool8")}  # composed epithets in panels


def centred(reviews: list[list[tuple[str, int]]]) -> dict[str, float]:
    """Each name's mean rating after centring each reviewer's ratings on that reviewer's mean, put at 3."""
    scores: dict[str, list[float]] = defaultdict(list)
    for rows in reviews:
        shift = float(np.mean([r for _, r in rows]))
        for name, rating in rows:
            scores[name].append(rating - shift)
    return {name: float(np.mean(v)) + 3.0 for name, v in scores.items()}


def round_ratings(rounds: tuple[str, ...] = ROUNDS) -> dict[str, float]:
    """Centred mean rating of every epithet of the rating `rounds` (`build_critic.read_ratings`, one
    reviewer per author and round; an epithet two authors' rounds hold counts once, their mean)."""
    names, y, _, _ = read_ratings(RATINGS, rounds)
    scores: dict[str, list[float]] = defaultdict(list)
    for name, rating in zip(names, y):
        scores[name].append(float(rating))
    return {name: float(np.mean(v)) for name, v in scores.items()}


def panel_ratings() -> dict[str, float]:
    """Centred mean rating of the composed epithets of the epithet panels (each reviewer centred on the
    whole panel, real epithets included, as they rated them)."""
    reviews, keep = [], set()
    for panel, groups in PANEL_GROUPS.items():
        for key in sorted((PANELS / panel).glob("*-key.tsv")):
            author = key.name.removesuffix("-key.tsv")
            rows = [line.split("\t") for line in key.read_text(encoding="utf-8").splitlines() if line[:1].isdigit()]
            listed = {int(r[0]): r[2] for r in rows}
            keep |= {r[2] for r in rows if r[1] in groups}
            reviews += [answers_of(f, listed) for f in sorted((PANELS / panel).glob(f"{author}-[AB].tsv"))]
    return {n: y for n, y in centred([r for r in reviews if r]).items() if n in keep}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strength", type=float, default=4.0, help="default sampling strength stored (default 4)")
    parser.add_argument("--min-count", type=int, default=3, help="epithets a token must be in to get a weight")
    parser.add_argument("--cv", action="store_true", help="print the cross-validated and panel AUCs")
    parser.add_argument("--out", default=str(JUDGE_PATH), help="where to write the judge")
    parser.add_argument("--write", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    rated = round_ratings()
    names = sorted(rated)
    y = np.array([rated[n] for n in names])
    bad = y < BAD
    print(f"{len(names)} rated composed epithets; rated 1-2: {bad.mean():.1%}")
    if args.cv:
        fold = np.random.default_rng(0).integers(0, 5, len(names))
        held = np.zeros(len(names))
        for k in range(5):
            train = fold != k
            judge = fit_judge([n for n, t in zip(names, train) if t], bad[train], args.min_count)
            held[~train] = judge.passable([n for n, t in zip(names, train) if not t])
        print(f"5-fold cross-validated AUC, passable against rated 1-2: {auc(held, ~bad):.3f}")
        for strength in (0.0, 1.0, 2.0, args.strength, 2 * args.strength):
            mean, fail, _ = offline_keep(y, held, held, np.ones(len(y), dtype=bool), strength, 0.0, 4, repeats=300)
            print(f"  one kept of 4 at strength {strength:g}: mean rating {mean:.2f}, rated 1-2 {fail:.1%}")
        panel = panel_ratings()
        judge = fit_judge(names, bad, args.min_count)
        shown = sorted(panel)
        py = np.array([panel[n] for n in shown])
        p = judge.passable(shown)
        print(
            f"on the panels' {len(shown)} composed epithets (never fitted on): AUC {auc(p, ~(py < BAD)):.3f}, "
            f"r {np.corrcoef(p, py)[0, 1]:.3f}"
        )
    if args.write:
        about = f"a logistic regression of 'rated 1-2' on {len(names)} rated composed epithets ({', '.join(ROUNDS)})"
        judge = fit_judge(names, bad, args.min_count, strength=args.strength, about=about)
        save_judge(judge, args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
