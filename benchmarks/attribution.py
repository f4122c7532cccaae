"""How well does `xiaming who` tell Jin Yong's style from Gu Long's, and do mixed styles move smoothly?

    python benchmarks/attribution.py --wuxia ../shared/data/wuxia --cache runs/style/cross.json

Prints one table of balanced accuracy (the mean over the two authors of the share of each
author's names attributed to him) for three methods on three kinds of names:

- methods: the shipped models' likelihood ratio (flat prior); naive Bayes on character unigrams
  and bigrams of the lists (with the lists' sizes as prior); and what `xiaming who` ships, the
  calibrated combination of both (`xiaming.style`).
- names: the built-in lists in 5-fold cross-validation (models fine-tuned from `base` on four
  fifths, as `scripts/build_style.py` does; the calibration refitted without the fold scored);
  real names that are not in the lists (the `work<TAB>name` files of `--wuxia`, read by path,
  never copied; scored by the shipped models and calibration, which never saw them); and names
  the shipped models generate (`-n` each, strict novelty, seeded).

Then it mixes the two models at weights 0, 0.25, 0.5, 0.75 and 1 (`xiaming generate --style`),
attributes the mixed names, and plots the mean probability of Jin Yong's style against the weight
(docs/style-mixing.png).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from build_style import ALPHA, load_or_score  # noqa: E402

from xiaming import corpora  # noqa: E402
from xiaming.mix import mixed_namer  # noqa: E402
from xiaming.namer import Namer  # noqa: E402
from xiaming.style import (Calibration, StyleJudge, balanced_accuracy, fit_calibration, predict,  # noqa: E402
                           shipped_calibration)

STYLES = ["jinyong", "gulong"]
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def methods(neural: np.ndarray, ngram: np.ndarray, prior: np.ndarray, calibrated: np.ndarray) -> dict[str, np.ndarray]:
    """Predicted style index per name for each method."""
    return {
        "likelihood ratio of the models": neural.argmax(1),
        "naive Bayes, char 1+2-grams": (ngram + np.log(prior)).argmax(1),
        "xiaming who (calibrated)": calibrated.argmax(1),
    }


def cross_validated(scores) -> dict[str, np.ndarray]:
    """Out-of-fold predictions of each method on the lists (the calibration refitted without each fold)."""
    k = len(scores.styles)
    prior = np.bincount(scores.labels, minlength=k) / len(scores.labels)
    calibrated = np.zeros_like(scores.neural)
    for f in np.unique(scores.folds):
        fit = scores.folds != f
        cal = fit_calibration(scores.neural[fit], scores.ngram[fit], scores.labels[fit], scores.styles, ALPHA)
        calibrated[~fit] = predict(scores.neural[~fit], scores.ngram[~fit], cal, scores.styles)
    return methods(scores.neural, scores.ngram, prior, calibrated)


def unseen_names(folder: Path) -> tuple[list[str], np.ndarray]:
    """Names of the `--wuxia` files found in neither built-in list nor in both files."""
    listed = set().union(*(corpora.load(s) for s in STYLES))
    found: dict[str, set[int]] = {}
    for k, style in enumerate(STYLES):
        path = next(folder.glob(f"{style}_*.tsv"))
        with open(path, encoding="utf-8") as f:
            for row in list(csv.reader(f, delimiter="\t"))[1:]:
                if len(row) >= 2 and row[1] and row[1] not in listed:
                    found.setdefault(row[1], set()).add(k)
    names = [n for n, ks in found.items() if len(ks) == 1]
    return names, np.array([next(iter(found[n])) for n in names])


def judged(judge: StyleJudge, names: list[str]) -> dict[str, np.ndarray]:
    """Predictions of each method with the shipped models and calibration."""
    neural, ngram, _, _ = judge.scores(names)
    prior = np.array([len(judge.namers[s].names) for s in judge.styles], dtype=float)
    calibrated = predict(neural, ngram, judge.calibration, judge.styles)
    return methods(neural, ngram, prior / prior.sum(), calibrated)


def mixing_curve(judge: StyleJudge, n: int, seed: int) -> list[float]:
    """Mean attributed probability of Jin Yong's style of `n` names generated at each weight."""
    out = []
    for w in WEIGHTS:
        mixed = mixed_namer({"jinyong": w, "gulong": 1 - w}, judge.namers)
        names = mixed.generate(n, seed=seed).names
        out.append(float(np.mean([a.probs["jinyong"] for a in judge.who(names)])))
        print(f"  jinyong={w:g},gulong={1 - w:g}: {len(names)} names, mean P(jinyong) {out[-1]:.3f}, "
              f"e.g. {' '.join(names[:6])}", file=sys.stderr)
    return out


