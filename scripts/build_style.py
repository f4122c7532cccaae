"""Rebuild the shipped style calibration, src/xiaming/pretrained/style.safetensors.

    python scripts/build_style.py                       # jinyong, gulong and liangyusheng, 5 folds
    python scripts/build_style.py --cache runs/style/cross.json   # reuse scores computed before

`xiaming who` weighs each style model's log-probability of a name and the naive Bayes
log-probability of its list's character unigrams and bigrams (see `xiaming.style.attribution`). The weights
and per-style biases are fitted here on out-of-fold scores: for each of 5 folds, one model per
style is fine-tuned from the shipped `base` on the other four fifths of its list as the shipped
models are (name kinds included), and scores the fifth it never saw; each fold model also invents
200 names, scored the same way, since `xiaming who` and the quiz judge invented names too. The
invented names hold a quarter of the fit's weight, the real ones the rest, and within each every
style weighs the same. One calibration serves every set of the styles (`xiaming who --models` any two
of them): the script also prints how well it does on each pair, the n-gram view recounted over the
pair's lists as `xiaming who` counts them, beside a calibration fitted on the pair alone.
Rerun it whenever the lists or the shipped models change. It writes only numbers (a safetensors
file), never code.

With `--stage wuxia` the fold models are made as `scripts/build_pretrained.py --stage wuxia` makes
the shipped ones: per fold, `base` is first fine-tuned on every name of the three wuxia lists except
the names that fold scores (`build_pretrained.train_stage`), and each style's fold model from that.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/: build_pretrained's stages

from xiaming import corpora  # noqa: E402
from xiaming.style.attribution import Calibration, shipped_calibration_path  # noqa: E402
from xiaming.style.build import CrossScores, among, balanced_accuracy, cross_scores, fit_calibration, predict  # noqa: E402

ALPHA = 0.5  # n-gram smoothing: 0.5 gave the best cross-validated accuracy of 0.1, 0.5 and 1
SAMPLES = 200  # names each fold model invents, so the fit also knows what generated names look like
# Share of the fit's weight on invented names. On 5 folds of the 1,489 / 1,496-name lists, 0, 0.25,
# 0.5 and 1 gave 70.7%, 70.6%, 69.7%, 69.0% on real names and 83.3%, 84.4%, 85.3%, 86.5% on invented
# ones: a quarter buys most of the gain on invented names for almost nothing on real ones.
GENERATED_SHARE = 0.25


def fold_stage(stage: str, work: Path, seed: int, base: str = "base") -> Callable[[int, set[str]], Path]:
    """`cross_scores`'s start for each fold: `base` fine-tuned on the lists of `stage` without the
    names the fold scores (build_pretrained.train_stage)."""
    from build_pretrained import train_stage

    def start(fold: int, held_out: set[str]) -> Path:
        return train_stage(stage, base, work, held_out, seed, tag=f"-fold{fold}", log=lambda _m: None)

    return start


def load_or_score(
    styles: list[str],
    cache: Path | None,
    work: Path,
    folds: int,
    seed: int,
    any_lists: bool = False,
    stage: str | None = None,
) -> CrossScores:
    """Out-of-fold scores from `cache` when it was made from these lists (or from any, with
    `any_lists`) and the same `stage`, else computed (and cached)."""
    lists = {s: corpora.load(s) for s in styles}
    key = {s: len(v) for s, v in lists.items()}
    if cache and cache.is_file():
        data = json.loads(cache.read_text(encoding="utf-8"))
        same = (
            data.get("folds") == folds
            and data.get("seed") == seed
            and data.get("samples") == SAMPLES
            and data.get("stage") == stage
        )
        if (data.get("lists") == key or any_lists) and same:
            print(f"out-of-fold scores from {cache} (lists of {data.get('lists')})", file=sys.stderr)
            return CrossScores.from_dict(data["scores"])
    import torch

    torch.set_num_threads(1)
    start = time.time()
    init = fold_stage(stage, work, seed) if stage else "base"
    scores = cross_scores(
        lists, work, folds, seed, init=init, alpha=ALPHA, samples=SAMPLES, log=lambda m: print(m, file=sys.stderr)
    )
    print(f"out-of-fold scores in {time.time() - start:.0f} s", file=sys.stderr)
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(
            json.dumps(
                {
                    "lists": key,
                    "folds": folds,
                    "seed": seed,
                    "samples": SAMPLES,
                    "stage": stage,
                    "scores": scores.to_dict(),
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
    return scores


def name_weights(scores: CrossScores, share: float = GENERATED_SHARE) -> np.ndarray:
    """Weights making every style count the same among the real names, and among the generated
    ones, with the generated names holding `share` of the total (when there are any)."""
    k = len(scores.styles)
    w = np.zeros(len(scores.names))
    groups = (
        [(~scores.generated, 1 - share), (scores.generated, share)]
        if scores.generated.any()
        else [(~scores.generated, 1.0)]
    )
    for rows, weight in groups:
        for j in range(k):
            sel = rows & (scores.labels == j)
            if sel.any():
                w[sel] = weight / (k * sel.sum())
    return w


def fit(scores: CrossScores, info: dict | None = None) -> Calibration:
    """The calibration fitted on `scores` with `name_weights`."""
    return fit_calibration(
        scores.neural, scores.ngram, scores.labels, scores.styles, ALPHA, info=info, weights=name_weights(scores)
    )


def nested_predictions(scores: CrossScores) -> np.ndarray:
    """(N, K) out-of-fold probabilities: the calibration refitted without each fold, applied to it."""
    probs = np.zeros_like(scores.neural)
    for f in np.unique(scores.folds):
        held = scores.folds == f
        probs[held] = predict(scores.neural[held], scores.ngram[held], fit(scores.subset(~held)), scores.styles)
    return probs


def nested_accuracy(scores: CrossScores, generated: bool = False) -> tuple[float, list[float]]:
    """Balanced accuracy of the calibrated attribution on the real (or the generated) names, the
    calibration refitted without each fold."""
    rows = scores.generated == generated
    predicted = nested_predictions(scores).argmax(1)
    return balanced_accuracy(scores.labels[rows], predicted[rows], len(scores.styles))


def subset_accuracy(scores: CrossScores, styles: list[str], folds: int, seed: int) -> tuple[float, float, list[float]]:
    """Balanced accuracy on the real names of `styles` only, judged among those styles alone (the
    n-gram view recounted over their lists), nested over folds: with the calibration fitted on every
    style (as shipped), with one fitted on these styles alone, and the first one's per-style shares."""
    lists = {s: corpora.load(s) for s in scores.styles}
    view = among(scores, styles, lists, folds, seed, ALPHA)
    shared = np.zeros_like(view.neural)
    for f in np.unique(view.folds):
        held = view.folds == f
        shared[held] = predict(view.neural[held], view.ngram[held], fit(scores.subset(scores.folds != f)), styles)
    real = ~view.generated
    bal, per = balanced_accuracy(view.labels[real], shared.argmax(1)[real], len(styles))
    own, _ = nested_accuracy(view)
    return bal, own, per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", default="jinyong,gulong,liangyusheng", help="built-in corpora with shipped models")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default="runs/style", help="folder for the fold models")
    parser.add_argument("--cache", default=None, help="JSON file of out-of-fold scores to reuse or write")
    parser.add_argument(
        "--stage",
        choices=["wuxia"],
        default=None,
        help="fold models through build_pretrained's training stage, as the shipped models are built",
    )
    parser.add_argument("-o", "--output", default=str(shipped_calibration_path()))
    args = parser.parse_args()
    styles = args.styles.split(",")
    scores = load_or_score(
        styles, Path(args.cache) if args.cache else None, Path(args.work), args.folds, args.seed, stage=args.stage
    )
    bal, per = nested_accuracy(scores)
    gbal, gper = nested_accuracy(scores, generated=True) if scores.generated.any() else (float("nan"), [])
    real = ~scores.generated
    info = {
        "styles": styles,
        "lists": {s: int((scores.labels[real] == j).sum()) for j, s in enumerate(styles)},
        "generated": int(scores.generated.sum()),
        "generated_share": GENERATED_SHARE,
        "folds": args.folds,
        "seed": args.seed,
        "init": "base" + (f" via the {args.stage} stage" if args.stage else ""),
        "cv_balanced_accuracy": round(bal, 4),
        "cv_per_style": {s: round(a, 4) for s, a in zip(styles, per)},
        "cv_generated_balanced_accuracy": round(gbal, 4),
    }
    if len(styles) > 2:
        pairs = [[a, b] for i, a in enumerate(styles) for b in styles[i + 1 :]]
        info["cv_pairs"] = {}
        for pair in pairs:
            shared, own, pair_per = subset_accuracy(scores, pair, args.folds, args.seed)
            info["cv_pairs"][",".join(pair)] = round(shared, 4)
            print(
                f"{' vs '.join(pair)}: balanced accuracy on real names {shared:.1%} ("
                + ", ".join(f"{s} {a:.1%}" for s, a in zip(pair, pair_per))
                + f"); a calibration fitted on the pair alone: {own:.1%}"
            )
    cal = fit(scores, info)
    cal.save(args.output)
    print(
        f"wrote {args.output}: neural {cal.neural:.4f}, ngram {cal.ngram:.4f}, bias "
        + ", ".join(f"{s} {b:+.3f}" for s, b in cal.bias.items())
        + f"; cross-validated balanced accuracy on real names {bal:.1%} ("
        + ", ".join(f"{s} {a:.1%}" for s, a in zip(styles, per))
        + f"), on the fold models' own names {gbal:.1%} ("
        + ", ".join(f"{s} {a:.1%}" for s, a in zip(styles, gper))
        + ")"
    )


if __name__ == "__main__":
    main()
