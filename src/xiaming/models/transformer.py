"""A small causal Transformer decoder over characters (Vaswani et al., 2017, "Attention Is All You
Need"), in the GPT-2 arrangement (Radford et al., 2019): pre-LayerNorm blocks, learned position
embeddings, GELU MLP. Names are short, so sampling recomputes the whole prefix at every step
instead of keeping a key-value cache.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .configs import TransformerConfig


class SelfAttention(nn.Module):
    """Multi-head causal self-attention."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)  # 3 x (B, T, C)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, h, T, d)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, h, T, d)
        return self.drop(self.proj(y.transpose(1, 2).reshape(B, T, C)))  # (B, T, C)


class Block(nn.Module):
    """Pre-LayerNorm transformer block: attention and MLP, each with a residual connection."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.attn = SelfAttention(config)
        self.ln2 = nn.LayerNorm(config.n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(config.n_embd, 4 * config.n_embd),
            nn.GELU(),
            nn.Linear(4 * config.n_embd, config.n_embd),
            nn.Dropout(config.dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class CharTransformer(nn.Module):
    """A causal Transformer behind the common `forward(idx, targets)` contract."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size)
        self.apply(_init_weights)

    # Parameters with one row per vocabulary id (dimension 0), remapped when the vocabulary grows.
    VOCAB_ROWS = ("wte.weight", "head.weight", "head.bias")

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits for every position; mean cross-entropy over targets that are not -1 (padding)."""
        T = idx.size(1)
        pos = torch.arange(T, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))  # (B, T, C)
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    def step(self, idx: torch.Tensor, state=None) -> tuple[torch.Tensor, torch.Tensor]:
        """One character for each row: (B,) ids -> (B, V) logits; the state is the ids so far."""
        history = idx[:, None] if state is None else torch.cat([state, idx[:, None]], dim=1)  # (B, t)
        logits, _ = self.forward(history[:, -self.config.block_size :])
        return logits[:, -1], history

    @staticmethod
    def select_state(state, index: torch.Tensor):
        """Keep (and reorder) the batch rows `index` of a state."""
        return None if state is None else state[index]


def _init_weights(module: nn.Module) -> None:
    """GPT-2 initialisation: small normal weights, zero biases."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
