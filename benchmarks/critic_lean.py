"""A prefix-level critic (FUDGE, Yang & Klein 2021): the critic chooses a given name's second character.

    python benchmarks/critic_lean.py jinyong gulong liangyusheng --lam 1,2        # offline figures
    python benchmarks/critic_lean.py --pairs gulong -n 50 --seed 3722 --lam 2 --out DIR   # a paired panel's groups

The shipped sampler keeps one name of four whole proposals by the critic's weight; `critic_ceiling.py`
shows that a harder choice among such proposals cannot reach the real names. This tries the critic one
step earlier, where most low marks are made (two characters that do not belong together): when sampling
reaches a given name's second character (萧 + 秋 + ?), each of the model's `K` likeliest next characters
c is weighted by exp(lam * the critic's log weight of 萧秋c), the chance of ending there and of the
characters outside the `K` left as the model's, and the sampler draws from that (after the word lean,
where the model has one). The four proposals and the critic's choice among them stay as shipped.

Offline (`MODEL ...`): 2,000 names as shipped and with the lean at each `--lam` (seeds 3-4): the critic's
mean P(passable), the share of three-character names whose given name repeats, the character entropy of
as many names as the panel holdout has (seeds 7-10) and the in-process ms of `generate -n 20` (median of
six, one thread). The critic's own figures cannot judge a lean that chases them, so the readers must.

`--pairs MODEL` writes DIR/MODEL-plain.txt and DIR/MODEL-critic.txt line by line: with the same seed as
shipped and with the lean, a name whose second given character the lean changed and the one the draw
gave without it, sharing surname and first given character (高天 + 寒 against 高天 + 棠), one pair per
start (`python benchmarks/critic_panels.py panelN --pairs plain,critic`).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from xiaming.data.vocab import BOUNDARY, N_SPECIAL  # noqa: E402

K = 48  # the model's likeliest next characters the critic reads


class CriticLean:
    """The sampler's lean hook (`apply(logits, so_far)`, as `lean.WordLean`) with the critic at the second
    given character, after the model's own word lean when it has one."""

    def __init__(self, namer, lam: float, word_lean=None) -> None:
        from xiaming.generation.lean import lean_for

        self.namer, self.lam, self.word_lean = namer, lam, word_lean
        self.shape = lean_for(namer.vocab, 2.0)  # only for `given_first`: where a given name's second character comes
        self.chars = np.array([namer.vocab.decode([i]) if i >= N_SPECIAL else "" for i in range(len(namer.vocab))])

    def apply(self, logits: np.ndarray, so_far: np.ndarray) -> np.ndarray:
        out = logits if self.word_lean is None else self.word_lean.apply(logits, so_far)
        first = self.shape.given_first(so_far)
        rows = np.flatnonzero(first >= 0)
        if not len(rows):
            return out
        out = np.array(out, dtype=np.float64)
        for r in rows:
            z = out[r]
            p = np.exp(z - z.max())
            p /= p.sum()
            go = 1.0 - p[BOUNDARY]
            order = np.argsort(-p)
            top = [i for i in order[: K + N_SPECIAL] if i >= N_SPECIAL][:K]
            start = self.namer.vocab.decode([int(i) for i in so_far[r] if i >= N_SPECIAL])
            w = self.namer.critic.log_weights([start + self.chars[i] for i in top])
            q = p.copy()
            rest = np.ones(len(q), dtype=bool)
            rest[:N_SPECIAL] = False
            rest[top] = False
            q[top] = p[top] * np.exp(self.lam * (w - w.max()))
            q[rest] = p[rest] * np.exp(self.lam * (w.min() - w.max()))  # outside the top K: as the worst read
            going = q.sum() - q[BOUNDARY]
            if going <= 0:
                continue
            q[np.arange(len(q)) != BOUNDARY] *= go / going  # the end keeps its chance
            out[r] = np.log(np.maximum(q, 1e-300))
        return out


def leaned(namer, lam: float):
    """`namer` with its compile step giving the critic lean at `lam` (0: the namer as shipped)."""
    if not lam:
        return namer
    compile_ = namer.compile

    def compile_with_lean(options):
        c = compile_(options)
        return replace(c, lean=CriticLean(namer, lam, c.lean))

    namer.compile = compile_with_lean
    return namer


def offline(model: str, lams: list[float]) -> None:
    from critic_ceiling import holdout_entropy, ms_per_20, repeated_given
    from panel import held_out

    from xiaming.generation.namer import Namer
    from xiaming.generation.realism import char_entropy

    print(f"\n{model}\n\n| lam | P(passable) | given names repeated | entropy (real) | ms per generate -n 20 |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for lam in [0.0, *lams]:
        namer = leaned(Namer.load(model), lam)
        names = [x for s in (3, 4) for x in namer.generate(1000, seed=s).names]
        real = held_out(namer, "name")
        print(
            f"| {lam:g} | {namer.critic.rate(names).mean():.3f} | {100 * repeated_given(names):.1f}% "
            f"| {holdout_entropy(namer, len(real)):.2f} ({char_entropy(real):.2f}) | {ms_per_20(namer):.0f} |",
            flush=True,
        )


def pairs(model: str, n: int, seed: int, lam: float) -> list[tuple[str, str]]:
    """Up to `n` (plain, critic) pairs (module docstring) from draws of 300 names with seeds `seed`, `seed` + 1, ..."""
    from xiaming.generation.namer import Namer

    plain_namer, lean_namer = Namer.load(model), leaned(Namer.load(model), lam)
    found: dict[str, tuple[str, str]] = {}
    for s in range(seed, seed + 20):
        plain = plain_namer.generate(300, seed=s).names
        lean = lean_namer.generate(300, seed=s).names
        before, after = set(plain), set(lean)
        by_start = {x[:2]: x for x in plain if len(x) == 3 and x not in after}
        for x in lean:
            if len(x) == 3 and x not in before and x[:2] in by_start and x[:2] not in found:
                found[x[:2]] = (by_start[x[:2]], x)
        if len(found) >= n:
            break
    return list(found.values())[:n]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", help="offline figures for these models")
    p.add_argument("--lam", default="1,2", help="comma-separated strengths of the lean")
    p.add_argument("--pairs", metavar="MODEL", help="write a paired panel's groups of MODEL to --out")
    p.add_argument("-n", type=int, default=50, help="--pairs: how many pairs")
    p.add_argument("--seed", type=int, default=1, help="--pairs: the first seed")
    p.add_argument("--out", default=".", help="--pairs: the folder to write to")
    args = p.parse_args(argv)
    lams = [float(x) for x in args.lam.split(",") if x]
    for model in args.models:
        offline(model, lams)
    if args.pairs:
        found = pairs(args.pairs, args.n, args.seed, lams[0])
        for i, label in enumerate(("plain", "critic")):
            path = Path(args.out) / f"{args.pairs}-{label}.txt"
            path.write_text("".join(pair[i] + "\n" for pair in found), encoding="utf-8")
        print(f"{len(found)} pairs of {args.pairs} in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
