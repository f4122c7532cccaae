"""Checkpoints: one self-describing `.safetensors` file per model, written atomically, never pickled.

The file holds the weights and, in its string metadata, everything needed to use them: the model
kind and config, the vocabulary, the training config and progress, and a format version. The
training name list rides along as one uint8 tensor (UTF-8, newline-separated) so generation can
reject names the model was trained on. A resumable training state (last weights, optimizer, RNG)
lives in a companion file written the same way. Loading reads tensors and JSON only: no code runs.

`read_checkpoint` reads a checkpoint as numpy arrays and parsed metadata without torch (the
inference path); `load_checkpoint` builds the torch model from the same file (training, GPU).
An optional "sampling" metadata key holds the sampling defaults the model ships with (e.g.
{"temperature": 0.9, "min_p": 0.05}); the generation object applies them unless the caller sets
its own.

Every read is checked before anything is built from the file (`validate.py`): a damaged or hostile
checkpoint is a CheckpointError naming the file and the field, never another exception.
"""

from __future__ import annotations

import errno
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from safetensors import SafetensorError

from . import atomic, validate
from .card import Blend, ModelCard, TrainingRecord
from .data.vocab import Vocab
from .errors import CheckpointError

if TYPE_CHECKING:
    import torch

FORMAT, STATE_FORMAT, FORMAT_VERSION = validate.FORMAT, validate.STATE_FORMAT, validate.FORMAT_VERSION
NAMES_KEY = validate.NAMES_KEY  # tensor key of the training names, not a weight


@dataclass
class Checkpoint:
    """A loaded model with everything needed to sample, score or keep training it."""

    kind: str  # registry name, e.g. "lstm"
    config: Any  # the kind's frozen config dataclass
    vocab: Vocab
    model: Any  # the model, in eval mode
    train: TrainingRecord = field(default_factory=TrainingRecord)  # training config, progress and data statistics
    names: list[str] = field(default_factory=list)  # the training list, for novelty checks
    path: str = ""
    sampling: dict = field(default_factory=dict)  # sampling defaults stored with the model
    blend: Blend | None = None  # the shipped model it generates blended with (card.Blend), if any


@dataclass
class StoredModel:
    """A checkpoint as numpy arrays and parsed metadata: everything inference needs, without torch."""

    kind: str  # registry name, e.g. "lstm"
    config: dict  # the kind's config fields
    vocab: Vocab
    arrays: dict[str, np.ndarray]  # the weights as stored (float16 stays float16)
    train: TrainingRecord = field(default_factory=TrainingRecord)  # training config, progress and data statistics
    names: list[str] = field(default_factory=list)  # the training list, for novelty checks
    path: str = ""
    sampling: dict = field(default_factory=dict)  # sampling defaults stored with the model
    blend: Blend | None = None  # the shipped model it generates blended with (card.Blend), if any


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


def atomic_write_tensors(path: str | Path, tensors: dict[str, "torch.Tensor"], metadata: dict[str, str]) -> None:
    """Write a safetensors file through a temporary file in the same folder, then rename it."""
    from safetensors.torch import save_file

    path = check_writable(path)
    try:
        tmp = atomic.temp_beside(path)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot write there ({exc.strerror or exc})") from None
    try:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp), metadata=metadata)
        atomic.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, (OSError, SafetensorError)):
            raise CheckpointError(
                f"{path}: could not save it ({_io_reason(exc)}); the file there before, if any, is unchanged",
                path=str(path),
            ) from None
        raise


def _io_reason(exc: BaseException) -> str:
    """What went wrong in a failed write, in words, with what to do for the usual causes.

    safetensors reports an I/O failure as its own error type whose text carries the OS error
    number ("... (os error 28) ..."); that number is all it offers, so it is read from there.
    """
    code = exc.errno if isinstance(exc, OSError) else None
    if code is None:
        found = re.search(r"os error (\d+)", str(exc))
        code = int(found.group(1)) if found else None
    if code is None:
        return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    hint = {
        errno.ENOSPC: "; free some space and run again",
        errno.EDQUOT: "; free some space and run again",
        errno.EACCES: "; choose a folder you can write to",
        errno.EROFS: "; choose a folder you can write to",
        errno.EIO: "; the disk may be failing",
    }.get(code, "")
    return os.strerror(code) + hint


def read_tensors(path: str | Path, expected_format: str = FORMAT) -> tuple[dict[str, "torch.Tensor"], dict[str, str]]:
    """Tensors and metadata of a xiaming safetensors file; a foreign, broken or non-finite file is a
    CheckpointError (`validate.read_file`: header bounded and checked before any tensor is read)."""
    return validate.read_file(path, expected_format, framework="pt")


def read_arrays(path: str | Path, expected_format: str = FORMAT) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """`read_tensors` as numpy arrays, without torch."""
    return validate.read_file(path, expected_format)


