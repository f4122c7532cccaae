"""Small safetensors files of numpy tables shipped in the package (lexicon, critic, gender, verse).

Each is a safetensors file whose metadata names its `format` and holds its small fields as JSON.
`read_metadata` reads the header alone, bounded in size, before any array is touched; `read_arrays`
reads the arrays with safetensors' numpy loader (no pickle, no code); `save_arrays` writes a temporary
file in the same folder and renames it into place. Every failure is one CheckpointError naming the
file, what kind of table it should be and the field.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .atomic import atomic_path
from .errors import CheckpointError


def table_error(path: Path, what: str, field: str, reason: str) -> CheckpointError:
    """'PATH: WHAT field FIELD: REASON' as a CheckpointError."""
    return CheckpointError(f"{path}: {what} field {field}: {reason}")


def read_metadata(path: str | Path, what: str, fmt: str, max_header: int) -> dict:
    """The string metadata of the safetensors file at `path`, once its header (at most `max_header`
    bytes) parses and its `format` is `fmt`."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            size = int.from_bytes(f.read(8), "little")
            if not 2 <= size <= max_header:
                raise table_error(path, what, "header", f"size {size} is not a {what}'s")
            meta = json.loads(f.read(size))["__metadata__"]
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError, RecursionError):
        raise table_error(path, what, "metadata", "missing or not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise table_error(path, what, "format", f"{found!r} is not {fmt!r}")
    return meta


def read_arrays(path: str | Path, what: str) -> dict[str, np.ndarray]:
    """Every array of the safetensors file at `path` (safetensors' own errors mapped to ours)."""
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types; one line is ours
        raise table_error(Path(path), what, "tensors", f"unreadable ({exc})") from None


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write `arrays` with string `metadata` atomically (temporary file in the same folder, then rename)."""
    from safetensors.numpy import save_file

    with atomic_path(path) as tmp:
        save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(tmp), metadata=metadata)


def check_array(path: Path, what: str, arrays: dict[str, np.ndarray], key: str, size: int) -> np.ndarray:
    """arrays[key] as float64, refused unless it is finite float32 of shape (size,)."""
    array = arrays.get(key)
    if array is None or array.dtype != np.float32 or array.shape != (size,):
        raise table_error(path, what, key, f"expected float32 of shape ({size},)")
    if not np.isfinite(array).all():
        raise table_error(path, what, key, "holds non-finite numbers")
    return array.astype(np.float64)


def check_number(path: Path, what: str, field: str, value: float, low: float, high: float) -> float:
    """`value`, refused unless it is a finite number from `low` to `high`."""
    if not np.isfinite(value) or not low <= value <= high:
        raise table_error(path, what, field, f"{value!r} is not a finite number from {low:g} to {high:g}")
    return value
