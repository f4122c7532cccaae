"""Data-parallel training on CPU with two gloo processes: the same weights as one process on the
whole batch, exact resume (also of a streamed run), and a clear end when one process dies."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from conftest import make_names
from ranks import join_pair

from xiaming import TrainConfig, train
from xiaming.checkpoint import load_checkpoint, read_tensors, state_path
from xiaming.data.corpus import NameList
from xiaming.training.parallel import SOLO, Group, all_sum, main_first
from xiaming.training.stream import StreamedNames

QUIET = {"log": lambda _m: None, "progress_bar": False}
# tiny LSTM, no dropout; the once-seen characters exercise the unknown-character noise
CONFIG = TrainConfig(max_steps=30, eval_interval=10, batch_size=15, seed=3)
STOP_AT = 17


def _names() -> list[str]:
    return make_names(200, seed=4) + ["齐天", "大圣", "悟空", "八戒", "沙僧", "唐僧"]


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _weights(path) -> dict[str, torch.Tensor]:
    tensors, _ = read_tensors(state_path(path), expected_format="xiaming-train-state")
    return {k: v for k, v in tensors.items() if k.startswith(("model.", "best."))}


def _rank(rank: int, job: str, port: int, folder: str) -> None:
    """One of two ranks of one run (a fresh process per run, one process group each, as under torchrun):
    `straight` trains on names in memory; `cut` and `resume` train streamed, stopped and continued."""
    join_pair(rank, port)
    d = Path(folder)
    if job == "straight":
        train(NameList(_names(), "made-up"), "lstm", d / "ddp.safetensors", CONFIG, size="tiny", **QUIET)
        return
    with StreamedNames(d / "names.txt") as streamed:
        if job == "cut":
            cut = train(
                streamed,
                "lstm",
                d / "cut.safetensors",
                CONFIG,
                size="tiny",
                should_stop=lambda step: step == STOP_AT,
                **QUIET,
            )
            assert cut.stopped == "interrupted" and cut.step == STOP_AT
        else:
            resumed = train(streamed, "lstm", d / "cut.safetensors", CONFIG, resume=True, **QUIET)
            assert resumed.step == CONFIG.max_steps


def test_two_ranks_match_one_process_and_resume_exactly(tmp_path):
    (tmp_path / "names.txt").write_text("\n".join(_names()) + "\n", encoding="utf-8")
    for job in ("straight", "cut", "resume"):
        mp.spawn(_rank, args=(job, _free_ports(1)[0], str(tmp_path)), nprocs=2)
    train(NameList(_names(), "made-up"), "lstm", tmp_path / "one.safetensors", CONFIG, size="tiny", **QUIET)
    one, ddp, resumed = (_weights(tmp_path / f"{n}.safetensors") for n in ("one", "ddp", "cut"))
    assert one.keys() == ddp.keys() == resumed.keys()
    for key in one:
        # gradients summed in another order: equal up to float rounding, and far from the start
        torch.testing.assert_close(ddp[key], one[key], rtol=1e-4, atol=1e-5, msg=key)
        assert torch.equal(resumed[key], ddp[key]), key  # streamed, cut and resumed: bit for bit
    assert (
        load_checkpoint(tmp_path / "ddp.safetensors").train["step"]
        == load_checkpoint(tmp_path / "one.safetensors").train["step"]
    )
    # only rank 0 wrote, and nothing is left behind (no lock, no temporary file)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [
            "names.txt",
            "one.safetensors",
            "one.state.safetensors",
            "ddp.safetensors",
            "ddp.state.safetensors",
            "cut.safetensors",
            "cut.state.safetensors",
        ]
    )


CRASHING_RANK = textwrap.dedent("""
    import importlib, os, sys
    import torch
    from xiaming.cli import main

    t = importlib.import_module("xiaming.training.loop")

    torch.set_num_threads(1)
    if os.environ["RANK"] == "1":  # rank 1 dies without a word at step 25 (after the state of step 20)
        original = t.train
        def dying(*args, **kwargs):
            kwargs["should_stop"] = lambda step: step == 25 and os._exit(3)
            return original(*args, **kwargs)
        t.train = dying
    sys.exit(main(sys.argv[1:]))
""")


def test_a_rank_that_dies_ends_the_run_with_one_line_and_a_resumable_state(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(_names()) + "\n", encoding="utf-8")
    script = tmp_path / "crash.py"
    script.write_text(CRASHING_RANK, encoding="utf-8")
    out = tmp_path / "m.safetensors"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "XIAMING_DIST_TIMEOUT": "30"}
    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:  # a file, not a pipe: a hung worker cannot keep the test waiting on it
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--nproc_per_node",
                "2",
                "--master_port",
                str(_free_ports(1)[0]),
                str(script),
                "train",
                str(names),
                "-o",
                str(out),
                "--size",
                "tiny",
                "--max-steps",
                "60",
                "--eval-interval",
                "10",
                "--batch-size",
                "16",
                "--quiet",
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            start_new_session=True,
        )
        try:
            returncode = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert returncode != 0
    stderr = log.read_text()
    ours = [line for line in stderr.splitlines() if line.startswith("xiaming train: error:")]
    assert len(ours) == 1, stderr
    assert "rank 0 of 2 stopped at step 2" in ours[0] and "state saved at step 20" in ours[0], ours[0]
    assert "--resume" in ours[0]
    # the state is whole and continues in one process
    result = train(NameList(_names(), str(names)), None, out, resume=True, **QUIET)
    assert result.step == 60 and load_checkpoint(out).train["step"] <= 60


def test_shards_cover_every_row_once():
    for world in (1, 2, 3, 7):
        rows = [r for rank in range(world) for r in range(*Group(rank, world, torch.device("cpu"), None).shard(15))]
        assert rows == list(range(15))


def test_a_group_of_one_needs_no_process_group():
    assert all_sum(SOLO, [1.5, 2.0]) == [1.5, 2.0]
    assert main_first(SOLO, lambda: 7) == 7


def test_sigterm_becomes_one_error_and_none_once_the_rank_has_chosen_its_report():
    """torchrun sends SIGTERM to the surviving ranks when one fails; a rank already reporting its own
    error (a lost peer) must not have that report replaced by a second exception mid-way."""
    from xiaming.training.parallel import RunStopped, Signals

    before = signal.getsignal(signal.SIGTERM)
    with Signals(term=True) as switch:
        with pytest.raises(RunStopped, match="torchrun ended this process"):  # one line at the CLI
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        assert not switch.armed
        os.kill(os.getpid(), signal.SIGTERM)  # disarmed: ignored, the process goes on
        time.sleep(0.2)
    assert signal.getsignal(signal.SIGTERM) == before  # the previous handler is back
