"""How the critic's strength changes what `xiaming generate` prints: word-likeness, variety, speed.

    python benchmarks/critic.py                       # jinyong and gulong, strengths 0 1 2 3 4
    python benchmarks/critic.py --models jinyong --strengths 0,2 -n 1000

For each shipped model and critic strength, 1,000 names as `xiaming generate MODEL -n 1000 --seed S`
prints them (the model's own sampling defaults, strict novelty) and prints:
- word: the share of three-character names whose given name (the two characters after a
  one-character surname) is a word of jieba's dictionary (the realism issue's telltale), against
  the model's training list and its panel holdout (real names it never saw);
- critic: the mean predicted rating (1-5);
- distinct: distinct share of the 1,000 (generation returns distinct names, so this is 100% by
  construction; the figure that can fall is `repeats`, the share of given names seen before in the
  same output), char entropy (bits, against the held-out real names at equal size), length TV
  against the held-out real names;
- ms/20: in-process time of `generate(20)`, median of 15 seeds, one thread, next to strength 0.

`--blend W` sets the base's share of each model's blend (`Namer.load`; 0: the model alone).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from panel import held_out  # noqa: E402  (benchmarks/panel.py: the holdout of one kind)

from xiaming import corpora  # noqa: E402
from xiaming.generation.namer import Namer  # noqa: E402
from xiaming.generation.realism import char_entropy, length_tv  # noqa: E402


def jieba_words() -> set[str]:
    import jieba

    words = set()
    for line in (Path(jieba.__file__).parent / "dict.txt").read_text(encoding="utf-8").splitlines():
        word = line.split(" ", 1)[0]
        if len(word) == 2:
            words.add(word)
    return words


def word_share(names: list[str], words: set[str]) -> float:
    three = [n for n in names if len(n) == 3]
    return sum(n[1:] in words for n in three) / max(len(three), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="jinyong,gulong")
    parser.add_argument("--strengths", default="0,1,2,3,4")
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--blend", type=float, default=None, help="the base's share (default: each model's own; 0: the model alone)"
    )
    args = parser.parse_args()
    words = jieba_words()
    print("| model | strength | word (list / held-out) | critic | repeats | char entropy (real) | length TV | ms/20 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for model in args.models.split(","):
        namer = Namer.load(model, blend=args.blend)
        held = held_out(namer, "name")  # default output is personal names: compare like with like
        personal = set(corpora.load(model, kinds=("name",)))
        listed = word_share([n for n in namer.names if n in personal], words)
        for strength in [float(s) for s in args.strengths.split(",")]:
            steering = namer.steering(critic_strength=strength)
            names = namer.generate(args.n, seed=args.seed, steering=steering).names
            given = Counter(n[1:] for n in names if len(n) == 3)
            repeats = sum(c - 1 for c in given.values()) / max(sum(given.values()), 1)
            times = []
            for s in range(15):
                t = time.perf_counter()
                namer.generate(20, seed=s, steering=steering)
                times.append((time.perf_counter() - t) * 1000)
            real = held[: len(names)]
            k = min(len(real), len(names))
            print(
                f"| {model} | {strength:g} | {word_share(names, words):.1%} ({listed:.1%} / {word_share(held, words):.1%}) "
                f"| {statistics.mean(namer.rate(names)):.2f} | {repeats:.1%} | {char_entropy(names[:k]):.2f} ({char_entropy(real[:k]):.2f}) "
                f"| {length_tv(names, held):.3f} | {statistics.median(times):.0f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
