"""Mutations of valid checkpoints, for the fuzz test (tests/test_checkpoint_fuzz.py) and the fuzz
benchmark (benchmarks/fuzz_checkpoints.py), which draw them with hypothesis.

A case starts from one of a few small valid checkpoints (`BASES`: every model kind, a tied LSTM, a
float16 copy, a model with name kinds) and applies one to three mutations, each of one of the kinds
the issue lists: bytes of the header (its length included), metadata keys, the types, values and
nesting of metadata fields, tensor entries (names, shapes, dtypes, offsets) and tensor values
(NaN, infinities, huge and random numbers, random bytes), and truncation. `outcome(path)` then
loads the file the way every front end does and uses it: it returns "loaded" (the model loaded,
generated names and scored one) or "refused" (a CheckpointError); any other exception escapes.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

from hypothesis import strategies as st
from safetensors_bytes import NAMES, join, small_checkpoint, split

BASES = [  # (file stem, kind, model overrides, stored as float16, with name kinds)
    ("lstm", "lstm", {}, False, False),
    ("gru", "gru", {}, False, False),
    ("rnn", "rnn", {"n_layer": 2}, False, False),
    ("tied", "lstm", {"tie_weights": True}, True, True),
    ("transformer", "transformer", {}, False, False),
    ("minchar", "minchar", {"n_hidden": 8}, False, False),
    ("ngram", "ngram", {"order": 3}, False, False),
]
METADATA_KEYS = ["format", "format_version", "kind", "model_config", "vocab", "train", "sampling"]
JSON_KEYS = ["model_config", "vocab", "train", "sampling"]
FIELDS = {  # fields worth aiming at, per JSON metadata key
    "model_config": [
        "vocab_size",
        "n_embd",
        "n_hidden",
        "n_layer",
        "n_head",
        "block_size",
        "cell",
        "dropout",
        "tie_weights",
        "order",
        "seq_length",
        "clip",
        "prime_length",
    ],
    "vocab": ["chars"],
    "train": [
        "max_name_len",
        "parameters",
        "kinds",
        "source",
        "init",
        "data",
        "panel_holdout",
        "step",
        "best_val_bits",
    ],
    "sampling": ["temperature", "top_k", "top_p", "min_p", "word_lean"],
}
DTYPES = ["F64", "F32", "F16", "BF16", "I64", "I32", "I8", "U8", "BOOL", "F8_E4M3", "X", ""]
SPECIAL_FLOATS = [math.nan, math.inf, -math.inf, 1e30, -1e30, 65504.0, 1e-45, 0.0, -0.0, 1e4, 1.0001e4]


def make_bases(folder: Path) -> list[Path]:
    """The valid checkpoints every case starts from, written into `folder`."""
    import torch

    from xiaming.checkpoint import load_checkpoint, save_checkpoint
    from xiaming.generation import kinds

    paths = []
    for stem, kind, overrides, half, marked in BASES:
        path = small_checkpoint(folder / f"{stem}.safetensors", kind, **overrides)
        if half or marked:
            ckpt = load_checkpoint(path)
            vocab = ckpt.vocab.union(type(ckpt.vocab)((kinds.EPITHET_MARK,))) if marked else ckpt.vocab
            if marked:  # a model that knows the epithet marker, as the shipped wuxia models do
                from xiaming import models

                config = models.make_config(kind, {"vocab_size": vocab.size}, "tiny", **overrides)
                torch.manual_seed(0)
                model = models.build_model(kind, config).eval()
            else:
                model = ckpt.model
            train = {**ckpt.train, **(kinds.metadata() if marked else {})}
            save_checkpoint(
                path,
                model,
                kind,
                vocab,
                train,
                NAMES,
                dtype=torch.float16 if half else None,
                sampling={"top_p": 0.9, "top_k": 5},
            )
        paths.append(path)
    return paths


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, 1, -1, 2, 3, 5, 7, 16, 64, 2**16 + 1, 2**31, 10**9, 10**18])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(SPECIAL_FLOATS)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)


def _nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def _mutate_metadata(data, header: dict) -> None:
    meta = header.setdefault("__metadata__", {})
    action = data.draw(st.sampled_from(["delete", "add", "rename", "retype", "field", "nest", "raw"]))
    key = data.draw(st.sampled_from(METADATA_KEYS))
    if action == "delete":
        meta.pop(key, None)
    elif action == "add":
        meta[data.draw(st.text(max_size=10))] = data.draw(st.text(max_size=20))
    elif action == "rename" and key in meta:
        meta[key + data.draw(st.sampled_from(["_", "s", " "]))] = meta.pop(key)
    elif action == "retype":  # the whole value as JSON of another type
        meta[key] = json.dumps(data.draw(json_values))
    elif action == "nest":
        meta[key] = _nested(data.draw(st.integers(1, 200_000)))
    elif action == "raw":  # bytes that are not JSON, or a version that is not a number
        meta[key] = data.draw(st.text(max_size=30))
    else:  # one field of a JSON value
        key = data.draw(st.sampled_from(JSON_KEYS))
        try:
            content = json.loads(meta.get(key, "{}"))
        except (ValueError, RecursionError):
            content = {}
        if not isinstance(content, dict):
            content = {}
        field = data.draw(st.sampled_from(FIELDS[key]) | st.text(max_size=8))
        how = data.draw(st.sampled_from(["value", "delete", "nest", "small", "string"]))
        if how == "delete":
            content.pop(field, None)
        elif how == "nest":
            content[field] = json.loads(_nested(data.draw(st.integers(1, 40))))
        elif how == "small":
            content[field] = data.draw(st.integers(-3, 70))
        elif how == "string":
            content[field] = data.draw(st.text(max_size=12))
        else:
            content[field] = data.draw(json_values)
        meta[key] = json.dumps(content, ensure_ascii=data.draw(st.booleans()))


def _mutate_table(data, header: dict) -> None:
    names = [
        k
        for k, v in header.items()
        if k != "__metadata__"
        and isinstance(v, dict)
        and isinstance(v.get("shape"), list)
        and isinstance(v.get("data_offsets"), list)
        and len(v["data_offsets"]) == 2
        and all(isinstance(o, int) for o in v["data_offsets"])
    ]
    if not names:
        return
    name = data.draw(st.sampled_from(sorted(names)))
    entry = header[name]
    action = data.draw(st.sampled_from(["shape", "dtype", "offsets", "rename", "delete", "duplicate", "entry"]))
    if action == "shape":
        dims = [d for d in entry["shape"] if isinstance(d, int)]
        entry["shape"] = data.draw(
            st.lists(st.integers(0, 40) | st.sampled_from([2**31, 2**40, -1]), max_size=4)
            | st.just([dim * 2 for dim in dims])
            | st.just(list(reversed(dims)))
        )
    elif action == "dtype":
        entry["dtype"] = data.draw(st.sampled_from(DTYPES))
    elif action == "offsets":
        begin, end = entry["data_offsets"]
        entry["data_offsets"] = data.draw(
            st.sampled_from(
                [[begin, end + 4], [begin + 4, end], [end, begin], [0, end - begin], [begin, 2**62], [-4, end]]
            )
            | st.lists(json_values, max_size=3)
        )
    elif action == "rename":
        header[name + data.draw(st.sampled_from(["x", "_l9", ".weight"]))] = header.pop(name)
    elif action == "delete":
        header.pop(name)
    elif action == "duplicate":
        header[data.draw(st.sampled_from(["extra", "head.weight", "prime", "keys.9", "__names__"]))] = dict(entry)
    else:
        header[name] = data.draw(json_values)


def _mutate_values(data, header: dict, body: bytearray) -> None:
    entries = [
        (k, v)
        for k, v in header.items()
        if k != "__metadata__"
        and isinstance(v, dict)
        and v.get("dtype") in ("F32", "F16", "F64", "I64", "U8")
        and isinstance(v.get("data_offsets"), list)
        and len(v["data_offsets"]) == 2
        and all(isinstance(o, int) for o in v["data_offsets"])
        and 0 <= v["data_offsets"][0] <= v["data_offsets"][1] <= len(body)
    ]
    if not entries:
        return
    name, entry = data.draw(st.sampled_from(sorted(entries, key=lambda kv: kv[0])))
    begin, end = entry["data_offsets"]
    fmt = {"F32": "<f", "F16": "<e", "F64": "<d", "I64": "<q", "U8": "<B"}[entry["dtype"]]
    size = struct.calcsize(fmt)
    count = (end - begin) // size
    if not count:
        return
    how = data.draw(st.sampled_from(["special", "all", "bytes"]))
    if how == "bytes":
        at = begin + data.draw(st.integers(0, end - begin - 1))
        body[at] = data.draw(st.integers(0, 255))
        return
    if fmt in ("<q", "<B"):
        value = data.draw(st.sampled_from([-1, 0, 1, 2**31, 2**62, 255]) if fmt == "<q" else st.integers(0, 255))
    else:
        value = data.draw(st.sampled_from(SPECIAL_FLOATS) | st.floats(width=16 if fmt == "<e" else 32))
    try:
        packed = struct.pack(fmt, value)
    except (OverflowError, struct.error):
        packed = b"\xff" * size
    positions = range(count) if how == "all" else [data.draw(st.integers(0, count - 1))]
    for i in positions:
        body[begin + i * size : begin + (i + 1) * size] = packed


def mutate(data, raw: bytes) -> bytes:
    """One to three mutations of the checkpoint bytes `raw`, drawn from hypothesis' `data`."""
    for _ in range(data.draw(st.integers(1, 3))):
        (length,) = struct.unpack("<Q", raw[:8]) if len(raw) >= 8 else (0,)
        try:
            header = json.loads(raw[8 : 8 + length])
            body = bytearray(raw[8 + length :])
            parsed = isinstance(header, dict)
        except (ValueError, UnicodeDecodeError, RecursionError):
            parsed = False
        kind = data.draw(
            st.sampled_from(
                ["metadata", "table", "values", "header-bytes", "length", "truncate"]
                if parsed
                else ["header-bytes", "length", "truncate"]
            )
        )
        if kind == "metadata":
            _mutate_metadata(data, header)
            raw = _bytes(header, body)
        elif kind == "table":
            _mutate_table(data, header)
            raw = _bytes(header, body)
        elif kind == "values":
            _mutate_values(data, header, body)
            raw = _bytes(header, body)
        elif kind == "header-bytes":
            edit = bytearray(raw)
            for _ in range(data.draw(st.integers(1, 4))):
                at = data.draw(st.integers(0, max(0, min(len(edit), 8 + length) - 1)))
                if at < len(edit):
                    edit[at] = data.draw(st.integers(0, 255))
            raw = bytes(edit)
        elif kind == "length":
            value = data.draw(
                st.sampled_from([0, 1, 7, length - 1, length + 1, length * 2, 2**32, 2**63, 2**64 - 1])
                | st.integers(0, 2**64 - 1)
            )
            raw = struct.pack("<Q", value % 2**64) + raw[8:]
        else:
            raw = raw[: data.draw(st.integers(0, max(0, len(raw) - 1)))]
    return raw


