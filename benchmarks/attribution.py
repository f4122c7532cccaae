"""How well does `xiaming who` tell Jin Yong's, Gu Long's and Liang Yusheng's styles apart, and do mixed styles move smoothly?

    python benchmarks/attribution.py --wuxia ../shared/data/wuxia --cache runs/style/cross3.json

Prints one table of balanced accuracy over the three authors (the mean over the authors of the
share of each author's names attributed to him) for three methods on three kinds of names:

- methods: the shipped models' likelihood ratio (flat prior); naive Bayes on character unigrams
  and bigrams of the lists (with the lists' sizes as prior); and what `xiaming who` ships, the
  calibrated combination of both (`xiaming.style.attribution`).
- names: the built-in lists in 5-fold cross-validation (models fine-tuned from `base` on four
  fifths, as `scripts/build_style.py` does; the calibration refitted without the fold scored),
  and the names those fold models invent (scored the same way);
  and names the shipped models generate (`-n` each, strict novelty, seeded).

Then, for each pair of authors (`xiaming who --models` with two), balanced accuracy of the calibrated
attribution on the lists' real names in the same cross-validation, the n-gram view recounted over
the pair's lists; and a table for Jin Yong against Gu Long on real names that are not in the lists
(the `{jinyong,gulong}_hylxsfh.tsv` files of `--wuxia`, read by path, never copied; scored by the
shipped models and calibration, which never saw them).

With `--models DIR` (a folder of jinyong/gulong/liangyusheng.safetensors, e.g. candidates built by
`scripts/build_pretrained.py --out DIR`) and `--calibration FILE` it judges with those instead of the
shipped ones; the cross-validated rows come from `--cache` either way (`scripts/build_style.py
--stage wuxia --cache ...` for fold models made through the wuxia stage). It also attributes the
models' panel holdouts by the models' likelihood ratio: real names of the lists that none of the
three models was trained on.

Then it mixes Jin Yong's and Gu Long's models at weights 0, 0.25, 0.5, 0.75 and 1 (`xiaming
generate --style`), attributes the mixed names between the two, and plots the mean probability of
Jin Yong's style against the weight (docs/style-mixing.png); and mixes the three at equal weights.
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

from build_style import load_or_score, nested_predictions, subset_accuracy  # noqa: E402

from xiaming import corpora  # noqa: E402
from xiaming.atomic import atomic_path  # noqa: E402
from xiaming.generation.namer import Namer  # noqa: E402
from xiaming.style.attribution import Calibration, StyleJudge, shipped_calibration  # noqa: E402
from xiaming.style.build import balanced_accuracy, predict  # noqa: E402
from xiaming.style.mix import mixed_namer  # noqa: E402

STYLES = ["jinyong", "gulong", "liangyusheng"]
PAIR = ["jinyong", "gulong"]  # the unseen names and the mixing curve: the two authors with a public list
ABBREV = {"jinyong": "JY", "gulong": "GL", "liangyusheng": "LYS"}
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def methods(neural: np.ndarray, ngram: np.ndarray, prior: np.ndarray, calibrated: np.ndarray) -> dict[str, np.ndarray]:
    """Predicted style index per name for each method."""
    return {
        "likelihood ratio of the models": neural.argmax(1),
        "naive Bayes, char 1+2-grams": (ngram + np.log(prior)).argmax(1),
        "xiaming who (calibrated)": calibrated.argmax(1),
    }


def cross_validated(scores) -> dict[str, np.ndarray]:
    """Out-of-fold predictions of each method (the calibration refitted without each fold)."""
    real = ~scores.generated
    prior = np.bincount(scores.labels[real], minlength=len(scores.styles)) / real.sum()
    return methods(scores.neural, scores.ngram, prior, nested_predictions(scores))


def unseen_names(folder: Path) -> tuple[list[str], np.ndarray]:
    """Names of the public lists of `--wuxia` (`PAIR`) found in no built-in wuxia list nor in both files."""
    listed = set().union(*(corpora.load(s) for s in STYLES))
    found: dict[str, set[int]] = {}
    for k, style in enumerate(PAIR):
        path = folder / f"{style}_hylxsfh.tsv"
        with open(path, encoding="utf-8") as f:
            for row in list(csv.reader(f, delimiter="\t"))[1:]:
                if len(row) >= 2 and row[1] and row[1] not in listed:
                    found.setdefault(row[1], set()).add(k)
    names = [n for n, ks in found.items() if len(ks) == 1]
    return names, np.array([next(iter(found[n])) for n in names])


def panel_names(namers: dict[str, Namer]) -> tuple[list[str], np.ndarray]:
    """The panel holdout names recorded in the models (`STYLES` order) that exactly one built-in list
    holds, with the index of that list's style: real names no model of the three was trained on."""
    owners: dict[str, set[int]] = {}
    for k, style in enumerate(STYLES):
        for name in corpora.load(style):
            owners.setdefault(name, set()).add(k)
    names, labels = [], []
    for k, style in enumerate(STYLES):
        for name in (namers[style].train.get("panel_holdout") or {}).get("names") or []:
            if owners.get(name) == {k}:
                names.append(name)
                labels.append(k)
    return names, np.array(labels)


