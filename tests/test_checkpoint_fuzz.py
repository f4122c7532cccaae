"""Fuzzed checkpoints: every mutation of a valid small checkpoint (header bytes, metadata keys, types,
values and nesting, tensor names, shapes, dtypes and values) either loads and generates or is refused
with a CheckpointError, never another exception (tests/checkpoint_mutations.py says what is mutated).

The example count is kept small so the file runs in a few seconds; benchmarks/fuzz_checkpoints.py runs
thousands of the same cases and prints how many loaded and how many were refused.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from checkpoint_mutations import make_bases, mutate, outcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = 60  # per test; the benchmark runs 2,000 and more


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    return [(path, path.read_bytes()) for path in make_bases(tmp_path_factory.mktemp("bases"))]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def test_every_base_loads_and_generates(bases):
    assert [outcome(path, torch_too=True) for path, _ in bases] == ["loaded"] * len(bases)


@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_mutated_checkpoint_loads_and_generates_or_is_refused_typed(bases, scratch, data):
    path, raw = data.draw(st.sampled_from(bases))
    target = Path(tempfile.mkstemp(suffix=".safetensors", dir=scratch)[1])
    try:
        target.write_bytes(mutate(data, raw))
        assert outcome(target) in ("loaded", "refused")
    finally:
        target.unlink()
