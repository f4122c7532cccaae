"""The word lean: a given name's second character leans towards making the two a word (`--word-lean`).

Gu Long's given names are often words or phrases that no historical person bore as a name (寻欢,
吹雪, 留香, 护花): 37% of his list's three-character names have a given name that is a dictionary
word, 22% of his model's output. The model, fine-tuned on 1,800 names, makes few such names, and the
critic, which keeps the names whose given name people bore, keeps fewer still. So when sampling
reaches a given name's second character (萧 + 秋 + ?, 欧阳 + 锋's first + ?), each character that would
make the two a dictionary word that is no historical given name (the lexicon's `word_keys` without its
`given_pair_keys`, `evidence/lexicon.py`) becomes `alpha` times as likely among the characters that go
on; the chance that the name ends there stays the model's, so the lean moves which character closes
the given name, not how long names are.

It changes only which names are drawn: each name's log-probability is still the model's own, every
constraint and the novelty rule hold, and the critic still chooses among the proposals. Blind readers
rated the names it makes against the names the same draws give without it (panels 35 and 36, docs/realism-panels.md,
"Given names that are words"): better for Gu Long, worse for Jin Yong and Liang Yusheng, whose readers
took such words as everyday words (素材, 一生, 正月), so only Gu Long's model leans by default (3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..data.pinyin import COMPOUND_SURNAMES
from ..data.vocab import BOUNDARY, N_SPECIAL, Vocab
from ..errors import ConfigError

MAX_ALPHA = 100.0  # a stronger lean than this leaves the model little to choose


def check_alpha(alpha: float | None) -> None:
    """ConfigError naming word_lean unless it is None (off) or a finite number in [1, MAX_ALPHA]."""
    if alpha is not None and (
        isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 1.0 <= alpha <= MAX_ALPHA
    ):
        raise ConfigError("word_lean", alpha, f"must be between 1 (off) and {MAX_ALPHA:g}")


@dataclass(frozen=True)
class WordLean:
    """The lean for one vocabulary: per first character, the second characters that make an unattested word."""

    starts: np.ndarray  # (V + 1,) int64: words starting with id i are ends[starts[i]:starts[i + 1]]
    ends: np.ndarray  # (K,) int64: second-character ids, grouped by first
    compound: frozenset[tuple[int, int]]  # id pairs of the two-character surnames
    log_alpha: float

    def follow(self, first: int) -> np.ndarray:
        """The ids that make a word after the id `first`."""
        return self.ends[self.starts[first] : self.starts[first + 1]]

    def given_first(self, so_far: np.ndarray) -> np.ndarray:
        """(A,) the id of the given name's first character, for names of which a surname and exactly
        that character are drawn so far (`so_far` (A, L) the ids of each name so far, L 2 or 3); -1
        for the others (one character past a compound surname, or two past a single one)."""
        if so_far.shape[1] not in (2, 3):
            return np.full(len(so_far), -1, dtype=np.int64)
        compound = np.array([(int(a), int(b)) in self.compound for a, b in so_far[:, :2]], dtype=bool)
        if so_far.shape[1] == 2:
            return np.where(compound, -1, so_far[:, 1])
        return np.where(compound, so_far[:, 2], -1)

    def apply(self, logits: np.ndarray, so_far: np.ndarray) -> np.ndarray:
        """`logits` (A, V) with the lean applied to each row whose next character closes a surname's
        two-character given name: word-making characters `alpha` times as likely among those that go on,
        the end as likely as before. The input is not changed; rows the lean does not touch are as they were."""
        first = self.given_first(so_far)
        rows = [r for r in np.flatnonzero(first >= 0) if self.starts[first[r] + 1] > self.starts[first[r]]]
        if not rows:
            return logits
        out = np.array(logits, dtype=np.float64)
        for r in rows:
            z = out[r]
            p = np.exp(z - z.max())
            go = p.sum() - p[BOUNDARY]  # the mass of going on, kept as it is
            words = self.follow(int(first[r]))
            boosted = go + (math.exp(self.log_alpha) - 1.0) * p[words].sum()
            if go <= 0 or boosted <= 0:
                continue
            z[words] += self.log_alpha
            end = z[BOUNDARY]
            z -= math.log(boosted / go)  # the going-on characters share what they had
            z[BOUNDARY] = end
        return out.astype(logits.dtype)


def lean_for(vocab: Vocab, alpha: float | None) -> WordLean | None:
    """The lean for `vocab` at `alpha` (None or 1: none)."""
    check_alpha(alpha)
    if alpha is None or alpha == 1.0:
        return None
    starts, ends, compound = _tables(vocab.chars)
    return WordLean(starts, ends, compound, math.log(alpha))


@lru_cache(maxsize=8)
def _tables(chars: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, frozenset[tuple[int, int]]]:
    """(starts, ends, compound surname id pairs) of the unattested words whose characters are in `chars`."""
    from ..evidence.lexicon import SHIFT, shipped_lexicon

    lex = shipped_lexicon()
    ids = {c: i + N_SPECIAL for i, c in enumerate(chars)}
    to_vocab = np.array([ids.get(c, -1) for c in lex.chars], dtype=np.int64)
    keys = lex.arrays["word_keys"].astype(np.int64)
    first, second = keys >> SHIFT, keys & ((1 << SHIFT) - 1)
    unattested = lex.pair_table("given_pair_keys", first, second) == 0
    pairs = np.stack([to_vocab[first[unattested]], to_vocab[second[unattested]]], axis=1)
    pairs = pairs[(pairs >= N_SPECIAL).all(axis=1)]
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    size = len(chars) + N_SPECIAL
    starts = np.zeros(size + 1, dtype=np.int64)
    np.add.at(starts, pairs[:, 0] + 1, 1)
    compound = frozenset(
        (ids[s[0]], ids[s[1]]) for s in COMPOUND_SURNAMES if len(s) == 2 and s[0] in ids and s[1] in ids
    )
    return np.cumsum(starts), pairs[:, 1].copy(), compound
