"""Shared fixtures: a small made-up name language and a tiny model trained on it.

The language is regular on purpose (consonant-vowel syllables, two or three of them), so a model
that learns anything at all scores far below the uniform baseline of log(vocabulary size).
"""

from __future__ import annotations

import random

import pytest

try:  # the inference tests also run where torch is not installed (.ci/run)
    import torch
except ModuleNotFoundError:
    torch = None
else:  # tiny models run fastest on one thread, and a second thread only contends for the cores
    torch.set_num_threads(1)

CONSONANTS = "bdgklmnprst"
VOWELS = "aeiou"


def make_names(count: int = 300, seed: int = 0) -> list[str]:
    """Distinct made-up names of 2-3 consonant-vowel syllables."""
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < count:
        syllables = rng.choice((2, 2, 3))
        names["".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(syllables))] = None
    return list(names)


@pytest.fixture(scope="session")
def tiny_names() -> list[str]:
    return make_names()


@pytest.fixture(scope="session")
def names_file(tmp_path_factory, tiny_names) -> str:
    path = tmp_path_factory.mktemp("data") / "names.txt"
    path.write_text("\n".join(tiny_names) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="session")
def tiny_lstm(tmp_path_factory, tiny_names):
    """A small LSTM trained for a few hundred steps; returns (checkpoint path, TrainResult)."""
    from xiaming import TrainConfig, train
    from xiaming.data.corpus import NameList

    out = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    config = TrainConfig(max_steps=300, eval_interval=50, batch_size=32, seed=1)
    result = train(
        NameList(tiny_names, "made-up"), "lstm", out, config, size="tiny", log=lambda _m: None, progress_bar=False
    )
    return str(out), result


def run_cli(capsys, *argv):
    """(exit code, stdout, stderr) of `xiaming ARGV...` run in this process."""
    from xiaming.cli import main

    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err