def judged(judge: StyleJudge, names: list[str]) -> dict[str, np.ndarray]:
    """Predictions of each method with the shipped models and calibration."""
    neural, ngram, _, _ = judge.scores(names)
    prior = np.array([len(judge.namers[s].names) for s in judge.styles], dtype=float)
    calibrated = predict(neural, ngram, judge.calibration, judge.styles)
    return methods(neural, ngram, prior / prior.sum(), calibrated)


def mixing_curve(judge: StyleJudge, n: int, seed: int) -> tuple[list[float], list[float]]:
    """At each weight, of `n` names generated by the mixture of Jin Yong's and Gu Long's models
    (`judge` chooses between the two): the mean attributed probability of Jin Yong's style, and the
    share of names attributed to him."""
    mean, share = [], []
    for w in WEIGHTS:
        mixed = mixed_namer({"jinyong": w, "gulong": 1 - w}, judge.namers)
        names = mixed.generate(n, seed=seed).names
        p = np.array([a.probs["jinyong"] for a in judge.who(names)])
        mean.append(float(p.mean()))
        share.append(float((p > 0.5).mean()))
        print(
            f"  jinyong={w:g},gulong={1 - w:g}: {len(names)} names, mean P(jinyong) {mean[-1]:.3f}, "
            f"attributed to jinyong {share[-1]:.1%}, e.g. {' '.join(names[:6])}",
            file=sys.stderr,
        )
    return mean, share


def table(
    columns: dict[str, dict[str, np.ndarray]], labels: dict[str, np.ndarray], counts: dict[str, str], styles: list[str]
) -> None:
    """One Markdown table: a row per method, a column per kind of names, each cell the share of each
    style's names attributed to it and the balanced accuracy."""
    short = " / ".join(ABBREV.get(s, s) for s in styles)
    heads = list(columns)
    print("| method | " + " | ".join(f"{h} ({short} / balanced)" for h in heads) + " |")
    print("| --- | " + " | ".join("---:" for _ in heads) + " |")
    print(f"| names ({short}) | " + " | ".join(counts[h] for h in heads) + " |")
    for method in next(iter(columns.values())):
        cells = []
        for h in heads:
            bal, per = balanced_accuracy(labels[h], columns[h][method], len(styles))
            cells.append(" / ".join(f"{p:.1%}" for p in per) + f" / **{bal:.1%}**")
        print(f"| {method} | " + " | ".join(cells) + " |")


