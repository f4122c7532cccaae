"""Benchmark: would a critic fitted to one author's ratings judge that author's names better than the shared one?

    python benchmarks/critic_per_author.py

The shipped critic is one pair of logistic regressions fitted to the ratings of all three authors'
names (scripts/build_critic.py). Readers of Gu Long may reward other names than readers of Jin
Yong, so for each author this fits, five-fold over that author's rated names, three critics and
scores the held-out fold:

- `pooled`: every author's ratings outside the fold (what ships);
- `own`: only this author's;
- `own twice`: every author's, this author's counted twice.

Printed per author and critic: the cross-validated AUC of the failure head (passable against
rated 1-2) and of the appeal head (rated 4-5 against the rest), and `build_critic.offline_keep`'s
estimate of what sampling would keep from the author's plain rounds (rate6, rate7: `--critic off`
output) at pool 4, strength 4, flavour 1: mean rating, share rated 1-2 and share rated 4-5.

Measured (2026-12-07): the author's own ratings move the AUCs by -0.009 to +0.014 and the kept
mean by -0.10 to +0.01, so the shared critic stays.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "src"))

from build_critic import BAD, GOOD, auc, offline_keep, read_ratings  # noqa: E402

from xiaming.evidence.critic import fit_critic  # noqa: E402

AUTHORS = ("jinyong", "gulong", "liangyusheng")
SETTINGS = dict(ridge=10.0, char_ridge=1.0, min_count=3)  # build_critic.py's defaults
FOLDS = 5


def held_out(names, bad, good, mine, fold, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Held-out (P(passable), P(4-5)) of the author's names (`mine`) from critics fitted `how`."""
    passable, appeal = np.zeros(len(names)), np.zeros(len(names))
    for k in range(FOLDS):
        train = fold != k
        if how == "own":
            train = train & mine
        idx = list(np.flatnonzero(train))
        if how == "own twice":
            idx += list(np.flatnonzero(train & mine))
        critic = fit_critic([names[i] for i in idx], bad[idx], good[idx], **SETTINGS)
        held = mine & ~train if how != "own" else mine & (fold == k)
        held_names = [names[i] for i in np.flatnonzero(held)]
        passable[held], appeal[held] = critic.rate(held_names), critic.appeal_of(held_names)
    return passable, appeal


def main() -> int:
    names, y, authors, rounds = read_ratings()
    authors, rounds = np.array(authors), np.array(rounds)
    bad, good = y < BAD, y >= GOOD
    fold = np.random.default_rng(0).integers(0, FOLDS, len(names))
    print("| author | critic | AUC failure | AUC appeal | kept: mean | rated 1-2 | rated 4-5 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for author in AUTHORS:
        mine = authors == author
        plain = mine & np.isin(rounds, ["rate6", "rate7"])
        for how in ("pooled", "own", "own twice"):
            passable, appeal = held_out(names, bad, good, mine, fold, how)
            mean, low, high = offline_keep(y, passable, appeal, plain, 4.0, 1.0, 4)
            print(
                f"| {author} | {how} | {auc(passable[mine], ~bad[mine]):.3f} | {auc(appeal[mine], good[mine]):.3f} | "
                f"{mean:.2f} | {low:.1%} | {high:.1%} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