def plot(curve: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot(WEIGHTS, curve, "o-", label="mixed samples, mean P(Jin Yong)")
    ax.plot([0, 1], [curve[0], curve[-1]], ":", color="grey", label="straight line between the pure models")
    ax.set_xlabel("weight of the jinyong model (gulong: 1 - weight)")
    ax.set_ylabel("mean attributed P(Jin Yong's style)")
    ax.set_ylim(0, 1)
    ax.set_title("xiaming generate --style jinyong=w,gulong=1-w")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wuxia", default=None, help="folder of jinyong_*.tsv and gulong_*.tsv (work<TAB>name) for unseen real names")
    parser.add_argument("--cache", default=None, help="JSON of out-of-fold scores (as scripts/build_style.py writes)")
    parser.add_argument("--work", default="runs/style", help="folder for the fold models")
    parser.add_argument("--reuse", action="store_true", help="use --cache even if the lists have changed since")
    parser.add_argument("-n", type=int, default=300, help="generated names per model and per mixing weight")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default=str(ROOT / "docs" / "style-mixing.png"))
    args = parser.parse_args()

    scores = load_or_score(STYLES, Path(args.cache) if args.cache else None, Path(args.work), 5, args.seed, args.reuse)
    judge = StyleJudge({s: Namer.load(s) for s in STYLES})
    columns: dict[str, dict[str, np.ndarray]] = {}
    labels: dict[str, np.ndarray] = {}
    counts: dict[str, str] = {}
    columns["lists, 5-fold CV"], labels["lists, 5-fold CV"] = cross_validated(scores), scores.labels
    counts["lists, 5-fold CV"] = " / ".join(str(int((scores.labels == k).sum())) for k in range(2))
    if args.wuxia:
        names, y = unseen_names(Path(args.wuxia))
        columns["real names not in the lists"], labels["real names not in the lists"] = judged(judge, names), y
        counts["real names not in the lists"] = " / ".join(str(int((y == k).sum())) for k in range(2))
    generated, gy = [], []
    for k, s in enumerate(STYLES):
        made = judge.namers[s].generate(args.n, seed=args.seed).names
        generated += made
        gy += [k] * len(made)
    columns["generated by the models"], labels["generated by the models"] = judged(judge, generated), np.array(gy)
    counts["generated by the models"] = f"{gy.count(0)} / {gy.count(1)}"

    cal: Calibration = shipped_calibration()
    print(f"shipped calibration: neural {cal.neural:.3f}, n-gram {cal.ngram:.3f}, bias "
          + ", ".join(f"{s} {b:+.3f}" for s, b in cal.bias.items()) + f"; fitted on {cal.info.get('lists')}")
    print(f"lists now: " + ", ".join(f"{s} {len(corpora.load(s))}" for s in STYLES))
    print()
    heads = list(columns)
    print("| method | " + " | ".join(f"{h} (JY / GL / balanced)" for h in heads) + " |")
    print("| --- | " + " | ".join("---:" for _ in heads) + " |")
    print("| names (JY / GL) | " + " | ".join(counts[h] for h in heads) + " |")
    for method in next(iter(columns.values())):
        cells = []
        for h in heads:
            bal, per = balanced_accuracy(labels[h], columns[h][method], 2)
            cells.append(f"{per[0]:.1%} / {per[1]:.1%} / **{bal:.1%}**")
        print(f"| {method} | " + " | ".join(cells) + " |")
    print()
    print("mixing (mean P(jinyong) of generated names by weight):", file=sys.stderr)
    curve = mixing_curve(judge, args.n, args.seed)
    monotone = all(b > a for a, b in zip(curve, curve[1:]))
    print("mixing: " + ", ".join(f"w={w:g}: {c:.3f}" for w, c in zip(WEIGHTS, curve))
          + f"; {'monotone' if monotone else 'NOT monotone'}")
    plot(curve, Path(args.plot))
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
