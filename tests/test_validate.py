"""Damaged and hostile checkpoints are refused before anything is built from them, in one line that
names the file and the field; every door (read_checkpoint, load_checkpoint, Namer.load, --init,
--resume, the server's --models folder, the CLI) goes through the same checks."""

from __future__ import annotations

import json
import math
import os
import struct
import tracemalloc

import numpy as np
import pytest
import torch
from safetensors_bytes import join, small_checkpoint, split, with_json_field, with_metadata

from xiaming import models, validate
from xiaming.checkpoint import atomic_write_tensors, load_checkpoint, read_checkpoint, state_path
from xiaming.errors import CheckpointError


@pytest.fixture(scope="module")
def lstm(tmp_path_factory):
    return small_checkpoint(tmp_path_factory.mktemp("ckpt") / "m.safetensors")


def refused(path, field: str) -> CheckpointError:
    """Loading `path` fails with a CheckpointError about `field` (named in the message and the attribute)."""
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    assert info.value.field == field and field in message, message
    return info.value


@pytest.mark.parametrize("kind", list(models.MODELS))
def test_the_registry_knows_every_tensor_a_model_saves(kind, tmp_path):
    config = models.make_config(kind, {"vocab_size": 9, "block_size": 8}, "tiny" if models.spec(kind).presets else None)
    state = models.build_model(kind, config).state_dict()
    expected = models.spec(kind).tensors(config)
    assert set(expected) == set(state)
    for name, (shape, _) in expected.items():
        assert len(shape) == state[name].dim()
        assert all(want is None or want == got for want, got in zip(shape, state[name].shape)), name
    path = small_checkpoint(tmp_path / f"{kind}.safetensors", kind)
    assert read_checkpoint(path).kind == kind  # and a saved one passes every check


def test_a_config_size_out_of_limits_is_refused_before_any_allocation(lstm, tmp_path):
    bad = with_json_field(lstm, tmp_path / "big.safetensors", "model_config", "n_hidden", 1_000_000_000)
    tracemalloc.start()
    try:
        refused(bad, "model_config.n_hidden")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 << 20  # the file took 11.8 GB


def test_a_config_that_disagrees_with_the_tensors_names_the_tensor(lstm, tmp_path):
    bad = with_json_field(lstm, tmp_path / "wide.safetensors", "model_config", "n_hidden", 64)
    error = refused(bad, "tensor rnn.weight_ih_l0")
    assert "(128, 16)" in str(error) and "(256, 16)" in str(error)


@pytest.mark.parametrize(
    "field, value",
    [
        ("n_layer", 2.0),
        ("tie_weights", "yes"),
        ("cell", "gru"),
        ("dropout", 1.5),
        ("n_embd", -1),
        ("bogus", 1),
        ("vocab_size", True),
    ],
)
def test_every_config_field_is_typed_and_bounded(lstm, tmp_path, field, value):
    refused(with_json_field(lstm, tmp_path / "c.safetensors", "model_config", field, value), f"model_config.{field}")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e30])
def test_non_finite_or_absurd_weights_are_refused(lstm, tmp_path, value):
    header, data = split(lstm)
    begin = header["wte.weight"]["data_offsets"][0]
    data = data[:begin] + struct.pack("<f", value) + data[begin + 4 :]
    assert header["wte.weight"]["dtype"] == "F32"
    refused(join(tmp_path / "nan.safetensors", header, data), "tensor wte.weight")


@pytest.mark.parametrize(
    "sampling, field",
    [
        ({"top_k": 2.5}, "sampling.top_k"),
        ({"top_k": True}, "sampling.top_k"),
        ({"temperature": "hot"}, "sampling.temperature"),
        ({"top_p": 0}, "sampling.top_p"),
        ({"word_lean": 0.5}, "sampling.word_lean"),
        ({"word_lean": "strong"}, "sampling.word_lean"),
        ({"word_lean": True}, "sampling.word_lean"),
        ({"min_p": None, "beam": 2}, "sampling.beam"),
        ([1, 2], "sampling"),
    ],
)
def test_sampling_defaults_are_typed_and_in_range(lstm, tmp_path, sampling, field):
    refused(with_metadata(lstm, tmp_path / "s.safetensors", "sampling", sampling), field)


