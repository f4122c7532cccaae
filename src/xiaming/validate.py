"""Checks of a checkpoint before anything is built from it: a damaged or hostile file ends in one line.

A checkpoint may come from anyone, so reading one trusts nothing in it until it is checked, in an
order that never allocates more than the file itself holds:

1. The file: a regular file (not a directory, device or pipe) of at least 8 bytes.
2. The header: its 8-byte length read first and held to `MAX_HEADER`; JSON nested at most
   `MAX_DEPTH` deep; each tensor entry a known dtype, a shape, and byte offsets that fit the file.
3. The metadata, field by field: format and version; the model kind from the registry; its config
   (each field's type, sizes within `models.SIZE_LIMITS`, and the weights plus what the numpy
   engine derives from them within `models.MAX_PARAMETERS`); the vocabulary (distinct characters,
   as many as the config has ids); the fields of the training record that callers read; the
   sampling defaults, typed and in their documented ranges.
4. The tensor table against the config: exactly the names, shapes and dtype classes the model
   saves (`ModelSpec.tensors`), before one byte of them is read.
5. The values: every float finite and within ±`MAX_WEIGHT` (no trained model comes near; beyond
   it float32 arithmetic can overflow); integer tensors by the kind's rule
   (`ModelSpec.check_values`); the training names UTF-8.

Each failure is a `CheckpointError` whose one line names the file and the field, e.g.
"m.safetensors: damaged model_config.n_hidden: 1000000000 is outside 1..8192"; its `path` and `field`
attributes carry the same for callers that render it their own way. The tensors are read with
plain file reads into arrays of the stated size: the safetensors library never sees an unchecked
file. `read_file` does steps 1 and 2 (and the float check) for any xiaming safetensors file, the
resumable training state included.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .card import Blend, ModelCard, TrainingRecord
from .data.vocab import N_SPECIAL, Vocab
from .errors import CheckpointError, ConfigError
from .limits import LONGEST_NAME

FORMAT = "xiaming-checkpoint"  # metadata "format" of a checkpoint (checkpoint.py writes it)
STATE_FORMAT = "xiaming-train-state"  # ... of a training state beside it (training/loop.py)
FORMAT_VERSION = 1  # the newest format version this xiaming reads and writes
MAX_HEADER = 8 << 20  # bytes of a safetensors header (tensor table and metadata); a shipped model's is 20 KB
MAX_DEPTH = 32  # nesting of any JSON in the header; xiaming writes at most 4
MAX_TENSORS = 4096  # entries of the tensor table; a 64-layer transformer saves 776
MAX_DIMS = 8  # dimensions of one tensor
MAX_WEIGHT = 1e4  # largest magnitude of a stored float
MAX_STORED_NAME_LEN = LONGEST_NAME  # `max_name_len` of a training record (the sampler allocates rows this long)
NAMES_KEY = "__names__"  # tensor of the training names (UTF-8, one per line), as in checkpoint.py

# safetensors dtype -> numpy dtype it is read as (bfloat16 has none: it is read as raw 16-bit words)
DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": "<u2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
}
FLOATS = frozenset({"F16", "F32", "F64"})
CLASSES = {"float": FLOATS, "int": frozenset({"I64"}), "u8": frozenset({"U8"})}  # a spec's dtype class -> dtypes


def fail(path: str | Path, field: str, reason: str) -> CheckpointError:
    """The one-line error for `field` of the checkpoint at `path`."""
    return CheckpointError(
        f"{path}: damaged {field}: {reason}" if field else f"{path}: {reason}", path=str(path), field=field or None
    )


@dataclass(frozen=True)
class Entry:
    """One tensor of the header's table."""

    dtype: str  # safetensors dtype name, e.g. "F16"
    shape: tuple[int, ...]
    begin: int  # byte offset in the file
    end: int


@dataclass
class Header:
    """A safetensors file's header, checked: the metadata strings and the tensor table."""

    path: str
    metadata: dict[str, str]
    tensors: dict[str, Entry]


# --- the file and its header ---------------------------------------------------------------------


