"""Does `generate --gender` give names of the asked gender, and does the lean agree with the novels?

    python benchmarks/gender.py [--n 100] [--seeds 0,1,2] [--models base,jinyong,gulong]

Part 1, steering. For each model, `--n` names with no gender asked, with `--gender female` and with
`--gender male` (shipped defaults otherwise: critic where the model carries one, strict novelty),
per seed. Printed per row: the share of names whose lean (evidence/gender.py) is female (> 0) and
male (< 0), the share leaning clearly (|lean| >= 0.5) the asked way, the mean chance that a reader
finds the name passable by Jin Yong's critic (evidence/critic.py: P(not rated 1-2); the realism
proxy, the same judge for every model), the number of distinct given-name characters (variety)
and seconds per run. The
lean is also what steers, so part 1 measures the steering, not how people read the names: that
is the blind panel's job (issue 24), and part 2 says how far the lean can be trusted.

Part 2, agreement. benchmarks/gender_labels.tsv holds names from the built-in lists whose gender
the novels (or, for poets, the poets' lives) make plain, labelled by hand from memory of the books:
for each wuxia list the 30 best-known women and 30 best-known men, written down before any lean was
looked at; for poets the 15 women in the list and 25 well-known men. Printed: how often the lean's
sign agrees with the label, per list and gender, and the names where it does not.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from xiaming import corpora  # noqa: E402
from xiaming.evidence.critic import critic_path, load_critic  # noqa: E402
from xiaming.evidence.gender import lean_of  # noqa: E402
from xiaming.generation.namer import Namer  # noqa: E402
from xiaming.pretrained import shipped_path  # noqa: E402

LABELS = ROOT / "benchmarks" / "gender_labels.tsv"
CLEAR = 0.5


def steering_table(models: list[str], n: int, seeds: list[int]) -> None:
    judge = load_critic(critic_path(shipped_path("jinyong")))
    print(
        f"{'model':<8} {'--gender':<8} {'female':>7} {'male':>6} {'clearly':>8} {'passable':>8} {'chars':>6} "
        f"{'2-char':>6} {'s/run':>6}"
    )
    for model in models:
        namer = Namer.load(model)
        for gender in (None, "female", "male"):
            female = male = clear = 0.0
            ratings, chars, seconds, short = [], [], [], []
            for seed in seeds:
                start = time.perf_counter()
                result = namer.generate(n, seed=seed, steering=namer.steering(gender=gender))
                seconds.append(time.perf_counter() - start)
                leans = np.array([lean_of(name).lean for name in result.names])
                female += (leans > 0).mean() / len(seeds)
                male += (leans < 0).mean() / len(seeds)
                asked = leans if gender == "female" else -leans if gender == "male" else np.abs(leans)
                clear += (asked >= CLEAR).mean() / len(seeds)
                ratings.append(float(judge.rate(result.names).mean()))
                chars.append(len({c.char for name in result.names for c in lean_of(name).chars}))
                short.append(float(np.mean([len(name) == 2 for name in result.names])))
            print(
                f"{model:<8} {gender or '-':<8} {female:>7.1%} {male:>6.1%} {clear:>8.1%} "
                f"{np.mean(ratings):>8.2f} {np.mean(chars):>6.0f} {np.mean(short):>6.0%} {np.mean(seconds):>6.1f}"
            )
    print(
        f"(share of {n} names x {len(seeds)} seeds; clearly: |lean| >= {CLEAR} the asked way, or either way "
        "with no gender asked; passable: jinyong's critic's mean P(not rated 1-2); chars: distinct given-name "
        "characters; 2-char: share of two-character names)"
    )


def agreement() -> None:
    with open(LABELS, encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    print(f"\n{'list':<8} {'gender':<7} {'names':>5} {'agree':>6}   lean the other way (or none)")
    total = agreed = 0
    for name in dict.fromkeys(row["list"] for row in rows):
        members = set(corpora.load(name))
        for gender in ("female", "male"):
            labelled = [row["name"] for row in rows if row["list"] == name and row["gender"] == gender]
            missing = [n for n in labelled if n not in members]
            if missing:
                raise SystemExit(f"{LABELS}: not in the {name} list: {', '.join(missing)}")
            leans = {n: lean_of(n) for n in labelled}
            wrong = [n for n, lean in leans.items() if lean.verdict != gender]
            total += len(labelled)
            agreed += len(labelled) - len(wrong)
            shown = " ".join(f"{n}({leans[n].lean:+.1f})" for n in wrong)
            print(f"{name:<8} {gender:<7} {len(labelled):>5} {1 - len(wrong) / len(labelled):>6.0%}   {shown}")
    print(f"all: {agreed} of {total} ({agreed / total:.0%}) agree")
    for name in dict.fromkeys(row["list"] for row in rows):
        names = corpora.load(name)
        leans = np.array([lean_of(n).lean for n in names])
        print(
            f"{name} list, all {len(names)} entries: {(leans > 0).mean():.0%} lean female, {(leans < 0).mean():.0%} male"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--models", default="base,jinyong,gulong")
    parser.add_argument("--agreement-only", action="store_true")
    args = parser.parse_args()
    if not args.agreement_only:
        steering_table(args.models.split(","), args.n, [int(s) for s in args.seeds.split(",")])
    agreement()


if __name__ == "__main__":
    main()