def plot(mean: list[float], share: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    ax.plot(WEIGHTS, mean, "o-", label="mean attributed P(Jin Yong)")
    ax.plot(WEIGHTS, share, "s--", label="share attributed to Jin Yong")
    ax.set_xlabel("weight of the jinyong model (gulong: 1 - weight)")
    ax.set_ylabel("names generated by the mixture")
    ax.set_ylim(0, 1)
    ax.set_xticks(WEIGHTS)
    ax.grid(alpha=0.3)
    ax.set_title("xiaming generate --style jinyong=w,gulong=1-w", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--wuxia",
        default=None,
        help="folder of jinyong_hylxsfh.tsv and gulong_hylxsfh.tsv (work<TAB>name) for unseen real names",
    )
    parser.add_argument("--cache", default=None, help="JSON of out-of-fold scores (as scripts/build_style.py writes)")
    parser.add_argument("--work", default="runs/style", help="folder for the fold models")
    parser.add_argument("--reuse", action="store_true", help="use --cache even if the lists have changed since")
    parser.add_argument("-n", type=int, default=300, help="generated names per model and per mixing weight")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default=str(ROOT / "docs" / "style-mixing.png"))
    parser.add_argument(
        "--models",
        default=None,
        help="folder of jinyong/gulong/liangyusheng.safetensors to judge with (default: the shipped models)",
    )
    parser.add_argument("--calibration", default=None, help="style calibration file (default: the shipped one)")
    args = parser.parse_args()

    scores = load_or_score(STYLES, Path(args.cache) if args.cache else None, Path(args.work), 5, args.seed, args.reuse)
    namers = {s: Namer.load(str(Path(args.models) / f"{s}.safetensors") if args.models else s) for s in STYLES}
    cal: Calibration = Calibration.load(args.calibration) if args.calibration else shipped_calibration()
    judge = StyleJudge(namers, cal)
    pair_judge = StyleJudge({s: namers[s] for s in PAIR}, cal)
    columns: dict[str, dict[str, np.ndarray]] = {}
    labels: dict[str, np.ndarray] = {}
    counts: dict[str, str] = {}
    cv = cross_validated(scores)
    for head, rows in (("lists, 5-fold CV", ~scores.generated), ("invented by the fold models, CV", scores.generated)):
        if rows.any():
            columns[head] = {m: p[rows] for m, p in cv.items()}
            labels[head] = scores.labels[rows]
            counts[head] = " / ".join(str(int((scores.labels[rows] == k).sum())) for k in range(len(STYLES)))
    generated, gy = [], []
    for k, s in enumerate(STYLES):
        made = judge.namers[s].generate(args.n, seed=args.seed).names
        generated += made
        gy += [k] * len(made)
    made_by = "generated by the " + ("models" if args.models else "shipped models")
    columns[made_by] = judged(judge, generated)
    labels[made_by] = np.array(gy)
    counts[made_by] = " / ".join(str(gy.count(k)) for k in range(len(STYLES)))
    held, hy = panel_names(namers)
    held_bal, held_per = balanced_accuracy(hy, judged(judge, held)["likelihood ratio of the models"], len(STYLES))

    print(
        f"models: {args.models or 'shipped'}; calibration: neural {cal.neural:.3f}, n-gram {cal.ngram:.3f}, bias "
        + ", ".join(f"{s} {b:+.3f}" for s, b in cal.bias.items())
        + f"; fitted on {cal.info.get('lists')}"
    )
    print("lists now: " + ", ".join(f"{s} {len(corpora.load(s))}" for s in STYLES))
    print()
    table(columns, labels, counts, STYLES)
    print(
        "panel holdouts, real names none of the three models was trained on ("
        + " / ".join(str(int((hy == k).sum())) for k in range(len(STYLES)))
        + "), likelihood ratio of the models: "
        + " / ".join(f"{p:.1%}" for p in held_per)
        + f" / **{held_bal:.1%}** (the n-gram view counts the whole "
        "lists, these names included, so only the models' view is a held-out figure)"
    )
    print()
    print(
        "pairs, lists' real names in 5-fold CV, judged between the two (the shipped calibration's fit; "
        "fitted on the pair alone in brackets):"
    )
    for i, a in enumerate(STYLES):
        for b in STYLES[i + 1 :]:
            shared, own, per = subset_accuracy(scores, [a, b], 5, args.seed)
            print(f"  {ABBREV[a]} vs {ABBREV[b]}: {per[0]:.1%} / {per[1]:.1%} / **{shared:.1%}** ({own:.1%})")
    if args.wuxia:
        names, y = unseen_names(Path(args.wuxia))
        print()
        print("Jin Yong against Gu Long, real names not in the lists (shipped models and calibration):")
        table(
            {"real names not in the lists": judged(pair_judge, names)},
            {"real names not in the lists": y},
            {"real names not in the lists": " / ".join(str(int((y == k).sum())) for k in range(len(PAIR)))},
            PAIR,
        )
    print()
    equal = mixed_namer({s: 1 / len(STYLES) for s in STYLES}, namers).generate(args.n, seed=args.seed).names
    found = judge.who(equal)
    mean3 = {s: float(np.mean([a.probs[s] for a in found])) for s in STYLES}
    print(
        f"three models mixed at equal weights: {len(equal)} names, mean attributed P "
        + ", ".join(f"{s} {p:.3f}" for s, p in mean3.items())
        + f", e.g. {' '.join(equal[:8])}"
    )
    print("mixing (mean P(jinyong) of generated names by weight):", file=sys.stderr)
    mean, share = mixing_curve(pair_judge, args.n, args.seed)
    monotone = all(b > a for a, b in zip(mean, mean[1:]))
    print(
        "mixing, mean P(jinyong): "
        + ", ".join(f"w={w:g}: {c:.3f}" for w, c in zip(WEIGHTS, mean))
        + f"; {'monotone' if monotone else 'NOT monotone'}"
    )
    print("mixing, share attributed to jinyong: " + ", ".join(f"w={w:g}: {c:.1%}" for w, c in zip(WEIGHTS, share)))
    plot(mean, share, Path(args.plot))
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