def _open(path: Path) -> int:
    """A descriptor of `path` once it is known to be a regular file (a pipe would block an open)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise fail(path, "", "no such checkpoint file") from None
    except OSError as exc:
        raise fail(path, "", f"cannot read it ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise fail(path, "", "is a directory, not a checkpoint file")
    if not stat.S_ISREG(info.st_mode):
        raise fail(path, "", "not a regular file (a device, pipe or socket); give a checkpoint file")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise fail(path, "", f"cannot read it ({exc.strerror or exc})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced between the two looks
        os.close(fd)
        raise fail(path, "", "not a regular file (a device, pipe or socket); give a checkpoint file")
    return fd


def _read_exactly(f, n: int, path: Path, what: str) -> bytes:
    try:
        data = f.read(n)
    except OSError as exc:
        raise fail(path, "", f"cannot read {what} ({exc.strerror or exc})") from None
    if len(data) != n:
        raise fail(path, "", f"not a xiaming checkpoint (unreadable or truncated safetensors file: {what} cut short)")
    return data


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)


def json_depth(text: str) -> int:
    """How deep arrays and objects nest in JSON `text` (brackets inside strings do not count)."""
    bare = np.frombuffer(_STRING.sub("", text).encode("utf-8", "surrogatepass"), dtype=np.uint8)
    step = ((bare == ord("[")) | (bare == ord("{"))).astype(np.int32)
    step -= (bare == ord("]")) | (bare == ord("}"))
    return int(np.cumsum(step).max(initial=0))


def parse_json(text: str, path: str | Path, field: str) -> Any:
    """JSON `text` parsed once its nesting is known to be shallow; CheckpointError naming `field` otherwise."""
    if json_depth(text) > MAX_DEPTH:
        raise fail(path, field, f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise fail(path, field, f"not valid JSON ({str(exc).splitlines()[0][:80]})") from None


def _entry(path: Path, name: str, value: Any, data_size: int, data_start: int) -> Entry:
    field = f"tensor {name}"
    if not isinstance(value, dict) or set(value) != {"dtype", "shape", "data_offsets"}:
        raise fail(path, field, "a tensor entry needs exactly dtype, shape and data_offsets")
    dtype, shape, offsets = value["dtype"], value["shape"], value["data_offsets"]
    if dtype not in DTYPES:
        raise fail(path, field, f"unknown dtype {str(dtype)[:20]!r}")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMS
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        raise fail(path, field, f"shape must be a list of at most {MAX_DIMS} sizes")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
    ):
        raise fail(path, field, "data_offsets must be two byte offsets")
    begin, end = offsets
    itemsize = np.dtype(DTYPES[dtype]).itemsize
    if not 0 <= begin <= end <= data_size or end - begin != math.prod(shape) * itemsize:
        raise fail(
            path,
            field,
            f"its bytes ({begin}..{end}) do not fit its shape {tuple(shape)} and dtype "
            f"{dtype} inside the file (damaged or truncated)",
        )
    return Entry(dtype, tuple(shape), data_start + begin, data_start + end)


def read_header(path: str | Path, fd: int | None = None) -> Header:
    """The checked header of the safetensors file at `path` (steps 1 and 2 of the module docstring)."""
    path = Path(path)
    own = fd is None
    fd = _open(path) if own else fd
    try:
        size = os.fstat(fd).st_size
        f = os.fdopen(os.dup(fd), "rb", buffering=0)
        with f:
            f.seek(0)
            if size < 8:
                raise fail(path, "", f"not a xiaming checkpoint ({size} bytes: too short for a safetensors file)")
            length = int.from_bytes(_read_exactly(f, 8, path, "the header length"), "little")
            if length > MAX_HEADER:
                raise fail(
                    path,
                    "header",
                    f"{length:,} bytes, more than the {MAX_HEADER:,} a checkpoint may have "
                    f"(not a xiaming checkpoint, or damaged)",
                )
            if 8 + length > size:
                raise fail(path, "", "not a xiaming checkpoint (unreadable or truncated safetensors file)")
            raw = _read_exactly(f, length, path, "the header")
    finally:
        if own:
            os.close(fd)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise fail(path, "", "not a xiaming checkpoint (unreadable or truncated safetensors file)") from None
    table = parse_json(text, path, "header")
    if not isinstance(table, dict):
        raise fail(path, "", "not a xiaming checkpoint (unreadable or truncated safetensors file)")
    metadata = table.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise fail(path, "metadata", "values must be strings")
    if len(table) > MAX_TENSORS:
        raise fail(path, "header", f"{len(table)} tensors, more than {MAX_TENSORS}")
    data_size = size - 8 - length
    tensors = {name: _entry(path, name, value, data_size, 8 + length) for name, value in table.items()}
    spans = sorted((e.begin, e.end) for e in tensors.values())
    for (_, end), (begin, _) in zip(spans, spans[1:]):
        if begin < end:
            raise fail(path, "header", "two tensors share bytes (damaged file)")
    return Header(str(path), metadata, tensors)


def read_array(f, entry: Entry, path: str | Path, name: str) -> np.ndarray:
    """One tensor's values from the open file `f`, in a new (writable) array of exactly its stated size."""
    out = np.empty(entry.shape, dtype=DTYPES[entry.dtype])
    if out.nbytes:
        f.seek(entry.begin)
        try:
            got = f.readinto(memoryview(out.reshape(-1)).cast("B"))
        except OSError as exc:
            raise fail(path, f"tensor {name}", f"cannot read it ({exc.strerror or exc})") from None
        if got != out.nbytes:
            raise fail(path, f"tensor {name}", "cut short (truncated file)")
    return out


