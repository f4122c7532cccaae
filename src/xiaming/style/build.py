"""Fitting the style calibration: a build step (`scripts/build_style.py`, `benchmarks/attribution.py`),
never imported by attribution itself (`attribution.py`, which reads the fitted `Calibration`).

`cross_scores` fine-tunes one model per style and fold on the other folds of its list and scores
the held-out names (and names those models invent) under every style; `fit_calibration` fits the
weights of the two views and the per-style biases on those out-of-fold scores; `predict`,
`balanced_accuracy` and `among` measure a calibration on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, Union

import numpy as np

from .attribution import Calibration, NgramStyles, neural_parts_of


def fit_calibration(
    neural: np.ndarray,
    ngram: np.ndarray,
    labels: np.ndarray,
    styles: Sequence[str],
    alpha: float,
    ridge: float = 1e-3,
    info: dict | None = None,
    balanced: bool = True,
    weights: np.ndarray | None = None,
) -> Calibration:
    """The calibration that best predicts `labels` (N,) from per-style scores `neural`, `ngram` (N, K).

    A multinomial logistic regression with the weights shared by every style and one bias per
    style (the first fixed at 0); with `balanced`, each name is weighted so that every style counts
    the same in total (balanced accuracy is the goal, not the majority list's); `weights` (N,)
    replaces that weighting with the caller's. Newton's method on 2 + K - 1
    parameters; `ridge` keeps it finite when the classes separate.
    """
    n, k = neural.shape
    X = np.zeros((n, k, 2 + k - 1))  # (N, K, P): the design of each style's score
    X[:, :, 0], X[:, :, 1] = neural, ngram
    for j in range(1, k):
        X[:, j, 1 + j] = 1.0
    Y = np.eye(k)[labels]  # (N, K)
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64) * n / np.sum(weights)  # (N,) name weights, mean 1
    else:
        w = (n / (k * np.bincount(labels, minlength=k)))[labels] if balanced else np.ones(n)
    theta = np.zeros(X.shape[-1])
    for _ in range(100):
        z = X @ theta  # (N, K)
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        grad = np.einsum("n,nk,nkp->p", w, p - Y, X) + ridge * theta
        mean = np.einsum("nk,nkp->np", p, X)  # (N, P)
        hess = np.einsum("n,nk,nkp,nkq->pq", w, p, X, X) - np.einsum("n,np,nq->pq", w, mean, mean)
        step = np.linalg.solve(hess + ridge * np.eye(len(theta)), grad)
        theta -= step
        if np.abs(step).max() < 1e-9:
            break
    bias = {s: (0.0 if j == 0 else float(theta[1 + j])) for j, s in enumerate(styles)}
    shift = -sum(bias.values()) / k  # centre the biases; only differences matter
    return Calibration(float(theta[0]), float(theta[1]), alpha, {s: b + shift for s, b in bias.items()}, info or {})


@dataclass
class CrossScores:
    """Out-of-fold scores: every name scored by models (and counts) that never saw it."""

    styles: list[str]
    names: list[str]  # names of exactly one list
    labels: np.ndarray  # (N,) index of each name's style
    folds: np.ndarray  # (N,) the fold each name was held out in
    neural: np.ndarray  # (N, K) log p_k(name) under style k's model of that fold
    ngram: np.ndarray  # (N, K) log q_k(name) under the counts of that fold's training lists
    generated: np.ndarray  # (N,) True for names a fold model invented (their label: that model's style)

    def to_dict(self) -> dict:
        return {
            "styles": self.styles,
            "names": self.names,
            "labels": self.labels.tolist(),
            "folds": self.folds.tolist(),
            "neural": self.neural.tolist(),
            "ngram": self.ngram.tolist(),
            "generated": self.generated.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "CrossScores":
        n = len(d["names"])
        return cls(
            d["styles"],
            d["names"],
            np.array(d["labels"]),
            np.array(d["folds"]),
            np.array(d["neural"]),
            np.array(d["ngram"]),
            np.array(d.get("generated", [False] * n), dtype=bool),
        )

    def subset(self, rows: np.ndarray) -> "CrossScores":
        """The rows selected by a boolean mask or index array."""
        return CrossScores(
            self.styles,
            [self.names[i] for i in np.arange(len(self.names))[rows]],
            self.labels[rows],
            self.folds[rows],
            self.neural[rows],
            self.ngram[rows],
            self.generated[rows],
        )


# What fold models are fine-tuned from: a checkpoint (path or shipped name), None (from scratch), or a
# function of (fold, names) giving that fold's checkpoint, e.g. a training stage that must not see
# `names`: the fold's held-out names of every list and the names each fold model validates on
FoldInit = Union[str, Path, None, Callable[[int, set], Union[str, Path]]]


def cross_scores(
    lists: dict[str, Sequence[str]],
    work: str | Path,
    folds: int = 5,
    seed: int = 0,
    init: FoldInit = "base",
    alpha: float = 0.5,
    with_kinds: bool = True,
    samples: int = 0,
    log=print,
) -> CrossScores:
    """Fine-tune one model per style and fold on the other folds of its list (as the shipped models
    are made: from `init`, early-stopped on a tenth of the training names, a built-in list's
    epithets marked with their kind when `with_kinds`), then score the held-out names of every
    list under every style. Names found in more than one list are left out of the
    scoring (their answer is ambiguous) but stay in training. With `samples`, each fold model also
    invents that many names (new under the strict rule), scored the same way and marked
    `generated`. A callable `init` is called once per fold with the names no model of the fold may
    have seen before its own training (the fold's held-out names of every list and each model's
    validation names) and gives the checkpoint that fold's models start from. Minutes on a CPU;
    torch needed."""
    from .. import corpora, train
    from ..data.corpus import NameList, split
    from ..generation import kinds
    from ..generation.namer import Namer
    from ..training import TrainConfig

    styles = list(lists)
    kind_of: dict[str, dict[str, str]] = {}  # built-in lists train with name kinds, as the shipped models do
    if with_kinds:
        for s in styles:
            if corpora.is_builtin(s):
                kind_of[s] = {}
                for name, kind in kinds.corpus_entries(s):
                    if kind == "name" or name not in kind_of[s]:
                        kind_of[s][name] = kind
    owners: dict[str, set[str]] = {}
    for s, names in lists.items():
        for n in names:
            owners.setdefault(n, set()).add(s)
    fold_of = assign_folds(lists, folds, seed)
    rows = [
        (n, j, int(fold_of[s][i])) for j, s in enumerate(styles) for i, n in enumerate(lists[s]) if len(owners[n]) == 1
    ]
    scored: list[tuple[str, int, int, bool]] = []  # name, style, fold, generated
    work = Path(work)
    neural_rows: list[np.ndarray] = []
    ngram_rows: list[np.ndarray] = []
    for f in range(folds):
        train_lists = {s: [n for i, n in enumerate(lists[s]) if fold_of[s][i] != f] for s in styles}
        config = TrainConfig(max_steps=5000, eval_interval=25, patience=10, seed=seed)
        strings_of = {
            s: kinds.encode((n, kind_of[s].get(n, "name")) for n in train_lists[s])
            if kind_of.get(s)
            else train_lists[s]
            for s in styles
        }
        fold_init = init
        if callable(init):  # e.g. a stage: it must not see what the fold scores nor what its models stop on
            unseen = {n for s in styles for i, n in enumerate(lists[s]) if fold_of[s][i] == f}
            unseen |= {n for s in styles for n in kinds.strip_all(split(strings_of[s], config.val_fraction, seed)[1])}
            fold_init = init(f, unseen)
        namers = {}
        for s in styles:
            out = work / f"{s}-fold{f}.safetensors"
            kind = kind_of.get(s, {})
            strings = strings_of[s]
            result = train(
                NameList(strings, f"builtin:{s}"),
                "lstm",
                out,
                config,
                init=fold_init,
                device="cpu",
                log=lambda _m: None,
                progress_bar=False,
                force=True,
            )
            if kind:
                kinds.mark_checkpoint(out)
            log(
                f"fold {f + 1}/{folds} {s}: {len(train_lists[s])} names, best step {result.best_step}, "
                f"{result.best_val_bits:.3f} bits/char"
            )
            namers[s] = Namer.load(out)
        held = [(n, j, False) for n, j, g in rows if g == f]
        for j, s in enumerate(styles):  # names the fold's models invent, new to their lists
            made = namers[s].generate(samples, seed=seed + f, novelty="strict").names if samples else []
            held += [(n, j, True) for n in made]
        held_names = [n for n, _, _ in held]
        counts = NgramStyles(train_lists, alpha)
        ngram_rows.append(np.array([counts.contributions(n).sum(0) for n in held_names]))
        parts = [neural_parts_of(namers[s], held_names) for s in styles]
        neural_rows.append(np.array([[p[i].sum() for p in parts] for i in range(len(held))]))
        scored.extend((n, j, f, g) for n, j, g in held)
    return CrossScores(
        styles,
        [r[0] for r in scored],
        np.array([r[1] for r in scored]),
        np.array([r[2] for r in scored]),
        np.concatenate(neural_rows),
        np.concatenate(ngram_rows),
        np.array([r[3] for r in scored]),
    )


def assign_folds(lists: dict[str, Sequence[str]], folds: int, seed: int) -> dict[str, np.ndarray]:
    """The fold of each name of each list, as `cross_scores` holds them out (balanced folds per list,
    drawn in the order of `lists`)."""
    rng = np.random.default_rng(seed)
    return {s: rng.permutation(len(names)) % folds for s, names in lists.items()}


def among(
    scores: CrossScores,
    styles: Sequence[str],
    lists: dict[str, Sequence[str]],
    folds: int,
    seed: int,
    alpha: float = 0.5,
) -> CrossScores:
    """`scores` (made by `cross_scores` from `lists`) as a judge of only `styles` would see them: the
    names of those styles, their neural columns, and the n-gram view recounted over their lists alone
    (each fold's counts without its held-out names), as `StyleJudge` counts the lists it is given."""
    cols = [scores.styles.index(s) for s in styles]
    rows = np.isin(scores.labels, cols)
    sub = scores.subset(rows)
    fold_of = assign_folds(lists, folds, seed)
    ngram = np.zeros((len(sub.names), len(styles)))
    for f in np.unique(sub.folds):
        counts = NgramStyles({s: [n for i, n in enumerate(lists[s]) if fold_of[s][i] != f] for s in styles}, alpha)
        for i in np.flatnonzero(sub.folds == f):
            ngram[i] = counts.contributions(sub.names[i]).sum(0)
    relabel = np.array([cols.index(j) for j in sub.labels])
    return CrossScores(list(styles), sub.names, relabel, sub.folds, sub.neural[:, cols], ngram, sub.generated)


def predict(neural: np.ndarray, ngram: np.ndarray, calibration: Calibration, styles: Sequence[str]) -> np.ndarray:
    """(N, K) style probabilities from per-style scores under `calibration`."""
    z = (
        calibration.neural * neural
        + calibration.ngram * ngram
        + np.array([calibration.bias.get(s, 0.0) for s in styles])
    )
    p = np.exp(z - z.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


def balanced_accuracy(labels: np.ndarray, predicted: np.ndarray, k: int) -> tuple[float, list[float]]:
    """Mean over styles of the share of each style's names attributed to it, and the per-style shares."""
    per = [float((predicted[labels == j] == j).mean()) if (labels == j).any() else float("nan") for j in range(k)]
    return float(np.nanmean(per)), per
