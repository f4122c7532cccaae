"""Tests of evaluate.py and `xiaming eval`: the sample statistics on hand-made lists, the held-out
NLL against hand computations, and the command end to end on a tiny model trained in tmp_path."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from xiaming import TrainConfig, cli, load_model, models, train
from xiaming.data.corpus import NameList
from xiaming.data.vocab import Vocab
from xiaming.errors import DataError
from xiaming.generation.evaluate import (
    draw_samples,
    evaluate,
    held_out,
    is_glued,
    load_eval_names,
    sample_stats,
)
from xiaming.generation.realism import length_tv
from xiaming.generation.score import BLOCKS
from xiaming.training.trainer import batches_nll, validation_batches

TRAINING = ["令狐冲", "岳灵珊", "任盈盈", "林平之", "田伯光", "东方不败", "仪琳", "向问天", "风清扬", "岳不群"]


class Uniform(nn.Module):
    """Every id equally likely at every position: the NLL is log(V) per prediction, by hand."""

    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, idx, targets=None):
        logits = torch.zeros(*idx.shape, self.vocab_size) + 0 * self.dummy  # (B, T, V)
        return logits, None


def test_is_glued_rules():
    training = {"令狐冲", "岳灵珊", "仪琳", "a", "b"}
    assert is_glued("令狐冲岳灵珊", training)  # two training names
    assert is_glued("仪琳令狐冲", training)
    assert is_glued("ab", training)  # two one-character training names, still glued
    assert is_glued("令狐冲大侠", training)  # a training name plus two more characters
    assert is_glued("大仪琳侠", training)  # ... wherever they are
    assert not is_glued("令狐冲侠", training)  # only one more character
    assert not is_glued("令狐冲", training)  # a copy is not glued (novelty counts copies)
    assert not is_glued("令狐珊", training)
    assert not is_glued("ax", training)  # 'a' is too short to count as a contained name


def test_length_tv_by_hand():
    assert length_tv(["ab", "abc"], ["xyz"]) == pytest.approx(0.5)
    assert length_tv(["ab", "cd"], ["xy", "zw", "uv"]) == 0.0
    assert length_tv(["a"], ["xy"]) == 1.0
    # lengths {2: 3/4, 3: 1/4} against {2: 1/4, 3: 1/4, 4: 1/2}: (1/2 + 0 + 1/2) / 2
    assert length_tv(["ab", "cd", "ef", "ghi"], ["ab", "abc", "abcd", "bcde"]) == pytest.approx(0.5)


def test_sample_stats_by_hand():
    samples = ["令狐冲", "令狐冲岳灵珊", "张", "张无忌", "张无忌", "东方不败大侠", "林平"]
    stats = sample_stats(samples, TRAINING)
    assert stats.samples == 7
    assert stats.novelty == pytest.approx(6 / 7)  # only 令狐冲 is a training name
    assert stats.uniqueness == pytest.approx(6 / 7)  # 张无忌 twice
    assert stats.fragments == pytest.approx(1 / 7)  # 张
    assert stats.glued == pytest.approx(2 / 7)  # 令狐冲岳灵珊, 东方不败大侠
    assert stats.mean_length == pytest.approx(sum(map(len, samples)) / 7)
    assert stats.length_tv == pytest.approx(length_tv(samples, TRAINING))
    assert 0 < stats.length_tv < 1


def test_sample_stats_empty():
    stats = sample_stats([], TRAINING)
    assert stats.samples == 0 and stats.novelty == 0.0 and stats.length_tv == 1.0


def test_held_out_equals_hand_computation():
    vocab = Vocab.from_names(TRAINING)
    model = Uniform(vocab.size)
    names = ["令狐冲", "仪琳"]
    result = held_out(model, vocab, names, TRAINING)
    assert result.chars == 3 + 1 + 2 + 1  # characters plus one end token per name
    assert result.nats_per_char == pytest.approx(math.log(vocab.size))
    assert result.bits_per_char == pytest.approx(math.log2(vocab.size))
    assert result.names == 2 and result.in_training == 1.0 and result.unknown_chars == 0


def test_unknown_character_spread_over_cjk_block():
    vocab = Vocab.from_names(TRAINING)
    model = Uniform(vocab.size)
    result = held_out(model, vocab, ["张无忌"], TRAINING)  # 张 and 忌 are unknown, 无 is unknown too
    unknown = sum(c not in vocab for c in "张无忌")
    assert result.unknown_chars == unknown == 3
    known_cjk = sum(0x4E00 <= ord(c) <= 0x9FFF for c in vocab.chars)
    # the CJK block's share of the unknown mass: its known characters plus one, over all known
    # characters plus one per category (the blocks of score.BLOCKS and "other")
    p_cjk = (known_cjk + 1) / (len(vocab.chars) + len(BLOCKS) + 1)
    share = -math.log(p_cjk) + math.log(0x9FFF - 0x4E00 + 1 - known_cjk)
    expected = (4 * math.log(vocab.size) + unknown * share) / 4
    assert math.isfinite(result.nats_per_char)
    assert result.nats_per_char == pytest.approx(expected)


def test_held_out_matches_training_loss_when_all_chars_known():
    torch.manual_seed(0)
    vocab = Vocab.from_names(TRAINING)
    config = models.make_config("lstm", {"vocab_size": vocab.size, "block_size": 32}, "tiny")
    model = models.build_model("lstm", config).eval()
    result = held_out(model, vocab, TRAINING)
    assert result.nats_per_char == pytest.approx(
        batches_nll(model, validation_batches(vocab, TRAINING, "cpu")), rel=1e-5
    )
    # repeats count as often as they appear
    twice = held_out(model, vocab, TRAINING[:1] * 2 + TRAINING[1:2])
    once = held_out(model, vocab, TRAINING[:2])
    assert twice.names == 3 and twice.chars == 2 * 4 + 4
    assert twice.nats_per_char != pytest.approx(once.nats_per_char)


def test_unknown_chars_give_finite_scores_for_a_real_model():
    torch.manual_seed(0)
    vocab = Vocab.from_names(TRAINING)
    config = models.make_config("gru", {"vocab_size": vocab.size, "block_size": 32}, "tiny")
    model = models.build_model("gru", config).eval()
    known = held_out(model, vocab, ["令狐冲"])
    strange = held_out(model, vocab, ["令狐Ω", "🐉"])
    assert math.isfinite(strange.nats_per_char)
    assert strange.nats_per_char > known.nats_per_char
    assert strange.unknown_chars == 2


def test_draw_samples_is_seeded_and_counts_repeats():
    torch.manual_seed(0)
    vocab = Vocab.from_names(TRAINING)
    config = models.make_config("lstm", {"vocab_size": vocab.size, "block_size": 32}, "tiny")
    model = models.build_model("lstm", config).eval()
    a = draw_samples(model, vocab, 300, seed=3, train_info={"max_name_len": 2}, batch=128)
    b = draw_samples(model, vocab, 300, seed=3, train_info={"max_name_len": 2}, batch=128)
    assert a == b and len(a) == 300
    assert max(map(len, a)) <= 2
    assert len(set(a)) < len(a)  # names of at most 2 characters from ~25 ids must repeat in 300 draws


def test_load_eval_names_keeps_repeats(tmp_path):
    path = tmp_path / "test.txt"
    path.write_text("令狐冲\n\n仪琳\n令狐冲\n", encoding="utf-8")
    assert load_eval_names(str(path)).names == ["令狐冲", "仪琳", "令狐冲"]
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n", encoding="utf-8")
    with pytest.raises(DataError, match="no names"):
        load_eval_names(str(empty))


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("eval")
    names = NameList(TRAINING + ["杨过", "小龙女", "郭靖", "黄蓉", "张无忌", "赵敏", "周芷若"], "made-up")
    config = TrainConfig(max_steps=30, eval_interval=10, batch_size=8, warmup_steps=5)
    out = folder / "tiny.safetensors"
    train(names, "lstm", out, config, size="tiny", log=lambda _m: None, progress_bar=False)
    return out


def test_eval_cli_json_end_to_end(tiny_checkpoint, tmp_path, capsys):
    held = tmp_path / "held.txt"
    held.write_text("令狐冲\n段誉\n段誉\n萧峰\n", encoding="utf-8")
    code = cli.main(["eval", str(tiny_checkpoint), str(held), "--json", "-n", "64", "--seed", "1"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["names"] == 4 and out["chars"] == 4 + 3 * 3  # 令狐冲 plus three 2-character names
    assert out["bits_per_char"] == pytest.approx(out["nats_per_char"] / math.log(2))
    ckpt = load_model(str(tiny_checkpoint))
    assert out["unknown_chars"] == sum(c not in ckpt.vocab for c in "令狐冲段誉段誉萧峰") >= 6
    direct = evaluate(ckpt, NameList(["令狐冲", "段誉", "段誉", "萧峰"], str(held)), n_samples=64, seed=1)
    assert out["nats_per_char"] == pytest.approx(direct.held_out.nats_per_char)
    assert out["samples"] == 64
    for key in ("novelty", "uniqueness", "fragments", "glued", "length_tv"):
        assert 0.0 <= out[key] <= 1.0
        assert out[key] == pytest.approx(getattr(direct.samples, key))
    assert out["in_training"] == pytest.approx(0.25)


def test_eval_cli_plain_and_errors(tiny_checkpoint, tmp_path, capsys):
    held = tmp_path / "held.txt"
    held.write_text("令狐冲\n仪琳\n", encoding="utf-8")
    assert cli.main(["eval", str(tiny_checkpoint), str(held), "-n", "0"]) == 0
    text = capsys.readouterr().out
    assert "bits/char" in text and "2 names" in text and "samples" not in text
    assert cli.main(["eval", str(tiny_checkpoint), str(tmp_path / "missing.txt")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.txt" in err and "no such file" in err
    assert cli.main(["eval", str(tiny_checkpoint), str(held), "-n", "-1"]) == 1
    assert "-n -1" in capsys.readouterr().err


def test_eval_reports_the_length_fit_to_the_evaluated_names(tiny_lstm, tmp_path):
    from xiaming.data.corpus import NameList
    from xiaming.generation.evaluate import evaluate

    ckpt = load_model(tiny_lstm[0])
    long_names = NameList(["bababababa", "dododododo"], "long")
    result = evaluate(ckpt, long_names, n_samples=200, seed=0)
    # samples follow the training lengths (4-6), so they are far from ten-letter names and close to training
    assert result.samples.names_length_tv > 0.9 > result.samples.length_tv


def test_eval_realism_catches_a_broken_sampler(tiny_lstm, tiny_names, tmp_path, capsys):
    """Temperature 5 gives near-random strings, which the classifier tells from real names of the
    made-up language nearly always; the model's own temperature 1 is much harder to tell apart."""
    pytest.importorskip("sklearn")
    from conftest import make_names

    held = [n for n in make_names(700, seed=7) if n not in set(tiny_names)][:300]
    path = tmp_path / "held.txt"
    path.write_text("\n".join(held) + "\n", encoding="utf-8")
    runs = {}
    for temperature in ("5", "1"):
        code = cli.main(
            ["eval", tiny_lstm[0], str(path), "--realism", "-n", "300", "--temperature", temperature, "--json"]
        )
        assert code == 0
        runs[temperature] = json.loads(capsys.readouterr().out)
    broken, plain = runs["5"]["realism"]["detectability"], runs["1"]["realism"]["detectability"]
    assert broken["accuracy"] >= 0.85, broken
    assert plain["accuracy"] < broken["accuracy"] - 0.15, plain
    assert "temperature 5.0" in runs["5"]["sampling"]
    assert runs["1"]["realism"]["variety"]["distinct"] == 1.0  # generate's names are distinct
    assert cli.main(["eval", tiny_lstm[0], str(path), "--realism", "-n", "40"]) == 0
    text = capsys.readouterr().out
    assert "tells them apart" in text and "give themselves away by" in text and "variety" in text


def test_trained_names_leave_out_the_panel_holdout():
    from xiaming.generation.evaluate import trained_names

    info = {"panel_holdout": {"names": ["段誉", "萧峰"]}}
    assert trained_names(["令狐冲", "段誉", "萧峰", "仪琳"], info) == ["令狐冲", "仪琳"]
    assert trained_names(["令狐冲"], {}) == ["令狐冲"]
