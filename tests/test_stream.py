"""Streaming a names file: the same names, split, vocabulary, batches and losses as the whole file."""

import random

import pytest
import torch
from conftest import make_names

from xiaming import TrainConfig, train
from xiaming.checkpoint import load_checkpoint, read_tensors, state_path
from xiaming.data.batches import encode_names
from xiaming.data.corpus import load_names, split
from xiaming.data.vocab import Vocab
from xiaming.errors import DataError
from xiaming.training.stream import PackedSource, StreamedNames

QUIET = {"log": lambda _m: None, "progress_bar": False}
pytestmark = pytest.mark.filterwarnings("ignore:.*longer than 32 characters")  # the fixture's long line, on purpose


@pytest.fixture
def messy_file(tmp_path):
    """Repeats, blanks, CRLF, a BOM, an over-long line and characters seen once."""
    names = make_names(250, seed=9)
    lines = names + names[:30] + ["", "   ", "x" * 40] + ["齐天大圣", "孙悟空", "猪八戒"]
    random.Random(2).shuffle(lines)
    path = tmp_path / "names.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8") + b"\r\n")
    return path


def test_streaming_gives_the_same_names_split_and_vocabulary(messy_file):
    whole = load_names(messy_file)
    with pytest.warns(UserWarning, match="longer than 32"):
        streamed = StreamedNames(messy_file)
    with streamed:
        layout = streamed.layout(0.2, seed=7)
        train_names, val_names = split(whole.names, 0.2, seed=7)
        assert list(streamed.names) == whole.names and len(streamed.names) == len(whole.names)
        assert layout.val_names == val_names and layout.train_count == len(train_names)
        assert layout.train_vocab() == Vocab.from_names(train_names)
        assert layout.max_len == max(len(n) for n in whole.names)


def test_the_checkpoint_name_list_read_as_bytes_equals_the_joined_names(messy_file):
    from xiaming.checkpoint import decode_names
    from xiaming.checkpoint import encode_names as encode_list

    with pytest.warns(UserWarning, match="longer than 32"), StreamedNames(messy_file) as streamed:
        streamed.layout(0.1, seed=0)
        whole = list(streamed.names)
        blocks = streamed.names
        assert torch.equal(encode_list(blocks), encode_list(whole))  # bytes straight from the packed file
        assert decode_names(encode_list(blocks)) == whole


