"""Contrastive sampling (Li et al. 2022): the author model against the base, towards what is his own.

    python benchmarks/contrast.py gulong --gamma 0.3,0.6              # offline figures
    python benchmarks/contrast.py gulong --gamma 0.5 --write -n 60 --seed 3702 > FILE   # a panel's group

Gu Long's readers mark his model's names "plain", "bland", "modern everyday" (张红, 孙刚, 宋青): names
the base of 253,589 historical names finds likely too, which a list of 1,265 names could not talk his
model out of. Blending with the base (Jin Yong's and Liang Yusheng's models) makes names more like the
base's, which their readers rewarded and his did not (panel 8). This goes the other way: at each step
the next character's log-probability is (1 + gamma) times the author model's minus gamma times the
base's, among the characters the author model gives at least `--plausible` times its likeliest one's
chance (the others cannot be drawn), so what the author's names have and historical names lack is
drawn more often. The critic, the word lean, the length ratios and the novelty rule work as shipped on
what it proposes.

Offline: 2,000 names as shipped and at each gamma (seeds 3-4): the critic's mean P(passable) and
P(4-5), the share of three-character names whose given name repeats, the share of names holding a
character his list never uses, the character entropy of as many names as the panel holdout has (seeds
7-10) and 25 names to read. `--write` prints `-n` names of one seed, as `xiaming generate` would.

What it printed for Gu Long (not shipped, no panel): with the plausibility cut of contrastive decoding
(0.02 of the likeliest), the cut alone narrows everything (entropy 7.19 -> 6.46 bits and given names
repeated 11% -> 33% already at gamma 0.1); at gamma 1 the names are caricatures (小苦鹰子, 花神刀红子).
With almost no cut (`--plausible 0.0005`), gamma 0.1 changes little (P(passable) 0.802 -> 0.797) and
gamma 0.3 reads more like him in places (葛小龙, 林小花, 唐紫鹤) but gluier in others (百天青竹, 欧阳天物,
张无甲), and the critic's P(passable) falls to 0.696, P(4-5) from 0.244 to 0.185.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from xiaming.data.vocab import BOUNDARY, N_SPECIAL, UNKNOWN  # noqa: E402
from xiaming.engine.protocol import log_softmax  # noqa: E402

IMPOSSIBLE = np.float32(-1e9)


class ContrastEngine:
    """The engine contract over the author model's vocabulary: (1 + gamma) log p_author - gamma log p_base
    on the plausible characters, the author's own log-probability nowhere else drawable."""

    def __init__(self, author, author_vocab, base, base_vocab, gamma: float, plausible: float) -> None:
        self.author, self.base, self.gamma = author, base, gamma
        self.log_plausible = float(np.log(plausible))
        self.vocab_size = author.vocab_size
        self.window = author.window
        # the base id of each author id: its own boundary, its unknown id where it lacks the character
        self.to_base = np.array([BOUNDARY, UNKNOWN] + [base_vocab.id(c) for c in author_vocab.chars], dtype=np.int64)
        assert len(self.to_base) == self.vocab_size

    def _contrast(self, la: np.ndarray, lb: np.ndarray) -> np.ndarray:
        la = log_softmax(la.astype(np.float64))
        lb = log_softmax(lb.astype(np.float64))[..., self.to_base]
        out = (1 + self.gamma) * la - self.gamma * lb
        out[..., :N_SPECIAL] = la[..., :N_SPECIAL]  # the end of a name keeps the author's own chance
        keep = la >= la.max(axis=-1, keepdims=True) + self.log_plausible
        keep[..., BOUNDARY] = True
        return np.where(keep, out, IMPOSSIBLE).astype(np.float32)

    def initial_state(self, batch: int):
        return self.author.initial_state(batch), self.base.initial_state(batch)

    def step(self, ids: np.ndarray, state):
        a, b = state
        la, a = self.author.step(ids, a)
        lb, b = self.base.step(self.to_base[ids], b)
        return self._contrast(la, lb), (a, b)

    def select_state(self, state, rows: np.ndarray):
        a, b = state
        return self.author.select_state(a, rows), self.base.select_state(b, rows)

    def logits(self, ids: np.ndarray) -> np.ndarray:
        return self._contrast(self.author.logits(ids), self.base.logits(self.to_base[ids]))


def contrasted(model: str, gamma: float, plausible: float):
    """The shipped `model` (a Namer) sampling contrastively against the shipped base (gamma 0: as shipped)."""
    from xiaming.generation.namer import Namer

    namer = Namer.load(model)
    if gamma > 0:
        base = Namer.load("base")
        namer.engine = ContrastEngine(namer.engine, namer.vocab, base.engine, base.vocab, gamma, plausible)
    return namer


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", help="a shipped wuxia model that is not blended (gulong)")
    p.add_argument("--gamma", default="0.3,0.6", help="comma-separated strengths")
    p.add_argument(
        "--plausible", type=float, default=0.02, help="the least chance, as a share of the likeliest's (default 0.02)"
    )
    p.add_argument("--write", action="store_true", help="print -n names of --seed at the first gamma")
    p.add_argument("-n", type=int, default=60)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    gammas = [float(g) for g in args.gamma.split(",") if g]
    if args.write:
        print("\n".join(contrasted(args.model, gammas[0], args.plausible).generate(args.n, seed=args.seed).names))
        return 0

    from critic_ceiling import holdout_entropy, repeated_given
    from panel import held_out

    from xiaming.generation.realism import char_entropy

    print("| gamma | P(passable) | P(4-5) | given names repeated | a character the list never uses | entropy (real) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    samples = {}
    for gamma in [0.0, *gammas]:
        namer = contrasted(args.model, gamma, args.plausible)
        names = [x for s in (3, 4) for x in namer.generate(1000, seed=s).names]
        listed = set("".join(namer.names))
        real = held_out(namer, "name")
        entropy = holdout_entropy(namer, len(real))
        print(
            f"| {gamma:g} | {namer.critic.rate(names).mean():.3f} | {namer.critic.appeal_of(names).mean():.3f} "
            f"| {100 * repeated_given(names):.1f}% | {100 * np.mean([any(c not in listed for c in x) for x in names]):.1f}% "
            f"| {entropy:.2f} ({char_entropy(real):.2f}) |",
            flush=True,
        )
        samples[gamma] = names[:25]
    for gamma, names in samples.items():
        print(f"\ngamma {gamma:g}: {' '.join(names)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
