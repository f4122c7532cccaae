"""xiaming (侠名): a character-level neural name generator.

The Python API mirrors the command line:

    import xiaming
    model = xiaming.load_model("jinyong")            # a shipped model, or a checkpoint path
    result = xiaming.generate(model, n=10, seed=1)    # new names, not in the training list
    names = xiaming.load_names("my_names.txt")       # or a built-in corpus: "gulong"
    xiaming.train(names, "lstm", "my.safetensors", xiaming.TrainConfig(max_steps=2000))
"""

from __future__ import annotations

from pathlib import Path

from . import corpora
from .checkpoint import Checkpoint, load_checkpoint
from .corpus import NameList, load_names, read_names
from .errors import CheckpointError, ConfigError, DataError, XiamingError
from .sample import GenerateResult, SampleOptions
from .sample import generate as _generate
from .train import TrainConfig, TrainResult, train

__version__ = "0.1.0"


def load_model(model: str | Path | None = None, device: str = "cpu") -> Checkpoint:
    """A checkpoint by path or shipped-model name (None: the Jin Yong model)."""
    from .pretrained import resolve

    return load_checkpoint(resolve(model), device=device)


def generate(
    model: Checkpoint,
    n: int = 20,
    options: SampleOptions = SampleOptions(),
    novelty: str | None = None,
    seed: int | None = None,
    max_tries: int | None = None,
) -> GenerateResult:
    """Up to `n` distinct new names from a loaded model (see `xiaming.sample.generate`); `novelty`
    None is strict for models of the built-in corpora, exact otherwise."""
    return _generate(model.model, model.vocab, n, options, model.names, novelty, seed, model.train, max_tries)


__all__ = [
    "Checkpoint", "CheckpointError", "ConfigError", "DataError", "GenerateResult", "NameList",
    "SampleOptions", "TrainConfig", "TrainResult", "XiamingError", "corpora", "generate",
    "load_checkpoint", "load_model", "load_names", "read_names", "train",
]