def test_packed_rows_equal_the_encoded_names(messy_file):
    with StreamedNames(messy_file) as streamed:
        layout = streamed.layout(0.1, seed=0)
        train_names, _ = split(load_names(messy_file).names, 0.1, seed=0)
        vocab = Vocab.from_names(train_names[: len(train_names) // 2])  # characters outside it become UNKNOWN
        x, y = encode_names(vocab, train_names)
        source = PackedSource(layout, vocab)
        idx = torch.randint(len(train_names), (40,), generator=torch.Generator().manual_seed(1))
        width = int(source.targets(idx).max())
        assert torch.equal(source.targets(idx), (y[idx] != -1).sum(dim=1))
        px, py = source.rows(idx, width)
        assert torch.equal(px, x[idx, :width]) and torch.equal(py, y[idx, :width])


def test_a_streamed_run_trains_exactly_as_a_run_on_the_whole_file(messy_file, tmp_path):
    config = TrainConfig(max_steps=40, eval_interval=10, batch_size=16, seed=3, val_fraction=0.2)
    whole = train(load_names(messy_file), "gru", tmp_path / "whole.safetensors", config, size="tiny", **QUIET)
    with StreamedNames(messy_file) as streamed:
        result = train(streamed, "gru", tmp_path / "streamed.safetensors", config, size="tiny", **QUIET)
    assert [row[2:] for row in result.history] == [row[2:] for row in whole.history]  # train and validation loss
    a = read_tensors(state_path(tmp_path / "whole.safetensors"), "xiaming-train-state")[0]
    b = read_tensors(state_path(tmp_path / "streamed.safetensors"), "xiaming-train-state")[0]
    for key in a:
        if key.startswith(("model.", "best.")):
            assert torch.equal(a[key], b[key]), key
    saved, whole_saved = (
        load_checkpoint(tmp_path / "streamed.safetensors"),
        load_checkpoint(tmp_path / "whole.safetensors"),
    )
    assert saved.vocab == whole_saved.vocab and saved.names == whole_saved.names
    assert saved.train["data"] == whole_saved.train["data"]


def test_unusable_files_are_named(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n", encoding="utf-8")
    with pytest.raises(DataError, match="no names"):
        StreamedNames(empty)
    one = tmp_path / "one.txt"
    one.write_text("张三\n张三\n", encoding="utf-8")
    with pytest.raises(DataError, match="only 1 distinct"):
        StreamedNames(one)
    with pytest.raises(DataError, match="built-in corpus"):
        StreamedNames("jinyong")


def test_the_packed_files_are_removed_on_close(messy_file):
    streamed = StreamedNames(messy_file)
    streamed.layout(0.1, seed=0)
    folder = streamed._dir
    assert any(folder.iterdir())
    streamed.close()
    assert not folder.exists()


def test_the_cli_streams_with_one_flag(messy_file, tmp_path):
    from xiaming.cli import main

    out = tmp_path / "m.safetensors"
    args = [
        "train",
        str(messy_file),
        "-o",
        str(out),
        "--size",
        "tiny",
        "--max-steps",
        "20",
        "--eval-interval",
        "10",
        "--quiet",
    ]
    assert main(args + ["--stream"]) == 0
    assert main(args + ["--stream", "--resume", "--max-steps", "30"]) == 0
    assert load_checkpoint(out).train["data"]["names"] == len(load_names(messy_file).names)


def test_a_kind_with_its_own_algorithm_is_not_streamed(messy_file, tmp_path):
    from xiaming.errors import ConfigError

    with StreamedNames(messy_file) as streamed, pytest.raises(ConfigError, match="model .ngram.: .*drop stream"):
        train(streamed, "ngram", tmp_path / "m.safetensors", TrainConfig(max_steps=5), **QUIET)
    assert not (tmp_path / "m.safetensors.lock").exists()


def test_streamed_fine_tuning_equals_fine_tuning_on_the_whole_file(messy_file, tmp_path):
    base = tmp_path / "base.safetensors"
    train(load_names(messy_file), "lstm", base, TrainConfig(max_steps=10, eval_interval=5), size="tiny", **QUIET)
    more = tmp_path / "more.txt"
    more.write_text("\n".join(make_names(80, seed=11) + ["花满楼", "陆小凤"]) + "\n", encoding="utf-8")
    config = TrainConfig(max_steps=12, eval_interval=4, batch_size=8, seed=2)
    whole = train(load_names(more), None, tmp_path / "a.safetensors", config, init=base, **QUIET)
    with StreamedNames(more) as streamed:
        result = train(streamed, None, tmp_path / "b.safetensors", config, init=base, **QUIET)
    assert [row[2:] for row in result.history] == [row[2:] for row in whole.history]
    a, b = load_checkpoint(tmp_path / "a.safetensors"), load_checkpoint(tmp_path / "b.safetensors")
    assert a.vocab == b.vocab and a.train["init"] == b.train["init"] == str(base)


def test_a_file_that_changes_between_the_readings_is_refused(messy_file):
    streamed = StreamedNames(messy_file)
    with open(messy_file, "a", encoding="utf-8") as f:
        f.write("新名字\n")
    with streamed, pytest.raises(DataError, match="changed while it was being read"):
        streamed.layout(0.1, seed=0)


def test_a_pipe_or_standard_input_cannot_be_streamed_and_says_so(tmp_path):
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # refused before it is opened: nothing needs to write to it
    with pytest.raises(DataError, match=r"pipe: is a pipe; --stream reads its file twice.*drop --stream"):
        StreamedNames(fifo)
    with pytest.raises(DataError, match=r"^-: --stream reads its file twice, and standard input"):
        StreamedNames("-")
    with pytest.raises(DataError, match=r"^/dev/zero: is a device or socket"):
        StreamedNames("/dev/zero")