def text_tensor(text: str) -> "torch.Tensor":
    """Text as one uint8 tensor (UTF-8), so it can travel among the tensors of a safetensors file."""
    import torch

    data = text.encode("utf-8")
    return torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.zeros(0, dtype=torch.uint8)


def tensor_text(tensor) -> str:
    """Inverse of `text_tensor` (a torch tensor or a numpy array)."""
    data = tensor if isinstance(tensor, np.ndarray) else tensor.numpy()
    return bytes(data.tobytes()).decode("utf-8")


def encode_names(names: list[str]) -> "torch.Tensor":
    """The name list as one uint8 tensor (UTF-8, one name per line, no final newline).

    A list that is already stored that way on disk (`training.stream.PackedNames`, the distinct names of a
    streamed file) gives its bytes through `encoded()`: a two-million-name list then costs one copy
    of its bytes at each save, not a joined string, its encoding and a copy of that.
    """
    encoded = getattr(names, "encoded", None)
    if callable(encoded):
        return encoded()
    return text_tensor("\n".join(names))


def decode_names(tensor) -> list[str]:
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
    dtype: "torch.dtype | None" = None,
    sampling: dict | None = None,
    blend: Blend | None = None,
) -> None:
    """Write a model and its description; `dtype=torch.float16` halves the file for shipping;
    `sampling` stores sampling defaults (fields of `SampleOptions`: temperature, top_k, top_p, min_p);
    `blend` the shipped model it generates blended with (`card.Blend`)."""
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
        "train": json.dumps(dict(train), ensure_ascii=False),  # a TrainingRecord is written as it is stored
    }
    if sampling:
        metadata["sampling"] = json.dumps(check_sampling(sampling, "sampling"))
    if blend is not None:
        metadata["blend"] = json.dumps(blend.to_dict())
    atomic_write_tensors(path, tensors, metadata)


def check_sampling(sampling: dict, where: str) -> dict:
    """`sampling` if it holds valid sampling defaults; CheckpointError naming `where` and the field otherwise."""
    return validate.check_sampling(sampling, where)


def read_checkpoint(path: str | Path) -> StoredModel:
    """A checkpoint's arrays and metadata, every field and tensor checked before use, without torch (the
    inference path). Damage of any kind is a CheckpointError naming the file and the field (`validate`)."""
    card: list[ModelCard] = []

    def check(header: validate.Header) -> None:  # before any tensor is read
        card.append(validate.check_card(header))
        validate.check_tensors(header, card[0].kind, card[0].config, optional=(NAMES_KEY,))

    arrays, _ = validate.read_file(path, FORMAT, check=check, bound=validate.MAX_WEIGHT)
    kind, config, vocab, train, sampling = (
        card[0].kind,
        card[0].config,
        card[0].vocab,
        card[0].train,
        card[0].sampling,
    )
    names_bytes = arrays.pop(NAMES_KEY, None)
    validate.check_values(path, kind, config, arrays)
    try:
        names = decode_names(names_bytes) if names_bytes is not None else []
    except UnicodeDecodeError:
        raise validate.fail(path, f"tensor {NAMES_KEY}", "the name list is not UTF-8 (damaged file)") from None
    return StoredModel(kind, asdict(config), vocab, arrays, train, names, str(path), sampling, card[0].blend)


def load_checkpoint(path: str | Path, device: "str | torch.device" = "cpu") -> Checkpoint:
    """Load a checkpoint written by `save_checkpoint`; the model comes back in eval mode, float32."""
    import torch

    from . import models
    from .engine.protocol import OVERFLOW

    stored = read_checkpoint(path)  # checked: the config is within limits and the tensors match it
    kind, vocab, train, names = stored.kind, stored.vocab, stored.train, stored.names
    config = models.config_from_dict(kind, stored.config)
    model = models.build_model(kind, config)
    weights = {
        k: torch.from_numpy(np.array(v, dtype=np.float32 if v.dtype.kind == "f" else v.dtype))
        for k, v in stored.arrays.items()
    }
    try:
        model.load_state_dict(weights)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise CheckpointError(f"{path}: weights do not match the stored config ({str(exc).splitlines()[0]})") from None
    model.eval()
    with torch.no_grad():  # finite weights can still overflow: one step shows it, before any real use
        logits, _ = model(torch.zeros((1, 1), dtype=torch.long))
    if not torch.isfinite(logits).all():
        raise validate.fail(path, "weights", OVERFLOW)
    model = model.to(device)  # the numpy kinds stay on the CPU (NumpyModel.to)
    return Checkpoint(kind, config, vocab, model, train, names, str(path), stored.sampling, stored.blend)


def state_path(checkpoint_path: str | Path) -> Path:
    """Where the resumable training state of a checkpoint lives: `x.safetensors` -> `x.state.safetensors`."""
    p = Path(checkpoint_path)
    stem = p.name[: -len(".safetensors")] if p.name.endswith(".safetensors") else p.name
    return p.with_name(stem + ".state.safetensors")
