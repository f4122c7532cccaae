"""Recurrent models (vanilla RNN, LSTM, GRU) in numpy, from the same checkpoints torch trains.

The equations are PyTorch's (`torch.nn.RNN/LSTM/GRU`), gate order included: LSTM gates i, f, g, o
(Hochreiter & Schmidhuber, 1997); GRU gates r, z, n with the reset gate applied to the hidden
projection plus its bias (Cho et al., 2014). Weights are computed in float32 whatever they are
stored in (the shipped models store float16).

Speed comes from three precomputations: the first layer's input projection of every character
(embedding times input weights plus biases) is one table row per id, so a step reads a row instead
of multiplying; the output layer is one contiguous (width, V) matrix (for a tied head, the
embedding transposed, with the projection applied first); and all rows of a batch step together,
so the work per step is two matrix products (B, H) x (H, 4H) and (B, E) x (E, V).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..models.configs import GATES
from .protocol import State


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, in place on a float32 array (or view) that is not needed afterwards.

    As (1 + tanh(x / 2)) / 2, which cannot overflow (1 / (1 + exp(-x)) warned of an overflow for
    x below -88, where a model with large weights goes) and is faster on a batch of rows."""
    x *= 0.5
    np.tanh(x, out=x)
    x += 1.0
    x *= 0.5
    return x


@dataclass
class Layer:
    """One recurrent layer's weights (float32), laid out for row-major products."""

    w_ih_t: np.ndarray | None  # (in, G*H) input weights transposed (None for layer 0: see `RecurrentEngine.table`)
    w_hh_t: np.ndarray  # (H, G*H) hidden weights transposed
    b_ih: np.ndarray  # (G*H,)
    b_hh: np.ndarray  # (G*H,)


@dataclass
class LSTMTrace:
    """What an LSTM's first layer did at each step of one name (for `explain`): each (T, H)."""

    input_gate: np.ndarray
    forget_gate: np.ndarray
    output_gate: np.ndarray
    cell: np.ndarray
    hidden: np.ndarray


