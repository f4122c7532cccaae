"""Checkpoints round-trip exactly, describe themselves, and reject foreign or broken files."""

import json

import pytest
import torch
from safetensors.torch import save_file

from xiaming import models
from xiaming.checkpoint import load_checkpoint, read_tensors, save_checkpoint, state_path
from xiaming.data.vocab import Vocab
from xiaming.errors import CheckpointError


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru", "transformer"])
def test_round_trip_gives_identical_logits(kind, tmp_path):
    torch.manual_seed(0)
    vocab = Vocab.from_names(["abc", "bcd"])
    config = models.make_config(kind, {"vocab_size": vocab.size, "block_size": 8}, "tiny")
    model = models.build_model(kind, config).eval()
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, model, kind, vocab, {"max_name_len": 3}, ["abc", "bcd"])
    loaded = load_checkpoint(path)
    idx = torch.tensor([[0, 2, 3, 4]])
    assert torch.equal(model(idx)[0], loaded.model(idx)[0])
    assert (loaded.kind, loaded.config, loaded.vocab, loaded.names) == (kind, config, vocab, ["abc", "bcd"])
    assert loaded.train["max_name_len"] == 3


def test_metadata_is_plain_json_with_format_version(tiny_lstm):
    path, _ = tiny_lstm
    _, metadata = read_tensors(path)
    assert metadata["format"] == "xiaming-checkpoint" and metadata["format_version"] == "1"
    train = json.loads(metadata["train"])
    assert train["train_config"]["max_steps"] == 300 and train["best_val_loss"] > 0
    assert json.loads(metadata["model_config"])["cell"] == "lstm"


def test_float16_copy_loads_as_float32_with_close_logits(tmp_path):
    vocab = Vocab.from_names(["ab"])
    model = models.build_model("lstm", models.make_config("lstm", {"vocab_size": vocab.size}, "tiny")).eval()
    path = tmp_path / "half.safetensors"
    save_checkpoint(path, model, "lstm", vocab, {}, ["ab"], dtype=torch.float16)
    loaded = load_checkpoint(path)
    assert next(loaded.model.parameters()).dtype == torch.float32
    idx = torch.tensor([[0, 2, 3]])
    assert torch.allclose(model(idx)[0], loaded.model(idx)[0], atol=1e-2)


def test_foreign_truncated_and_missing_files_are_clear_errors(tmp_path, tiny_lstm):
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(other))
    with pytest.raises(CheckpointError, match="not a xiaming checkpoint"):
        load_checkpoint(other)
    text = tmp_path / "names.txt"
    text.write_text("hello\n")
    with pytest.raises(CheckpointError, match="not a xiaming checkpoint"):
        load_checkpoint(text)
    data = open(tiny_lstm[0], "rb").read()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(cut)
    with pytest.raises(CheckpointError, match="no such"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_state_path_sits_beside_the_checkpoint(tmp_path):
    assert state_path(tmp_path / "jy.safetensors") == tmp_path / "jy.state.safetensors"
