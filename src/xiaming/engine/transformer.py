"""The causal Transformer (GPT-2 arrangement: pre-LayerNorm blocks, learned positions, GELU MLP) in
numpy, from the same checkpoints torch trains; float32 whatever the stored precision.

Like the torch model, a step re-reads the whole name so far (at most `block_size` ids): names
are short, so a key-value cache would save little; only the last position goes through the output
layer, which over thousands of characters is most of the work. GELU is the exact one (erf), as torch's
default; numpy has no vectorised erf, so `erf` below uses a rational approximation accurate to
about 1e-7, far below the 1e-5 the engines are tested to agree within.
"""

from __future__ import annotations

import numpy as np

from .protocol import State

LN_EPS = 1e-5  # torch.nn.LayerNorm's default


def erf(x: np.ndarray) -> np.ndarray:
    """Vectorised error function in float64 (Numerical Recipes' erfc fit: fractional error below 1.2e-7)."""
    x = x.astype(np.float64)
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * a)
    poly = (
        -a * a
        - 1.26551223
        + t
        * (
            1.00002368
            + t
            * (
                0.37409196
                + t
                * (
                    0.09678418
                    + t
                    * (
                        -0.18628806
                        + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))
                    )
                )
            )
        )
    )
    return sign * (1.0 - t * np.exp(poly))


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU with the exact Gaussian CDF."""
    return (0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))).astype(np.float32)


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LN_EPS) * weight + bias


class TransformerEngine:
    """`Engine` for the transformer kind; the state is the ids read so far (B, t)."""

    def __init__(self, config: dict, arrays: dict[str, np.ndarray]) -> None:
        self.w = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
        for k in list(self.w):
            if k.endswith(".weight") and self.w[k].ndim == 2 and not k.startswith(("wte", "wpe")):
                self.w[k + ".T"] = np.ascontiguousarray(self.w[k].T)
        self.vocab_size = int(config["vocab_size"])
        self.window = int(config["block_size"])
        self.n_layer, self.n_head = int(config["n_layer"]), int(config["n_head"])

    def initial_state(self, batch: int) -> State:
        return np.zeros((batch, 0), dtype=np.int64)

    def select_state(self, state: State, rows: np.ndarray) -> State:
        return state[rows]

    def step(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        history = np.concatenate([state, ids[:, None].astype(np.int64)], axis=1)  # (B, t)
        last = self._features(history[:, -self.window :])[:, -1]  # (B, C): only the last position is scored
        return last @ self.w["head.weight.T"] + self.w["head.bias"], history

    def logits(self, ids: np.ndarray) -> np.ndarray:
        return self._features(ids) @ self.w["head.weight.T"] + self.w["head.bias"]  # (B, T, V)

    def _features(self, ids: np.ndarray) -> np.ndarray:
        """The final LayerNorm's output (B, T, C) for (B, T) ids: everything but the head."""
        w = self.w
        B, T = ids.shape
        x = w["wte.weight"][ids] + w["wpe.weight"][:T]  # (B, T, C)
        causal = np.triu(np.full((T, T), -np.inf, dtype=np.float32), k=1)  # (T, T)
        for i in range(self.n_layer):
            p = f"blocks.{i}."
            x = x + self._attention(layer_norm(x, w[p + "ln1.weight"], w[p + "ln1.bias"]), p, causal)
            h = layer_norm(x, w[p + "ln2.weight"], w[p + "ln2.bias"]) @ w[p + "mlp.0.weight.T"] + w[p + "mlp.0.bias"]
            x = x + gelu(h) @ w[p + "mlp.2.weight.T"] + w[p + "mlp.2.bias"]
        return layer_norm(x, w["ln_f.weight"], w["ln_f.bias"])

    def _attention(self, x: np.ndarray, p: str, causal: np.ndarray) -> np.ndarray:
        w = self.w
        B, T, C = x.shape
        h = self.n_head
        qkv = x @ w[p + "attn.qkv.weight.T"] + w[p + "attn.qkv.bias"]  # (B, T, 3C)
        q, k, v = (qkv[..., j * C : (j + 1) * C].reshape(B, T, h, C // h).transpose(0, 2, 1, 3) for j in range(3))
        att = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(C // h)) + causal  # (B, h, T, T)
        att = np.exp(att - att.max(axis=-1, keepdims=True))
        att /= att.sum(axis=-1, keepdims=True)
        y = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, C)  # (B, T, C)
        return y @ w[p + "attn.proj.weight.T"] + w[p + "attn.proj.bias"]
