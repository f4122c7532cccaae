"""Fit the realism critic to the blind reviewers' ratings and ship it beside the wuxia models.

    python scripts/build_critic.py                      # fit on critic/ratings/*, write the critics
    python scripts/build_critic.py --cv                 # also print the 5-fold cross-validated fit

Reads every rating round under critic/ratings/ (see critic/README.md: the names, exactly what
the reviewers saw, and their answers), averages the reviewers of each name, fits a ridge
regression of the rating on `xiaming.evidence.features` (`fit_critic`) and writes it as
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


def read_ratings(folder: Path = RATINGS) -> tuple[list[str], np.ndarray, list[str]]:
    """(names, mean rating, author) over every round and author under `folder`."""
    scores: dict[tuple[str, str], list[int]] = defaultdict(list)
    for names_file in sorted(folder.glob("*/*-names.txt")):
        author = names_file.name.removesuffix("-names.txt")
        names = names_file.read_text(encoding="utf-8").split()
        for answers in sorted(names_file.parent.glob(f"{author}-r*.tsv")):
            for line in answers.read_text(encoding="utf-8").splitlines():
                parts = line.split("\t")
                if len(parts) >= 2 and parts[0].strip().isdigit():
                    number, rating = int(parts[0]), int(parts[1])
                    if 1 <= number <= len(names) and 1 <= rating <= 5:
                        scores[(names[number - 1], author)].append(rating)
    keys = sorted(scores)
    return [k[0] for k in keys], np.array([np.mean(scores[k]) for k in keys]), [k[1] for k in keys]


def cross_validate(names: list[str], y: np.ndarray, ridge: float, folds: int = 5, seed: int = 0) -> float:
    """Pearson r between held-out predictions and ratings over `folds` folds."""
    fold = np.random.default_rng(seed).integers(0, folds, len(names))
    pred = np.zeros_like(y)
    for k in range(folds):
        train = fold != k
        critic = fit_critic([n for n, t in zip(names, train) if t], y[train], ridge=ridge)
        pred[~train] = critic.rate([n for n, t in zip(names, train) if not t])
    return float(np.corrcoef(pred, y)[0, 1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="jinyong,gulong,liangyusheng",
                        help="shipped models to write a critic beside (those present; default jinyong,gulong,liangyusheng)")
    parser.add_argument("--ridge", type=float, default=10.0, help="ridge penalty on standardised features (default 10)")
    parser.add_argument("--strength", type=float, default=2.0, help="default sampling strength stored (default 2)")
    parser.add_argument("--pool", type=int, default=8, help="proposals per name kept when sampling (default 8)")
    parser.add_argument("--cv", action="store_true", help="print the 5-fold cross-validated correlation")
    args = parser.parse_args(argv)

    names, y, authors = read_ratings()
    print(f"{len(names)} rated names ({', '.join(f'{a} {authors.count(a)}' for a in sorted(set(authors)))}); "
          f"mean rating {y.mean():.2f}")
    if args.cv:
        print(f"5-fold cross-validated r between predicted and rated: {cross_validate(names, y, args.ridge):.3f}")
    about = (f"ridge regression of {len(names)} names' mean blind rating (critic/ratings) on lexicon features; "
             f"strength {args.strength:g}, pool {args.pool}")
    critic = fit_critic(names, y, ridge=args.ridge, strength=args.strength, pool=args.pool, about=about)
    for model in args.models.split(","):
        checkpoint = shipped_path(model.strip())
        if checkpoint.is_file():
            save_critic(critic, critic_path(checkpoint))
            print(f"wrote {critic_path(checkpoint)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
