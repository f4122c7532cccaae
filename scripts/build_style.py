"""Rebuild the shipped style calibration, src/xiaming/pretrained/style.safetensors.

    python scripts/build_style.py                       # jinyong and gulong, 5 folds (about 5 minutes)
    python scripts/build_style.py --cache runs/style/cross.json   # reuse scores computed before

`xiaming who` weighs each style model's log-probability of a name and the naive Bayes
log-probability of its list's character unigrams and bigrams (see `xiaming.style`). The weights
and per-style biases are fitted here on out-of-fold scores: for each of 5 folds, one model per
style is fine-tuned from the shipped `base` on the other four fifths of its list, exactly as the
shipped models are, and scores the fifth it never saw. Rerun it whenever the lists or the shipped
models change. It writes only numbers (a safetensors file), never code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

from xiaming import corpora  # noqa: E402
from xiaming.style import (CrossScores, balanced_accuracy, cross_scores, fit_calibration, predict,  # noqa: E402
                           shipped_calibration_path)

ALPHA = 0.5  # n-gram smoothing: 0.5 gave the best cross-validated accuracy of 0.1, 0.5 and 1


def load_or_score(styles: list[str], cache: Path | None, work: Path, folds: int, seed: int,
                  any_lists: bool = False) -> CrossScores:
    """Out-of-fold scores from `cache` when it was made from these lists (or from any, with
    `any_lists`), else computed (and cached)."""
    lists = {s: corpora.load(s) for s in styles}
    key = {s: len(v) for s, v in lists.items()}
    if cache and cache.is_file():
        data = json.loads(cache.read_text(encoding="utf-8"))
        if (data.get("lists") == key or any_lists) and data.get("folds") == folds and data.get("seed") == seed:
            print(f"out-of-fold scores from {cache} (lists of {data.get('lists')})", file=sys.stderr)
            return CrossScores.from_dict(data["scores"])
    import torch

    torch.set_num_threads(1)
    start = time.time()
    scores = cross_scores(lists, work, folds, seed, alpha=ALPHA, log=lambda m: print(m, file=sys.stderr))
    print(f"out-of-fold scores in {time.time() - start:.0f} s", file=sys.stderr)
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"lists": key, "folds": folds, "seed": seed, "scores": scores.to_dict()},
                                    ensure_ascii=False), encoding="utf-8")
    return scores


def nested_accuracy(scores: CrossScores) -> tuple[float, list[float]]:
    """Balanced accuracy of the calibrated attribution, the calibration refitted without each fold."""
    k = len(scores.styles)
    predicted = np.zeros(len(scores.names), dtype=int)
    for f in np.unique(scores.folds):
        fit = scores.folds != f
        cal = fit_calibration(scores.neural[fit], scores.ngram[fit], scores.labels[fit], scores.styles, ALPHA)
        predicted[~fit] = predict(scores.neural[~fit], scores.ngram[~fit], cal, scores.styles).argmax(1)
    return balanced_accuracy(scores.labels, predicted, k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", default="jinyong,gulong", help="built-in corpora with shipped models")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default="runs/style", help="folder for the fold models")
    parser.add_argument("--cache", default=None, help="JSON file of out-of-fold scores to reuse or write")
    parser.add_argument("-o", "--output", default=str(shipped_calibration_path()))
    args = parser.parse_args()
    styles = args.styles.split(",")
    scores = load_or_score(styles, Path(args.cache) if args.cache else None, Path(args.work), args.folds, args.seed)
    bal, per = nested_accuracy(scores)
    info = {"styles": styles, "lists": {s: int((scores.labels == j).sum()) for j, s in enumerate(styles)},
            "folds": args.folds, "seed": args.seed, "init": "base",
            "cv_balanced_accuracy": round(bal, 4), "cv_per_style": {s: round(a, 4) for s, a in zip(styles, per)}}
    cal = fit_calibration(scores.neural, scores.ngram, scores.labels, styles, ALPHA, info=info)
    cal.save(args.output)
    print(f"wrote {args.output}: neural {cal.neural:.4f}, ngram {cal.ngram:.4f}, bias "
          + ", ".join(f"{s} {b:+.3f}" for s, b in cal.bias.items())
          + f"; cross-validated balanced accuracy {bal:.1%} (" + ", ".join(f"{s} {a:.1%}" for s, a in zip(styles, per)) + ")")


if __name__ == "__main__":
    main()
