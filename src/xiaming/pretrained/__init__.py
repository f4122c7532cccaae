"""Models shipped inside the package, trained on the built-in corpora.

`resolve("jinyong")` gives the path of a shipped checkpoint; a path to an existing file is
returned as it is. The shipped files are rebuilt by `scripts/build_pretrained.py` (see README).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import CheckpointError

SHIPPED: dict[str, str] = {
    "jinyong": "Jin Yong's characters (金庸)",
    "gulong": "Gu Long's characters (古龙)",
    "liangyusheng": "Liang Yusheng's characters (梁羽生)",
    "poets": "Tang-Song poets (唐宋诗人)",
    "base": "historical Chinese names, the base to fine-tune on your own list (--init base)",
}
DEFAULT = "jinyong"


def shipped_path(name: str) -> Path:
    """Path of a shipped checkpoint file (it may be missing in a source tree not yet built)."""
    return Path(str(resources.files(__package__).joinpath(f"{name}.safetensors")))


def available() -> list[str]:
    """Names of the shipped models present in this installation."""
    return [name for name in SHIPPED if shipped_path(name).is_file()]


def resolve(model: str | Path | None) -> Path:
    """A checkpoint path from a file path or the name of a shipped model (None: the default)."""
    model = DEFAULT if model is None else model
    path = Path(model)
    if path.is_file():
        return path
    if str(model) in SHIPPED:
        shipped = shipped_path(str(model))
        if shipped.is_file():
            return shipped
        raise CheckpointError(
            f"shipped model {model!r} is missing from this installation; rebuild with scripts/build_pretrained.py"
        )
    if path.is_dir():
        raise CheckpointError(f"{model}: is a directory, not a checkpoint file", path=str(model))
    if path.exists():  # a device, pipe or socket: reading one could block or never end
        raise CheckpointError(
            f"{model}: not a regular file (a device, pipe or socket); give a checkpoint file", path=str(model)
        )
    raise CheckpointError(f"{model}: no such checkpoint file or shipped model (shipped: {', '.join(SHIPPED)})")


def label(path: str | Path) -> str:
    """How output names a model: a shipped model by its name (`jinyong`), any other checkpoint by its path as
    given; the same `model` in every command's JSON and in the web API's answers."""
    for name in SHIPPED:
        if Path(path) == shipped_path(name):
            return name
    return str(path)
