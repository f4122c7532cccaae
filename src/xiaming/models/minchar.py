"""The classic min-char-rnn: Karpathy's vanilla RNN in plain numpy, as a model kind of its own.

xiaming started from this algorithm, and it is the baseline every other model must beat, so it is
kept faithful: a tanh RNN with one-hot inputs (hidden size 100), trained on the training names read
as one long stream of characters with the name boundary (id 0, the newline) between names, in
windows of 25 characters; backpropagation through each window, every gradient entry clipped to
±5, Adagrad with a constant learning rate of 0.1 (`--lr`); the hidden state is carried from one
window to the next and reset to zero when the stream wraps around. It ignores `--batch-size`,
`--grad-clip`, `--warmup-steps`, `--weight-decay` and `--unk-rate`, which belong to the minibatch
trainer.

All the math (forward, backward through time, Adagrad) is numpy in float64, as in the original;
torch appears only at the model contract's boundary (tensors in, tensors out, a state_dict of
tensors for the checkpoint).

Scoring and sampling use it the way it is used in training: every name starts from the same
*primed* state, the hidden state after reading a fixed stretch of training text (the last names of
the training stream, at least `prime_length` ids from a newline) up to just before a newline.
Callers feed the boundary id first, which turns that into the post-newline state. The priming ids are stored
with the weights, so a checkpoint is self-contained. (From a zero state it would score badly: in
training it never starts from zero after a newline.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .numpy_base import NumpyModel

if TYPE_CHECKING:
    import torch

PAD_TARGET = -1  # padded targets, as data.batches.PAD_TARGET (batches.py needs torch; this module must not)
WEIGHTS = ("Wxh", "Whh", "Why", "bh", "by")
PRIME_KEY = "prime"  # state_dict key of the priming ids


@dataclass(frozen=True)
class MinCharConfig:
    """Shape and training constants of the classic numpy RNN; `vocab_size` comes from the data."""

    vocab_size: int  # number of ids, the boundary and unknown ids included
    n_hidden: int = 100  # hidden state width
    seq_length: int = 25  # characters per training window (backpropagation through time)
    clip: float = 5.0  # every gradient entry is clipped to [-clip, clip]
    prime_length: int = 100  # at least this many ids of training text set the start state


def loss_and_grads(
    params: dict[str, np.ndarray], inputs: np.ndarray, targets: np.ndarray, hprev: np.ndarray
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """The classic `lossFun`: summed cross-entropy of one window, its gradients, and the last hidden state.

    `inputs` and `targets` are (L,) ids, `hprev` the (H,) state before the window. The one-hot
    products `Wxh @ x` are column lookups and the output layer is applied to the whole window at
    once; the arithmetic is the original's. Gradients are not clipped here.
    """
    Wxh, Whh, Why, bh, by = (params[k] for k in WEIGHTS)
    L, H = len(inputs), len(hprev)
    hs = np.empty((L + 1, H), dtype=Wxh.dtype)  # hs[t + 1] is the state after input t; hs[0] = hprev
    hs[0] = hprev
    for t in range(L):
        hs[t + 1] = np.tanh(Wxh[:, inputs[t]] + Whh @ hs[t] + bh)
    ys = hs[1:] @ Why.T + by  # (L, V) unnormalised log-probabilities
    ys -= ys.max(axis=1, keepdims=True)  # for exp's sake; softmax is unchanged
    ps = np.exp(ys)
    ps /= ps.sum(axis=1, keepdims=True)  # (L, V)
    loss = float(-np.log(ps[np.arange(L), targets]).sum())
    dy = ps  # softmax cross-entropy gradient: p - onehot(target)
    dy[np.arange(L), targets] -= 1
    grads = {"Why": dy.T @ hs[1:], "by": dy.sum(axis=0)}
    dh_out = dy @ Why  # (L, H) gradient reaching each hidden state from its output
    dhraw = np.empty((L, H), dtype=Wxh.dtype)  # gradient at the tanh input, per step
    dhnext = np.zeros(H, dtype=Wxh.dtype)
    for t in reversed(range(L)):
        dhraw[t] = (1 - hs[t + 1] * hs[t + 1]) * (dh_out[t] + dhnext)
        dhnext = Whh.T @ dhraw[t]
    grads["Whh"] = dhraw.T @ hs[:-1]
    grads["bh"] = dhraw.sum(axis=0)
    dWxh = np.zeros_like(Wxh)
    np.add.at(dWxh.T, inputs, dhraw)  # one-hot inputs: column inputs[t] gets dhraw[t]
    grads["Wxh"] = dWxh
    return loss, grads, hs[L].copy()


def stream_from_targets(train_y: torch.Tensor) -> np.ndarray:
    """The training text as one id stream: a boundary, then each name followed by a boundary.

    Target rows hold a name's ids then the boundary, then padding (-1); read row after row they
    are exactly `name1 \\n name2 \\n ...`, the names in file order.
    """
    y = train_y.cpu().numpy()
    return np.concatenate([[0], y[y != PAD_TARGET]]).astype(np.int64)


def priming_ids(stream: np.ndarray, prime_length: int) -> np.ndarray:
    """The last whole names of `stream`, at least `prime_length` characters, from a boundary up to
    (not including) the final boundary."""
    end = len(stream) - 1  # the final boundary; callers feed it themselves
    boundaries = np.flatnonzero(stream[: max(1, end - prime_length + 1)] == 0)
    start = int(boundaries[-1]) if len(boundaries) else 0
    return stream[start:end].copy()


MAX_PRIME = 1 << 20  # priming ids a checkpoint may hold (it is `prime_length` plus one name; read one by one at load)


def minchar_tensors(config: MinCharConfig) -> dict[str, tuple[tuple, str]]:
    """The state_dict of `MinCharRNN` for `config`, by name: (shape, dtype class); the priming ids have any length."""
    H, V = config.n_hidden, config.vocab_size
    return {
        "Wxh": ((H, V), "float"),
        "Whh": ((H, H), "float"),
        "Why": ((V, H), "float"),
        "bh": ((H,), "float"),
        "by": ((V,), "float"),
        PRIME_KEY: ((None,), "int"),
    }


def check_minchar_values(config: MinCharConfig, arrays: dict[str, np.ndarray]) -> tuple[str, str] | None:
    """(field, reason) if the priming ids are not ids of this vocabulary, or too many; None if they are fine."""
    prime = arrays[PRIME_KEY]
    if len(prime) > MAX_PRIME:
        return f"tensor {PRIME_KEY}", f"{len(prime)} priming ids, more than {MAX_PRIME}"
    if len(prime) and (prime.min() < 0 or prime.max() >= config.vocab_size):
        return f"tensor {PRIME_KEY}", f"ids outside 0..{config.vocab_size - 1}"
    return None


class MinCharRNN(NumpyModel):
    """The numpy vanilla RNN behind the common model contract (always on the CPU)."""

    def __init__(self, config: MinCharConfig) -> None:
        import torch

        self.config = config
        H, V = config.n_hidden, config.vocab_size

        def randn(*shape: int) -> np.ndarray:  # the classic randn * 0.01, seeded by torch.manual_seed
            return (torch.randn(*shape, dtype=torch.float64) * 0.01).numpy()

        self.params: dict[str, np.ndarray] = {
            "Wxh": randn(H, V),
            "Whh": randn(H, H),
            "Why": randn(V, H),
            "bh": np.zeros(H),
            "by": np.zeros(V),
        }
        self.prime = np.zeros(0, dtype=np.int64)  # ids read before every name (set by training)
        self._h0: np.ndarray | None = None  # cached primed state; None when the weights changed

    # --- the model contract -------------------------------------------------------------------

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V) for every position, each row from the primed state; mean cross-entropy
        over targets that are not -1."""
        import torch

        Wxh, Whh, Why, bh, by = (self.params[k] for k in WEIGHTS)
        ids = idx.cpu().numpy()
        B, T = ids.shape
        h = np.broadcast_to(self.primed_state(), (B, len(bh)))  # (B, H)
        hs = np.empty((B, T, len(bh)))
        for t in range(T):
            h = np.tanh(Wxh.T[ids[:, t]] + h @ Whh.T + bh)  # (B, H)
            hs[:, t] = h
        logits = hs @ Why.T + by  # (B, T, V)
        loss = None
        if targets is not None:
            tgt = targets.cpu().numpy()
            mask = tgt != PAD_TARGET
            z = logits[mask]  # (N, V)
            zmax = z.max(axis=1, keepdims=True)
            logz = np.log(np.exp(z - zmax).sum(axis=1)) + zmax[:, 0]
            nll = logz - z[np.arange(len(z)), tgt[mask]]
            loss = torch.tensor(float(nll.mean()) if len(nll) else 0.0)
        return torch.from_numpy(logits.astype(np.float32)), loss

    def step(self, idx: torch.Tensor, state=None) -> tuple[torch.Tensor, np.ndarray]:
        """One character per row: (B,) ids -> (B, V) logits and the (B, H) state; None starts primed."""
        import torch

        Wxh, Whh, Why, bh, by = (self.params[k] for k in WEIGHTS)
        ids = idx.cpu().numpy()
        if state is None:
            state = np.broadcast_to(self.primed_state(), (len(ids), len(bh)))
        h = np.tanh(Wxh.T[ids] + np.asarray(state) @ Whh.T + bh)  # (B, H)
        return torch.from_numpy((h @ Why.T + by).astype(np.float32)), h

    def primed_state(self) -> np.ndarray:
        """(H,) hidden state after reading the priming ids from zero with the current weights."""
        if self._h0 is None:
            Wxh, Whh, bh = self.params["Wxh"], self.params["Whh"], self.params["bh"]
            h = np.zeros(len(bh))
            for i in self.prime:
                h = np.tanh(Wxh[:, i] + Whh @ h + bh)
            self._h0 = h
        return self._h0

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The weights (float64) and the priming ids (int64), as copies."""
        import torch

        sd = {k: torch.tensor(self.params[k]) for k in WEIGHTS}
        sd[PRIME_KEY] = torch.tensor(self.prime, dtype=torch.int64)
        return sd

    def load_state_dict(self, state_dict: dict[str, torch.Tensor], strict: bool = True) -> None:
        """Inverse of `state_dict`; a missing key, an extra key or a wrong shape is an error."""
        expected = set(WEIGHTS) | {PRIME_KEY}
        if set(state_dict) != expected:
            raise KeyError(f"expected keys {sorted(expected)}, got {sorted(state_dict)}")
        for k in WEIGHTS:
            value = state_dict[k].detach().cpu().double().numpy().copy()
            if value.shape != self.params[k].shape:
                raise ValueError(f"{k}: shape {tuple(value.shape)}, expected {self.params[k].shape}")
            self.params[k] = value
        prime = state_dict[PRIME_KEY].detach().cpu().numpy().astype(np.int64)
        if prime.ndim != 1 or (len(prime) and (prime.min() < 0 or prime.max() >= self.config.vocab_size)):
            raise ValueError(f"{PRIME_KEY}: not a list of ids below {self.config.vocab_size}")
        self.prime = prime
        self.weights_changed()

    def weights_changed(self) -> None:
        """Forget the cached primed state (call after any change to the weights)."""
        self._h0 = None

    def num_parameters(self) -> int:
        return sum(p.size for p in self.params.values())

    def make_trainer(self, train_x: torch.Tensor, train_y: torch.Tensor, config, peak_lr: float) -> "MinCharTrainer":
        """The classic training loop over the training stream; also sets the priming ids."""
        stream = stream_from_targets(train_y)
        self.prime = priming_ids(stream, self.config.prime_length)
        self.weights_changed()
        return MinCharTrainer(self, stream, peak_lr)


class MinCharTrainer:
    """One 25-character window per step: forward, backprop through time, clip, Adagrad."""

    finished = False  # a stream never runs out: it wraps around

    def __init__(self, model: MinCharRNN, stream: np.ndarray, lr: float) -> None:
        self.model, self.stream, self.lr = model, stream, lr
        self.memory = {k: np.zeros_like(v) for k, v in model.params.items()}  # Adagrad sums of squares
        self.position = 0  # where the next window starts in the stream
        self.hidden = np.zeros(model.config.n_hidden)  # carried across windows

    def step(self, step: int) -> tuple[float, int]:
        L = min(self.model.config.seq_length, len(self.stream) - 1)
        if self.position + L + 1 >= len(self.stream):  # wrap around (the original's condition)
            self.position = 0
            self.hidden = np.zeros_like(self.hidden)
        inputs = self.stream[self.position : self.position + L]
        targets = self.stream[self.position + 1 : self.position + L + 1]
        params = self.model.params
        loss, grads, self.hidden = loss_and_grads(params, inputs, targets, self.hidden)
        # Only the columns of Wxh for this window's characters have a gradient; Adagrad leaves the
        # others exactly as they are, so updating just those columns is the same update, faster.
        cols = np.unique(inputs)
        for k, g in grads.items():
            if k == "Wxh":
                param, memory = params[k][:, cols], self.memory[k][:, cols]
                self._adagrad(param, memory, g[:, cols])
                params[k][:, cols], self.memory[k][:, cols] = param, memory
            else:
                self._adagrad(params[k], self.memory[k], g)
        self.model.weights_changed()
        self.position += L
        return loss / L, L

    def _adagrad(self, param: np.ndarray, memory: np.ndarray, grad: np.ndarray) -> None:
        """Clip `grad` to ±clip, then one Adagrad step on `param`, all in place."""
        clip = self.model.config.clip
        np.clip(grad, -clip, clip, out=grad)  # mitigate exploding gradients
        memory += grad * grad
        param -= self.lr * grad / np.sqrt(memory + 1e-8)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        import torch

        tensors = {f"memory.{k}": torch.tensor(v) for k, v in self.memory.items()}
        tensors["position"] = torch.tensor([self.position], dtype=torch.int64)
        tensors["hidden"] = torch.tensor(self.hidden)
        return tensors

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        self.memory = {k: tensors[f"memory.{k}"].double().numpy().copy() for k in self.memory}
        self.position = int(tensors["position"][0])
        self.hidden = tensors["hidden"].double().numpy().copy()
