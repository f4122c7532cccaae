"""Recurrent character models: vanilla RNN (tanh), LSTM and GRU.

One class covers the three cells, since they differ only in the recurrent layer that PyTorch
provides: Elman (1990) for `rnn`, Hochreiter & Schmidhuber (1997) for `lstm`, Cho et al. (2014)
for `gru`. Embedding -> dropout -> recurrent stack -> dropout -> linear head over the vocabulary.
With `tie_weights` the head projects the state to the embedding width and scores characters
against their own embeddings (Press & Wolf, 2017, "Using the Output Embedding to Improve Language
Models"): with thousands of Chinese characters this shrinks the model several times over and lets
rare characters learn from both their input and output uses.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .configs import RNNConfig

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class CharRNN(nn.Module):
    """A recurrent character model behind the common `forward(idx, targets)` contract."""

    def __init__(self, config: RNNConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        extra = {"nonlinearity": "tanh"} if config.cell == "rnn" else {}
        self.rnn = CELLS[config.cell](
            config.n_embd,
            config.n_hidden,
            num_layers=config.n_layer,
            batch_first=True,
            dropout=config.dropout if config.n_layer > 1 else 0.0,
            **extra,
        )
        if config.tie_weights:
            self.proj = nn.Linear(config.n_hidden, config.n_embd)
            self.head_bias = nn.Parameter(torch.zeros(config.vocab_size))
        else:
            self.head = nn.Linear(config.n_hidden, config.vocab_size)

    # Parameters with one row per vocabulary id (dimension 0), remapped when the vocabulary grows.
    VOCAB_ROWS = ("wte.weight", "head.weight", "head.bias", "head_bias")

    def logits(self, out: torch.Tensor) -> torch.Tensor:
        """Scores over the vocabulary from recurrent outputs (..., H) -> (..., V)."""
        if self.config.tie_weights:
            h = self.proj(out)  # (..., E)
            flat = torch.addmm(self.head_bias, h.reshape(-1, h.size(-1)), self.wte.weight.T)  # bias added in the matmul
            return flat.view(*h.shape[:-1], -1)  # (..., V)
        return self.head(out)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits for every position; mean cross-entropy over targets that are not -1 (padding)."""
        x = self.drop(self.wte(idx))  # (B, T, E)
        out, _ = self.rnn(x)  # (B, T, H)
        logits = self.logits(self.drop(out))  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    def step(self, idx: torch.Tensor, state=None) -> tuple[torch.Tensor, object]:
        """One character for each row: (B,) ids -> (B, V) logits and the new recurrent state."""
        out, state = self.rnn(self.wte(idx)[:, None, :], state)  # (B, 1, H)
        return self.logits(out[:, 0]), state

    @staticmethod
    def select_state(state, index: torch.Tensor):
        """Keep (and reorder) the batch rows `index` of a recurrent state."""
        if state is None:
            return None
        if isinstance(state, tuple):
            return tuple(s[:, index] for s in state)
        return state[:, index]
