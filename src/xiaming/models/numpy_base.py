"""What the numpy model kinds (`minchar`, `ngram`) share to honour the model contract: the
training/eval mode flag, a `to()` that stays on the CPU, calling the model as `forward`, and
batch-row selection of a numpy state. Subclasses hold no torch parameters: they stay on the CPU
whatever device a run asks for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


class NumpyModel:
    """Mode and device plumbing for a model computed in numpy; subclasses define `forward`."""

    training = True

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def eval(self):
        return self.train(False)

    def train(self, mode: bool = True):
        self.training = mode
        return self

    def to(self, device=None, *args, **kwargs):
        """Stays on the CPU (numpy) whatever the device; outputs are CPU tensors."""
        return self

    @staticmethod
    def select_state(state, index: torch.Tensor):
        """Keep (and reorder) the batch rows `index` of a (B, ...) numpy state."""
        import torch

        if state is None:
            return None
        return np.asarray(state)[np.asarray(index.cpu() if isinstance(index, torch.Tensor) else index)]
