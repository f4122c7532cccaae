"""An interpolated Kneser-Ney character n-gram model: the strongest classical baseline.

The probability of the next id given the previous `order - 1` ids (padded with the boundary at
the start of a name) follows Chen & Goodman (1999), "An empirical study of smoothing techniques
for language modeling": modified Kneser-Ney with three discounts per order (for counts 1, 2 and
3+) estimated from the counts of counts, interpolated all the way down:

    P_k(w | h) = max(a_k(h w) - D_k(a), 0) / a_k(h) + gamma_k(h) * P_{k-1}(w | h'),

where h' drops the oldest id of h, a_k(h) = sum_w a_k(h w) and gamma_k(h) is the discounted mass.
A context never seen at order k passes P_{k-1} through unchanged. The highest order counts
occurrences; lower orders count distinct left neighbours (continuation counts), except n-grams
that start at the beginning of a name, which cannot be extended to the left and keep their raw
counts (as KenLM does for <s>). Below the unigrams sits the uniform distribution over every id,
so every id, the end of a name (the boundary) included, has a proper non-zero probability.

Characters never seen in training are the unknown id. To learn how often and where they occur,
the trainer counts a seeded share (`TrainConfig.unk_rate`) of the characters seen only once as
the unknown id, in contexts and predictions alike: the deterministic counterpart of what the
gradient trainer does at random per batch. On the Chinese lists this lowers held-out bits per
character by about 0.7; with `unk_rate` 0 the unknown id gets only the uniform base's share.

"Training" is counting: the trainer's single step counts every n-gram and finishes. The counts
travel in the checkpoint as int64 tensors (n-gram keys in base `vocab_size`, and their adjusted
counts); the discounts and per-context sums are recomputed from them when loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..data.vocab import BOUNDARY
from ..errors import ConfigError
from .numpy_base import NumpyModel

if TYPE_CHECKING:
    import torch

PAD_TARGET = -1  # padded targets, as data.batches.PAD_TARGET (batches.py needs torch; this module must not)


@dataclass(frozen=True)
class NGramConfig:
    """Shape of the n-gram model; `vocab_size` comes from the data."""

    vocab_size: int  # number of ids, the boundary and unknown ids included
    order: int = 4  # n: the next character depends on the previous n - 1


@dataclass
class _Level:
    """Everything order k needs at prediction time, derived from its counts."""

    contexts: np.ndarray  # (C,) sorted context keys
    start: np.ndarray  # (C,) first entry of each context
    length: np.ndarray  # (C,) entries of each context
    gamma: np.ndarray  # (C,) interpolation weight of the lower order
    next_id: np.ndarray  # (E,) predicted id of each entry
    discounted: np.ndarray  # (E,) max(a - D(a), 0) / a(h)


def discounts(counts: np.ndarray) -> np.ndarray:
    """Modified Kneser-Ney discounts (D1, D2, D3+) from counts of counts (Chen & Goodman eq. 26).

    Small or odd data can make the estimates fall outside (0, c]; they are clamped so every seen
    context keeps some mass for the lower orders (D > 0) and no entry goes negative (D_c <= c).
    """
    n = [int((counts == c).sum()) for c in (1, 2, 3, 4)]
    y = n[0] / (n[0] + 2 * n[1]) if n[0] + 2 * n[1] > 0 else 0.5
    d = []
    for c in (1, 2, 3):
        value = c - (c + 1) * y * n[c] / n[c - 1] if n[c - 1] > 0 else y
        d.append(min(max(value, 0.05), float(c)))
    return np.array(d)


def count_ngrams(grams: np.ndarray, vocab_size: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Adjusted counts per order from all (M, N) n-gram occurrences: [(keys, counts)] for k = 1..N.

    A k-gram's key is its ids read as a base-`vocab_size` number, so its context is `key // V`
    and its predicted id `key % V`. Order N counts occurrences; order k < N counts distinct left
    neighbours, except k-grams that begin with the start padding (k >= 2 and first id the
    boundary), which count occurrences.
    """
    V = vocab_size
    N = grams.shape[1]
    weights = V ** np.arange(N - 1, -1, -1, dtype=np.int64)  # (N,)
    levels: list[tuple[np.ndarray, np.ndarray]] = []
    types_above = None  # distinct (k+1)-gram keys
    for k in range(N, 0, -1):
        keys = grams[:, N - k :] @ weights[N - k :]  # (M,) k-gram keys of every occurrence
        if k == N:
            uniq, counts = np.unique(keys, return_counts=True)
        else:
            left = types_above % V**k  # each distinct (k+1)-gram contributes one left neighbour
            anchored_limit = V ** (k - 1) if k >= 2 else 0  # keys below it begin with the boundary
            cont_keys, cont_counts = np.unique(left[left >= anchored_limit], return_counts=True)
            raw_keys, raw_counts = np.unique(keys[keys < anchored_limit], return_counts=True)
            uniq = np.concatenate([raw_keys, cont_keys])  # raw keys are all smaller: still sorted
            counts = np.concatenate([raw_counts, cont_counts])
        levels.append((uniq.astype(np.int64), counts.astype(np.int64)))
        types_above = np.unique(keys)
    return levels[::-1]


