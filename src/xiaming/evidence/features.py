"""What the critic sees in a name: lexicon evidence about its surname and given name, as numbers.

`name_features(lexicon, names)` gives one row of FEATURES per name (numpy, no torch). The name is
split into a surname (two characters when they form a 百家姓 compound surname, else one) and a
given name. The features follow what blind reviewers gave as reasons for low marks
(docs/realism-failures.md): two characters that do not belong together as a given name (is the
pair a given name people bore, a dictionary word and of what kind, a phrase of verse), an odd
character for a name (how often each character is a given name's first or second character in
253,589 historical names), a surname that is not one, odd reduplication, and the length.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .lexicon import POS_CLASSES, Lexicon

FEATURES: tuple[str, ...] = (
    "len1",
    "len2",
    "len3",
    "len4",
    "len5+",  # the name's length, one-hot
    "given0",
    "given1",
    "given2",
    "given3+",  # the given name's length, one-hot
    "compound",  # the surname is a two-character 百家姓 surname
    "surname",  # log(1 + times its first character starts a historical name)
    "rare_surname",  # that count is below 20
    "unknown_char",  # a character outside the lexicon's alphabet
    "single",  # one-character given name: log(1 + times it is one in historical names)
    "first",  # log(1 + times the given name's first character begins a two-character given name)
    "second",  # log(1 + times its last character ends one)
    "weakest",  # the smaller of the two above (the odd character)
    "char_min",  # the rarest given-name character's log count in any given-name position
    "given_pair",  # log(1 + times the first two given characters are a historical given name)
    "given_attested",  # that count is positive
    "word",  # jieba frequency of the first two given characters as a word (log, / 10)
    *(f"pos_{p}" for p in POS_CLASSES),  # that word's part of speech, one-hot (all 0: not a word)
    "verse",  # log(1 + times the pair occurs in Tang-Song verse)
    "verse_seen",  # the pair occurs in verse at least 3 times (the table's floor)
    "pair_min",  # for longer given names: the weakest adjacent pair by the best of the three tables
    "redup",  # a reduplicated given name (AA)
    "weakest_sq",  # weakest squared (a soft threshold)
    "whole_word",  # a two-character name that is itself a dictionary word (天花, 华山): jieba log frequency / 10
    "surname_inside",  # how much more often the given name's first character is a surname than a given name's first
    "pair_lm",  # smoothed log P(second | first) among historical two-character given names (generalises given_pair)
    "verse_min",  # how classical the least classical given-name character is (log count in verse pairs)
    "verse_mean",  # the same, averaged over the given name
    "flavour",  # how much more the given name's characters are wuxia characters than historical ones (mean log ratio)
    "modern",  # how much more its most modern character is in today's given names than in historical ones (log ratio)
)
INDEX = {name: i for i, name in enumerate(FEATURES)}


def split_name(lexicon: Lexicon, name: str) -> tuple[str, str]:
    """(surname, given name): a 百家姓 compound surname when the name starts with one and is longer."""
    cut = 2 if len(name) >= 3 and name[:2] in lexicon.compounds else 1
    return name[:cut], name[cut:]


def name_features(lexicon: Lexicon, names: Sequence[str]) -> np.ndarray:
    """(N, len(FEATURES)) float64: the features of each name (see FEATURES)."""
    n = len(names)
    x = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return x
    index = lexicon.index
    sur_id = np.full(n, -1, np.int64)
    g = np.full((n, 3), -1, np.int64)  # the first three given-name characters' ids
    glen = np.zeros(n, np.int64)
    for row, name in enumerate(names):
        surname, given = split_name(lexicon, name)
        x[row, INDEX["len5+" if len(name) >= 5 else f"len{max(len(name), 1)}"]] = 1.0
        glen[row] = len(given)
        x[row, INDEX["given3+" if len(given) >= 3 else f"given{len(given)}"]] = 1.0
        x[row, INDEX["compound"]] = float(len(surname) == 2)
        sur_id[row] = index.get(surname[0], -1)
        ids = [index.get(c, -1) for c in given]
        g[row, : min(3, len(ids))] = ids[:3]
        x[row, INDEX["unknown_char"]] = float(sur_id[row] < 0 or min(ids, default=0) < 0)
        x[row, INDEX["redup"]] = float(len(given) == 2 and given[0] == given[1])
    surname = lexicon.char_table("surname", sur_id)
    x[:, INDEX["surname"]] = np.where(x[:, INDEX["compound"]] > 0, np.log1p(1000.0), surname)
    x[:, INDEX["rare_surname"]] = (x[:, INDEX["surname"]] < np.log1p(20)).astype(float)
    one, two = glen == 1, glen >= 2
    x[:, INDEX["single"]] = np.where(one, lexicon.char_table("single", g[:, 0]), 0.0)
    first = lexicon.char_table("given1", g[:, 0])
    last_id = np.where(glen >= 3, g[:, 2], g[:, 1])
    second = lexicon.char_table("given2", last_id)
    x[:, INDEX["first"]] = np.where(two, first, 0.0)
    x[:, INDEX["second"]] = np.where(two, second, 0.0)
    weakest = np.where(two, np.minimum(first, second), np.where(one, x[:, INDEX["single"]], 0.0))
    x[:, INDEX["weakest"]] = weakest
    x[:, INDEX["weakest_sq"]] = weakest**2 / 10.0
    any_position = [
        np.logaddexp(
            np.logaddexp(lexicon.char_table("given1", g[:, k]), lexicon.char_table("given2", g[:, k])),
            lexicon.char_table("single", g[:, k]),
        )
        for k in range(3)
    ]
    present = [glen > k for k in range(3)]
    char_min = np.min(np.stack([np.where(p, a, np.inf) for p, a in zip(present, any_position)]), axis=0)
    x[:, INDEX["char_min"]] = np.where(glen > 0, char_min, 0.0)
    pair = _pair_evidence(lexicon, g[:, 0], g[:, 1])
    x[:, INDEX["given_pair"]] = np.where(two, np.log1p(pair["given"]), 0.0)
    x[:, INDEX["given_attested"]] = (two & (pair["given"] > 0)).astype(float)
    x[:, INDEX["word"]] = np.where(two, pair["word"] / 10000.0, 0.0)
    pos = np.where(two, pair["pos"], -1)
    for k, p in enumerate(POS_CLASSES):
        x[:, INDEX[f"pos_{p}"]] = (pos == k).astype(float)
    x[:, INDEX["verse"]] = np.where(two, np.log1p(pair["verse"]), 0.0)
    x[:, INDEX["verse_seen"]] = (two & (pair["verse"] > 0)).astype(float)
    whole = lexicon.pair_table("word_keys", sur_id, g[:, 0])
    x[:, INDEX["whole_word"]] = np.where(one & (x[:, INDEX["compound"]] == 0), whole / 10000.0, 0.0)
    x[:, INDEX["surname_inside"]] = np.where(
        glen >= 2, np.maximum(lexicon.char_table("surname", g[:, 0]) - first, 0.0), 0.0
    )
    x[:, INDEX["pair_lm"]] = np.where(two, _pair_lm(lexicon, g[:, 0], g[:, 1], pair["given"]), 0.0)
    verse_chars = np.stack(
        [np.where(p, lexicon.char_table("verse_char", g[:, k]), np.nan) for k, p in enumerate(present)]
    )
    has = glen > 0
    x[:, INDEX["verse_min"]] = np.where(has, np.nanmin(np.where(has, verse_chars, 0.0), axis=0), 0.0)
    x[:, INDEX["verse_mean"]] = np.where(has, np.nanmean(np.where(has, verse_chars, 0.0), axis=0), 0.0)
    x[:, INDEX["flavour"]] = _flavour(lexicon, g, present)
    x[:, INDEX["modern"]] = _modern(lexicon, g, present)
    best = _best(pair)
    later = _best(_pair_evidence(lexicon, g[:, 1], g[:, 2]))
    x[:, INDEX["pair_min"]] = np.where(glen >= 3, np.minimum(best, later), np.where(two, best, 0.0))
    return x


def _pair_evidence(lexicon: Lexicon, a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "given": lexicon.pair_table("given_pair_keys", a, b),
        "word": lexicon.pair_table("word_keys", a, b),
        "pos": lexicon.word_pos(a, b),
        "verse": lexicon.pair_table("verse_keys", a, b),
    }


def _flavour(lexicon: Lexicon, g: np.ndarray, present: list[np.ndarray]) -> np.ndarray:
    """Mean over the given name's characters of log(share among wuxia given-name characters /
    share among historical given-name characters), smoothed: the genre's imagery (寒, 鹤, 剑, 雪)
    scores above the registers of officials (国, 德, 文)."""
    wuxia = np.expm1(lexicon.arrays["wuxia"].astype(np.float64))
    hist = np.expm1(lexicon.arrays["given1"].astype(np.float64)) + np.expm1(lexicon.arrays["given2"].astype(np.float64))
    total_w, total_h = max(wuxia.sum(), 1.0), max(hist.sum(), 1.0)
    ratios = []
    for k, p in enumerate(present):
        ids = np.clip(g[:, k], 0, len(wuxia) - 1)
        r = np.log((wuxia[ids] + 0.5) / total_w) - np.log((hist[ids] + 0.5 * total_h / total_w) / total_h)
        ratios.append(np.where(p & (g[:, k] >= 0), r, np.nan))
    stack = np.stack(ratios)
    has = ~np.isnan(stack).all(axis=0)
    return np.where(has, np.nanmean(np.where(np.isnan(stack) & ~has, 0.0, stack), axis=0), 0.0)


def _modern(lexicon: Lexicon, g: np.ndarray, present: list[np.ndarray]) -> np.ndarray:
    """The largest, over the given name's characters, of log(share among modern given-name characters /
    share among historical ones), smoothed: 健, 琳, 曼 read as today's names, 之, 甫, 卿 as old ones."""
    modern = np.expm1(lexicon.arrays["modern"].astype(np.float64))
    hist = (
        np.expm1(lexicon.arrays["given1"].astype(np.float64))
        + np.expm1(lexicon.arrays["given2"].astype(np.float64))
        + np.expm1(lexicon.arrays["single"].astype(np.float64))
    )
    total_m, total_h = max(modern.sum(), 1.0), max(hist.sum(), 1.0)
    out = np.full(len(g), -np.inf)
    for k, p in enumerate(present):
        ids = np.clip(g[:, k], 0, len(modern) - 1)
        r = np.log((modern[ids] + 50.0) / total_m) - np.log((hist[ids] + 50.0 * total_h / total_m) / total_h)
        out = np.where(p & (g[:, k] >= 0), np.maximum(out, r), out)
    return np.where(np.isfinite(out), out, 0.0)


PAIR_PRIOR = 5.0  # pseudo-count of the smoothing in _pair_lm


def _pair_lm(lexicon: Lexicon, a: np.ndarray, b: np.ndarray, count: np.ndarray) -> np.ndarray:
    """log P(b | a) over historical two-character given names, interpolated with b's own share as a
    second character: (count(ab) + k P(b)) / (count(a.) + k)."""
    starts = np.expm1(lexicon.char_table("given1", a))  # given names starting with a
    ends = np.expm1(lexicon.arrays["given2"].astype(np.float64))
    p_b = np.expm1(lexicon.char_table("given2", b)) / max(float(ends.sum()), 1.0)
    return np.log((count + PAIR_PRIOR * p_b + 1e-9) / (starts + PAIR_PRIOR))


def _best(pair: dict[str, np.ndarray]) -> np.ndarray:
    """One strength per pair: the best of its three kinds of attestation, on a common log scale."""
    return np.maximum.reduce([np.log1p(pair["given"]), pair["word"] / 1000.0 / 2.0, np.log1p(pair["verse"]) / 2.0])
