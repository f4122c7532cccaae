"""Scoring names: the log-probability a model gives each character of a name, end token included.

Every figure is a proper probability, whatever the model: a character outside the model's
vocabulary is scored through the model's unknown-character probability, shared among Unicode
blocks by how many of the vocabulary's characters each holds and then spread evenly over the
code points of the block that the vocabulary does not hold (for a Chinese model, almost all of it
over the 20,992 CJK Unified Ideographs U+4E00-U+9FFF). See `UnknownShares`. So no model gets an
infinite or a free score for a character it has never seen.

`percentile` says how name-like a name is in the model's eyes: the share of training names whose
bits per character are higher (`reference_bits` scores them).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from ..data.vocab import BOUNDARY, Vocab
from ..engine.protocol import Engine
from ..errors import ConfigError

# Unicode blocks that names are commonly written in: (first, last) code points.
BLOCKS: tuple[tuple[int, int], ...] = (
    (0x0000, 0x007F),  # Basic Latin
    (0x0080, 0x00FF),  # Latin-1 Supplement
    (0x0100, 0x017F),  # Latin Extended-A
    (0x0180, 0x024F),  # Latin Extended-B
    (0x0370, 0x03FF),  # Greek and Coptic
    (0x0400, 0x04FF),  # Cyrillic
    (0x3040, 0x309F),  # Hiragana
    (0x30A0, 0x30FF),  # Katakana
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul Syllables
)


UNICODE_SIZE = 0x110000  # code points in Unicode
OTHER = (-1, -1)  # the category of every code point outside BLOCKS


def block_of(char: str) -> tuple[int, int]:
    """The block in BLOCKS that holds `char`, or OTHER."""
    cp = ord(char)
    for first, last in BLOCKS:
        if first <= cp <= last:
            return first, last
    return OTHER


class UnknownShares:
    """How a model's unknown-character probability is shared among the characters it lacks.

    First among categories (each block of BLOCKS, and OTHER for the rest of Unicode) in proportion
    to the vocabulary's characters in each, plus one (so a Chinese model puts almost all of it on
    the CJK block, yet no block gets nothing); then evenly over the category's code points that
    the vocabulary lacks. The shares of all unknown characters add up to exactly one.
    """

    def __init__(self, vocab: Vocab) -> None:
        self.known = {block: 0 for block in (*BLOCKS, OTHER)}
        for c in vocab.chars:
            self.known[block_of(c)] += 1
        self.total = len(vocab.chars) + len(self.known)

    def log_share(self, char: str) -> float:
        """log of the share of the unknown-character probability that `char` gets."""
        block = block_of(char)
        size = (
            UNICODE_SIZE - sum(last - first + 1 for first, last in BLOCKS)
            if block == OTHER
            else block[1] - block[0] + 1
        )
        p_block = (self.known[block] + 1) / self.total
        return math.log(p_block) - math.log(max(1, size - self.known[block]))


@dataclass(frozen=True)
class NameScore:
    """How likely a model finds one name."""

    name: str
    char_log_probs: list[float]  # natural log p(c_i | c_<i) per character, then the end token

    @property
    def log_prob(self) -> float:
        return sum(self.char_log_probs)

    @property
    def nats_per_char(self) -> float:
        return -self.log_prob / len(self.char_log_probs)

    @property
    def bits_per_char(self) -> float:
        return self.nats_per_char / math.log(2)


def encode_batch(vocab: Vocab, names: list[str], context: str = "") -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets), both (N, T) int64: inputs start with the boundary and `context`, targets
    are each name's ids then the boundary, -1 elsewhere (nothing is predicted for the context)."""
    ctx = vocab.encode(context)
    T = len(ctx) + max(len(n) for n in names) + 1
    x = np.full((len(names), T), BOUNDARY, dtype=np.int64)
    y = np.full((len(names), T), -1, dtype=np.int64)
    x[:, 1 : len(ctx) + 1] = ctx
    for i, name in enumerate(names):
        ids = vocab.encode(name)
        n, k = len(ids), len(ctx)
        x[i, k + 1 : k + n + 1] = ids
        y[i, k : k + n] = ids
        y[i, k + n] = BOUNDARY
    return x, y


