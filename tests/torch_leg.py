"""torch for the tests that compare against it, skipped where it is missing, except in CI's torch leg.

The numpy engines are held to torch (tests/test_engine.py): without torch those tests can only
skip, and a skip reads as a pass. `.ci/run` sets XIAMING_REQUIRE_TORCH=1 for its torch leg, so a
missing or broken torch there fails the run instead; elsewhere (a checkout without the train extra)
the tests skip as before. The torch-free leg runs tests/test_inference.py, which needs no torch.
"""

from __future__ import annotations

import os

import pytest

REQUIRE = "XIAMING_REQUIRE_TORCH"  # "1": a missing torch fails (CI's torch leg) instead of skipping


def import_torch():
    """The torch module; where it is missing, skip the calling test (or module), or fail when REQUIRE is set."""
    if os.environ.get(REQUIRE) == "1":
        import torch  # a ModuleNotFoundError here fails the test, or the collection of its module

        return torch
    return pytest.importorskip("torch")
