"""Scores of given names: per-character probabilities and the percentile among training names."""

import math

import pytest
from test_sample import PROBS, VOCAB, Bigram, name_prob

from xiaming.data.vocab import Vocab
from xiaming.engine.torch_engine import TorchEngine
from xiaming.generation.score import percentile
from xiaming.generation.score import reference_bits as _reference_bits
from xiaming.generation.score import score_names as _score_names


def score_names(model, vocab, names, window=None):
    return _score_names(TorchEngine(model, vocab.size, window), vocab, names)


def reference_bits(model, vocab, names, **kwargs):
    return _reference_bits(TorchEngine(model, vocab.size), vocab, names, **kwargs)


def test_scores_are_the_model_probabilities_of_each_character_and_the_end():
    (score,) = score_names(Bigram(), VOCAB, ["abc"])
    assert [math.exp(lp) for lp in score.char_log_probs] == pytest.approx(
        [float(PROBS[0, 2]), float(PROBS[2, 3]), float(PROBS[3, 4]), float(PROBS[4, 0])], rel=1e-4
    )
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


def test_unknown_shares_add_up_to_one_over_every_code_point():
    from xiaming.generation.score import BLOCKS, UNICODE_SIZE, UnknownShares

    vocab = Vocab.from_names(["令狐冲", "abc", "ж"])
    shares = UnknownShares(vocab)
    total = 0.0
    for first, last in BLOCKS:  # every character of a block gets the same share
        unknown = sum(1 for cp in range(first, last + 1) if chr(cp) not in vocab)
        total += unknown * math.exp(shares.log_share(chr(first if chr(first) not in vocab else last)))
    other = UNICODE_SIZE - sum(last - first + 1 for first, last in BLOCKS)
    total += other * math.exp(shares.log_share("\U0001f600"))  # an emoji: outside every listed block
    assert total == pytest.approx(1.0, rel=1e-9)
    # a block holding more of the vocabulary gets more of the mass: CJK (3 known) over Katakana (none)
    cjk = (0x9FFF - 0x4E00 + 1 - 3) * math.exp(shares.log_share("张"))
    katakana = (0x30FF - 0x30A0 + 1) * math.exp(shares.log_share("ア"))
    assert cjk == pytest.approx(4 * katakana)


def test_names_longer_than_a_transformer_window_are_a_clear_error(tmp_path):
    from xiaming import models
    from xiaming.errors import ConfigError

    vocab = Vocab.from_names(["ab"])
    model = models.build_model(
        "transformer", models.make_config("transformer", {"vocab_size": vocab.size, "block_size": 6}, "tiny")
    )
    assert len(score_names(model, vocab, ["ababa"], window=6)) == 1
    with pytest.raises(ConfigError, match="at most 5"):
        score_names(model, vocab, ["ababab"], window=6)
