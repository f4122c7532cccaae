"""Small checkpoints and byte-level surgery on safetensors files, for the tests of damaged checkpoints.

`small_checkpoint` writes a tiny untrained model of any kind (no training: milliseconds);
`split`/`join` take a file apart into its header (a dict) and data bytes and put it back, so a
test can change one field, one shape or one byte and see what loading says.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

NAMES = ["abc", "bcd", "cab", "dab", "abd"]


def small_checkpoint(path: Path, kind: str = "lstm", **overrides) -> Path:
    """A tiny model of `kind` saved at `path` as `xiaming train` would save it (names, vocabulary, record)."""
    import torch

    from xiaming import TrainConfig, models
    from xiaming.checkpoint import save_checkpoint
    from xiaming.data.batches import encode_names
    from xiaming.data.vocab import Vocab

    torch.manual_seed(0)
    vocab = Vocab.from_names(NAMES)
    size = "tiny" if models.spec(kind).presets else None
    config = models.make_config(kind, {"vocab_size": vocab.size, "block_size": 8}, size, **overrides)
    model = models.build_model(kind, config)
    if not models.spec(kind).gradient:  # minchar sets its priming ids, ngram counts, in one step
        x, y = encode_names(vocab, NAMES)
        model.make_trainer(x, y, TrainConfig(), 0.1).step(0)
    train = {"source": "made-up", "max_name_len": 3, "parameters": models.count_parameters(model), "step": 1}
    save_checkpoint(path, model.eval(), kind, vocab, train, NAMES, sampling={"temperature": 0.9})
    return path


def split(path: Path) -> tuple[dict, bytes]:
    """(header as a dict, the data bytes after it)."""
    raw = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + length]), raw[8 + length :]


def join(path: Path, header: dict | bytes, data: bytes) -> Path:
    """Write a safetensors file from a header (a dict, or its exact bytes) and data bytes."""
    text = header if isinstance(header, bytes) else json.dumps(header, ensure_ascii=False).encode("utf-8")
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + data)
    return Path(path)


def with_metadata(src: Path, dst: Path, key: str, value) -> Path:
    """A copy of `src` whose metadata `key` is `value` (a JSON-ready value is dumped; None deletes the key)."""
    header, data = split(src)
    meta = header["__metadata__"]
    if value is None:
        meta.pop(key, None)
    else:
        meta[key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return join(dst, header, data)


def with_json_field(src: Path, dst: Path, key: str, field: str, value) -> Path:
    """A copy of `src` whose JSON metadata `key` has `field` set to `value`."""
    header, _ = split(src)
    content = json.loads(header["__metadata__"][key])
    content[field] = value
    return with_metadata(src, dst, key, content)
