"""Golden weights: a fixed-seed training run gives bit-identical weights before and after a change
to the training code (issue 21: training as one package).

Short runs of tiny models on CPU, each digested tensor by tensor (sha256 of the bytes of the
last and the best weights in the resumable state): in one process, in two processes (gloo, the
batch split across ranks), streamed from a file, fine-tuned from the first (`init`, a grown vocabulary), and a GRU run cut
at step 6 and resumed, and an LSTM with dropout cut and resumed. The digests were recorded on the code before
the training package was merged; a run that computes anything differently (another batch draw,
another noise stream, another order of operations) changes them.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from conftest import make_names
from ranks import join_pair

from xiaming.checkpoint import read_tensors, state_path
from xiaming.data.corpus import NameList

QUIET = {"log": lambda _m: None, "progress_bar": False}
STEPS, EVAL, BATCH, SEED = 12, 4, 15, 5  # a few steps; the once-seen characters exercise the unknown noise


def _config():
    from xiaming import TrainConfig

    return TrainConfig(max_steps=STEPS, eval_interval=EVAL, batch_size=BATCH, seed=SEED, warmup_steps=3)


def _names() -> list[str]:
    return make_names(120, seed=7) + ["齐天", "大圣", "悟空", "八戒"]


def digest(path: Path) -> str:
    """One sha256 over the names, dtypes, shapes and bytes of the state's `model.` and `best.` tensors."""
    tensors, _ = read_tensors(state_path(path), expected_format="xiaming-train-state")
    h = hashlib.sha256()
    for key in sorted(k for k in tensors if k.startswith(("model.", "best."))):
        t = tensors[key].contiguous()
        h.update(f"{key} {t.dtype} {tuple(t.shape)}\n".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


GOLDEN = {
    "one": "dbd8df18d267f766ee982c0003455f35cee89592da8932c8ab3c06d134525743",
    "two": "71f734ceec70773f35c86d40809b2e564887bc6937b8fc79cb22cfcb137cd42a",
    "finetuned": "03c27d5f0d40a775e3bd3ff7ed0bc3195a6702c7bd4f2aa3f8769548ffb00fed",
    "resumed": "c2f81a84c68dee1a3915da0e3981cb36f8d877082d495f0c5e59062e58ea791b",
    # recorded on c8845d0 (the code before the package) after this golden test was first committed
    "dropout": "a6e939b0520477d01a8e89a2c5e2febeeec38e1e36372dde8ccb85ddf810bca0",
    "streamed": "dbd8df18d267f766ee982c0003455f35cee89592da8932c8ab3c06d134525743",  # as one process
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank: int, port: int, folder: str) -> None:
    from xiaming import train

    join_pair(rank, port)
    train(NameList(_names(), "made-up"), "lstm", Path(folder) / "two.safetensors", _config(), size="tiny", **QUIET)


def _run_all(tmp_path: Path) -> dict[str, str]:
    from xiaming import train
    from xiaming.training.stream import StreamedNames

    train(NameList(_names(), "made-up"), "lstm", tmp_path / "one.safetensors", _config(), size="tiny", **QUIET)
    more = NameList(_names()[:60] + ["孙行者", "白龙马"], "more")  # new characters: the vocabulary grows
    train(more, None, tmp_path / "finetuned.safetensors", _config(), init=tmp_path / "one.safetensors", **QUIET)
    train(more, "gru", tmp_path / "resumed.safetensors", _config(), size="tiny", should_stop=lambda s: s == 6, **QUIET)
    train(more, "gru", tmp_path / "resumed.safetensors", _config(), resume=True, **QUIET)
    dropout = {"n_embd": 16, "n_hidden": 32, "dropout": 0.3}  # the global random stream, restored on resume
    train(
        NameList(_names(), "made-up"),
        "lstm",
        tmp_path / "dropout.safetensors",
        _config(),
        size="small",
        model_overrides=dropout,
        should_stop=lambda s: s == 6,
        **QUIET,
    )
    train(NameList(_names(), "made-up"), "lstm", tmp_path / "dropout.safetensors", _config(), resume=True, **QUIET)
    mp.spawn(_rank, args=(_free_port(), str(tmp_path)), nprocs=2)
    names = tmp_path / "names.txt"
    names.write_text("\n".join(_names()) + "\n", encoding="utf-8")
    with StreamedNames(names) as streamed:
        train(streamed, "lstm", tmp_path / "streamed.safetensors", _config(), size="tiny", **QUIET)
    return {run: digest(tmp_path / f"{run}.safetensors") for run in GOLDEN}


@pytest.mark.skipif(torch.__version__.split("+")[0] != "2.13.0", reason="digests recorded with torch 2.13.0")
def test_training_gives_the_recorded_weights_bit_for_bit(tmp_path):
    assert _run_all(tmp_path) == GOLDEN
