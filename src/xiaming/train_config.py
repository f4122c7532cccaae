"""The training settings, apart from the training loop so that the command line can show their
defaults (and `--help` works) without importing torch; `train.py` re-exports them."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError

# Dropout when fine-tuning on a (small) list: the small preset's. In 5-fold cross-validation it gave
# 0.11 (jinyong) and 0.21 (gulong) bits/char lower held-out loss than the base's 0.1 (see README).
FINE_TUNE_DROPOUT = 0.3


@dataclass(frozen=True)
class TrainConfig:
    """How to train; stored in the checkpoint so a run reports itself."""

    max_steps: int = 5000  # updates at most
    max_time: float | None = None  # wall-clock seconds at most (None: no limit)
    batch_size: int = 64  # names per step
    lr: float | None = None  # peak learning rate (None: the model kind's default)
    weight_decay: float = 0.01  # AdamW decoupled weight decay
    grad_clip: float = 1.0  # gradient norm clip
    warmup_steps: int = 100  # linear warmup from 0 to the peak rate
    min_lr_ratio: float = 0.1  # cosine decay ends at this fraction of the peak
    eval_interval: int = 100  # steps between validations
    patience: int = 10  # validations without improvement before stopping early
    val_fraction: float = 0.1  # share of names held out for validation
    unk_rate: float = 0.5  # chance that a character seen once in training is shown as unknown
    seed: int = 0  # seeds the split, the initial weights, dropout and batch order

    def validate(self) -> None:
        """Raise ConfigError naming the flag of the first out-of-range value."""
        checks = [
            ("max-steps", self.max_steps >= 1, "at least 1"),
            ("max-time", self.max_time is None or self.max_time > 0, "positive"),
            ("batch-size", self.batch_size >= 1, "at least 1"),
            ("lr", self.lr is None or self.lr > 0, "positive"),
            ("weight-decay", self.weight_decay >= 0, "non-negative"),
            ("grad-clip", self.grad_clip > 0, "positive"),
            ("warmup-steps", self.warmup_steps >= 0, "non-negative"),
            ("eval-interval", self.eval_interval >= 1, "at least 1"),
            ("patience", self.patience >= 1, "at least 1"),
            ("val-fraction", 0 < self.val_fraction < 1, "between 0 and 1"),
            ("unk-rate", 0 <= self.unk_rate < 1, "in [0, 1)"),
        ]
        for flag, ok, what in checks:
            if not ok:
                raise ConfigError(f"--{flag} {getattr(self, flag.replace('-', '_'))}: must be {what}")
