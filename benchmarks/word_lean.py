"""Benchmark: given names that are words, as often as the author's (`--word-lean`, `generation/lean.py`).

    python benchmarks/word_lean.py gulong --general ../shared/data/ancient_names.txt   # off / as shipped
    python benchmarks/word_lean.py jinyong --alpha 10                                  # off / shipped / 10
    python benchmarks/word_lean.py --speed gulong                                      # ms per generate -n 20
    python benchmarks/word_lean.py --pairs gulong -n 50 --seed 3522 --out DIR          # panel 35's pairs
    python benchmarks/word_lean.py --write jinyong --words unattested --alpha 6 -n 60 --seed 3341  # panel 33

The realism issue's telltale: among three-character names, the given name (the two characters after
a one-character surname) is a word of jieba's dictionary in 30-37% of the lists' names but in
12-22% of the shipped models' output, and the critic, which keeps the names whose given name people
bore, does not raise it (three in four of Jin Yong's kept given names are attested historical given
names, against 44% of his list's). The lists' words are nouns with imagery and verb phrases (秋水,
远山, 红叶, 乘风, 护花, 破浪): 10-14% of their given names are dictionary nouns, 3-8% of the output's.

For each model it prints the list's figures (panel holdout left out) and its holdout's, then, without
the lean (`--word-lean 1`), as shipped (the model's default) and, with `--alpha`, at that strength: the
word share of 1,000 names (seeds 3, 4 and 5, averaged), the share of words no person bore as a
name (the lean's), the share whose given name is an attested
historical given name, the critic's mean P(passable), how often a given name repeats, the character
entropy of as many names as the panel holdout has (seeds 7-10, against the holdout's), the share of
two-character names, and with `--general` detectability against the panel holdout (the classifier of
`benchmarks/realism.py`, five classifier seeds for each of the generation seeds `--detect-seeds`, 1-3 by
default: the mean and its standard error over those seeds).

`--speed` prints the in-process time of `generate(20)` (one thread, median of 15 seeds after a warm-up
call) without the lean and as shipped, side by side in one process.

`--pairs MODEL` writes the pairs of blind panels 35 and 36 to DIR/MODEL-leaned.txt and
DIR/MODEL-unleaned.txt, line by line: drawn with the same seed without the lean and with it (the
model's default, or `--alpha`), a name the lean made (its given name an unattested word, 萧 + 秋水) and
the name the same draw gave without it (萧秋 + another character), one pair per surname and first given
character. So a panel rates what the lean changes, name against name, where two whole outputs differ
in one name of ten or fewer (`python benchmarks/critic_panels.py panel35 --pairs unleaned,leaned`).

`--write` draws names with `EngineLean`, the first form of the lean, which blind panel 33 rated: it sat
in the engine, so it also made the end of a name after its given name's first character less likely
(1-2.5% of names moved from two characters to three); `--words all` leaned towards every word of the
lexicon, `--words unattested` (the form shipped, without that side effect) only towards those that are
no historical given name.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import numpy as np  # noqa: E402

from xiaming.data.pinyin import COMPOUND_SURNAMES  # noqa: E402
from xiaming.data.vocab import N_SPECIAL, Vocab  # noqa: E402
from xiaming.engine.protocol import Engine, log_softmax  # noqa: E402
from xiaming.evidence.lexicon import SHIFT, Lexicon, load_lexicon  # noqa: E402

MODELS = ("jinyong", "gulong", "liangyusheng")
WORDS = ("all", "unattested")


def word_pairs(lex: Lexicon, words: str) -> np.ndarray:
    """(K, 2) lexicon ids of the two-character words to lean towards (`words`: all or unattested)."""
    keys = lex.arrays["word_keys"].astype(np.int64)
    pairs = np.stack([keys >> SHIFT, keys & ((1 << SHIFT) - 1)], axis=1)
    if words == "unattested":
        pairs = pairs[lex.pair_table("given_pair_keys", pairs[:, 0], pairs[:, 1]) == 0]
    return pairs


class EngineLean:
    """The lean's first form (panel 33): an engine whose given name's last character leans towards making
    a word, the end among the characters it makes less likely (module docstring).

    The state is the wrapped engine's and, per row, (ids read, first id, second id, third id): enough
    to know when the next character ends a surname + two-character given name."""

    def __init__(self, engine: Engine, vocab: Vocab, lex: Lexicon, words: str, alpha: float) -> None:
        self.engine = engine
        self.vocab_size = engine.vocab_size
        self.window = engine.window
        self.log_alpha = float(np.log(alpha))
        to_vocab = np.array([vocab.id(c) if c in vocab else -1 for c in lex.chars], dtype=np.int64)
        pairs = to_vocab[word_pairs(lex, words)]
        pairs = pairs[(pairs >= N_SPECIAL).all(axis=1)]
        self.follow: dict[int, np.ndarray] = {}  # first id -> the ids that make it a word
        for first in np.unique(pairs[:, 0]):
            self.follow[int(first)] = pairs[pairs[:, 0] == first, 1]
        self.compound = {(vocab.id(s[0]), vocab.id(s[1])) for s in COMPOUND_SURNAMES if all(c in vocab for c in s)}

    def initial_state(self, batch: int):
        return self.engine.initial_state(batch), np.zeros((batch, 4), dtype=np.int64)

    def step(self, ids: np.ndarray, state):
        inner, seen = state
        logits, inner = self.engine.step(ids, inner)
        seen = seen.copy()
        read = seen[:, 0].copy()  # ids read before this one (the start token is the first)
        for k in (1, 2, 3):
            seen[read == k, k] = ids[read == k]
        seen[:, 0] = read + 1
        compound = np.array([(a, b) in self.compound for a, b in seen[:, 1:3]], dtype=bool)
        given_first = np.where(compound, seen[:, 3], seen[:, 2])  # the given name's first character
        due = np.flatnonzero(((read == 2) & ~compound) | ((read == 3) & compound))
        rows = [r for r in due if int(given_first[r]) in self.follow]
        if rows:
            logits = log_softmax(np.asarray(logits, dtype=np.float64))
            for r in rows:
                logits[r, self.follow[int(given_first[r])]] += self.log_alpha
            logits = log_softmax(logits).astype(np.float32)
        return logits, (inner, seen)

    def select_state(self, state, rows: np.ndarray):
        inner, seen = state
        return self.engine.select_state(inner, rows), seen[rows]

    def logits(self, ids: np.ndarray) -> np.ndarray:
        raise NotImplementedError("the lean is for sampling; score with the model itself")


def panel33(model: str, words: str, alpha: float):
    """The shipped `model` without its own lean, its engine wrapped in panel 33's `EngineLean`."""
    from xiaming.generation.namer import Namer

    namer = Namer.load(model)
    namer.engine = EngineLean(namer.engine, namer.vocab, load_lexicon(), words, alpha)
    namer.sampling["word_lean"] = None
    return namer