def test_deeply_nested_json_is_refused_without_recursing(lstm, tmp_path):
    bad = with_metadata(lstm, tmp_path / "deep.safetensors", "train", "[" * 60_000 + "]" * 60_000)
    assert "deeper than" in str(refused(bad, "train"))
    assert validate.json_depth('{"a": "[[[[", "b": [[1]]}') == 3  # brackets inside strings do not count


def test_a_huge_header_length_is_refused_from_its_first_eight_bytes(lstm, tmp_path):
    data = lstm.read_bytes()
    bad = tmp_path / "h.safetensors"
    bad.write_bytes(struct.pack("<Q", 1 << 40) + data[8:])
    refused(bad, "header")


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda h: h["wte.weight"].update(dtype="I64"), "tensor wte.weight"),
        (lambda h: h["wte.weight"].update(dtype="Q9"), "tensor wte.weight"),
        (lambda h: h["head.bias"].update(shape=[3, 3]), "tensor head.bias"),
        (lambda h: h.pop("head.bias"), "tensor head.bias"),
        (lambda h: h.update(extra={"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}), "tensor extra"),
        (lambda h: h["__metadata__"].update(kind="lstmm"), "kind"),
        (lambda h: h["__metadata__"].update(format_version="1e3"), "format_version"),
        (lambda h: h["__metadata__"].update(vocab='{"chars": "aab"}'), "vocab.chars"),
        (lambda h: h["__metadata__"].update(vocab='{"chars": "abcde"}'), "model_config.vocab_size"),
        (lambda h: h["__metadata__"].update(train='{"max_name_len": 100000000}'), "train.max_name_len"),
        (lambda h: h["__metadata__"].update(train='{"kinds": {"epithet": "z"}}'), "train.kinds.epithet"),
        (lambda h: h["__metadata__"].update(train='{"panel_holdout": {"names": [[1]]}}'), "train.panel_holdout"),
    ],
)
def test_each_part_of_the_header_is_checked(lstm, tmp_path, change, field):
    header, data = split(lstm)
    change(header)
    refused(join(tmp_path / "x.safetensors", header, data), field)


def test_integer_tensors_follow_their_kind_rules(tmp_path):
    minchar = small_checkpoint(tmp_path / "minchar.safetensors", "minchar")
    header, data = split(minchar)
    begin = header["prime"]["data_offsets"][0]
    bad = join(tmp_path / "p.safetensors", header, data[:begin] + struct.pack("<q", -1) + data[begin + 8 :])
    refused(bad, "tensor prime")
    ngram = small_checkpoint(tmp_path / "ngram.safetensors", "ngram")
    header, data = split(ngram)
    begin = header["counts.2"]["data_offsets"][0]
    bad = join(tmp_path / "c.safetensors", header, data[:begin] + struct.pack("<q", 0) + data[begin + 8 :])
    refused(bad, "tensor counts.2")


def test_weights_that_overflow_in_the_first_step_are_refused(tmp_path):
    path = small_checkpoint(tmp_path / "t.safetensors", "transformer")
    header, data = split(path)
    entry = header["blocks.0.mlp.0.weight"]
    begin, end = entry["data_offsets"]
    n = (end - begin) // 4
    data = data[:begin] + np.full(n, 9e3, dtype="<f4").tobytes() + data[end:]
    entry2 = header["blocks.0.mlp.2.weight"]
    b2, e2 = entry2["data_offsets"]
    data = data[:b2] + np.full((e2 - b2) // 4, 9e3, dtype="<f4").tobytes() + data[e2:]
    big = join(tmp_path / "o.safetensors", header, data)
    from xiaming.generation.namer import Namer

    try:  # within ±MAX_WEIGHT each, so reading passes; whatever the step gives, loading either works or says why
        namer = Namer.load(big)
    except CheckpointError as exc:
        assert exc.field == "weights"
    else:
        assert np.isfinite(namer.engine.step(np.zeros(1, dtype=np.int64), namer.engine.initial_state(1))[0]).all()


def test_files_that_are_not_regular_files_are_named(tmp_path):
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    for path, words in [
        (tmp_path, "is a directory"),
        (fifo, "not a regular file"),
        ("/dev/null", "not a regular file"),
        (tmp_path / "none.safetensors", "no such"),
    ]:
        with pytest.raises(CheckpointError, match=words) as info:
            read_checkpoint(path)
        assert str(info.value).startswith(f"{path}: ")
    if os.path.exists("/proc/self/mem"):
        with pytest.raises(CheckpointError, match="/proc/self/mem: not a xiaming checkpoint"):
            read_checkpoint("/proc/self/mem")


def test_every_door_refuses_a_damaged_file(lstm, tmp_path, capsys, names_file):
    from xiaming import train
    from xiaming.cli import main
    from xiaming.data.corpus import load_names
    from xiaming.generation.namer import Namer
    from xiaming.web.backend import Backend

    folder = tmp_path / "models"
    folder.mkdir()
    bad = with_json_field(lstm, folder / "bad.safetensors", "model_config", "n_hidden", 10**9)
    for load in (
        read_checkpoint,
        load_checkpoint,
        Namer.load,
        lambda p: Namer.load(p, engine="torch"),
        lambda p: train(
            load_names(names_file), None, tmp_path / "ft.safetensors", init=p, log=lambda _: None, progress_bar=False
        ),
        lambda p: Backend.load(folder, shipped=[]),
    ):
        with pytest.raises(CheckpointError, match=r"bad\.safetensors: damaged model_config\.n_hidden"):
            load(bad)
    for argv in (["generate", str(bad)], ["score", "--model", str(bad), "abc"], ["models", str(bad)]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "model_config.n_hidden" in err and "Traceback" not in err, err


def test_a_damaged_training_state_is_refused_on_resume(tmp_path, names_file):
    from xiaming import TrainConfig, train
    from xiaming.data.corpus import load_names

    out = tmp_path / "m.safetensors"
    config = TrainConfig(max_steps=2, eval_interval=1, batch_size=8)
    quiet = {"log": lambda _m: None, "progress_bar": False}
    train(load_names(names_file), "gru", out, config, size="tiny", **quiet)
    header, data = split(state_path(out))
    header["model.head.bias"]["shape"] = [1, header["model.head.bias"]["shape"][0]]
    join(state_path(out), header, data)
    with pytest.raises(CheckpointError, match=r"m\.state\.safetensors: damaged tensor model\.head\.bias"):
        train(load_names(names_file), "gru", out, config, size="tiny", resume=True, **quiet)
    header["model.head.bias"]["shape"] = header["model.head.bias"]["shape"][1:]
    progress = json.loads(header["__metadata__"]["progress"])
    header["__metadata__"]["progress"] = json.dumps({**progress, "step": "two"})
    join(state_path(out), header, data)
    with pytest.raises(CheckpointError, match=r"damaged progress\.step"):
        train(load_names(names_file), "gru", out, config, size="tiny", resume=True, **quiet)


def test_a_failed_save_is_one_line_and_keeps_the_previous_file(lstm, tmp_path, monkeypatch):
    import safetensors.torch
    from safetensors import SafetensorError

    target = tmp_path / "kept.safetensors"
    target.write_bytes(lstm.read_bytes())

    def full(*args, **kwargs):
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    with pytest.raises(
        CheckpointError,
        match=r"kept\.safetensors: could not save it \(No space left on device; "
        r"free some space",
    ):
        atomic_write_tensors(target, {"x": torch.zeros(1)}, {"format": "x"})
    assert target.read_bytes() == lstm.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["kept.safetensors"]  # no temporary file left behind


def test_models_limits_also_bound_what_a_user_asks_to_train():
    from xiaming.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^n_hidden 100000: at most 8192"):
        models.make_config("lstm", {"vocab_size": 9}, "tiny", n_hidden=100_000)
    assert math.isfinite(validate.MAX_WEIGHT)
