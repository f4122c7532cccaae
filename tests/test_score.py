"""Scores of given names: per-character probabilities and the percentile among training names."""

import math

import pytest
from test_sample import PROBS, VOCAB, Bigram, name_prob

from xiaming.score import percentile, reference_bits, score_names


def test_scores_are_the_model_probabilities_of_each_character_and_the_end():
    (score,) = score_names(Bigram(), VOCAB, ["abc"])
    assert [math.exp(lp) for lp in score.char_log_probs] == pytest.approx(
        [float(PROBS[0, 2]), float(PROBS[2, 3]), float(PROBS[3, 4]), float(PROBS[4, 0])], rel=1e-4)
    assert score.log_prob == pytest.approx(math.log(name_prob("abc")), abs=1e-5)
    assert score.bits_per_char == pytest.approx(-score.log_prob / 4 / math.log(2))


def test_percentile_is_the_share_of_reference_names_scored_worse():
    reference = [1.0, 2.0, 3.0, 4.0]  # bits per character, sorted
    assert percentile(2.5, reference) == 50.0
    assert percentile(0.5, reference) == 100.0  # fewer bits than every training name
    assert percentile(5.0, reference) == 0.0
    assert percentile(2.0, reference) == 62.5  # a tie counts half
    assert percentile(2.0, []) is None


def test_reference_bits_are_sorted_and_capped():
    names = ["a", "b", "c", "ab", "ba", "abc", "cab", "bb"]
    full = reference_bits(Bigram(), VOCAB, names)
    assert full == sorted(full) and len(full) == len(names)
    assert sorted(s.bits_per_char for s in score_names(Bigram(), VOCAB, names)) == pytest.approx(full)
    capped = reference_bits(Bigram(), VOCAB, names, limit=4)
    assert len(capped) == 4 and set(capped) <= set(full)


def test_a_likely_name_ranks_above_an_unlikely_one():
    names = ["a", "b", "c", "ab", "ba", "abc", "cab", "bb"]
    reference = reference_bits(Bigram(), VOCAB, names)
    likely, unlikely = score_names(Bigram(), VOCAB, ["a", "cccc"])
    assert percentile(likely.bits_per_char, reference) > 80 > 20 > percentile(unlikely.bits_per_char, reference)