def shares(names: list[str], lex: Lexicon) -> tuple[float, float, float]:
    """(word share, share of words no person bore as a name, attested share) of the given names of
    `names`' three-character names with a one-character surname."""
    kept = [n for n in names if len(n) == 3 and n[:2] not in lex.compounds]
    if not kept:
        return 0.0, 0.0, 0.0
    ids = np.array([lex.ids(n[1:]) for n in kept], dtype=np.int64)
    word = lex.word_pos(ids[:, 0], ids[:, 1]) >= 0
    attested = lex.pair_table("given_pair_keys", ids[:, 0], ids[:, 1]) > 0
    return float(np.mean(word)), float(np.mean(word & ~attested)), float(np.mean(attested))


def row(namer, model: str, alpha: float | None, lex: Lexicon, general, detect_seeds: range) -> str:
    """One table row (module docstring): `alpha` None as shipped."""
    from xiaming import corpora
    from xiaming.generation.realism import char_entropy, detectability

    options = namer.options(word_lean=alpha)
    draws = [namer.generate(1000, options, seed=s).names for s in (3, 4, 5)]
    word, unattested, attested = np.mean([shares(names, lex) for names in draws], axis=0)
    given = Counter(n[1:] for n in draws[0] if len(n) == 3)
    repeats = sum(c - 1 for c in given.values()) / max(sum(given.values()), 1)
    two = np.mean([sum(len(n) == 2 for n in names) / len(names) for names in draws])
    personal = set(corpora.load(model, kinds=["name"]))
    real = [n for n in namer.train.panel_holdout if n in personal]
    entropy = np.mean([char_entropy(namer.generate(len(real), options, seed=s).names) for s in range(7, 11)])
    detect = "-"
    if general is not None:  # per generation seed, the mean over five classifier seeds
        per_seed = [
            np.mean(
                [detectability(names, real, reference=namer.names, seed=s, general=general).accuracy for s in range(5)]
            )
            for names in (namer.generate(1000, options, seed=g).names for g in detect_seeds)
        ]
        spread = np.std(per_seed) / np.sqrt(len(per_seed))
        detect = f"{100 * np.mean(per_seed):.1f}% ± {100 * spread:.1f}"
    lean = f"shipped ({options.word_lean or 1:g})" if alpha is None else ("off" if alpha == 1 else f"{alpha:g}")
    return (
        f"| {model} | {lean} | {100 * word:.1f}% | {100 * unattested:.1f}% | {100 * attested:.1f}% "
        f"| {np.mean(namer.rate(draws[0])):.3f} "
        f"| {100 * repeats:.1f}% | {entropy:.2f} ({char_entropy(real):.2f}) | {100 * two:.1f}% | {detect} |"
    )


