"""The command line end to end, in temporary directories: train, generate, corpora, and errors."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from xiaming.cli import main


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's exits for bad flags and --help
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_train_then_generate_new_names(capsys, names_file, tmp_path, tiny_names):
    out = tmp_path / "m.safetensors"
    code, stdout, err = run(capsys, "train", names_file, "--model", "gru", "--size", "tiny", "-o", str(out),
                            "--max-steps", "150", "--eval-interval", "50", "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["steps"] == 150 and report["best_val_bits"] > 0 and out.is_file()
    code, stdout, err = run(capsys, "generate", str(out), "-n", "15", "--seed", "3")
    assert code == 0, err
    names = stdout.split()
    assert len(names) == 15 and len(set(names)) == 15
    assert not set(names) & set(tiny_names)
    code, again, _ = run(capsys, "generate", str(out), "-n", "15", "--seed", "3")
    assert again == stdout  # seeded output is reproducible


def test_generate_json_and_novelty_off_allows_training_names(capsys, tiny_lstm, tiny_names):
    code, stdout, _ = run(capsys, "generate", tiny_lstm[0], "-n", "200", "--seed", "0", "--novelty", "off", "--json")
    data = json.loads(stdout)
    names = [row["name"] for row in data["names"]]
    assert code == 0 and data["found"] == len(names) == 200
    assert set(names) & set(tiny_names)  # without novelty filtering some training names come back


def test_generate_says_when_it_cannot_find_enough(capsys, tiny_lstm):
    code, stdout, err = run(capsys, "generate", tiny_lstm[0], "-n", "50", "--max-len", "1", "--seed", "0")
    assert code == 0
    assert len(stdout.split()) < 50 and "found only" in err


def test_corpora_listing(capsys):
    code, stdout, _ = run(capsys, "corpora", "--json")
    rows = {r["name"]: r for r in json.loads(stdout)}
    assert code == 0 and set(rows) == {"jinyong", "gulong", "poets"}
    assert all(r["names"] > 0 for r in rows.values())


@pytest.mark.parametrize("content, message", [
    (b"", "no names"),
    (b"only\n", "at least 2"),
    (b"ok\n\xc4\xe3\xba\xc3\n", "line 2: .*--encoding"),
])
def test_bad_names_files(capsys, tmp_path, content, message):
    p = tmp_path / "n.txt"
    p.write_bytes(content)
    code, _, err = run(capsys, "train", str(p), "-o", str(tmp_path / "m.safetensors"))
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(message, err), err


def test_failed_training_leaves_an_existing_checkpoint_untouched(capsys, tmp_path, tiny_lstm):
    out = tmp_path / "keep.safetensors"
    out.write_bytes(open(tiny_lstm[0], "rb").read())
    before = out.read_bytes()
    p = tmp_path / "bad.txt"
    p.write_bytes(b"\xff\xfe\xfd\n")
    code, _, _ = run(capsys, "train", str(p), "-o", str(out))
    assert code == 1 and out.read_bytes() == before


@pytest.mark.parametrize("argv, message", [
    (["train", "MISSING.txt", "-o", "x.safetensors"], "no such file"),
    (["train", "NAMES", "--model", "lsmt", "-o", "x.safetensors"], "choose one of"),
    (["train", "NAMES", "--max-steps", "0", "-o", "x.safetensors"], "must be at least 1"),
    (["train", "NAMES", "--val-fraction", "2", "-o", "x.safetensors"], "--val-fraction"),
    (["generate", "MISSING.safetensors"], "no such checkpoint"),
    (["generate", "NAMES"], "not a xiaming checkpoint"),
    (["generate", "MODEL", "--temperature", "-1"], "--temperature"),
    (["generate", "MODEL", "-n", "abc"], "not a whole number"),
])
def test_errors_are_one_line_without_traceback(capsys, tmp_path, names_file, tiny_lstm, argv, message):
    argv = [{"NAMES": names_file, "MODEL": tiny_lstm[0]}.get(a, a) for a in argv]
    argv = [str(tmp_path / a) if a.endswith((".txt", ".safetensors")) and "/" not in a else a for a in argv]
    code, _, err = run(capsys, *argv)
    assert code in (1, 2)
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_console_entry_point_runs_as_a_module(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "xiaming", "generate", str(tmp_path / "none.safetensors")],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "no such checkpoint" in proc.stderr and "Traceback" not in proc.stderr


def test_builtin_corpus_name_is_accepted_where_a_file_is(capsys, tmp_path):
    code, _, err = run(capsys, "train", "poets", "--size", "tiny", "-o", str(tmp_path / "p.safetensors"),
                       "--max-steps", "5", "--eval-interval", "5", "--quiet")
    assert code == 0, err
    from xiaming.checkpoint import load_checkpoint
    ckpt = load_checkpoint(tmp_path / "p.safetensors")
    assert ckpt.train["source"] == "builtin:poets" and "李白" in ckpt.names


def test_a_closed_pipe_ends_quietly(tiny_lstm):
    proc = subprocess.run(f"'{sys.executable}' -m xiaming generate '{tiny_lstm[0]}' -n 2000 --novelty off | head -1",
                          shell=True, capture_output=True, text=True)
    assert len(proc.stdout.split()) == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_ctrl_c_stops_cleanly_and_resume_continues(names_file, tmp_path):
    out = tmp_path / "m.safetensors"
    cmd = [sys.executable, "-m", "xiaming", "train", names_file, "--size", "tiny", "-o", str(out),
           "--max-steps", "1000000", "--eval-interval", "20", "--patience", "100000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    state = tmp_path / "m.state.safetensors"
    deadline = time.time() + 60
    while not state.exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted; continue with --resume" in err and "Traceback" not in err
    stopped_at = int(re.search(r"at step (\d+)", err).group(1))
    resumed = subprocess.run(cmd[:-6] + ["--max-steps", str(stopped_at + 10), "--resume", "--json"],
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["steps"] == stopped_at + 10


def test_unwritable_output_fails_before_training(capsys, names_file, tmp_path):
    code, _, err = run(capsys, "train", names_file, "-o", str(tmp_path), "--max-steps", "1")
    assert code == 1 and "is a directory" in err and err.count("\n") == 1
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(capsys, "train", names_file, "-o", str(blocker / "m.safetensors"), "--max-steps", "1")
    assert code == 1 and "cannot write there" in err


@pytest.mark.parametrize("argv, message", [
    (["--min-len", "100000"], "at most 64"),
    (["--temperature", "inf"], "between 0.01 and 100"),
    (["--temperature", "1e-40"], "between 0.01 and 100"),
])
def test_extreme_generation_values_are_refused(capsys, tiny_lstm, argv, message):
    code, _, err = run(capsys, "generate", tiny_lstm[0], *argv)
    assert code == 1 and message in err
