"""Inference without torch: these tests import nothing from torch and run in CI's torch-free
environment too (`.ci/run`). Checkpoints are written here with safetensors.numpy, so the numpy
engine is checked against its own arithmetic (an independent numpy LSTM below) and against
brute-force enumeration, and the shipped models generate, search and score."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from safetensors.numpy import save_file

from xiaming.checkpoint import FORMAT, FORMAT_VERSION, NAMES_KEY
from xiaming.cli import main
from xiaming.data.vocab import Vocab
from xiaming.errors import CheckpointError, ConfigError
from xiaming.generation.constraints import SampleOptions
from xiaming.generation.namer import Namer

CHARS = "abcd"
VOCAB = Vocab(tuple(CHARS))  # 6 ids


def write_lstm(path, sampling: dict | None = None, hidden: int = 5, embd: int = 4, seed: int = 0) -> dict:
    """A random single-layer LSTM checkpoint written without torch; returns its float32 weights."""
    rng = np.random.default_rng(seed)
    V, H, E = VOCAB.size, hidden, embd
    w = {
        "wte.weight": rng.normal(0, 1, (V, E)),
        "rnn.weight_ih_l0": rng.normal(0, 0.7, (4 * H, E)),
        "rnn.weight_hh_l0": rng.normal(0, 0.7, (4 * H, H)),
        "rnn.bias_ih_l0": rng.normal(0, 0.3, 4 * H),
        "rnn.bias_hh_l0": rng.normal(0, 0.3, 4 * H),
        "head.weight": rng.normal(0, 1.5, (V, H)),
        "head.bias": rng.normal(0, 0.5, V),
    }
    w = {k: v.astype(np.float32) for k, v in w.items()}
    names = ["ab", "cd", "abc"]
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "kind": "lstm",
        "model_config": json.dumps(
            {
                "vocab_size": V,
                "cell": "lstm",
                "n_embd": E,
                "n_hidden": H,
                "n_layer": 1,
                "dropout": 0.0,
                "tie_weights": False,
            }
        ),
        "vocab": json.dumps(VOCAB.to_dict()),
        "train": json.dumps({"max_name_len": 4, "parameters": 1}),
    }
    if sampling is not None:
        meta["sampling"] = json.dumps(sampling)
    save_file({**w, NAMES_KEY: np.frombuffer("\n".join(names).encode(), dtype=np.uint8)}, str(path), metadata=meta)
    return w


def reference_lstm(w: dict, ids: list[int]) -> np.ndarray:
    """Log-probabilities (T, V) after each id, by the textbook LSTM equations in float64."""
    H = w["rnn.weight_hh_l0"].shape[1]
    h, c = np.zeros(H), np.zeros(H)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    out = []
    for i in ids:
        g = (
            w["rnn.weight_ih_l0"] @ w["wte.weight"][i]
            + w["rnn.bias_ih_l0"]
            + w["rnn.weight_hh_l0"] @ h
            + w["rnn.bias_hh_l0"]
        )
        ig, fg, gg, og = sig(g[:H]), sig(g[H : 2 * H]), np.tanh(g[2 * H : 3 * H]), sig(g[3 * H :])
        c = fg * c + ig * gg
        h = og * np.tanh(c)
        z = w["head.weight"] @ h + w["head.bias"]
        out.append(z - np.log(np.exp(z - z.max()).sum()) - z.max())
    return np.array(out)


@pytest.fixture()
def lstm(tmp_path):
    path = tmp_path / "lstm.safetensors"
    return str(path), write_lstm(path)


def test_importing_and_generating_never_imports_torch(tmp_path):
    code = (
        "import sys, xiaming, xiaming.cli; n = xiaming.load_model(); n.generate(3, seed=0); n.best(2); "
        "n.score(['令狐冲']); assert 'torch' not in sys.modules, 'torch was imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_every_shipped_author_generates_from_the_command_line_without_torch():
    """`xiaming generate liangyusheng` (and the others) right after install, torch unimportable."""
    from xiaming import corpora

    for model in ("jinyong", "gulong", "liangyusheng"):
        code = (
            "import sys; sys.modules['torch'] = None; from xiaming.cli import main; "
            f"sys.exit(main(['generate', '{model}', '-n', '5', '--seed', '0']))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        names = done.stdout.split()
        assert len(names) == 5 and not set(names) & set(corpora.load(model)), (model, names)


def test_numpy_lstm_matches_the_textbook_equations(lstm):
    path, w = lstm
    namer = Namer.load(path)
    (score,) = namer.score(["abca"])
    ids = [0] + VOCAB.encode("abca")
    ref = reference_lstm(w, ids)
    expected = [ref[t, nxt] for t, nxt in enumerate(VOCAB.encode("abca") + [0])]
    assert score.char_log_probs == pytest.approx(expected, abs=1e-5)


def every_name(max_len: int):
    for n in range(1, max_len + 1):
        for letters in itertools.product(CHARS, repeat=n):
            yield "".join(letters)


def test_best_is_the_brute_force_ranking_and_log_probs_are_the_scores(lstm):
    path, _ = lstm
    namer = Namer.load(path)
    options = SampleOptions(max_len=3, exclude="d")
    best = namer.best(7, options, novelty="exact")
    candidates = [n for n in every_name(3) if "d" not in n and n not in namer.names]
    scores = sorted(namer.score(candidates), key=lambda s: -s.log_prob)
    assert [round(s.log_prob, 4) for s in scores[:7]] == [round(lp, 4) for lp in best.log_probs]
    assert not best.exhausted and best.reason == ""


def test_generated_log_probs_are_the_scores_of_the_names(lstm):
    path, _ = lstm
    namer = Namer.load(path)
    result = namer.generate(12, SampleOptions(max_len=4, prefix="a"), novelty="off", seed=2)
    scored = {s.name: s.log_prob for s in namer.score(result.names)}
    assert all(name.startswith("a") for name in result.names)
    for item in result.items:
        assert item.log_prob == pytest.approx(scored[item.name], abs=1e-4)
        assert item.bits_per_char == pytest.approx(-scored[item.name] / (len(item.name) + 1) / math.log(2))


def test_sampling_draws_from_the_model_distribution(lstm):
    path, _ = lstm
    namer = Namer.load(path)
    names = namer.sample(20000, seed=1, options=SampleOptions(max_len=1))
    p = {s.name: math.exp(s.log_prob) for s in namer.score(list(CHARS))}
    # with max_len 1 the end is forced after one character: p(first) renormalised without the end and unknown id
    first = np.exp(namer.engine.step(np.array([0]), namer.engine.initial_state(1))[0][0])
    allowed = first[[VOCAB.id(c) for c in CHARS]]
    allowed /= allowed.sum()
    for c, share in zip(CHARS, allowed):
        observed = names.count(c) / len(names)
        assert abs(observed - share) < 4 * math.sqrt(share * (1 - share) / len(names)) + 1e-9, (c, p)


def test_hidden_prefix_is_read_but_not_shown_and_ban_first_holds(lstm):
    path, w = lstm
    namer = Namer.load(path)
    options = SampleOptions(hidden_prefix="d", ban_first="a", max_len=3)
    result = namer.generate(15, options, novelty="off", seed=0)
    assert result.names and all(not n.startswith("a") for n in result.names)
    (given_d,) = namer.score(["bc"], context="d")
    ref = reference_lstm(w, [0, VOCAB.id("d"), VOCAB.id("b"), VOCAB.id("c")])
    assert given_d.log_prob == pytest.approx(ref[1, VOCAB.id("b")] + ref[2, VOCAB.id("c")] + ref[3, 0], abs=1e-5)
    for item in result.items:  # scores are conditional on the hidden prefix
        assert item.log_prob == pytest.approx(namer.score([item.name], context="d")[0].log_prob, abs=1e-4)


def test_sampling_defaults_from_the_checkpoint_apply_unless_overridden(tmp_path):
    path = tmp_path / "m.safetensors"
    write_lstm(path, sampling={"temperature": 0.5, "min_p": 0.1})
    namer = Namer.load(path)
    assert namer.options().temperature == 0.5 and namer.options().min_p == 0.1
    assert namer.options(temperature=1.2).temperature == 1.2 and namer.options(temperature=1.2).min_p == 0.1
    assert namer.generate(3, seed=0, novelty="off").options.temperature == 0.5
    assert "temperature 0.5 (model default)" in namer.describe_sampling(namer.options())
    bad = tmp_path / "bad.safetensors"
    write_lstm(bad, sampling={"temperature": -3})
    with pytest.raises(CheckpointError, match="sampling"):
        Namer.load(bad)


def test_min_p_keeps_only_characters_near_the_likeliest(lstm):
    path, _ = lstm
    namer = Namer.load(path)
    first = namer.engine.step(np.array([0]), namer.engine.initial_state(1))[0][0]
    ids = [VOCAB.id(c) for c in CHARS]
    p = np.exp(first[ids] - first[ids].max())
    keep = {c for c, q in zip(CHARS, p) if q >= 0.5}
    drawn = {n[0] for n in namer.sample(3000, seed=0, options=SampleOptions(min_p=0.5, max_len=1))}
    assert drawn == keep


def test_shipped_model_generates_new_names_with_every_constraint():
    namer = Namer.load("jinyong")
    result = namer.generate(20, namer.options(prefix="令狐", max_len=4), seed=1)
    assert len(result.names) == 20 and not result.exhausted and result.novelty == "strict"
    assert all(n.startswith("令狐") and 3 <= len(n) <= 4 and n not in namer.names for n in result.names)
    again = namer.generate(20, namer.options(prefix="令狐", max_len=4), seed=1)
    assert again.names == result.names


def test_a_prefix_that_is_a_training_name_is_refused_at_once_under_strict():
    namer = Namer.load("jinyong")
    name = next(n for n in namer.names if len(n) == 3)
    with pytest.raises(ConfigError, match=f"is itself the training name {name}"):
        namer.generate(5, namer.options(prefix=name))
    assert namer.generate(3, namer.options(prefix=name), novelty="exact", seed=0).names


def test_cli_generate_streams_writes_and_exits_by_the_rule(capsys, tmp_path):
    out = tmp_path / "names.txt"
    assert main(["generate", "-n", "7", "--seed", "3", "-o", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").split()) == 7 and capsys.readouterr().out == ""
    assert main(["generate", "--surname", "Zh"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--surname 'Zh'" in err and "--prefix" not in err
    name = Namer.load("jinyong").names[0]
    assert main(["generate", "--prefix", name, "-n", "3"]) == 1
    assert "training name" in capsys.readouterr().err
    assert main(["generate", "--json", "-n", "2", "--seed", "0"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["exhausted"] is False and data["found"] == 2
    assert data["searched_all"] is False  # sampling found both: no search ran


def test_cli_generate_finding_some_is_0_with_a_note_and_none_is_1(capsys, lstm):
    path, _ = lstm
    assert main(["generate", path, "-n", "50", "--max-len", "2", "--novelty", "off", "--seed", "0"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.split()) < 50 and "found only" in captured.err
    assert main(["generate", path, "-n", "5", "--max-len", "1", "--exclude", "abcd"]) == 1
    assert "found no new names" in capsys.readouterr().err


def test_cli_score_reads_a_file_and_stdin(capsys, tmp_path, monkeypatch):
    import io

    names = tmp_path / "n.txt"
    names.write_text("令狐冲\n\n张无忌\n", encoding="utf-8")
    assert main(["score", "--file", str(names), "--json"]) == 0
    assert [r["name"] for r in json.loads(capsys.readouterr().out)["names"]] == ["令狐冲", "张无忌"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("段誉\n萧峰\n"))
    assert main(["score", "-", "郭靖", "--json"]) == 0
    assert [r["name"] for r in json.loads(capsys.readouterr().out)["names"]] == ["段誉", "萧峰", "郭靖"]
    assert main(["score"]) == 1 and "no names" in capsys.readouterr().err


def test_train_without_torch_says_how_to_add_it(tmp_path):
    code = (
        "import sys; sys.modules['torch'] = None; from xiaming.cli import main; "
        f"sys.exit(main(['train', 'jinyong', '-o', {str(tmp_path / 'm.safetensors')!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and 'pip install "xiaming[train]"' in done.stderr


def test_every_generate_and_score_flag_says_its_default():
    import argparse

    from xiaming.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command in ("generate", "score"):
        for action in sub.choices[command]._actions:
            if isinstance(action, (argparse._HelpAction, argparse._StoreTrueAction)) or not action.option_strings:
                continue
            text = action.help or ""
            assert "default" in text or "same as" in text, (command, action.option_strings, text)


def _interrupt_after_output(argv: list[str], ready) -> tuple[int, str, str]:
    """Run the CLI, send Ctrl-C once `ready()` says output has appeared, and return (code, stdout, stderr)."""
    import os
    import signal
    import threading
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "xiaming", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
        # a suite started in the background (`pytest &`) runs with Ctrl-C ignored, which the child would
        # inherit and Python then never turns into KeyboardInterrupt: give it the terminal's default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    first = proc.stdout.readline() if ready is None else ""
    deadline = time.time() + 60
    while ready is not None and not ready() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    # Read the rest through the same buffered pipe objects: communicate() reads the raw descriptors
    # and would lose what readline() already buffered (and split a character in two).
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    try:
        out, err = proc.stdout.read(), proc.stderr.read()
        proc.wait()
    finally:
        watchdog.cancel()
    return proc.returncode, first + out, err


def test_ctrl_c_keeps_the_names_printed_and_exits_130():
    code, out, err = _interrupt_after_output(["generate", "-n", "1000000", "--novelty", "off", "--seed", "0"], None)
    assert code == 130 and len(out.split()) >= 1 and "Traceback" not in err


def test_ctrl_c_with_output_file_keeps_what_was_found(tmp_path):
    target = tmp_path / "names.txt"
    target.write_text("old\n", encoding="utf-8")
    partial = lambda: any(p.stat().st_size > 0 for p in tmp_path.glob(".names.txt.*.tmp"))  # noqa: E731
    code, out, err = _interrupt_after_output(
        ["generate", "-n", "1000000", "--novelty", "off", "-o", str(target)], partial
    )
    kept = target.read_text(encoding="utf-8").split()
    assert code == 130 and out == "" and kept and kept != ["old"] and f"kept {len(kept)} names" in err
    assert not list(tmp_path.glob(".names.txt.*.tmp"))  # the temporary file became the output
