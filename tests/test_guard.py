"""Output guards and fault tests: no run destroys data it was not told to replace.

Same input and output, an existing output, two writers at once, `kill -9` during training and
Ctrl-C at any moment: each leaves every file it did not own as it was, and a resumable state.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from xiaming import TrainConfig, train
from xiaming.checkpoint import load_checkpoint, read_tensors
from xiaming.cli import main
from xiaming.data.corpus import NameList
from xiaming.errors import ConfigError
from xiaming.training.guard import OutputBusy, OutputLock, check_not_input, check_replace, lock_path

QUIET = {"log": lambda _m: None, "progress_bar": False}
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _wait_for(path, proc, seconds=120):
    """Wait until `path` exists (or the process ended); no timing is asserted."""
    deadline = time.time() + seconds
    while not path.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"{path} never appeared"


def _train_cmd(names_file, out, *extra):
    return [
        sys.executable,
        "-m",
        "xiaming",
        "train",
        str(names_file),
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
        *extra,
    ]


def test_output_that_is_the_input_is_refused_after_resolving(tmp_path, monkeypatch):
    names = tmp_path / "names.txt"
    names.write_text("anna\nbob\n", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(names)
    monkeypatch.chdir(tmp_path)
    for out in (names, tmp_path / "sub" / ".." / "names.txt", link, "names.txt"):
        with pytest.raises(ConfigError, match="is the names file being trained on"):
            check_not_input([Path(out)], [str(names)])
    check_not_input([tmp_path / "m.safetensors"], [str(names), "builtin:jinyong"])  # no error


def test_train_into_its_own_names_file_keeps_the_file(capsys, tmp_path, tiny_names):
    names = tmp_path / "five.txt"
    names.write_text("\n".join(tiny_names), encoding="utf-8")
    before = names.read_bytes()
    code, _, err = run(capsys, "train", names, "-o", names, "--max-steps", "2", "--force")
    assert code == 1 and "is the names file being trained on" in err and err.count("\n") == 1
    assert names.read_bytes() == before
    with pytest.raises(ConfigError, match="names file"):
        train(
            NameList(tiny_names, str(names)), "lstm", names, TrainConfig(max_steps=1), size="tiny", force=True, **QUIET
        )
    assert names.read_bytes() == before


def test_an_existing_output_is_replaced_only_with_force_or_resume(capsys, tmp_path, names_file, tiny_lstm):
    out = tmp_path / "good.safetensors"
    out.write_bytes(open(tiny_lstm[0], "rb").read())
    before = out.read_bytes()
    code, _, err = run(capsys, "train", names_file, "-o", out, "--size", "tiny", "--max-steps", "2")
    assert code == 1 and "already exists" in err and "--force" in err and err.count("\n") == 1
    assert out.read_bytes() == before
    code, _, err = run(
        capsys,
        "train",
        names_file,
        "-o",
        out,
        "--size",
        "tiny",
        "--max-steps",
        "2",
        "--eval-interval",
        "1",
        "--force",
        "--quiet",
    )
    assert code == 0, err
    assert out.read_bytes() != before and load_checkpoint(out).train["step"] <= 2
    code, _, err = run(capsys, "train", names_file, "-o", out, "--max-steps", "4", "--resume", "--quiet")
    assert code == 0, err
    check_replace([tmp_path / "absent.safetensors"], force=False, resume=False)  # nothing to replace: fine


def test_a_second_writer_fails_at_once_while_the_first_holds_the_lock(tmp_path, names_file):
    out = tmp_path / "m.safetensors"
    first = subprocess.Popen(
        _train_cmd(names_file, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )
    try:
        _wait_for(lock_path(out), first)
        second = subprocess.run(
            _train_cmd(names_file, out, "--force"), capture_output=True, text=True, env=ENV, timeout=120
        )
        assert second.returncode == 1, second.stderr
        assert "another training run is writing it" in second.stderr and f"pid {first.pid}" in second.stderr
        assert second.stderr.count("\n") == 1
        assert first.poll() is None  # the first run goes on
    finally:
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=120)
    assert first.returncode == 130, err
    assert not lock_path(out).exists()  # released on the way out
    assert load_checkpoint(out).kind == "lstm"


def test_lock_is_exclusive_in_one_process_and_released_on_error(tmp_path):
    out = tmp_path / "m.safetensors"
    with OutputLock(out):
        owner = json.loads(lock_path(out).read_text())
        assert owner["pid"] == os.getpid()
        with pytest.raises(OutputBusy, match="another training run"):
            OutputLock(out).acquire()
    assert not lock_path(out).exists()
    with pytest.raises(RuntimeError):
        with OutputLock(out):
            raise RuntimeError("boom")
    assert not lock_path(out).exists()


def test_a_stale_lock_of_a_killed_process_is_taken_over_with_a_note(tmp_path):
    out = tmp_path / "m.safetensors"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys, time
        from xiaming.training.guard import OutputLock
        lock = OutputLock({str(out)!r})
        lock.acquire()
        print("locked", flush=True)
        time.sleep(600)
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(OutputBusy, match=f"pid {holder.pid}"):
        OutputLock(out).acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)
    assert lock_path(out).exists()  # kill -9 leaves the file behind
    notes = []
    with OutputLock(out, note=notes.append):
        assert json.loads(lock_path(out).read_text())["pid"] == os.getpid()
    assert len(notes) == 1 and "no longer running" in notes[0] and f"pid {holder.pid}" in notes[0]


def _saved_step(state) -> int:
    """The step a training state was saved at."""
    _, metadata = read_tensors(state, expected_format="xiaming-train-state")
    return json.loads(metadata["progress"])["step"]


def test_kill_9_during_training_keeps_the_checkpoint_and_the_run_resumes(tmp_path, names_file):
    out = tmp_path / "m.safetensors"
    state = tmp_path / "m.state.safetensors"
    proc = subprocess.Popen(
        _train_cmd(names_file, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )
    _wait_for(state, proc)
    time.sleep(0.5)  # let it write a few more times, so the kill may land in the middle of one
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert load_checkpoint(out).train["step"] >= 20  # intact: every write is a temp file + rename
    step = _saved_step(state)
    resumed = subprocess.run(
        [*_train_cmd(names_file, out)[:-6], "--max-steps", str(step + 40), "--resume", "--json"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "taking over the lock" in resumed.stderr and "Traceback" not in resumed.stderr
    assert json.loads(resumed.stdout)["steps"] == step + 40


@pytest.mark.parametrize("moment", ["lock", "state"])
def test_ctrl_c_at_any_point_exits_130_with_a_resumable_state(tmp_path, names_file, moment):
    out = tmp_path / "m.safetensors"
    proc = subprocess.Popen(
        _train_cmd(names_file, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )
    _wait_for(lock_path(out) if moment == "lock" else tmp_path / "m.state.safetensors", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and not lock_path(out).exists()
    if out.exists():  # interrupted after setup: a model and a state to continue from
        step = _saved_step(tmp_path / "m.state.safetensors")
        resumed = subprocess.run(
            [*_train_cmd(names_file, out)[:-6], "--max-steps", str(step + 20), "--resume", "--json"],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=300,
        )
        assert resumed.returncode == 0, resumed.stderr
    else:  # interrupted before anything was written: nothing to lose, and a fresh run may start
        assert moment == "lock" and not (tmp_path / "m.state.safetensors").exists()


def test_train_releases_the_lock_when_it_fails_after_taking_it(tmp_path, tiny_names):
    data = NameList(tiny_names, "x")
    out = tmp_path / "m.safetensors"
    train(data, "lstm", out, TrainConfig(max_steps=2, eval_interval=1), size="tiny", **QUIET)
    with pytest.raises(ConfigError, match="differs"):  # refused inside the lock
        train(data, "gru", out, TrainConfig(max_steps=4, eval_interval=1), resume=True, **QUIET)
    with pytest.raises(ConfigError, match="already exist"):
        train(data, "lstm", out, TrainConfig(max_steps=2), size="tiny", **QUIET)
    assert not lock_path(out).exists()
    assert train(data, None, out, TrainConfig(max_steps=4, eval_interval=1), resume=True, **QUIET).step == 4
