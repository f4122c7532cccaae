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
            raise ConfigError(f"--n-embd {self.n_embd} must be divisible by --n-head {self.n_head}")