def listed(namer, model: str, lex: Lexicon) -> str:
    """The row of the model's list (personal names, panel holdout left out) and its holdout."""
    from xiaming import corpora

    held = set(namer.train.panel_holdout)
    personal = corpora.load(model, kinds=["name"])
    own, real = shares([n for n in personal if n not in held], lex), shares([n for n in personal if n in held], lex)
    cells = " | ".join(f"{100 * a:.1f}% / {100 * b:.1f}%" for a, b in zip(own, real))
    return f"| {model} | the list / held out | {cells} | | | | | |"


def pairs(model: str, n: int, seed: int, alpha: float | None = None) -> list[tuple[str, str]]:
    """Up to `n` (unleaned, leaned) pairs of `model` (module docstring), from draws of 600 names with seeds
    `seed`, `seed` + 1, ..., leaned at `alpha` (None: the model's default)."""
    from xiaming.generation.lean import lean_for
    from xiaming.generation.namer import Namer

    namer = Namer.load(model)
    options = namer.options(word_lean=alpha)
    lean = lean_for(namer.vocab, options.word_lean)
    lex = load_lexicon()

    def made(name: str) -> bool:  # a given name the lean favours
        return (
            len(name) == 3
            and name[:2] not in lex.compounds
            and namer.vocab.id(name[2]) in lean.follow(namer.vocab.id(name[1]))
        )

    found: dict[str, tuple[str, str]] = {}
    for s in range(seed, seed + 20):
        plain = namer.generate(600, namer.options(word_lean=1.0), seed=s).names
        leaned = namer.generate(600, options, seed=s).names
        before, after = set(plain), set(leaned)
        by_start = {x[:2]: x for x in plain if len(x) == 3 and x not in after and not made(x)}
        for x in leaned:
            if made(x) and x not in before and x[:2] in by_start and x[:2] not in found:
                found[x[:2]] = (by_start[x[:2]], x)
        if len(found) >= n:
            break
    return list(found.values())[:n]


def speed(model: str) -> str:
    """Median ms of `generate(20)` without the lean and as shipped (module docstring)."""
    import statistics
    import time

    from xiaming.generation.namer import Namer

    namer = Namer.load(model)
    cells = []
    for alpha in (1.0, None):
        options = namer.options(word_lean=alpha)
        namer.generate(20, options, seed=0)
        times = []
        for seed in range(1, 16):
            start = time.perf_counter()
            namer.generate(20, options, seed=seed)
            times.append(time.perf_counter() - start)
        cells.append(f"{1000 * statistics.median(times):.1f}")
    return f"| {model} | {cells[0]} | {cells[1]} |"


def main(argv: list[str] | None = None) -> int:
    from xiaming.generation.namer import Namer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=list(MODELS))
    p.add_argument("--words", choices=WORDS, default="unattested", help="--write: which words panel 33's lean favoured")
    p.add_argument("--alpha", type=float, help="one more strength to measure (with --write: panel 33's)")
    p.add_argument("--write", metavar="MODEL", help="print N names of MODEL under panel 33's lean, one a line")
    p.add_argument("-n", type=int, default=60)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pairs", metavar="MODEL", help="write panel 35's pairs of MODEL to --out")
    p.add_argument("--out", default=".", help="--pairs: the folder to write to")
    p.add_argument("--speed", action="store_true", help="ms per generate(20), without the lean and as shipped")
    p.add_argument(
        "--detect-seeds", default="1-3", metavar="FIRST-LAST", help="generation seeds of detectability (default 1-3)"
    )
    p.add_argument("--general", help="a large list of real names (../shared/data/ancient_names.txt): detectability")
    args = p.parse_args(argv)
    if args.write:
        namer = panel33(args.write, args.words, args.alpha or 1.0)
        print("\n".join(namer.generate(args.n, seed=args.seed).names))
        return 0
    if args.pairs:
        found = pairs(args.pairs, args.n, args.seed, args.alpha)
        for i, label in ((0, "unleaned"), (1, "leaned")):
            path = Path(args.out) / f"{args.pairs}-{label}.txt"
            path.write_text("".join(pair[i] + "\n" for pair in found), encoding="utf-8")
        print(f"{len(found)} pairs of {args.pairs} in {args.out}")
        return 0
    if args.speed:
        print("| model | ms per generate -n 20, no lean | as shipped |\n| --- | ---: | ---: |")
        for model in args.models:
            print(speed(model), flush=True)
        return 0
    first, _, last = args.detect_seeds.partition("-")
    detect_seeds = range(int(first), int(last or first) + 1)
    lex = load_lexicon()
    general = None
    if args.general:
        from xiaming.data.corpus import read_names
        from xiaming.generation.realism import char_counts

        general = char_counts(read_names(args.general))
    print(
        "| model | word lean | given name a word | a word no person's name | attested | P(passable) | given names repeated "
        "| entropy of 114 (real) | two characters | detectability |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for model in args.models:
        namer = Namer.load(model)
        print(listed(namer, model, lex))
        alphas = [1.0] + ([None] if namer.options().word_lean else []) + ([args.alpha] if args.alpha else [])
        for alpha in alphas:
            print(row(namer, model, alpha, lex, general, detect_seeds), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