def hide_rare(
    train_x: torch.Tensor, train_y: torch.Tensor, rate: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Show a seeded share `rate` of the characters seen once as UNKNOWN, as targets and as inputs."""
    import torch

    from ..data.batches import hide_targets, once_seen_ids

    rare = once_seen_ids(train_y).cpu().numpy()
    hidden = rare[np.random.default_rng(seed).random(len(rare)) < rate]
    if not len(hidden):
        return train_x, train_y
    hide = torch.from_numpy(np.isin(train_y.cpu().numpy(), hidden))  # (N, T) target positions to hide
    return hide_targets(train_x, train_y, hide)


def contexts_of(idx: np.ndarray, context: int) -> np.ndarray:
    """(B, T, context) previous ids at every position of (B, T) inputs, boundary-padded on the left."""
    B, T = idx.shape
    if context == 0:
        return np.zeros((B, T, 0), dtype=np.int64)
    padded = np.concatenate([np.full((B, context - 1), BOUNDARY, dtype=np.int64), idx], axis=1)  # (B, T + c - 1)
    return np.lib.stride_tricks.sliding_window_view(padded, context, axis=1)  # (B, T, c)


MAX_ORDER = 16  # longest n-gram a checkpoint may hold
MAX_COUNT = 1 << 48  # an adjusted count above this is damage (sums of counts must stay exact in float64)


def ngram_tensors(config: NGramConfig) -> dict[str, tuple[tuple, str]]:
    """The state_dict of `NGramLM` for `config`, by name: (shape, dtype class); the entries have any number."""
    return {f"{what}.{k}": ((None,), "int") for k in range(1, config.order + 1) for what in ("keys", "counts")}


def check_ngram_values(config: NGramConfig, arrays: dict[str, np.ndarray]) -> tuple[str, str] | None:
    """(field, reason) unless every order holds sorted keys of this vocabulary with positive counts; else None."""
    if config.vocab_size**config.order >= 2**62:
        return (
            "model_config.order",
            f"{config.order} is too high for a vocabulary of {config.vocab_size} (keys overflow)",
        )
    for k in range(1, config.order + 1):
        keys, counts = arrays[f"keys.{k}"], arrays[f"counts.{k}"]
        if len(keys) != len(counts):
            return f"tensor counts.{k}", f"{len(counts)} counts for {len(keys)} keys"
        if len(keys) and (np.any(np.diff(keys) <= 0) or keys[0] < 0 or keys[-1] >= config.vocab_size**k):
            return f"tensor keys.{k}", f"not sorted distinct {k}-grams of this vocabulary"
        if len(counts) and (counts.min() < 1 or counts.max() > MAX_COUNT):
            return f"tensor counts.{k}", f"counts outside 1..{MAX_COUNT}"
    return None


class NGramLM(NumpyModel):
    """Interpolated modified Kneser-Ney over characters, behind the common model contract."""

    def __init__(self, config: NGramConfig) -> None:
        if config.order < 1:
            raise ConfigError("order", config.order, "must be at least 1")
        if config.vocab_size**config.order >= 2**62:
            raise ConfigError(
                "order", config.order, f"too high for a vocabulary of {config.vocab_size} (keys overflow); lower it"
            )
        self.config = config
        empty = np.zeros(0, dtype=np.int64)
        self.counts: list[tuple[np.ndarray, np.ndarray]] = [(empty, empty) for _ in range(config.order)]
        self._prepare()

    # --- counting -----------------------------------------------------------------------------

    def fit(self, train_x: torch.Tensor, train_y: torch.Tensor) -> None:
        """Count every n-gram of the training names (inputs and targets as in data/batches.py)."""
        x, y = train_x.cpu().numpy().astype(np.int64), train_y.cpu().numpy().astype(np.int64)
        mask = y != PAD_TARGET
        ctx = contexts_of(x, self.config.order - 1)[mask]  # (M, N - 1)
        grams = np.concatenate([ctx, y[mask][:, None]], axis=1)  # (M, N)
        self.counts = count_ngrams(grams, self.config.vocab_size)
        self._prepare()

    def _prepare(self) -> None:
        """Derive discounts, per-context sums and interpolation weights from the counts."""
        V = self.config.vocab_size
        self.levels: list[_Level] = []
        for keys, counts in self.counts:
            ctx, next_id = keys // V, keys % V
            contexts, start, length = np.unique(ctx, return_index=True, return_counts=True)
            d = discounts(counts)
            dval = d[np.minimum(counts, 3) - 1] if len(counts) else np.zeros(0)  # (E,)
            total = np.add.reduceat(counts, start).astype(np.float64) if len(counts) else np.zeros(0)  # (C,)
            gamma = np.add.reduceat(dval, start) / total if len(counts) else np.zeros(0)
            per_entry_total = np.repeat(total, length)
            self.levels.append(_Level(contexts, start, length, gamma, next_id, (counts - dval) / per_entry_total))
        # The unigram level over the uniform base, shared by every position.
        uni = self.levels[0]
        self.base = np.full(V, 1.0 / V)
        if len(uni.contexts):
            self.base *= uni.gamma[0]
            self.base[uni.next_id] += uni.discounted

    # --- prediction ---------------------------------------------------------------------------

    def probs(self, contexts: np.ndarray) -> np.ndarray:
        """(M, V) next-id distributions for (M, order - 1) contexts (oldest id first)."""
        M, width = contexts.shape
        V = self.config.vocab_size
        p = np.tile(self.base, (M, 1))  # (M, V)
        for k in range(2, self.config.order + 1):
            level = self.levels[k - 1]
            if not len(level.contexts):
                continue
            h = contexts[:, width - (k - 1) :]  # (M, k - 1) the most recent ids
            keys = h @ (V ** np.arange(k - 2, -1, -1, dtype=np.int64))  # (M,)
            j = np.minimum(np.searchsorted(level.contexts, keys), len(level.contexts) - 1)
            rows = np.flatnonzero(level.contexts[j] == keys)  # positions whose context was seen
            if not len(rows):
                continue
            j = j[rows]
            p[rows] *= level.gamma[j][:, None]
            lens = level.length[j]
            offsets = np.cumsum(lens) - lens
            entries = np.arange(lens.sum()) - np.repeat(offsets, lens) + np.repeat(level.start[j], lens)
            p[np.repeat(rows, lens), level.next_id[entries]] += level.discounted[entries]
        return p

    def log_probs(self, contexts: np.ndarray) -> np.ndarray:
        """(M, V) float32 log-probabilities for (M, order - 1) contexts, each distinct context computed once."""
        V = self.config.vocab_size
        keys = contexts @ (V ** np.arange(contexts.shape[1] - 1, -1, -1, dtype=np.int64))  # (M,)
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return np.log(self.probs(contexts[first])).astype(np.float32)[inverse]  # (M, V)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Log-probabilities (B, T, V) as logits; mean cross-entropy over targets that are not -1."""
        import torch

        ids = idx.cpu().numpy().astype(np.int64)
        B, T = ids.shape
        logp = self.log_probs(contexts_of(ids, self.config.order - 1).reshape(B * T, -1))  # (B*T, V)
        loss = None
        if targets is not None:
            tgt = targets.cpu().numpy().reshape(-1)
            rows = np.flatnonzero(tgt != PAD_TARGET)
            nll = -logp[rows, tgt[rows]].astype(np.float64)
            loss = torch.tensor(float(nll.mean()) if len(nll) else 0.0)
        return torch.from_numpy(logp.reshape(B, T, -1)), loss

    def step(self, idx: torch.Tensor, state=None) -> tuple[torch.Tensor, np.ndarray]:
        """One id per row: (B,) ids -> (B, V) log-probabilities and the (B, order - 1) recent ids."""
        import torch

        ids = idx.cpu().numpy().astype(np.int64)
        context = self.config.order - 1
        if state is None:
            state = np.full((len(ids), context), BOUNDARY, dtype=np.int64)
        state = np.concatenate([state[:, 1:], ids[:, None]], axis=1) if context else state  # (B, context)
        return torch.from_numpy(self.log_probs(state)), state

    # --- the rest of the contract -------------------------------------------------------------

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Keys and adjusted counts per order, as int64 tensors."""
        import torch

        sd = {}
        for k, (keys, counts) in enumerate(self.counts, start=1):
            sd[f"keys.{k}"] = torch.tensor(keys, dtype=torch.int64)
            sd[f"counts.{k}"] = torch.tensor(counts, dtype=torch.int64)
        return sd

    def load_state_dict(self, state_dict: dict[str, torch.Tensor], strict: bool = True) -> None:
        """Inverse of `state_dict`; keys of another order or mismatched lengths are an error."""
        self.load_arrays({k: v.cpu().numpy() for k, v in state_dict.items()})

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """`load_state_dict` from numpy arrays (the inference engine loads checkpoints this way, without torch)."""
        expected = {f"{what}.{k}" for k in range(1, self.config.order + 1) for what in ("keys", "counts")}
        if set(arrays) != expected:
            raise KeyError(f"expected keys {sorted(expected)}, got {sorted(arrays)}")
        counts = []
        for k in range(1, self.config.order + 1):
            keys = np.asarray(arrays[f"keys.{k}"]).astype(np.int64)
            c = np.asarray(arrays[f"counts.{k}"]).astype(np.int64)
            if keys.shape != c.shape or keys.ndim != 1:
                raise ValueError(f"order {k}: {len(keys)} keys but {len(c)} counts")
            if len(keys) and (np.any(np.diff(keys) <= 0) or keys[0] < 0 or keys[-1] >= self.config.vocab_size**k):
                raise ValueError(f"order {k}: keys are not sorted n-grams of this vocabulary")
            counts.append((keys, c))
        self.counts = counts
        self._prepare()

    def num_parameters(self) -> int:
        """Stored n-gram entries, all orders together."""
        return sum(len(keys) for keys, _ in self.counts)

    def make_trainer(self, train_x: torch.Tensor, train_y: torch.Tensor, config, peak_lr: float) -> "NGramTrainer":
        """Counting; `config.unk_rate` and `config.seed` choose the once-seen characters counted as unknown."""
        return NGramTrainer(self, train_x, train_y, getattr(config, "unk_rate", 0.0), getattr(config, "seed", 0))


class NGramTrainer:
    """Counting in one step: the first step counts everything and the run is finished."""

    def __init__(
        self, model: NGramLM, train_x: torch.Tensor, train_y: torch.Tensor, unk_rate: float = 0.0, seed: int = 0
    ) -> None:
        self.model, self.train_x, self.train_y = model, train_x, train_y
        self.unk_rate, self.seed = unk_rate, seed
        self.finished = False

    def step(self, step: int) -> tuple[float, int]:
        self.model.fit(*hide_rare(self.train_x, self.train_y, self.unk_rate, self.seed))
        self.finished = True
        total, n = 0.0, 0
        for i in range(0, len(self.train_x), 1024):  # training loss, for the log
            y = self.train_y[i : i + 1024]
            _, loss = self.model(self.train_x[i : i + 1024], y)
            k = int((y != PAD_TARGET).sum())
            total, n = total + float(loss) * k, n + k
        return total / max(1, n), n

    def state_tensors(self) -> dict[str, torch.Tensor]:
        import torch

        return {"finished": torch.tensor([int(self.finished)])}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        self.finished = bool(tensors["finished"][0])