def check_finite(path: str | Path, name: str, array: np.ndarray, bound: float | None = MAX_WEIGHT) -> None:
    """CheckpointError naming tensor `name` if a float in it is NaN, infinite or beyond ±`bound`."""
    if array.dtype.kind != "f" or not array.size:
        return
    if not np.isfinite(array).all():
        raise fail(path, f"tensor {name}", "holds NaN or infinite values (a run that diverged, or a damaged file)")
    if bound is not None and float(np.abs(array).max()) > bound:
        raise fail(path, f"tensor {name}", f"holds values beyond ±{bound:g}, which no trained model has (damaged file)")


def _check_format(header: Header, expected_format: str) -> None:
    path = header.path
    if header.metadata.get("format") != expected_format:
        raise fail(path, "", f"not a xiaming {'checkpoint' if expected_format == FORMAT else 'training state'}")
    version = header.metadata.get("format_version", "0")
    if not (version.isascii() and version.isdigit() and len(version) < 6):
        raise fail(path, "format_version", f"{version[:20]!r} is not a version number (damaged metadata)")
    if int(version) > FORMAT_VERSION:
        raise fail(path, "", f"format version {int(version)} is newer than this xiaming reads ({FORMAT_VERSION})")


def read_metadata(path: str | Path, expected_format: str) -> Header:
    """The checked header of a xiaming safetensors file of `expected_format`, no tensor read."""
    header = read_header(path)
    _check_format(header, expected_format)
    return header


def read_file(
    path: str | Path,
    expected_format: str,
    check: Callable[[Header], None] | None = None,
    framework: str = "np",
    bound: float | None = None,
) -> tuple[dict, dict[str, str]]:
    """The tensors (numpy arrays, or torch tensors with `framework="pt"`) and metadata of a xiaming
    safetensors file, every step checked; `check(header)` runs after the header is read and before
    any tensor is; floats beyond ±`bound` (None: any finite value) are refused."""
    path = Path(path)
    fd = _open(path)
    try:
        header = read_header(path, fd)
        _check_format(header, expected_format)
        if check is not None:
            check(header)
        arrays = {}
        with os.fdopen(os.dup(fd), "rb", buffering=0) as f:
            for name, entry in header.tensors.items():
                arrays[name] = read_array(f, entry, path, name)
                check_finite(path, name, arrays[name], bound)
    finally:
        os.close(fd)
    if framework == "pt":
        import torch

        arrays = {
            k: torch.from_numpy(v).view(torch.bfloat16) if header.tensors[k].dtype == "BF16" else torch.from_numpy(v)
            for k, v in arrays.items()
        }
    return arrays, header.metadata


# --- the metadata of a checkpoint ----------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_object(metadata: dict[str, str], key: str, path: str, required: bool = True) -> dict:
    if key not in metadata:
        if required:
            raise fail(path, key, "missing (damaged checkpoint metadata)")
        return {}
    value = parse_json(metadata[key], path, key)
    if not isinstance(value, dict):
        raise fail(path, key, f"must be a JSON object, not {type(value).__name__}")
    return value