def _bytes(header, body: bytes) -> bytes:
    text = json.dumps(header, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return struct.pack("<Q", len(text)) + text + bytes(body)


SEARCH_BUDGET = 2_000  # model rows the closing search of a fuzzed model's generation may compute (the web's is 10,000)


def outcome(path: Path, torch_too: bool = False, times: dict | None = None) -> str:
    """ "loaded" if the file loads and the model generates and scores, "refused" if loading raises a
    CheckpointError; any other exception escapes (what the fuzz tests look for). With `torch_too`, a
    file that loads is also loaded and used through the torch engine (which may refuse it, typed).
    `times`, when given, gets the seconds of loading (or refusing) and of using the model.

    A mutated model can put its mass on a few strings, so that sampling finds too few new names
    and the search that completes it runs to its budget: generation here gets a small one
    (`SEARCH_BUDGET`), so a case costs what loading and a bounded use cost."""
    import time

    from xiaming.errors import CheckpointError
    from xiaming.generation.namer import Namer

    times = {} if times is None else times
    start = time.perf_counter()
    try:
        namer = Namer.load(path)
    except CheckpointError:
        times["load"] = time.perf_counter() - start
        return "refused"
    times["load"] = time.perf_counter() - start
    result = namer.generate(2, seed=0, max_tries=2_000, search_budget=SEARCH_BUDGET)
    assert len(result.items) <= 2
    scores = namer.score([result.items[0].name if result.items else NAMES[0]])
    assert all(not math.isnan(s.log_prob) for s in scores)
    if torch_too:
        try:
            Namer.load(path, engine="torch").generate(2, seed=0, max_tries=2_000, search_budget=SEARCH_BUDGET)
        except CheckpointError:
            pass
    times["use"] = time.perf_counter() - start - times["load"]
    return "loaded"


__all__ = ["BASES", "join", "make_bases", "mutate", "outcome", "split"]
