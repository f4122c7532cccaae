"""The torch models behind the inference contract: the engine for GPU inference and the reference
the numpy engines are tested against.

A torch model keeps its own `step`, `select_state` and `forward`; this adapter only moves ids in
and logits out as numpy arrays (float32) so the sampler, the search and the scorer are the same
code whatever computes the logits. Torch is imported here, never on the numpy path.
"""

from __future__ import annotations

import numpy as np
import torch

from .protocol import State


class TorchEngine:
    """A torch model (rnn, lstm, gru, transformer, or a numpy model behind torch's contract) as an `Engine`."""

    def __init__(self, model, vocab_size: int, window: int | None = None) -> None:
        self.model = model.eval()
        self.vocab_size = vocab_size
        self.window = window
        params = list(model.parameters()) if isinstance(model, torch.nn.Module) else []
        self.device = params[0].device if params else torch.device("cpu")

    def initial_state(self, batch: int) -> State:
        return None  # torch models start from their own zero (or primed) state when given None

    @torch.inference_mode()
    def step(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        logits, state = self.model.step(torch.as_tensor(ids, dtype=torch.long, device=self.device), state)
        return logits.float().cpu().numpy(), state

    def select_state(self, state: State, rows: np.ndarray) -> State:
        if state is None:
            return None
        index = torch.as_tensor(rows, dtype=torch.long)
        if isinstance(state, np.ndarray):  # the numpy kinds keep numpy states
            return self.model.select_state(state, index)
        return self.model.select_state(state, index.to(self.device))

    @torch.inference_mode()
    def logits(self, ids: np.ndarray) -> np.ndarray:
        out, _ = self.model(torch.as_tensor(ids, dtype=torch.long, device=self.device))
        return out.float().cpu().numpy()