class RecurrentEngine:
    """`Engine` for the rnn, lstm and gru kinds (see the module docstring)."""

    def __init__(self, config: dict, arrays: dict[str, np.ndarray]) -> None:
        f32 = lambda name: np.asarray(arrays[name], dtype=np.float32)  # noqa: E731
        self.cell = config["cell"]
        self.vocab_size = int(config["vocab_size"])
        self.window = None
        self.n_layer, self.n_hidden = int(config["n_layer"]), int(config["n_hidden"])
        G, H = GATES[self.cell], self.n_hidden
        wte = f32("wte.weight")  # (V, E)
        self.layers = []
        for k in range(self.n_layer):
            w_ih, b_ih, b_hh = f32(f"rnn.weight_ih_l{k}"), f32(f"rnn.bias_ih_l{k}"), f32(f"rnn.bias_hh_l{k}")
            self.layers.append(
                Layer(
                    None if k == 0 else np.ascontiguousarray(w_ih.T),
                    np.ascontiguousarray(f32(f"rnn.weight_hh_l{k}").T),
                    b_ih,
                    b_hh,
                )
            )
        # Layer 0's input projection of every id, biases folded in (for the GRU, not the hidden bias of n,
        # which the reset gate multiplies).
        first = self.layers[0]
        folded = first.b_ih + first.b_hh
        if self.cell == "gru":
            folded[2 * H :] = first.b_ih[2 * H :]
        self.table = (wte @ f32("rnn.weight_ih_l0").T + folded).astype(np.float32)  # (V, G*H)
        self.hidden_bias = [
            np.zeros(G * H, dtype=np.float32)
            if self.cell != "gru"
            else np.concatenate([np.zeros(2 * H, dtype=np.float32), layer.b_hh[2 * H :]])
            for layer in self.layers
        ]
        # The output layer with its bias as one more input row, so the bias is added inside the matmul.
        if config.get("tie_weights"):
            self.proj_t = np.ascontiguousarray(f32("proj.weight").T)  # (H, E)
            self.proj_b = f32("proj.bias")
            self.out = np.ascontiguousarray(np.vstack([wte.T, f32("head_bias")[None]]))  # (E + 1, V)
        else:
            self.proj_t = None
            self.out = np.ascontiguousarray(np.vstack([f32("head.weight").T, f32("head.bias")[None]]))  # (H + 1, V)

    # --- the contract ---------------------------------------------------------------------------

    def initial_state(self, batch: int) -> State:
        zeros = np.zeros((self.n_layer, batch, self.n_hidden), dtype=np.float32)
        return (zeros, zeros.copy()) if self.cell == "lstm" else zeros

    def select_state(self, state: State, rows: np.ndarray) -> State:
        if isinstance(state, tuple):
            return tuple(s[:, rows] for s in state)
        return state[:, rows]

    def step(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        out, state = self._advance(ids, state)
        return self.head(out), state

    def logits(self, ids: np.ndarray) -> np.ndarray:
        B, T = ids.shape
        state = self.initial_state(B)
        outs = np.empty((B, T, self.n_hidden), dtype=np.float32)
        for t in range(T):
            outs[:, t], state = self._advance(ids[:, t], state)
        return self.head(outs.reshape(B * T, -1)).reshape(B, T, -1)

    # --- the arithmetic -------------------------------------------------------------------------

    def head(self, out: np.ndarray) -> np.ndarray:
        """Logits (N, V) from top-layer outputs (N, H)."""
        width = len(self.out) - 1
        x = np.empty((len(out), width + 1), dtype=np.float32)  # (N, width + 1): the last column multiplies the bias
        if self.proj_t is not None:
            np.matmul(out, self.proj_t, out=x[:, :width])
            x[:, :width] += self.proj_b
        else:
            x[:, :width] = out
        x[:, width] = 1.0
        return x @ self.out  # (N, V)

    def _advance(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Read one id per row through every layer: the top layer's output (B, H) and the new state."""
        lstm = self.cell == "lstm"
        h_all, c_all = state if lstm else (state, None)
        new_h, new_c = [], []
        x = None
        for k, layer in enumerate(self.layers):
            pre_in = self.table[ids] if k == 0 else x @ layer.w_ih_t + layer.b_ih + layer.b_hh * (self.cell != "gru")
            if self.cell == "lstm":
                h, c = self._lstm(pre_in, h_all[k], c_all[k], layer)
                new_c.append(c)
            elif self.cell == "gru":
                h = self._gru(pre_in, h_all[k], layer, k)
            else:
                h = np.tanh(pre_in + h_all[k] @ layer.w_hh_t)
            new_h.append(h)
            x = h
        h_stack = np.stack(new_h)
        return x, ((h_stack, np.stack(new_c)) if lstm else h_stack)

    def _lstm(
        self, pre_in: np.ndarray, h: np.ndarray, c: np.ndarray, layer: Layer, trace: list | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        H = self.n_hidden
        gates = h @ layer.w_hh_t  # (B, 4H)
        gates += pre_in
        i, f = sigmoid(gates[:, :H]), sigmoid(gates[:, H : 2 * H])  # in place: the gates array is ours
        g = np.tanh(gates[:, 2 * H : 3 * H], out=gates[:, 2 * H : 3 * H])
        o = sigmoid(gates[:, 3 * H :])
        c = f * c
        c += i * g
        h = np.tanh(c)
        h *= o
        if trace is not None:
            trace.append((i, f, o, c, h))
        return h, c

    def _gru(self, pre_in: np.ndarray, h: np.ndarray, layer: Layer, k: int) -> np.ndarray:
        H = self.n_hidden
        hidden = h @ layer.w_hh_t  # (B, 3H)
        if k == 0:
            hidden += self.hidden_bias[0]  # layer 0's table holds every bias but that of n's hidden part
        else:
            pre_in = pre_in.copy()
            pre_in[:, : 2 * H] += layer.b_hh[: 2 * H]
            hidden[:, 2 * H :] += layer.b_hh[2 * H :]
        r = sigmoid(pre_in[:, :H] + hidden[:, :H])
        z = sigmoid(pre_in[:, H : 2 * H] + hidden[:, H : 2 * H])
        n = np.tanh(pre_in[:, 2 * H :] + r * hidden[:, 2 * H :])
        return (1.0 - z) * n + z * h

    def lstm_trace(self, ids: np.ndarray) -> LSTMTrace:
        """The first layer's gates, cell and hidden state after each id of a batch (B, T) of ids, each
        (B, T, H) in the trace (a sequence (T,) gives (T, H)): what `explain` shows."""
        if self.cell != "lstm":
            raise ValueError("gates are defined for LSTM models only")
        single = ids.ndim == 1
        ids = np.atleast_2d(np.asarray(ids, dtype=np.int64))
        B, T = ids.shape
        h = np.zeros((B, self.n_hidden), dtype=np.float32)
        c = np.zeros_like(h)
        steps: list = []
        for t in range(T):
            h, c = self._lstm(self.table[ids[:, t]], h, c, self.layers[0], steps)
        parts = [np.stack(part, axis=1) for part in zip(*steps)]  # each (B, T, H)
        if single:
            parts = [p[0] for p in parts]
        return LSTMTrace(*parts)
