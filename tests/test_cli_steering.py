"""`xiaming generate` steered by flags, and `xiaming score`, end to end on a tiny trained model."""

import json
import math
import re

import pytest
import torch
from conftest import run_cli as run

from xiaming import TrainConfig, train
from xiaming.checkpoint import load_checkpoint, save_checkpoint
from xiaming.data.corpus import NameList
from xiaming.generation.novelty import NoveltyFilter


@pytest.fixture(scope="module")
def model(tmp_path_factory, tiny_names) -> str:
    """A tiny LSTM trained briefly on the made-up names, on one thread (a second one only slows a
    model this small, the more so on a busy machine); returns the checkpoint path."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = tmp_path_factory.mktemp("steer") / "tiny.safetensors"
        config = TrainConfig(max_steps=300, eval_interval=50, batch_size=32, seed=1)
        train(
            NameList(tiny_names, "made-up"), "lstm", out, config, size="tiny", log=lambda _m: None, progress_bar=False
        )
    finally:
        torch.set_num_threads(threads)
    return str(out)


def generate_json(capsys, model, *flags):
    code, out, err = run(capsys, "generate", model, "--json", *flags)
    assert code == 0, err
    return json.loads(out)


def test_prefix_and_length_bounds(capsys, model, tiny_names):
    data = generate_json(capsys, model, "-n", "12", "--seed", "1", "--prefix", "ba", "--min-len", "5", "--max-len", "5")
    names = [row["name"] for row in data["names"]]
    assert len(names) == len(set(names)) == 12
    assert all(n.startswith("ba") and len(n) == 5 for n in names)
    assert not set(names) & set(tiny_names)


def test_exclude_and_charset(capsys, tmp_path, model):
    data = generate_json(capsys, model, "-n", "10", "--seed", "2", "--exclude", "aeo")
    assert all(not set(row["name"]) & set("aeo") for row in data["names"])
    charset = tmp_path / "chars.txt"
    charset.write_text("b a\nk i\n", encoding="utf-8")
    data = generate_json(capsys, model, "-n", "10", "--seed", "2", "--prefix", "m", "--charset", str(charset))
    assert all(row["name"][0] == "m" and set(row["name"][1:]) <= set("baki") for row in data["names"])


def test_json_gives_scores_verdicts_and_rejections(capsys, model, tiny_names):
    data = generate_json(capsys, model, "-n", "40", "--seed", "0", "--novelty", "strict", "--rank")
    assert data["novelty"] == "strict" and data["found"] == 40
    rows = data["names"]
    assert all(row["novelty"] == "new" and row["pinyin"] is None for row in rows)  # Latin names have no pinyin
    log_probs = [row["log_prob"] for row in rows]
    assert log_probs == sorted(log_probs, reverse=True)  # --rank: most likely first
    assert all(
        row["bits_per_char"] == pytest.approx(-row["log_prob"] / (len(row["name"]) + 1) / math.log(2), abs=1e-3)
        for row in rows
    )
    strict = NoveltyFilter(tiny_names, "strict")
    assert data["rejected"], "a tiny model repeats its training names; strict novelty must reject some"
    for rejected in data["rejected"]:
        why = strict.check(rejected["name"])
        assert (why.rule, why.training_name) == (rejected["rule"], rejected["training_name"])
    assert all(strict.check(row["name"]) is None for row in rows)


def test_verbose_prints_rejections_to_stderr(capsys, model):
    code, out, err = run(capsys, "generate", model, "-n", "30", "--seed", "0", "--novelty", "strict", "--verbose")
    assert code == 0 and len(out.split()) == 30
    assert re.search(r"^rejected \S+: .* \((exact|glued|contains|contained|surname|edit)\)$", err, re.M), err
    assert re.search(r"^novelty strict: \d+ candidates rejected", err, re.M)


def test_best_is_deterministic_and_ordered(capsys, model):
    threads = torch.get_num_threads()
    first = generate_json(capsys, model, "--best", "8", "--min-len", "4")
    assert torch.get_num_threads() == threads  # the one-thread setting does not leak out of the command
    second = generate_json(capsys, model, "--best", "8", "--min-len", "4", "--seed", "99")
    assert [r["name"] for r in first["names"]] == [r["name"] for r in second["names"]]
    log_probs = [row["log_prob"] for row in first["names"]]
    assert len(log_probs) == 8 and log_probs == sorted(log_probs, reverse=True)
    assert all(len(row["name"]) >= 4 for row in first["names"])


def test_built_in_corpus_models_default_to_strict(capsys, tmp_path, model):
    ckpt = load_checkpoint(model)
    path = tmp_path / "builtin.safetensors"
    save_checkpoint(path, ckpt.model, ckpt.kind, ckpt.vocab, {**ckpt.train, "source": "builtin:jinyong"}, ckpt.names)
    assert generate_json(capsys, str(path), "-n", "3", "--seed", "0")["novelty"] == "strict"
    assert generate_json(capsys, model, "-n", "3", "--seed", "0")["novelty"] == "exact"


def test_impossible_requests_end_with_what_exists(capsys, tmp_path, model):
    charset = tmp_path / "z.txt"
    charset.write_text("zq", encoding="utf-8")  # characters the model has never seen
    code, out, err = run(capsys, "generate", model, "-n", "5", "--prefix", "ba", "--charset", str(charset))
    assert code == 1 and out.split() == []  # nothing can follow the prefix, and a bare prefix is no name
    assert "found no new names" in err and "--charset" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--top-p", "1.5"], r"--top-p 1.5: must be in \(0, 1\]"),
        (["--top-p", "0"], r"--top-p 0.0: must be in \(0, 1\]"),
        (["--min-len", "5", "--max-len", "3"], "--min-len 5: is above --max-len 3"),
        (["--prefix", "zz"], "--prefix 'zz': the model has never seen 'z'"),
        (["--charset", "/no/such/file.txt"], "--charset /no/such/file.txt: no such file"),
    ],
)
def test_errors_are_one_line(capsys, model, flags, message):
    code, out, err = run(capsys, "generate", model, *flags)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err


def test_empty_charset_file_is_an_error(capsys, tmp_path, model):
    empty = tmp_path / "empty.txt"
    empty.write_text(" \n\n", encoding="utf-8")
    code, _, err = run(capsys, "generate", model, "--charset", str(empty))
    assert code == 1 and err.count("\n") == 1 and "holds no characters" in err


def test_bad_novelty_mode_is_a_flag_error(capsys, model):
    code, _, err = run(capsys, "generate", model, "--novelty", "loose")
    assert code == 1 and err.count("\n") == 1 and "--novelty" in err  # a value out of range is bad input


def test_score_text_and_json(capsys, model, tiny_names):
    code, out, err = run(capsys, "score", tiny_names[0], "zzzz", "--model", model)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(tiny_names[0]) and "bits/char" in lines[0] and "percentile" in lines[0]
    assert "(unknown)" in lines[3]  # z is not in the vocabulary
    code, out, _ = run(capsys, "score", tiny_names[0], "zzzz", "--model", model, "--json")
    data = json.loads(out)
    known, unknown = data["names"]
    product = math.prod(c["p"] for c in known["chars"]) * known["end_p"]
    assert math.log(product) == pytest.approx(known["log_prob"], abs=1e-3)
    assert len(known["chars"]) == len(tiny_names[0]) and data["reference_names"] == len(tiny_names)
    assert known["percentile"] > unknown["percentile"]  # a training name is more name-like than zzzz
    assert 0 <= unknown["percentile"] <= 100


def test_score_rejects_an_empty_name(capsys, model):
    code, _, err = run(capsys, "score", " ", "--model", model)
    assert code == 1 and "empty name" in err
