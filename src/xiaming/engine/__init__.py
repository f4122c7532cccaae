"""Inference engines: what computes next-character logits for the sampler, the search and the scorer.

Every engine honours `protocol.Engine`. `build_engine` makes the engine of a stored checkpoint.
"""

from __future__ import annotations

from ..checkpoint import StoredModel
from .protocol import Engine, State, log_softmax


def build_engine(stored: StoredModel) -> Engine:
    """The engine of a stored checkpoint (for now the torch model behind the adapter)."""
    import numpy as np
    import torch

    from .. import models
    from .torch_engine import TorchEngine

    config = models.config_from_dict(stored.kind, stored.config)
    model = models.build_model(stored.kind, config)
    model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32 if v.dtype.kind == "f" else v.dtype))
                           for k, v in stored.arrays.items()})
    return TorchEngine(model, stored.vocab.size, models.spec(stored.kind).window(config))


def as_engine(model, vocab_size: int, window: int | None = None) -> Engine:
    """`model` itself if it is an Engine; a torch model (training code, tests) behind `TorchEngine`."""
    if isinstance(model, Engine):
        return model
    from .torch_engine import TorchEngine

    return TorchEngine(model, vocab_size, window)


__all__ = ["Engine", "State", "as_engine", "build_engine", "log_softmax"]
