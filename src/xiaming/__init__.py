"""xiaming (侠名): a character-level neural name generator.

The Python API mirrors the command line:

    import xiaming
    namer = xiaming.load_model("jinyong")            # a Namer: a shipped model, or a checkpoint path
    result = xiaming.generate(namer, n=10, seed=1)    # new names, not in the training list
    result.names, result.items[0].log_prob, result.exhausted
    namer.best(5), namer.score(["令狐冲"])            # the likeliest new names; per-character scores
    names = xiaming.load_names("my_names.txt")       # or a built-in corpus: "gulong"
    xiaming.train(names, "lstm", "my.safetensors", xiaming.TrainConfig(max_steps=2000))
    xiaming.verse_names(xiaming.load_model("base"), n=10, surname="李", books="shijing")  # names from verse
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import corpora
from .data.corpus import NameList, load_names, read_names
from .errors import CheckpointError, ConfigError, DataError, XiamingError
from .generation.constraints import SampleOptions
from .generation.namer import Namer
from .generation.results import NameResult, ScoredName
from .training.config import TrainConfig
from .verse import VerseName, VerseResult, verse_names

if TYPE_CHECKING:
    from .checkpoint import Checkpoint
    from .training.loop import TrainResult

__version__ = "0.1.0"


def load_model(
    model: str | Path | None = None, device: str = "auto", engine: str | None = None, blend: float | None = None
) -> Namer:
    """The generation object of a checkpoint path or shipped-model name (None: the Jin Yong model).

    The numpy engine (device "auto" or "cpu") needs no torch; `engine="torch"` or a device such as
    "cuda" uses torch; `blend` the base's share (None: the model's own blend, 0: none; see `Namer.load`).
    """
    return Namer.load(model, device, engine, blend)


def generate(
    namer: Namer,
    n: int = 20,
    options: SampleOptions | None = None,
    novelty: str | None = None,
    seed: int | None = None,
    max_tries: int | None = None,
) -> NameResult:
    """Up to `n` distinct new names (see `Namer.generate`); `options` None applies the model's
    sampling defaults; `novelty` None is strict for models of the built-in corpora, exact otherwise."""
    return namer.generate(n, options, novelty, seed, max_tries)


TORCH_HINT = 'training needs PyTorch: pip install "xiaming[train]"'


def _train_module():
    """`xiaming.training.loop`, imported on first use: it needs torch, which generating does not."""
    import importlib

    try:
        return importlib.import_module(".training.loop", __name__)
    except ModuleNotFoundError as exc:
        if exc.name == "torch":
            raise ConfigError(TORCH_HINT) from None
        raise


def train(*args: Any, **kwargs: Any) -> "TrainResult":
    """Train a model (see `xiaming.training.loop.train`); needs torch, imported only now."""
    return _train_module().train(*args, **kwargs)


def __getattr__(name: str) -> Any:
    """Training needs torch, so its result type is imported on first use (importing xiaming stays light)."""
    if name == "TrainResult":
        return _train_module().TrainResult
    if name in ("Checkpoint", "load_checkpoint"):
        from . import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f"module 'xiaming' has no attribute {name!r}")


__all__ = [
    "Checkpoint",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "NameList",
    "NameResult",
    "Namer",
    "SampleOptions",
    "ScoredName",
    "TrainConfig",
    "TrainResult",
    "XiamingError",
    "corpora",
    "generate",
    "load_checkpoint",
    "load_model",
    "load_names",
    "read_names",
    "train",
    "VerseName",
    "VerseResult",
    "verse_names",
]
