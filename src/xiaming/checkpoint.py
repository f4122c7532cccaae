"""Checkpoints: one self-describing `.safetensors` file per model, written atomically, never pickled.

The file holds the weights and, in its string metadata, everything needed to use them: the model
kind and config, the vocabulary, the training config and progress, and a format version. The
training name list rides along as one uint8 tensor (UTF-8, newline-separated) so generation can
reject names the model was trained on. A resumable training state (last weights, optimizer, RNG)
lives in a companion file written the same way. Loading reads tensors and JSON only: no code runs.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from . import models
from .errors import CheckpointError
from .vocab import Vocab

FORMAT = "xiaming-checkpoint"
STATE_FORMAT = "xiaming-train-state"
FORMAT_VERSION = 1
NAMES_KEY = "__names__"  # tensor key of the training names, not a weight


@dataclass
class Checkpoint:
    """A loaded model with everything needed to sample, score or keep training it."""

    kind: str  # registry name, e.g. "lstm"
    config: Any  # the kind's frozen config dataclass
    vocab: Vocab
    model: Any  # the model, in eval mode
    train: dict = field(default_factory=dict)  # training config, progress and data statistics
    names: list[str] = field(default_factory=list)  # the training list, for novelty checks
    path: str = ""


def check_writable(path: str | Path) -> Path:
    """`path` as a Path, once its folder exists and can take a new file; CheckpointError otherwise."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory; give a file name such as {path / 'model.safetensors'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot write there ({exc.strerror or exc})") from None
    if not os.access(path.parent, os.W_OK):
        raise CheckpointError(f"{path}: cannot write there (the folder is not writable)")
    return path


def atomic_write_tensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Write a safetensors file through a temporary file in the same folder, then rename it."""
    path = check_writable(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot write there ({exc.strerror or exc})") from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, tmp, metadata=metadata)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_tensors(path: str | Path, expected_format: str = FORMAT) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Tensors and metadata of a xiaming safetensors file; a foreign or broken file is a CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            if metadata.get("format") != expected_format:
                raise CheckpointError(f"{path}: not a xiaming {'checkpoint' if expected_format == FORMAT else 'training state'}")
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except CheckpointError:
        raise
    except Exception:
        raise CheckpointError(f"{path}: not a xiaming checkpoint (unreadable or truncated safetensors file)") from None
    try:
        version = int(metadata.get("format_version", "0"))
    except ValueError:
        raise CheckpointError(f"{path}: damaged checkpoint metadata (format version {metadata.get('format_version')!r})") from None
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{path}: format version {version} is newer than this xiaming reads ({FORMAT_VERSION})")
    return tensors, metadata


def text_tensor(text: str) -> torch.Tensor:
    """Text as one uint8 tensor (UTF-8), so it can travel among the tensors of a safetensors file."""
    data = text.encode("utf-8")
    return torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.zeros(0, dtype=torch.uint8)


def tensor_text(tensor: torch.Tensor) -> str:
    """Inverse of `text_tensor`."""
    return bytes(tensor.numpy().tobytes()).decode("utf-8")


def encode_names(names: list[str]) -> torch.Tensor:
    """The name list as one uint8 tensor."""
    return text_tensor("\n".join(names))


def decode_names(tensor: torch.Tensor) -> list[str]:
    """Inverse of `encode_names`."""
    text = tensor_text(tensor)
    return text.split("\n") if text else []


def save_checkpoint(
    path: str | Path,
    model: Any,
    kind: str,
    vocab: Vocab,
    train: dict,
    names: list[str],
    dtype: torch.dtype | None = None,
) -> None:
    """Write a model and its description; `dtype=torch.float16` halves the file for shipping."""
    tensors = dict(model.state_dict())
    if dtype is not None:
        tensors = {k: v.to(dtype) if v.is_floating_point() else v for k, v in tensors.items()}
    tensors[NAMES_KEY] = encode_names(names)
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "kind": kind,
        "model_config": json.dumps(asdict(model.config)),
        "vocab": json.dumps(vocab.to_dict(), ensure_ascii=False),
        "train": json.dumps(train, ensure_ascii=False),
    }
    atomic_write_tensors(path, tensors, metadata)


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Load a checkpoint written by `save_checkpoint`; the model comes back in eval mode, float32."""
    tensors, metadata = read_tensors(path)
    try:
        kind = metadata["kind"]
        config = models.config_from_dict(kind, json.loads(metadata["model_config"]))
        vocab = Vocab.from_dict(json.loads(metadata["vocab"]))
        train = json.loads(metadata.get("train", "{}"))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: damaged checkpoint metadata ({exc})") from None
    try:
        names = decode_names(tensors.pop(NAMES_KEY)) if NAMES_KEY in tensors else []
    except UnicodeDecodeError:
        raise CheckpointError(f"{path}: damaged checkpoint (its name list is not UTF-8)") from None
    model = models.build_model(kind, config)
    weights = {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}
    try:
        model.load_state_dict(weights)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise CheckpointError(f"{path}: weights do not match the stored config ({str(exc).splitlines()[0]})") from None
    if hasattr(model, "to"):
        model = model.to(device)
    model.eval()
    return Checkpoint(kind, config, vocab, model, train, names, str(path))


def state_path(checkpoint_path: str | Path) -> Path:
    """Where the resumable training state of a checkpoint lives: `x.safetensors` -> `x.state.safetensors`."""
    p = Path(checkpoint_path)
    stem = p.name[: -len(".safetensors")] if p.name.endswith(".safetensors") else p.name
    return p.with_name(stem + ".state.safetensors")