SCORE_BUDGET = 1 << 23  # logits (rows x positions x vocabulary) per engine call: 32 MB of float32


def target_log_probs(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """log p of each target (B, T) under logits (B, T, V), float64; the logits are overwritten
    (one exp in place, no (B, T, V) copies: scoring long names over a large vocabulary stays small)."""
    top = logits.max(axis=-1, keepdims=True)  # (B, T, 1)
    logits -= top
    picked = np.take_along_axis(logits, np.maximum(targets, 0)[..., None], axis=-1)[..., 0].astype(np.float64)
    np.exp(logits, out=logits)
    return picked - np.log(logits.sum(axis=-1).astype(np.float64))  # (B, T)


def score_names(
    engine: Engine, vocab: Vocab, names: list[str], batch_size: int = 512, context: str = ""
) -> list[NameScore]:
    """Per-character log-probabilities of each name under `engine`, the end token counted.

    `context` is a hidden prefix read before each name and not scored (see `constraints.py`).
    Names go through the engine in batches of similar length, at most `batch_size` names and
    `SCORE_BUDGET` logits at a time, so memory stays bounded whatever the names.
    """
    if not names:
        return []
    window = engine.window
    longest = max(names, key=len)
    if window is not None and len(context) + len(longest) >= window:
        raise ConfigError(
            "names",
            longest,
            f"has {len(longest)} characters; this model reads names of at most {window - 1 - len(context)}",
        )
    shares: UnknownShares | None = None  # built on the first unknown character: it reads the whole vocabulary
    order = sorted(range(len(names)), key=lambda i: len(names[i]))  # similar lengths batch together
    scores: dict[int, NameScore] = {}
    s = 0
    while s < len(order):
        width = len(context) + len(names[order[min(len(order), s + batch_size) - 1]]) + 1  # the chunk's longest
        rows = max(1, min(batch_size, SCORE_BUDGET // (width * max(1, engine.vocab_size))))
        chunk = [names[i] for i in order[s : s + rows]]
        x, y = encode_batch(vocab, chunk, context)
        picked = target_log_probs(np.array(engine.logits(x), dtype=np.float32), y)  # (B, T)
        for row, name in enumerate(chunk):
            lps = picked[row, y[row] != -1].tolist()
            for j, c in enumerate(name):
                if c not in vocab:
                    shares = shares or UnknownShares(vocab)
                    lps[j] += shares.log_share(c)
            scores[order[s + row]] = NameScore(name, lps)
        s += len(chunk)
    return [scores[i] for i in range(len(names))]


def corpus_nll(scores: list[NameScore]) -> float:
    """Mean negative log-likelihood per predicted character (end tokens counted), in nats."""
    total = sum(-s.log_prob for s in scores)
    count = sum(len(s.char_log_probs) for s in scores)
    return total / max(1, count)


REFERENCE_NAMES = 2000  # training names scored at most for percentiles (evenly spread over the list)


def reference_bits(
    engine: Engine, vocab: Vocab, training_names: list[str], limit: int = REFERENCE_NAMES
) -> list[float]:
    """Sorted bits per character of the training names (an evenly spread `limit` of them on long lists)."""
    names = list(training_names)
    if len(names) > limit:
        names = [names[i * len(names) // limit] for i in range(limit)]
    return sorted(s.bits_per_char for s in score_names(engine, vocab, names))


def percentile(bits_per_char: float, reference: list[float]) -> float | None:
    """How name-like a score is: the share (0-100) of reference names it scores better than, ties half.

    Bits per character rather than total log-probability, so long names are not ranked below
    short ones for their length alone. None without reference names.
    """
    if not reference:
        return None
    worse = len(reference) - bisect.bisect_right(reference, bits_per_char)  # reference names with more bits
    ties = bisect.bisect_right(reference, bits_per_char) - bisect.bisect_left(reference, bits_per_char)
    return 100.0 * (worse + 0.5 * ties) / len(reference)
