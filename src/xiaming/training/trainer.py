"""One update at a time: the gradient trainer every PyTorch model uses, where its rows come from,
the learning-rate schedule, and the held-out loss.

`GradientTrainer` draws the indices of each batch of `batch_size` names, and the unknown-character
noise, from one seeded generator, whole, on every rank; a rank reads and computes only its own
contiguous share of the rows (all of them in a group of one). DistributedDataParallel averages the
gradients; each rank's mean loss is weighted by (its target characters / the batch's) * N, so the
update of N ranks equals, up to float rounding, that of one process on the whole batch. A model kind
with its own algorithm (the classic numpy RNN, the n-gram counts) supplies its own trainer through
`model.make_trainer(...)`; it runs in one process, on names in memory.
"""

from __future__ import annotations

import json
import math
from typing import Protocol

import torch

from .. import checkpoint as ckpt
from ..data.batches import PAD_TARGET, crop, hide_targets, length_batches
from ..data.vocab import Vocab
from .config import TrainConfig
from .parallel import Group
from .sources import BatchSource

VALIDATION_LOGITS = 1 << 21  # logits (rows x positions x vocabulary) per validation batch: 8 MB of float32


class Trainer(Protocol):
    """One update at a time; its state must be saved and restored for exact resume."""

    finished: bool  # True when further steps cannot change the model (e.g. counts are complete)

    def step(self, step: int) -> tuple[float, int]:
        """Perform update number `step` (0-based); return its training loss and target characters."""

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Everything besides the model weights that resume needs (optimizer, RNG, positions)."""

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Inverse of `state_tensors`."""


def lr_at(step: int, peak: float, config: TrainConfig) -> float:
    """Linear warmup to `peak`, then cosine decay to `min_lr_ratio * peak` at `max_steps`."""
    if step < config.warmup_steps:
        return peak * (step + 1) / config.warmup_steps
    span = max(1, config.max_steps - config.warmup_steps)
    t = min(1.0, (step - config.warmup_steps) / span)
    return peak * (config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


class GradientTrainer:
    """AdamW on random minibatches of padded names, computed by `group.world` ranks on their shares.

    Characters that occur once in the training names are shown as the unknown id with chance
    `unk_rate`, so the model learns how often a name holds a character it has never seen; without
    this, held-out names with new characters (common in Chinese lists) get near-zero probability.
    """

    finished = False

    def __init__(self, model, source: BatchSource, config: TrainConfig, peak_lr: float, group: Group) -> None:
        self.model, self.config, self.peak_lr, self.device = model, config, peak_lr, group.device
        self.source, self.group = source, group
        decay = [p for p in model.parameters() if p.dim() >= 2]  # matrices and embeddings
        rest = [p for p in model.parameters() if p.dim() < 2]  # biases and norm gains: no decay
        groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": rest, "weight_decay": 0.0}]
        self.optimizer = torch.optim.AdamW(groups, lr=peak_lr, betas=(0.9, 0.99))
        self.batches = torch.Generator().manual_seed(config.seed)
        self.rare = source.rare_ids()
        self.net = model
        if group.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.net = DistributedDataParallel(
                model,
                device_ids=[group.device.index] if group.device.type == "cuda" else None,
                gradient_as_bucket_view=True,
            )  # no gradient copy

    def step(self, step: int) -> tuple[float, int]:
        """Update `step`; returns this rank's mean loss and its target characters (the loop sums them)."""
        B, g = self.config.batch_size, self.group
        idx = torch.randint(len(self.source), (B,), generator=self.batches)  # the whole batch, on every rank
        counts = self.source.targets(idx)  # (B,)
        width, total = int(counts.max()), int(counts.sum())
        lo, hi = g.shard(B)
        xb, yb = self.source.rows(idx[lo:hi], width)  # (b, width): only this rank's rows are read
        if self.config.unk_rate > 0 and len(self.rare) > 0:
            noise = torch.rand((B, width), generator=self.batches)[lo:hi]  # drawn whole to keep the stream
            xb, yb = hide_targets(xb, yb, torch.isin(yb, self.rare) & (noise < self.config.unk_rate))
        xb, yb = crop(xb, yb)
        xb, yb = xb.to(self.device), yb.to(self.device)  # (b, T)
        mine = int(counts[lo:hi].sum())
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(step, self.peak_lr, self.config)
        self.net.train()
        _, loss = self.net(xb, yb)
        weighted = loss if g.world == 1 else loss * (mine * g.world / total)
        self.optimizer.zero_grad(set_to_none=True)
        weighted.backward()  # DDP averages the gradients over the ranks here
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        return loss.item(), mine

    def state_tensors(self) -> dict[str, torch.Tensor]:
        opt = self.optimizer.state_dict()
        tensors = {
            f"optim.{pid}.{name}": torch.as_tensor(value)
            for pid, state in opt["state"].items()
            for name, value in state.items()
        }
        tensors["rng.batch"] = self.batches.get_state()
        tensors["optim.param_groups"] = ckpt.text_tensor(json.dumps(opt["param_groups"]))
        return tensors

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        state: dict = {}
        for key, value in tensors.items():
            if key.startswith("optim.") and key != "optim.param_groups":
                _, pid, name = key.split(".", 2)
                state.setdefault(int(pid), {})[name] = value if name == "step" else value.to(self.device)
        self.optimizer.load_state_dict(
            {"state": state, "param_groups": json.loads(ckpt.tensor_text(tensors["optim.param_groups"]))}
        )
        self.batches.set_state(tensors["rng.batch"])


@torch.no_grad()
def batches_nll(model, batches: list[tuple[torch.Tensor, torch.Tensor]], extra_nats: float = 0.0) -> float:
    """Mean cross-entropy per predicted character (end token counted, padding not) over `batches` of
    (inputs, targets), in nats.

    `extra_nats` is added to the total: the cost of spreading the unknown id's probability over the
    characters it stands for (see `score.UnknownShares`), so the figure equals `xiaming eval`'s.
    Each batch is cropped to its longest name; with `validation_batches` (names of similar length,
    about `VALIDATION_LOGITS` logits a batch) a validation costs no more memory than a training step,
    and one long name costs its own row only (not 8.9 GB for one 50 MB line).
    """
    was_training = getattr(model, "training", False)
    model.eval()
    total, count = extra_nats, 0
    for xb, yb in batches:
        xb, yb = crop(xb, yb)
        _, loss = model(xb, yb)
        n = int((yb != PAD_TARGET).sum())
        total += float(loss) * n
        count += n
    if was_training:
        model.train()
    return total / max(1, count)


def validation_batches(vocab: Vocab, names: list[str], device) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The validation names encoded in length-sorted batches within `VALIDATION_LOGITS`, on `device`."""
    return [(x.to(device), y.to(device)) for x, y in length_batches(vocab, names, VALIDATION_LOGITS)]
