"""The model registry: every model kind by name, with its config class, size presets, defaults and
what it can do (`ModelSpec`: trains by gradient, its numpy inference engine, a view of its gates).

All kinds share one contract: `forward(idx, targets=None) -> (logits, loss)` for training and
scoring, `step(idx, state) -> (logits, state)` for one character at a time when sampling, and
`select_state(state, index)` to keep some rows of a batch. Code outside this package never asks
which kind a model is, nor probes a model for what it can do; it looks the kind up here.

Importing this package does not import torch: the configs live apart from the torch models, which
are imported when a model is built (training, the torch engine). The numpy inference engine
(`xiaming.engine`) reads the same configs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import NO_VALUE, ConfigError
from .configs import (
    RNNConfig,
    TransformerConfig,
    rnn_engine_floats,
    rnn_tensors,
    transformer_engine_floats,
    transformer_tensors,
)
from .minchar import MinCharConfig, MinCharRNN, check_minchar_values, minchar_tensors
from .ngram import MAX_ORDER, NGramConfig, NGramLM, check_ngram_values, ngram_tensors


def _char_rnn(config: RNNConfig):
    from .rnn import CharRNN

    return CharRNN(config)


def _char_transformer(config: TransformerConfig):
    from .transformer import CharTransformer

    return CharTransformer(config)


# The numpy inference engines (xiaming.engine), imported when one is built: a stored config and its arrays in
def _recurrent_engine(config: dict, arrays: dict):
    from ..engine.rnn import RecurrentEngine

    return RecurrentEngine(config, arrays)


def _transformer_engine(config: dict, arrays: dict):
    from ..engine.transformer import TransformerEngine

    return TransformerEngine(config, arrays)


def _ngram_engine(config: dict, arrays: dict):
    from ..engine.counts import NGramEngine

    return NGramEngine(config, arrays)


def _minchar_engine(config: dict, arrays: dict):
    from ..engine.counts import MinCharEngine

    return MinCharEngine(config, arrays)


@dataclass(frozen=True)
class ModelSpec:
    """How to build one model kind."""

    config_cls: type  # the frozen dataclass that configures it
    build: Callable[[Any], Any]  # config -> model (a torch module, or a numpy model behind its contract)
    description: str  # one line for help texts
    presets: dict[str, dict] = field(default_factory=dict)  # size name -> config fields
    fixed: dict = field(default_factory=dict)  # config fields implied by the kind
    lr: float = 3e-3  # default peak learning rate
    window: Callable[[Any], int | None] = lambda config: None  # the most ids the model reads at once
    tensors: Callable[[Any], dict] = lambda config: {}  # config -> {name: (shape, "float" | "int")} it saves
    engine_floats: Callable[[Any], int] = lambda config: 0  # floats the numpy engine derives beyond the weights
    check_values: Callable[[Any, dict], tuple[str, str] | None] = lambda config, arrays: (
        None
    )  # (field, reason) of bad values
    # what the kind can do, asked here rather than probed on a model or an engine:
    gradient: bool = True  # trains by gradient (a torch module: any number of processes, streamed data); False:
    # its own algorithm (`make_trainer`), in one process on names in memory, and no fine-tuning
    engine: Callable[[dict, dict], Any] | None = None  # (stored config, arrays) -> its numpy inference engine
    gates: bool = False  # its numpy engine traces LSTM gates and states (`explain` shows them)


_RNN_PRESETS = {
    "tiny": {"n_embd": 16, "n_hidden": 32, "n_layer": 1, "dropout": 0.0},
    "small": {"n_embd": 64, "n_hidden": 128, "n_layer": 1, "dropout": 0.3},
    "medium": {"n_embd": 128, "n_hidden": 256, "n_layer": 2, "dropout": 0.3},
    "large": {"n_embd": 256, "n_hidden": 512, "n_layer": 2, "dropout": 0.3},
}
_TRANSFORMER_PRESETS = {
    "tiny": {"n_embd": 16, "n_head": 2, "n_layer": 1, "dropout": 0.0},
    "small": {"n_embd": 64, "n_head": 4, "n_layer": 2, "dropout": 0.2},
    "medium": {"n_embd": 128, "n_head": 4, "n_layer": 4, "dropout": 0.2},
    "large": {"n_embd": 256, "n_head": 8, "n_layer": 6, "dropout": 0.2},
}

_RNN = {"tensors": rnn_tensors, "engine_floats": rnn_engine_floats, "engine": _recurrent_engine}
MODELS: dict[str, ModelSpec] = {
    "rnn": ModelSpec(RNNConfig, _char_rnn, "vanilla RNN (tanh)", _RNN_PRESETS, {"cell": "rnn"}, lr=2e-3, **_RNN),
    "lstm": ModelSpec(RNNConfig, _char_rnn, "LSTM", _RNN_PRESETS, {"cell": "lstm"}, gates=True, **_RNN),
    "gru": ModelSpec(RNNConfig, _char_rnn, "GRU", _RNN_PRESETS, {"cell": "gru"}, **_RNN),
    "transformer": ModelSpec(
        TransformerConfig,
        _char_transformer,
        "small causal Transformer decoder",
        _TRANSFORMER_PRESETS,
        lr=1e-3,
        window=lambda config: config.block_size,
        tensors=transformer_tensors,
        engine_floats=transformer_engine_floats,
        engine=_transformer_engine,
    ),
    "minchar": ModelSpec(
        MinCharConfig,
        MinCharRNN,
        "the classic min-char-rnn (numpy vanilla RNN, Adagrad)",
        lr=0.1,
        tensors=minchar_tensors,
        check_values=check_minchar_values,
        gradient=False,
        engine=_minchar_engine,
    ),
    "ngram": ModelSpec(
        NGramConfig,
        NGramLM,
        "interpolated Kneser-Ney character n-gram (counts, no training)",
        tensors=ngram_tensors,
        check_values=check_ngram_values,
        gradient=False,
        engine=_ngram_engine,
    ),
}
# The sizes any config may have, by field: (least, most). A user's flag and a checkpoint's config are held to
# the same bounds (`make_config`, `xiaming.validate`); the largest preset is far inside them.
SIZE_LIMITS: dict[str, tuple[int, int]] = {
    "vocab_size": (2, 1 << 18),  # ids, the two special ones included (Unicode assigns about 150,000 characters)
    "n_embd": (1, 8192),
    "n_hidden": (1, 8192),
    "n_layer": (1, 64),
    "n_head": (1, 8192),
    "block_size": (2, 1 << 16),
    "order": (1, MAX_ORDER),
    "seq_length": (1, 1 << 20),
    "prime_length": (0, 1 << 20),
}
MAX_PARAMETERS = 1 << 28  # weights plus what the numpy engine derives from them: 1 GiB of float32
SIZES = ("tiny", "small", "medium", "large")
DEFAULT_SIZE = "small"


def spec(kind: str) -> ModelSpec:
    """The registry entry of `kind`; an unknown kind lists the valid ones."""
    try:
        return MODELS[kind]
    except KeyError:
        raise ConfigError("model", kind, f"unknown model kind; choose one of {', '.join(MODELS)}") from None


def config_fields(kind: str) -> set[str]:
    """Config fields a user may set for `kind` (those not derived from the data or the kind)."""
    s = spec(kind)
    return {f.name for f in dataclasses.fields(s.config_cls)} - {"vocab_size", "block_size"} - set(s.fixed)


def make_config(kind: str, data_fields: dict, size: str | None = None, **overrides: Any):
    """A config for `kind`: preset `size`, then `overrides` (None values ignored), then the data's fields."""
    s = spec(kind)
    size = size or DEFAULT_SIZE
    if s.presets and size not in s.presets:
        raise ConfigError("size", size, f"choose one of {', '.join(s.presets)}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(overrides) - config_fields(kind)
    if unknown:
        raise ConfigError(sorted(unknown)[0], overrides[sorted(unknown)[0]], f"not a setting of the {kind} model")
    for key, value in overrides.items():
        if key == "dropout" and not 0.0 <= value < 1.0:
            raise ConfigError("dropout", value, "must be in [0, 1)")
        if key != "dropout" and isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise ConfigError(key, value, "must be at least 1")
        if key in SIZE_LIMITS and isinstance(value, int) and value > SIZE_LIMITS[key][1]:
            raise ConfigError(key, value, f"at most {SIZE_LIMITS[key][1]}")
    wanted = {f.name for f in dataclasses.fields(s.config_cls)}
    values = {**s.presets.get(size, {}), **s.fixed, **overrides, **data_fields}
    return s.config_cls(**{k: v for k, v in values.items() if k in wanted})


def build_model(kind: str, config):
    """A freshly initialised model of `kind` with `config`."""
    return spec(kind).build(config)


def config_from_dict(kind: str, data: dict):
    """Rebuild a config stored in a checkpoint."""
    return spec(kind).config_cls(**data)


def count_parameters(model) -> int:
    """Number of trainable parameters (a model without torch parameters reports its own count)."""
    if hasattr(model, "num_parameters"):
        return int(model.num_parameters())
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def transfer_weights(src, src_chars: tuple[str, ...], dst, dst_chars: tuple[str, ...]) -> None:
    """Copy `src`'s weights into `dst`, whose vocabulary is a superset (fine-tuning on a new list).

    Rows indexed by vocabulary id (each class lists them in `VOCAB_ROWS`) are copied to the ids the
    same characters have in the new vocabulary; the special ids keep theirs. Rows of characters new
    to the model start at the mean of the copied rows, so a new character begins as an average
    character rather than as noise. Every other tensor must have the same shape in both models.
    """
    from ..data.vocab import N_SPECIAL

    if not hasattr(
        dst, "VOCAB_ROWS"
    ):  # a kind without gradient training (ModelSpec.gradient); check_plan refuses it first
        raise ConfigError(
            "init",
            NO_VALUE,
            f"a {type(dst).__name__} model cannot be fine-tuned; use "
            f"{', '.join(k for k, s in MODELS.items() if s.gradient)}",
        )
    index = {c: i + N_SPECIAL for i, c in enumerate(dst_chars)}
    old_ids = list(range(N_SPECIAL)) + [i + N_SPECIAL for i in range(len(src_chars))]
    new_ids = list(range(N_SPECIAL)) + [index[c] for c in src_chars]
    src_state, dst_state = src.state_dict(), dst.state_dict()
    vocab_rows = set(dst.VOCAB_ROWS)
    for key, value in src_state.items():
        target = dst_state[key]
        if key in vocab_rows:
            fresh = value[N_SPECIAL:].float().mean(dim=0, keepdim=True).to(value.dtype)
            target.copy_(fresh.expand_as(target))
            target[new_ids] = value[old_ids]
        elif target.shape == value.shape:
            target.copy_(value)
        else:
            raise ConfigError(
                "init",
                NO_VALUE,
                f"cannot fine-tune: {key} has shape {tuple(value.shape)} in the base, {tuple(target.shape)} here",
            )
    dst.load_state_dict(dst_state)
