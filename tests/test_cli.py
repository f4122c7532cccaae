"""The command line end to end, in temporary directories: train, generate, corpora, and errors."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from xiaming.checkpoint import load_checkpoint
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
    code, stdout, err = run(
        capsys,
        "train",
        names_file,
        "--model",
        "gru",
        "--size",
        "tiny",
        "-o",
        str(out),
        "--max-steps",
        "150",
        "--eval-interval",
        "50",
        "--json",
    )
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
    assert code == 0 and set(rows) == {"jinyong", "gulong", "liangyusheng", "poets"}
    assert all(r["names"] > 0 for r in rows.values())


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "no names"),
        (b"only\n", "at least 2"),
        (b"ok\n\xc4\xe3\xba\xc3\n", "line 2: .*--encoding"),
    ],
)
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


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "MISSING.txt", "-o", "x.safetensors"], "no such file"),
        (["train", "NAMES", "--model", "lsmt", "-o", "x.safetensors"], "choose one of"),
        (["train", "NAMES", "--max-steps", "0", "-o", "x.safetensors"], "must be at least 1"),
        (["train", "NAMES", "--val-fraction", "2", "-o", "x.safetensors"], "--val-fraction"),
        (["generate", "MISSING.safetensors"], "no such checkpoint"),
        (["generate", "NAMES"], "not a xiaming checkpoint"),
        (["generate", "MODEL", "--temperature", "-1"], "--temperature"),
        (["generate", "MODEL", "-n", "abc"], "not a whole number"),
    ],
)
def test_errors_are_one_line_without_traceback(capsys, tmp_path, names_file, tiny_lstm, argv, message):
    argv = [{"NAMES": names_file, "MODEL": tiny_lstm[0]}.get(a, a) for a in argv]
    argv = [str(tmp_path / a) if a.endswith((".txt", ".safetensors")) and "/" not in a else a for a in argv]
    code, _, err = run(capsys, *argv)
    assert code in (1, 2)
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_console_entry_point_runs_as_a_module(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "xiaming", "generate", str(tmp_path / "none.safetensors")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "no such checkpoint" in proc.stderr and "Traceback" not in proc.stderr


def test_builtin_corpus_name_is_accepted_where_a_file_is(capsys, tmp_path):
    code, _, err = run(
        capsys,
        "train",
        "poets",
        "--size",
        "tiny",
        "-o",
        str(tmp_path / "p.safetensors"),
        "--max-steps",
        "5",
        "--eval-interval",
        "5",
        "--quiet",
    )
    assert code == 0, err
    from xiaming.checkpoint import load_checkpoint

    ckpt = load_checkpoint(tmp_path / "p.safetensors")
    assert ckpt.train["source"] == "builtin:poets" and "李白" in ckpt.names


def test_a_closed_pipe_ends_quietly(tiny_lstm):
    proc = subprocess.run(
        f"'{sys.executable}' -m xiaming generate '{tiny_lstm[0]}' -n 2000 --novelty off | head -1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert len(proc.stdout.split()) == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_ctrl_c_stops_cleanly_and_resume_continues(names_file, tmp_path):
    out = tmp_path / "m.safetensors"
    cmd = [
        sys.executable,
        "-m",
        "xiaming",
        "train",
        names_file,
        "--size",
        "tiny",
        "-o",
        str(out),
        "--max-steps",
        "1000000",
        "--eval-interval",
        "20",
        "--patience",
        "100000",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    state = tmp_path / "m.state.safetensors"
    deadline = time.time() + 60
    while not state.exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted; continue with --resume" in err and "Traceback" not in err
    stopped_at = int(re.search(r"at step (\d+)", err).group(1))
    resumed = subprocess.run(
        cmd[:-6] + ["--max-steps", str(stopped_at + 10), "--resume", "--json"], capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["steps"] == stopped_at + 10


def test_unwritable_output_fails_before_training(capsys, names_file, tmp_path):
    code, _, err = run(capsys, "train", names_file, "-o", str(tmp_path), "--max-steps", "1")
    assert code == 1 and "is a directory" in err and err.count("\n") == 1
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(capsys, "train", names_file, "-o", str(blocker / "m.safetensors"), "--max-steps", "1")
    assert code == 1 and "cannot write there" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--min-len", "100000"], "at most 64"),
        (["--temperature", "inf"], "between 0.01 and 100"),
        (["--temperature", "1e-40"], "between 0.01 and 100"),
    ],
)
def test_extreme_generation_values_are_refused(capsys, tiny_lstm, argv, message):
    code, _, err = run(capsys, "generate", tiny_lstm[0], *argv)
    assert code == 1 and message in err


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (["generate", "MODEL", "-n", "0"], 1, "-n 0: must be at least 1"),
        (["generate", "MODEL", "--top-k", "0"], 1, "--top-k 0: must be at least 1"),
        (["generate", "MODEL", "--top-k=0"], 1, "--top-k 0: must be at least 1"),
        (["generate", "MODEL", "--best", "0"], 1, "--best 0: must be at least 1"),
        (["train", "NAMES", "-o", "x.safetensors", "--batch-size", "0"], 1, "--batch-size 0: must be at least 1"),
        (["train", "NAMES", "-o", "x.safetensors", "--lr", "-1"], 1, "--lr -1.0: must be positive"),
        (["train", "NAMES", "-o", "x.safetensors", "--max-name-len", "0"], 1, "--max-name-len 0: must be at least 1"),
        (["train", "NAMES", "-o", "x.safetensors", "--size", "huge"], 1, "--size 'huge': choose one of"),
        (["train", "NAMES", "-o", "x.safetensors", "--init", "MODEL", "--dropout", "1.5"], 1, "--dropout 1.5"),
        (["generate", "MODEL", "-n", "abc"], 2, "not a whole number"),
        (["train", "NAMES", "-o", "x.safetensors", "--batch-size", "many"], 2, "not a whole number"),
        (["train", "NAMES"], 2, "required"),
        (["train", "NAMES", "-o", "x.safetensors", "--no-such-flag"], 2, "unrecognized arguments"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)
def test_one_exit_code_rule(capsys, tmp_path, names_file, tiny_lstm, argv, code, message):
    argv = [{"NAMES": names_file, "MODEL": tiny_lstm[0]}.get(a, a) for a in argv]
    argv = [str(tmp_path / a) if a.endswith(".safetensors") and "/" not in a else a for a in argv]
    got, _, err = run(capsys, *argv)
    assert got == code, err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_flag_is_named_as_the_user_typed_it(capsys, tmp_path, tiny_lstm, names_file):
    code, _, err = run(capsys, "eval", tiny_lstm[0], names_file, "--samples", "-1")
    assert code == 1 and "--samples -1: must be 0 or more" in err
    code, _, err = run(capsys, "train", names_file, "-o", str(tmp_path / "m.safetensors"), "--max-n", "0")
    assert code == 1 and "--max-n 0: must be at least 1" in err


def test_no_command_is_a_malformed_command_line(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "usage" in err


def test_long_lines_are_skipped_with_their_line_numbers(capsys, tmp_path, tiny_names):
    p = tmp_path / "n.txt"
    lines = list(tiny_names[:50])
    lines.insert(3, "x" * 100_000)
    lines.insert(10, "y" * 33)
    p.write_text("\n".join(lines), encoding="utf-8")
    out = tmp_path / "m.safetensors"
    code, _, err = run(capsys, "train", str(p), "-o", str(out), "--size", "tiny", "--max-steps", "2", "--quiet")
    assert code == 0, err
    assert "warning: " in err and "skipped 2 lines longer than 32 characters (lines 4, 11)" in err
    saved = load_checkpoint(out)
    assert saved.train["data"]["names"] == 50 and saved.train["max_name_len"] <= 32
    code, _, err = run(
        capsys,
        "train",
        str(p),
        "-o",
        str(out),
        "--size",
        "tiny",
        "--max-steps",
        "2",
        "--quiet",
        "--force",
        "--max-name-len",
        "40",
    )
    assert code == 0 and "skipped 1 line longer than 40 characters (line 4)" in err


def test_an_encoding_that_was_given_is_not_told_to_pass_encoding(capsys, tmp_path):
    p = tmp_path / "n.txt"
    p.write_bytes("张三\n李四\n".encode("utf-8") + b"\xff\xff\n")
    code, _, err = run(capsys, "train", str(p), "-o", str(tmp_path / "m.safetensors"), "--encoding", "gbk")
    assert code == 1 and err.count("\n") == 1
    assert "line 3" in err and "not valid gbk" in err and "pass --encoding" not in err


def test_a_checkpoint_with_a_damaged_kind_is_a_damaged_file_not_a_bad_flag(capsys, tmp_path, tiny_lstm):
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(tiny_lstm[0], framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        metadata = {**f.metadata(), "kind": "lstmm"}
    bad = tmp_path / "bad.safetensors"
    save_file(tensors, str(bad), metadata=metadata)
    for argv in (["generate", str(bad)], ["eval", str(bad), "jinyong", "-n", "0"], ["models", str(bad)]):
        code, _, err = run(capsys, *argv)
        assert code == 1 and str(bad) in err and "damaged" in err and "--model" not in err, (argv, err)


def test_models_lists_shipped_and_given_checkpoints(capsys, tiny_lstm):
    code, out, err = run(capsys, "models", tiny_lstm[0], "--json")
    assert code == 0, err
    rows = {r["name"]: r for r in json.loads(out)}
    assert {"jinyong", "gulong", "poets", "base", tiny_lstm[0]} <= set(rows)
    assert rows["jinyong"]["base"] == "base" and rows["jinyong"]["data"] == "builtin:jinyong"
    assert rows["jinyong"]["blend"] == {"model": "base", "weight": 0.35} and rows["gulong"]["blend"] is None
    mine = rows[tiny_lstm[0]]
    assert mine["kind"] == "lstm" and mine["names"] == 300 and mine["parameters"] > 0 and mine["data"] == "made-up"
    code, out, _ = run(capsys, "models")
    assert code == 0 and "base" in out and "fine-tuned from base" in out and "parameters" in out
    assert "jinyong" in out and "generates blended with base (0.35)" in out.splitlines()[0]


def test_models_reads_a_given_checkpoint_whole_and_names_damage_in_its_weights(capsys, tmp_path, tiny_lstm):
    # before, `models` read the metadata only and listed a file whose weights were damaged as a good one
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(tiny_lstm[0], framework="pt") as f:
        tensors = {k: f.get_tensor(k).clone() for k in f.keys()}
        metadata = f.metadata()
    weight = next(k for k, t in tensors.items() if t.is_floating_point())
    tensors[weight].view(-1)[0] = float("nan")
    bad = tmp_path / "nan.safetensors"
    save_file(tensors, str(bad), metadata=metadata)
    code, out, err = run(capsys, "models", str(bad))
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert str(bad) in err and f"damaged tensor {weight}: holds NaN" in err


def test_every_train_flag_has_help_and_its_default(capsys):
    from xiaming.cli import build_parser

    parser = build_parser()
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    for action in train_parser._actions:
        if action.dest in ("help", "names", "output") or action.const is True:  # no value, or required
            assert action.help, action.dest
            continue
        assert action.help and "default" in action.help, action.dest
    assert parser.parse_args(["train", "x", "-o", "y"]).device == "auto"


def test_score_and_eval_skip_names_over_the_length_limit(capsys, tmp_path, tiny_lstm):
    code, out, err = run(capsys, "score", "bada", "x" * 100_000, "kelo", "--model", tiny_lstm[0], "--json")
    assert code == 0, err
    assert [row["name"] for row in json.loads(out)["names"]] == ["bada", "kelo"]
    assert "skipped 1 name longer than 32 characters (name 2)" in err
    code, _, err = run(capsys, "score", "y" * 40, "--model", tiny_lstm[0], "--max-name-len", "39")
    assert code == 1 and "--max-name-len 39" in err and err.count("\n") == 2  # the warning, then the error
    p = tmp_path / "held.txt"
    p.write_text("bada\n" + "z" * 100_000 + "\nkelo\n", encoding="utf-8")
    code, out, err = run(capsys, "eval", tiny_lstm[0], str(p), "-n", "0", "--json")
    assert code == 0 and json.loads(out)["names"] == 2 and "(line 2)" in err


def test_every_command_defaults_to_the_same_device():
    from xiaming.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    defaults = {
        name: action.default for name, sub in commands.items() for action in sub._actions if action.dest == "device"
    }
    assert {"train", "generate", "score", "eval"} <= set(defaults)
    assert set(defaults.values()) == {"auto"}, defaults


def test_streams_devices_and_unreadable_files_are_one_line(capsys, tmp_path, tiny_lstm):
    cases = [
        (["train", "-", "--stream", "-o", str(tmp_path / "m.safetensors")], "-: --stream reads its file twice"),
        (["train", "/dev/zero", "-o", str(tmp_path / "m.safetensors")], "/dev/zero: is a device or socket"),
        (["score", "--model", tiny_lstm[0], "--file", str(tmp_path)], f"--file {tmp_path}: is a directory"),
        (["score", "--model", tiny_lstm[0], "--file", "/dev/zero"], "--file /dev/zero: is a device or socket"),
        (["generate", "/dev/zero"], "/dev/zero: not a regular file"),
    ]
    if os.path.exists("/proc/self/mem"):
        cases.append(
            (["score", "--model", tiny_lstm[0], "--file", "/proc/self/mem"], "/proc/self/mem line 1: cannot read it (")
        )
    for argv, words in cases:
        code, _, err = run(capsys, *argv)
        assert code == 1 and err.count("\n") == 1 and words in err and "Traceback" not in err, (argv, err)


def test_score_file_skips_a_long_line_by_its_number_without_reading_it_whole(capsys, tmp_path, tiny_lstm):
    names = tmp_path / "names.txt"
    names.write_text("bada\n" + "x" * 3_000_000 + "\nkila\n", encoding="utf-8")
    code, out, err = run(capsys, "score", "--model", tiny_lstm[0], "--file", str(names), "--json")
    assert code == 0 and [r["name"] for r in json.loads(out)["names"]] == ["bada", "kila"]
    assert f"--file {names}: skipped 1 line longer than 32 characters (line 2)" in err