_TYPES = {
    "int": (_is_int, "an integer"),
    "float": (lambda v: _is_int(v) or (isinstance(v, float) and not math.isnan(v)), "a number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "str": (lambda v: isinstance(v, str), "a string"),
}


def check_fields(cls: type, data: Any, path: str | Path, field: str) -> dict:
    """`data` if it is an object of `cls`'s fields, each of its declared type ("int", "float | None", ...):
    no unknown field, none without a default missing. CheckpointError naming the field otherwise."""
    if not isinstance(data, dict):
        raise fail(path, field, "must be a JSON object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name, value in data.items():
        if name not in fields:
            raise fail(path, f"{field}.{name}", f"not a field of {field}")
        declared = str(fields[name].type).replace(" ", "").split("|")
        if value is None and "None" in declared:
            continue
        test, words = _TYPES.get(declared[0], (lambda v: True, "any value"))
        if not test(value):
            raise fail(path, f"{field}.{name}", f"{_short(value)} must be {words}")
    missing = [
        f.name
        for f in fields.values()
        if f.name not in data and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise fail(path, f"{field}.{missing[0]}", "missing")
    return data


def check_config(kind: str, data: Any, path: str | Path, field: str = "model_config"):
    """The config dataclass of `kind` from stored `data`, every field typed and within its limits."""
    from . import models

    spec = models.MODELS[kind]
    check_fields(spec.config_cls, data, path, field)
    for name, value in data.items():
        low, high = models.SIZE_LIMITS.get(name, (None, None))
        if low is not None and not low <= value <= high:
            raise fail(path, f"{field}.{name}", f"{value} is outside {low}..{high}")
    for name, value in spec.fixed.items():
        if data.get(name, value) != value:
            raise fail(path, f"{field}.{name}", f"{_short(data[name])} does not fit a {kind} model ({value!r})")
    if "dropout" in data and not 0.0 <= data["dropout"] < 1.0:
        raise fail(path, f"{field}.dropout", f"{data['dropout']} is outside [0, 1)")
    if "clip" in data and not data["clip"] > 0:
        raise fail(path, f"{field}.clip", f"{data['clip']} must be above 0")
    try:
        config = spec.config_cls(**{**spec.fixed, **data})
    except ConfigError as exc:  # a rule between fields (the transformer's n_embd divisible by n_head)
        raise fail(path, field, f"{exc}") from None
    return config


def check_vocab(data: Any, path: str | Path, field: str = "vocab") -> Vocab:
    """The vocabulary stored as `data` ({"chars": "..."}, each character once)."""
    chars = data.get("chars") if isinstance(data, dict) else None
    if not isinstance(data, dict) or set(data) != {"chars"} or not isinstance(chars, str):
        raise fail(path, field, "must be an object holding one string, chars")
    if len(set(chars)) != len(chars):
        raise fail(path, f"{field}.chars", "a character is listed twice")
    return Vocab(tuple(chars))


def check_sampling(sampling: Any, path: str | Path, field: str = "sampling") -> dict:
    """`sampling` if it holds valid sampling defaults (typed, in `SampleOptions`' ranges); CheckpointError
    naming the field otherwise."""
    from .generation.constraints import SAMPLING_FIELDS, SampleOptions

    if not isinstance(sampling, dict):
        raise fail(path, field, "must be a JSON object of sampling defaults")
    for name, value in sampling.items():
        if name not in SAMPLING_FIELDS:
            raise fail(path, f"{field}.{name}", f"not a sampling default (those are {', '.join(SAMPLING_FIELDS)})")
        if name == "top_k":
            if value is not None and not _is_int(value):
                raise fail(path, f"{field}.top_k", f"{_short(value)} must be an integer")
        elif not (_is_number(value) or (value is None and name != "temperature")):
            raise fail(path, f"{field}.{name}", f"{_short(value)} must be a finite number")
        try:
            SampleOptions(**{name: value}).validate_ranges()
        except ConfigError as exc:
            raise fail(path, f"{field}.{name}", f"{_short(value)} is out of range ({exc.reason})") from None
    return dict(sampling)


def check_blend(metadata: dict[str, str], path: str | Path) -> Blend | None:
    """The checkpoint's `blend` (None when it has none): a shipped model's name other than its own file's,
    and a weight in (0, 1); CheckpointError naming the field otherwise."""
    from .pretrained import SHIPPED, shipped_path

    data = _json_object(metadata, "blend", str(path), required=False)
    if not data:
        return None
    model, weight = data.get("model"), data.get("weight")
    if not isinstance(model, str) or model not in SHIPPED:
        raise fail(path, "blend.model", f"{_short(model)} must be a shipped model ({', '.join(SHIPPED)})")
    if Path(path) == shipped_path(model):
        raise fail(path, "blend.model", f"{model!r} is this model itself")
    if not (_is_number(weight) and weight is not None and 0 < weight < 1):
        raise fail(path, "blend.weight", f"{_short(weight)} must be a number between 0 and 1")
    return Blend(model, float(weight))


def check_card(header: Header) -> ModelCard:
    """The checkpoint's metadata, checked field by field (step 3 of the module docstring)."""
    from . import models

    path, metadata = header.path, header.metadata
    kind = metadata.get("kind")
    if kind not in models.MODELS:
        raise fail(path, "kind", f"{_short(kind)} is not a model kind (known: {', '.join(models.MODELS)})")
    config_data = _json_object(metadata, "model_config", path)
    config = check_config(kind, config_data, path)
    vocab = check_vocab(_json_object(metadata, "vocab", path), path)
    if config.vocab_size != vocab.size:
        raise fail(
            path,
            "model_config.vocab_size",
            f"{config.vocab_size}, but the vocabulary has {vocab.size} ids "
            f"({len(vocab.chars)} characters + {N_SPECIAL})",
        )
    spec = models.MODELS[kind]
    fixed = sum(math.prod(shape) for shape, _ in spec.tensors(config).values() if None not in shape)
    if fixed + spec.engine_floats(config) > models.MAX_PARAMETERS:
        raise fail(
            path,
            "model_config",
            f"a model of {fixed + spec.engine_floats(config):,} weights, more than {models.MAX_PARAMETERS:,}",
        )
    train = TrainingRecord.from_dict(_json_object(metadata, "train", path, required=False), path, vocab)
    sampling = check_sampling(_json_object(metadata, "sampling", path, required=False), path)
    return ModelCard(kind, config, vocab, train, sampling, check_blend(metadata, path))


def check_tensors(header: Header, kind: str, config: Any, prefix: str = "", optional: tuple[str, ...] = ()) -> None:
    """The tensor table (the names after `prefix`) holds exactly what a `kind` model with `config` saves,
    plus the `optional` extras (step 4)."""
    from . import models

    path = header.path
    expected = dict(models.MODELS[kind].tensors(config))
    extras = {NAMES_KEY: ((None,), "u8")}
    stored = {name[len(prefix) :]: entry for name, entry in header.tensors.items() if name.startswith(prefix)}
    unknown = [name for name in stored if name not in expected and name not in optional]
    if unknown:
        raise fail(
            path, f"tensor {prefix}{unknown[0]}", f"not among the tensors of a {kind} model with this model_config"
        )
    for name, (shape, cls) in {**expected, **{k: extras[k] for k in optional}}.items():  # in the model's order
        entry = stored.get(name)
        if entry is None:
            if name in expected:
                raise fail(path, f"tensor {prefix}{name}", f"missing (a {kind} model with this model_config has it)")
            continue
        if entry.dtype not in CLASSES[cls]:
            raise fail(
                path, f"tensor {prefix}{name}", f"dtype {entry.dtype}, expected {'/'.join(sorted(CLASSES[cls]))}"
            )
        if len(shape) != len(entry.shape) or any(
            want is not None and want != got for want, got in zip(shape, entry.shape)
        ):
            want = tuple("any" if s is None else s for s in shape)
            raise fail(path, f"tensor {prefix}{name}", f"shape {entry.shape}, but model_config implies {want}")


def check_values(path: str | Path, kind: str, config: Any, arrays: dict[str, np.ndarray]) -> None:
    """The kind's rule for its integer tensors (step 5; floats are checked as they are read)."""
    from . import models

    problem = models.MODELS[kind].check_values(config, arrays)
    if problem is not None:
        raise fail(path, *problem)
