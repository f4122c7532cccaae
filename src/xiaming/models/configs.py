"""The configs of the torch model kinds, apart from the models so that reading a checkpoint's config
needs no torch (the numpy inference engine reads the same fields)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class RNNConfig:
    """Shape of a recurrent model; `vocab_size` comes from the data."""

    vocab_size: int  # number of ids, the boundary and unknown ids included
    cell: str = "lstm"  # recurrent cell: rnn (tanh), lstm or gru
    n_embd: int = 64  # character embedding width
    n_hidden: int = 256  # recurrent state width per layer
    n_layer: int = 1  # stacked recurrent layers
    dropout: float = 0.2  # dropout on embeddings, between layers and before the head
    tie_weights: bool = False  # output layer reuses the embedding through an n_hidden -> n_embd projection


@dataclass(frozen=True)
class TransformerConfig:
    """Shape of a Transformer; `vocab_size` and `block_size` come from the data."""

    vocab_size: int  # number of ids, the boundary and unknown ids included
    block_size: int = 32  # longest input sequence: the longest name plus its start token
    n_layer: int = 2  # transformer blocks
    n_head: int = 4  # attention heads per block
    n_embd: int = 64  # embedding width (divisible by n_head)
    dropout: float = 0.1  # dropout on embeddings, attention output and MLP output

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ConfigError("n_embd", self.n_embd, f"must be divisible by {{n_head}} {self.n_head}", refs=("n_head",))


# --- the tensors a config implies ----------------------------------------------------------------
# Each kind's `tensors(config)` gives {name: (shape, dtype class)} of the state_dict its model saves,
# so a checkpoint's tensors can be checked against its config before anything is built from either
# (`xiaming.validate`). "float" is any of float16/32/64; "int" is int64; None in a shape is any length.

GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # stacked gate blocks of each recurrent cell, as torch lays them out


def rnn_tensors(config: RNNConfig) -> dict[str, tuple[tuple, str]]:
    """The state_dict of `models.rnn.CharRNN` for `config`, by name: (shape, "float")."""
    V, E, H, G = config.vocab_size, config.n_embd, config.n_hidden, GATES[config.cell]
    out = {"wte.weight": ((V, E), "float")}
    for k in range(config.n_layer):
        out.update(
            {
                f"rnn.weight_ih_l{k}": ((G * H, E if k == 0 else H), "float"),
                f"rnn.weight_hh_l{k}": ((G * H, H), "float"),
                f"rnn.bias_ih_l{k}": ((G * H,), "float"),
                f"rnn.bias_hh_l{k}": ((G * H,), "float"),
            }
        )
    if config.tie_weights:
        out.update({"proj.weight": ((E, H), "float"), "proj.bias": ((E,), "float"), "head_bias": ((V,), "float")})
    else:
        out.update({"head.weight": ((V, H), "float"), "head.bias": ((V,), "float")})
    return out


def rnn_engine_floats(config: RNNConfig) -> int:
    """Floats the numpy engine derives beyond the weights: layer 0's input table (V, G*H)."""
    return config.vocab_size * GATES[config.cell] * config.n_hidden


def transformer_tensors(config: TransformerConfig) -> dict[str, tuple[tuple, str]]:
    """The state_dict of `models.transformer.CharTransformer` for `config`, by name: (shape, "float")."""
    V, C = config.vocab_size, config.n_embd
    out = {"wte.weight": ((V, C), "float"), "wpe.weight": ((config.block_size, C), "float")}
    for i in range(config.n_layer):
        p = f"blocks.{i}."
        out.update(
            {
                p + "ln1.weight": ((C,), "float"),
                p + "ln1.bias": ((C,), "float"),
                p + "attn.qkv.weight": ((3 * C, C), "float"),
                p + "attn.qkv.bias": ((3 * C,), "float"),
                p + "attn.proj.weight": ((C, C), "float"),
                p + "attn.proj.bias": ((C,), "float"),
                p + "ln2.weight": ((C,), "float"),
                p + "ln2.bias": ((C,), "float"),
                p + "mlp.0.weight": ((4 * C, C), "float"),
                p + "mlp.0.bias": ((4 * C,), "float"),
                p + "mlp.2.weight": ((C, 4 * C), "float"),
                p + "mlp.2.bias": ((C,), "float"),
            }
        )
    out.update(
        {
            "ln_f.weight": ((C,), "float"),
            "ln_f.bias": ((C,), "float"),
            "head.weight": ((V, C), "float"),
            "head.bias": ((V,), "float"),
        }
    )
    return out


def transformer_engine_floats(config: TransformerConfig) -> int:
    """Floats the numpy engine derives beyond the weights: a transposed copy of every matrix."""
    C = config.n_embd
    return config.n_layer * 12 * C * C + config.vocab_size * C
