"""Inference engines: what computes next-character logits for the sampler, the search and the scorer.

Every engine honours `protocol.Engine`. The numpy engines (`rnn.py` for rnn/lstm/gru,
`transformer.py`, `counts.py` for ngram and minchar) read the same safetensors checkpoints that
torch trains, with `safetensors.numpy`, and never import torch; `torch_engine.py` puts a torch model
behind the same contract (GPU inference, and the reference the numpy engines are tested against).
`build_engine` builds the numpy engine the model registry names for a stored checkpoint's kind
(`models.ModelSpec.engine`; `ENGINES` is that column of the registry).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from ..errors import CheckpointError
from ..models import MODELS
from .protocol import OVERFLOW, Engine, State, log_softmax

if TYPE_CHECKING:
    from ..checkpoint import StoredModel

ENGINES: dict[str, Callable[[dict, dict[str, np.ndarray]], Engine]] = {
    kind: spec.engine for kind, spec in MODELS.items() if spec.engine is not None
}  # the registry's engines, by kind


def build_engine(stored: StoredModel) -> Engine:
    """The numpy engine of a stored checkpoint; a damaged or mismatched file is a CheckpointError."""
    if stored.kind not in ENGINES:
        raise CheckpointError(f"{stored.path}: damaged checkpoint metadata (unknown model kind {stored.kind!r})")
    try:
        engine = ENGINES[stored.kind](stored.config, stored.arrays)
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise CheckpointError(f"{stored.path}: weights do not match the stored config ({exc})") from None
    if engine.vocab_size != stored.vocab.size:
        raise CheckpointError(
            f"{stored.path}: the model has {engine.vocab_size} ids but the vocabulary {stored.vocab.size}"
        )
    # finite weights (checked at reading) can still overflow: one step from the start shows it, before any real use
    with np.errstate(all="ignore"):
        logits, _ = engine.step(np.zeros(1, dtype=np.int64), engine.initial_state(1))
    if not np.isfinite(logits).all():
        raise CheckpointError(f"{stored.path}: weights: {OVERFLOW}", path=stored.path, field="weights")
    return engine


def as_engine(model, vocab_size: int, window: int | None = None) -> Engine:
    """`model` itself if it is an Engine; a torch model (training code, tests) behind `TorchEngine`."""
    if isinstance(model, Engine):
        return model
    from .torch_engine import TorchEngine

    return TorchEngine(model, vocab_size, window)


__all__ = ["ENGINES", "Engine", "State", "as_engine", "build_engine", "log_softmax"]
