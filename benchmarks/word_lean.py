"""Benchmark: given names that are words, as often as the author's (a lean at the given name's last character).

    python benchmarks/word_lean.py                                        # the table, every wuxia model
    python benchmarks/word_lean.py --words all --alpha 2.5 jinyong        # one model, one lean
    python benchmarks/word_lean.py --write jinyong --words all --alpha 2.5 -n 60 --seed 3331

The realism issue's telltale: among three-character names, the given name (the two characters after
a one-character surname) is a word of jieba's dictionary in 28-36% of the lists' names but in
10-22% of the shipped models' output, and the critic, which keeps the names whose given name people
bore, does not raise it (three in four of Jin Yong's kept given names are attested historical given
names, against 44% of his list's). The lists' words are nouns with imagery and verb phrases (秋水,
远山, 红叶, 乘风, 护花, 破浪): 10-14% of their given names are dictionary nouns, 3-8% of the output's.

`WordLean` wraps an engine: when the name so far is a surname and a given name's first character
(张 + 无, 欧阳 + 锋's first), it multiplies the probability of each character that makes the two a
dictionary word by `alpha` and renormalises, so the model still chooses and every constraint, the
novelty rule and the critic work unchanged. `--words all` leans towards every two-character word of
the lexicon (`evidence/lexicon.py`: jieba's dictionary); `--words unattested`, only towards those
that are no historical given name (寻欢, 吹雪, 秋水), which the critic's pull towards attested pairs
leaves out. For each model and lean it prints the word share of 1,000 names (seed 3), the share whose
given name is an attested historical given name, the critic's mean P(passable), how often a given
name repeats, the character entropy of 114 names (seeds 7-10, against the panel holdout's) and, with
`--general`, detectability against the panel holdout (the classifier of `benchmarks/realism.py`,
generation seeds 1-3, five classifier seeds each).
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


class WordLean:
    """An engine whose given name's last character leans towards making a word (module docstring).

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


def leaned(model: str, words: str | None, alpha: float):
    """The shipped `model` as `Namer.load` gives it, its engine wrapped in a `WordLean` (words None: as shipped)."""
    from xiaming.generation.namer import Namer

    namer = Namer.load(model)
    if words is not None and alpha != 1.0:
        namer.engine = WordLean(namer.engine, namer.vocab, load_lexicon(), words, alpha)
    return namer


def three(names: list[str], lex: Lexicon) -> tuple[np.ndarray, np.ndarray]:
    """Lexicon ids of the given names of `names`' three-character names with a one-character surname."""
    kept = [n for n in names if len(n) == 3 and n[:2] not in lex.compounds]
    ids = np.array([lex.ids(n[1:]) for n in kept], dtype=np.int64).reshape(-1, 2)
    return ids[:, 0], ids[:, 1]


def shares(names: list[str], lex: Lexicon) -> tuple[float, float]:
    """(word share, attested share) of the given names of `names`' three-character names."""
    a, b = three(names, lex)
    if len(a) == 0:
        return 0.0, 0.0
    return float(np.mean(lex.word_pos(a, b) >= 0)), float(np.mean(lex.pair_table("given_pair_keys", a, b) > 0))


def row(model: str, words: str | None, alpha: float, lex: Lexicon, general) -> str:
    """One table row (module docstring)."""
    from xiaming import corpora
    from xiaming.generation.realism import char_entropy

    namer = leaned(model, words, alpha)
    names = namer.generate(1000, seed=3).names
    word, attested = shares(names, lex)
    given = Counter(n[1:] for n in names if len(n) == 3)
    repeats = sum(c - 1 for c in given.values()) / max(sum(given.values()), 1)
    entropy = np.mean([char_entropy(namer.generate(114, seed=s).names) for s in range(7, 11)])
    personal = set(corpora.load(model, kinds=["name"]))
    real = [n for n in namer.train.panel_holdout if n in personal]
    detect = "-"
    if general is not None:
        from xiaming.generation.realism import detectability

        runs = [
            detectability(namer.generate(1000, seed=g).names, real, reference=namer.names, seed=s, general=general)
            for g in (1, 2, 3)
            for s in range(5)
        ]
        detect = f"{100 * np.mean([r.accuracy for r in runs]):.1f}%"
    lean = "as shipped" if words is None or alpha == 1.0 else f"{words} x{alpha:g}"
    return (
        f"| {model} | {lean} | {100 * word:.1f}% | {100 * attested:.1f}% | {np.mean(namer.rate(names)):.3f} "
        f"| {100 * repeats:.1f}% | {entropy:.2f} ({char_entropy(real):.2f}) | {detect} |"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=list(MODELS))
    p.add_argument("--words", choices=WORDS, help="one lean only (default: the table's leans)")
    p.add_argument("--alpha", type=float, default=2.0, help="how much more likely a word-making character is")
    p.add_argument("--write", metavar="MODEL", help="print N names of MODEL under the lean, one a line")
    p.add_argument("-n", type=int, default=60)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--general", help="a large list of real names (../shared/data/ancient_names.txt): detectability")
    args = p.parse_args(argv)
    if args.write:
        print("\n".join(leaned(args.write, args.words, args.alpha).generate(args.n, seed=args.seed).names))
        return 0
    lex = load_lexicon()
    general = None
    if args.general:
        from xiaming.data.corpus import read_names
        from xiaming.generation.realism import char_counts

        general = char_counts(read_names(args.general))
    leans = [(args.words, args.alpha)] if args.words else [(None, 1.0), ("all", 2.0), ("unattested", 6.0)]
    print("| model | lean | given name a word | attested | P(passable) | given names repeated | entropy of 114 (real) "
          "| detectability |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for model in args.models:
        for words, alpha in leans:
            print(row(model, words, alpha, lex, general), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
