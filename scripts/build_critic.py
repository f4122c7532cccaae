"""Fit the realism critic to the blind reviewers' ratings and ship it beside the wuxia models.

    python scripts/build_critic.py                      # fit on critic/ratings/*, write the critics
    python scripts/build_critic.py --cv                 # also print the 5-fold cross-validated fit

Reads the rating rounds under critic/ratings/ (see critic/README.md: the names, exactly what
the reviewers saw, and their answers), centres each reviewer, averages the reviewers of each name,
labels a name bad when that average is below BAD (a 1-2 mark), fits an L2 logistic regression of
bad on `xiaming.evidence.features` (`fit_critic`) and writes it as
src/xiaming/pretrained/<model>.critic.safetensors for each model in --models. Rerunnable.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from xiaming.evidence.critic import critic_path, fit_critic, save_critic  # noqa: E402
from xiaming.pretrained import shipped_path  # noqa: E402

RATINGS = ROOT / "critic" / "ratings"
BAD = 2.5  # a name whose centred mean rating is below this was marked 1-2: the critic learns to spot it
ROUNDS = ("rate1", "rate2", "rate3", "rate5")  # rate4 mixed real list names in: its real names are rated for fame
# (recognised characters get 5) that lexicon features cannot see, and fitting on it lowered the
# cross-validated fit on the other rounds' names from r 0.61 to 0.53 (see critic/README.md)


def read_ratings(folder: Path = RATINGS, rounds: tuple[str, ...] = ROUNDS) -> tuple[list[str], np.ndarray, list[str]]:
    """(names, mean rating, author) over the rating `rounds` under `folder`.

    Reviewers use the scale differently (one rates most names 3, another spreads them), so each
    reviewer's answers are centred on that reviewer's mean and put at 3, the scale's middle, before
    averaging the reviewers of a name: the critic learns which names a reviewer rates above their
    own average. A name rated in two rounds counts once per round.
    """
    answers: list[tuple[str, str, str, int]] = []  # (round, author, name, rating)
    for names_file in sorted(folder.glob("*/*-names.txt")):
        if names_file.parent.name not in rounds:
            continue
        author = names_file.name.removesuffix("-names.txt")
        names = names_file.read_text(encoding="utf-8").split()
        for reviewer in sorted(names_file.parent.glob(f"{author}-r*.tsv")):
            mine = []
            for line in reviewer.read_text(encoding="utf-8").splitlines():
                parts = line.split("\t")
                if len(parts) >= 2 and parts[0].strip().isdigit() and parts[1].strip().isdigit():
                    number, rating = int(parts[0]), int(parts[1])
                    if 1 <= number <= len(names) and 1 <= rating <= 5:
                        mine.append((names_file.parent.name, author, names[number - 1], rating))
            if mine:
                shift = np.mean([r for *_, r in mine])
                answers += [(rd, a, n, r - shift) for rd, a, n, r in mine]
    scores: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for rd, author, name, centred in answers:
        scores[(name, author, rd)].append(centred)
    keys = sorted(scores)
    y = np.array([np.mean(scores[k]) for k in keys]) + 3.0  # a reviewer's average name reads 3
    return [k[0] for k in keys], y, [k[1] for k in keys]


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve of `score` for `positive` (the rank-sum form; ties count half)."""
    order = np.argsort(score, kind="stable")
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    for value in np.unique(score):  # average the ranks of ties
        tie = score == value
        ranks[tie] = ranks[tie].mean()
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def cross_validate(names: list[str], bad: np.ndarray, ridge: float, folds: int = 5, seed: int = 0) -> float:
    """AUC of the held-out P(passable) for telling passable names from bad ones over `folds` folds."""
    fold = np.random.default_rng(seed).integers(0, folds, len(names))
    passable = np.zeros(len(names))
    for k in range(folds):
        train = fold != k
        critic = fit_critic([n for n, t in zip(names, train) if t], bad[train], ridge=ridge)
        passable[~train] = critic.rate([n for n, t in zip(names, train) if not t])
    return auc(passable, ~bad)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="jinyong,gulong,liangyusheng",
                        help="shipped models to write a critic beside (those present; default jinyong,gulong,liangyusheng)")
    parser.add_argument("--ridge", type=float, default=10.0, help="L2 penalty on standardised features (default 10)")
    parser.add_argument("--strength", type=float, default=2.0, help="default sampling strength stored (default 2)")
    parser.add_argument("--pool", type=int, default=4, help="candidates drawn per name kept when sampling (default 4)")
    parser.add_argument("--cv", action="store_true", help="print the 5-fold cross-validated correlation")
    parser.add_argument("--rounds", default=",".join(ROUNDS), help=f"rating rounds to fit on (default {','.join(ROUNDS)})")
    args = parser.parse_args(argv)

    names, y, authors = read_ratings(rounds=tuple(args.rounds.split(",")))
    print(f"{len(names)} rated names ({', '.join(f'{a} {authors.count(a)}' for a in sorted(set(authors)))}); "
          f"mean rating {y.mean():.2f}")
    bad = y < BAD
    print(f"bad (centred mean rating below {BAD}): {bad.mean():.1%}")
    if args.cv:
        print(f"5-fold cross-validated AUC of P(passable), passable against bad: "
              f"{cross_validate(names, bad, args.ridge):.3f}")
    about = (f"logistic regression of 'rated 1-2' for {len(names)} names' blind ratings (critic/ratings) on lexicon "
             f"features; strength {args.strength:g}, pool {args.pool}")
    critic = fit_critic(names, bad, ridge=args.ridge, strength=args.strength, pool=args.pool, about=about)
    for model in args.models.split(","):
        checkpoint = shipped_path(model.strip())
        if checkpoint.is_file():
            save_critic(critic, critic_path(checkpoint))
            print(f"wrote {critic_path(checkpoint)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
