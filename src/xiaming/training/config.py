"""The training settings, apart from the training loop so that the command line can show their
defaults (and `--help` works) without importing torch."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..errors import ConfigError
from ..limits import MAX_SEED

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
    eval_interval: int | None = None  # steps between validations (None: scaled to the list, see `cadence`)
    patience: int | None = None  # validations without improvement before stopping early (None: see `cadence`)
    val_fraction: float = 0.1  # share of names held out for validation
    unk_rate: float = 0.5  # chance that a character seen once in training is shown as unknown
    seed: int = 0  # seeds the split, the initial weights, dropout and batch order

    def validate(self) -> None:
        """Raise ConfigError naming the field of the first out-of-range value."""
        checks = [
            ("max_steps", self.max_steps >= 1, "at least 1"),
            ("max_time", self.max_time is None or self.max_time > 0, "positive"),
            ("batch_size", self.batch_size >= 1, "at least 1"),
            ("lr", self.lr is None or self.lr > 0, "positive"),
            ("weight_decay", self.weight_decay >= 0, "non-negative"),
            ("grad_clip", self.grad_clip > 0, "positive"),
            ("warmup_steps", self.warmup_steps >= 0, "non-negative"),
            ("eval_interval", self.eval_interval is None or self.eval_interval >= 1, "at least 1"),
            ("patience", self.patience is None or self.patience >= 1, "at least 1"),
            ("val_fraction", 0 < self.val_fraction < 1, "between 0 and 1"),
            ("unk_rate", 0 <= self.unk_rate < 1, "in [0, 1)"),
            ("seed", 0 <= self.seed <= MAX_SEED, f"a whole number from 0 to {MAX_SEED}"),
        ]
        for name, ok, what in checks:
            if not ok:
                raise ConfigError(name, getattr(self, name), f"must be {what}")

    def resolved(self, train_names: int) -> TrainConfig:
        """This config with an unset `eval_interval` or `patience` filled in by `cadence` for a list of
        `train_names` training names; values that were set are kept as they are."""
        interval, patience = cadence(train_names, self.batch_size)
        return replace(
            self,
            eval_interval=interval if self.eval_interval is None else self.eval_interval,
            patience=patience if self.patience is None else self.patience,
        )


# Validation cadence. A validation every 100 steps with a patience of 10 suits a list that one pass
# does not cover in 100 steps; on a short list the best model comes within the first hundred steps
# (52 English names: step 80; the first check was at 100) and the run then went on for 1,000 steps
# only to confirm it. So the interval is about one pass over the training names, between these bounds:
EVAL_INTERVAL_MAX = 100  # lists of 6,400 names and more at the default batch size: as before
EVAL_INTERVAL_MIN = 10  # a validation (and a checkpoint write) costs about a step on a short list
PATIENCE_MAX = 10  # as before, for lists validated every EVAL_INTERVAL_MAX steps
PATIENCE_MIN = 5  # the shortest lists: validated often, their loss rises steadily once they overfit


def cadence(train_names: int, batch_size: int) -> tuple[int, int]:
    """(eval_interval, patience) for a list of `train_names` names at `batch_size` names a step: one
    validation per pass over the list (EVAL_INTERVAL_MIN to EVAL_INTERVAL_MAX steps), and a patience
    from PATIENCE_MIN (interval at its minimum) to PATIENCE_MAX (at its maximum), so a short list
    stops after a few dozen steps without improvement rather than a thousand."""
    steps_per_pass = math.ceil(max(1, train_names) / max(1, batch_size))
    interval = min(EVAL_INTERVAL_MAX, max(EVAL_INTERVAL_MIN, steps_per_pass))
    share = (interval - EVAL_INTERVAL_MIN) / (EVAL_INTERVAL_MAX - EVAL_INTERVAL_MIN)
    return interval, round(PATIENCE_MIN + share * (PATIENCE_MAX - PATIENCE_MIN))
