"""Whose style is a name? Attribution among style models, and the weights it is calibrated with.

    from xiaming.style import who
    for a in who(["令狐冲", "西门吹雪", "金世遗"]):     # shipped jinyong, gulong and liangyusheng by default
        print(a.name, a.best, a.probs, a.evidence)

A name's score for style k adds two views of how style k writes names, weighed and shifted by a
`Calibration` fitted on names the models never saw:

    z_k = neural * log p_k(name) + ngram * log q_k(name) + bias_k,    P(k | name) = softmax_k(z)

`p_k` is style k's neural model (every character given the ones before it, and the end);
`q_k` is a naive Bayes model of the character unigrams and bigrams (name boundaries included) of
style k's training list, add-`alpha` smoothed over the features of every list involved. The
neural model knows how characters follow one another, learnt from 250,000 historical names first;
the counts know which exact characters and pairs each author favours. On real names the counts
alone do about as well as the combination (70% balanced accuracy in cross-validation, the
models' likelihood ratio 69%); on names the models invent the neural view is what works (86%
against 80%); only the combination does well on both (benchmarks/attribution.py). With `neural`
1, `ngram` 0 and no bias this is Bayes' rule with flat priors: the plain likelihood ratio.

Each character's share of every z_k is kept as evidence: the characters that pull a name towards
one style or the other. The shipped calibration (pretrained/style.safetensors) is fitted by
`scripts/build_style.py` on out-of-fold scores (models fine-tuned on four fifths of each list,
scoring the fifth they did not see, and names those models invent); `fit_calibration` is that
fit, a weighted logistic regression by Newton's method. Models with no training list inside (such as `base`) leave the
n-gram view out and fall back to the plain likelihood ratio.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Sequence, Union

import numpy as np

from .atomic import atomic_path
from .atomic import atomic_path
from .errors import NO_VALUE, CheckpointError, ConfigError

DEFAULT_STYLES = ("jinyong", "gulong", "liangyusheng")  # the three masters of new-school wuxia
FORMAT = "xiaming-style"
BOUNDARY_MARK = "\x00"  # stands for the start and the end of a name in n-gram features


# --- calibration ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """How the two views of a style are weighed, and each style's shift (its log prior, corrected)."""

    neural: float = 1.0  # weight of each neural model's log-probability of the name
    ngram: float = 0.0  # weight of each list's n-gram (naive Bayes) log-probability
    alpha: float = 0.5  # add-alpha smoothing of the n-gram counts
    bias: dict[str, float] = field(default_factory=dict)  # per style (shipped name); absent styles get 0
    info: dict = field(default_factory=dict)  # how it was fitted: lists, folds, sizes, accuracy

    def save(self, path: str | Path) -> None:
        """Write as a small safetensors file (numbers as tensors, the rest as metadata), atomically."""
        from safetensors.numpy import save_file

        path = Path(path)
        styles = sorted(self.bias)
        tensors = {"weights": np.array([self.neural, self.ngram, self.alpha], dtype=np.float64),
                   "bias": np.array([self.bias[s] for s in styles], dtype=np.float64)}
        meta = {"format": FORMAT, "styles": json.dumps(styles), "info": json.dumps(self.info, ensure_ascii=False)}
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            save_file(tensors, tmp, metadata=meta)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path) -> "Calibration":
        """Read a file written by `save`; a foreign or broken file is a CheckpointError."""
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="numpy") as f:
                meta = f.metadata() or {}
                if meta.get("format") != FORMAT:
                    raise CheckpointError(f"{path}: not a xiaming style calibration")
                weights, bias = f.get_tensor("weights"), f.get_tensor("bias")
            styles = json.loads(meta["styles"])
            info = json.loads(meta.get("info", "{}"))
        except CheckpointError:
            raise
        except Exception:
            raise CheckpointError(f"{path}: unreadable style calibration") from None
        return cls(float(weights[0]), float(weights[1]), float(weights[2]),
                   {s: float(b) for s, b in zip(styles, bias)}, info)


def shipped_calibration_path() -> Path:
    """Where the shipped calibration lives (beside the shipped models)."""
    return Path(str(resources.files("xiaming.pretrained").joinpath("style.safetensors")))


def shipped_calibration() -> Calibration:
    """The shipped calibration, or the plain likelihood ratio if the file is missing."""
    path = shipped_calibration_path()
    return Calibration.load(path) if path.is_file() else Calibration()


def fit_calibration(neural: np.ndarray, ngram: np.ndarray, labels: np.ndarray, styles: Sequence[str],
                    alpha: float, ridge: float = 1e-3, info: dict | None = None, balanced: bool = True,
                    weights: np.ndarray | None = None) -> Calibration:
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


# --- the n-gram view ------------------------------------------------------------------------------


def name_features(name: str) -> list[list[str]]:
    """The unigram and bigram features each position of a name adds, the end last: for 令狐冲,
    [[令, ^令], [狐, 令狐], [冲, 狐冲], [冲$]] (^ and $ being the boundary)."""
    out, prev = [], BOUNDARY_MARK
    for c in name:
        out.append([c, prev + c])
        prev = c
    out.append([prev + BOUNDARY_MARK])
    return out


class NgramStyles:
    """Multinomial naive Bayes over character unigrams and bigrams, one class per style's list.

    A feature counts once per name (binary counts), so a name repeating a character gets no
    double credit. Features of no list are ignored; the rest are add-`alpha` smoothed over the
    features of all lists, so every style prices the same features.
    """

    def __init__(self, lists: dict[str, Sequence[str]], alpha: float = 0.5) -> None:
        self.styles = list(lists)
        counts: list[dict[str, int]] = []
        for names in lists.values():
            c: dict[str, int] = {}
            for name in dict.fromkeys(names):
                for f in {f for pos in name_features(name) for f in pos}:
                    c[f] = c.get(f, 0) + 1
            counts.append(c)
        vocab = sorted(set().union(*counts)) if counts else []
        self.index = {f: i for i, f in enumerate(vocab)}
        table = np.array([[c.get(f, 0) for f in vocab] for c in counts], dtype=np.float64) + alpha  # (K, F)
        self.log_theta = np.log(table) - np.log(table.sum(1, keepdims=True))  # (K, F)

    def contributions(self, name: str) -> np.ndarray:
        """(len(name) + 1, K): each position's log-probability under each style (the end last)."""
        out = np.zeros((len(name) + 1, len(self.styles)))
        seen: set[str] = set()
        for i, feats in enumerate(name_features(name)):
            for f in feats:
                j = self.index.get(f)
                if j is not None and f not in seen:
                    seen.add(f)
                    out[i] += self.log_theta[:, j]
        return out


# --- attribution ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attribution:
    """Whose style a name is in, and why."""

    name: str
    probs: dict[str, float]  # style -> probability (they sum to 1)
    evidence: list[tuple[str, dict[str, float]]]  # per character, then "" for the end: its share of each score, centred

    @property
    def best(self) -> str:
        """The likeliest style."""
        return max(self.probs, key=self.probs.get)

    def pulls(self, limit: int = 3) -> dict[str, list[tuple[str, float]]]:
        """For each style, the characters that pull most towards it (by how much, in nats), strongest first."""
        out: dict[str, list[tuple[str, float]]] = {s: [] for s in self.probs}
        for char, shares in self.evidence:
            if not char:
                continue
            top = max(shares, key=shares.get)
            if shares[top] > 0:
                out[top].append((char, shares[top]))
        return {s: sorted(v, key=lambda t: -t[1])[:limit] for s, v in out.items()}


class StyleJudge:
    """Style models and a calibration, ready to attribute names (see the module docstring)."""

    def __init__(self, namers: dict, calibration: Calibration | None = None) -> None:
        if len(namers) < 2:
            raise ConfigError("models", NO_VALUE, "give at least two models to choose between")
        self.namers = dict(namers)
        self.styles = list(namers)
        cal = shipped_calibration() if calibration is None else calibration
        lists = {s: n.names for s, n in self.namers.items()}
        if all(lists.values()):
            self.ngram: NgramStyles | None = NgramStyles(lists, cal.alpha)
            self.calibration = cal
        else:  # a model without its training list: the plain likelihood ratio
            self.ngram = None
            self.calibration = Calibration(1.0, 0.0, cal.alpha, {}, {"fallback": "a model has no training list"})

    def listed(self, name: str) -> list[str]:
        """The styles whose own training list holds `name` (a reader's answer, which the model's
        calibrated guess does not look up: it judges how a name is written, not whether it is known)."""
        return [s for s in self.styles if name in set(self.namers[s].names or ())]

    @classmethod
    def load(cls, models: Sequence = DEFAULT_STYLES, calibration: Calibration | None = None) -> "StyleJudge":
        """From shipped model names, checkpoint paths or loaded `Namer`s (each style is named after its model)."""
        from .namer import Namer

        loaded = {}
        for m in models:
            try:
                namer = m if isinstance(m, Namer) else Namer.load(m)
            except CheckpointError as exc:
                raise CheckpointError(f"--models: {exc}") from None
            style = style_name(namer.path if isinstance(m, Namer) else str(m))
            if style in loaded:
                raise ConfigError("models", style, "is given twice")
            loaded[style] = namer
        return cls(loaded, calibration)

    def scores(self, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Neural and n-gram log-probabilities (N, K), and per name their per-position parts (L + 1, K)."""
        per_style = [neural_parts_of(self.namers[s], list(names)) for s in self.styles]
        neural_parts = [np.array([ps[i] for ps in per_style]).T for i in range(len(names))]
        ngram_parts = [self.ngram.contributions(n) if self.ngram else np.zeros((len(n) + 1, len(self.styles)))
                       for n in names]
        neural = np.array([p.sum(0) for p in neural_parts]).reshape(len(names), len(self.styles))
        ngram = np.array([p.sum(0) for p in ngram_parts]).reshape(len(names), len(self.styles))
        return neural, ngram, neural_parts, ngram_parts

    def who(self, names: Sequence[str]) -> list[Attribution]:
        """The probability of each style for each name, with each character's pull."""
        names = [n.strip() for n in names]
        if not all(names):
            raise ConfigError("names", "", "an empty name cannot be attributed")
        if not names:
            return []
        cal = self.calibration
        bias = np.array([cal.bias.get(s, 0.0) for s in self.styles])
        _, _, neural_parts, ngram_parts = self.scores(names)
        out = []
        for name, nparts, gparts in zip(names, neural_parts, ngram_parts):
            parts = cal.neural * nparts + cal.ngram * gparts  # (L + 1, K)
            z = parts.sum(0) + bias
            p = np.exp(z - z.max())
            p /= p.sum()
            centred = parts - parts.mean(1, keepdims=True)  # what each position adds to one style over the others
            evidence = [(c, {s: float(v) for s, v in zip(self.styles, row)}) for c, row in zip([*name, ""], centred)]
            out.append(Attribution(name, {s: float(v) for s, v in zip(self.styles, p)}, evidence))
        return out


def neural_parts_of(namer, names: list[str]) -> list[np.ndarray]:
    """Per name, the model's log-probability of each character then the end (L + 1,), summing to the
    log-probability of the name whatever its kind.

    A model trained with name kinds (`kinds.py`) writes an epithet after a marker, so a name's
    probability is that of reading it as a personal name plus, for each marker, that of the marker
    then the name: log p = logaddexp(log p(name), log p(marker) + log p(name | marker)). The
    characters' parts come from the likelier reading; what the other readings add (and the
    marker's own probability) goes to the end's part, so the parts still add up.
    """
    from .kinds import markers

    plain = [np.array(s.char_log_probs) for s in namer.score(names)]
    marks = list(markers(namer.train).values())
    if not marks:
        return plain
    readings = [[p.sum() for p in plain]]
    parts = [plain]
    for mark in marks:
        first = namer.score([mark])[0].char_log_probs[0]  # log p(the marker comes first)
        after = [np.array(s.char_log_probs) for s in namer.score(names, context=mark)]
        readings.append([first + p.sum() for p in after])
        parts.append(after)
    totals = np.logaddexp.reduce(np.array(readings), axis=0)  # (N,)
    best = np.array(readings).argmax(0)
    out = []
    for i, total in enumerate(totals):
        chosen = parts[best[i]][i].copy()
        chosen[-1] += total - chosen.sum()
        out.append(chosen)
    return out


def style_name(model: str) -> str:
    """The style a model stands for: a shipped name as it is, a checkpoint by its file name."""
    p = Path(model)
    return p.name[: -len(".safetensors")] if p.name.endswith(".safetensors") else str(model)


def who(names: Sequence[str], models: Sequence = DEFAULT_STYLES,
        calibration: Calibration | None = None) -> list[Attribution]:
    """Attribute each name among `models` (shipped names, checkpoint paths or `Namer`s); see `StyleJudge`."""
    return StyleJudge.load(models, calibration).who(names)


def parse_weights(text: str) -> dict[str, float]:
    """`jinyong=0.7,gulong=0.3` -> {"jinyong": 0.7, "gulong": 0.3}, normalised to sum to 1."""
    weights: dict[str, float] = {}
    for part in text.split(","):
        model, eq, value = part.strip().partition("=")
        if not model or not eq:
            raise ConfigError("style", text, "expected MODEL=WEIGHT pairs such as jinyong=0.7,gulong=0.3")
        try:
            w = float(value)
        except ValueError:
            raise ConfigError("style", text, f"{value!r} is not a number") from None
        if not (w >= 0 and math.isfinite(w)):
            raise ConfigError("style", text, "weights must be 0 or more")
        if model in weights:
            raise ConfigError("style", text, f"{model} is given twice")
        weights[model] = w
    total = sum(weights.values())
    if total <= 0:
        raise ConfigError("style", text, "at least one weight must be above 0")
    return {m: w / total for m, w in weights.items()}


# --- fitting on names the models never saw ----------------------------------------------------------


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
        return {"styles": self.styles, "names": self.names, "labels": self.labels.tolist(), "folds": self.folds.tolist(),
                "neural": self.neural.tolist(), "ngram": self.ngram.tolist(), "generated": self.generated.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "CrossScores":
        n = len(d["names"])
        return cls(d["styles"], d["names"], np.array(d["labels"]), np.array(d["folds"]), np.array(d["neural"]),
                   np.array(d["ngram"]), np.array(d.get("generated", [False] * n), dtype=bool))

    def subset(self, rows: np.ndarray) -> "CrossScores":
        """The rows selected by a boolean mask or index array."""
        return CrossScores(self.styles, [self.names[i] for i in np.arange(len(self.names))[rows]], self.labels[rows],
                           self.folds[rows], self.neural[rows], self.ngram[rows], self.generated[rows])


# What fold models are fine-tuned from: a checkpoint (path or shipped name), None (from scratch), or a
# function of (fold, names) giving that fold's checkpoint, e.g. a training stage that must not see
# `names`: the fold's held-out names of every list and the names each fold model validates on
FoldInit = Union[str, Path, None, Callable[[int, set], Union[str, Path]]]


def cross_scores(lists: dict[str, Sequence[str]], work: str | Path, folds: int = 5, seed: int = 0,
                 init: FoldInit = "base", alpha: float = 0.5, with_kinds: bool = True, samples: int = 0,
                 log=print) -> CrossScores:
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
    from . import corpora, kinds, train
    from .corpus import NameList, split
    from .namer import Namer
    from .training import TrainConfig

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
    rows = [(n, j, int(fold_of[s][i])) for j, s in enumerate(styles) for i, n in enumerate(lists[s])
            if len(owners[n]) == 1]
    scored: list[tuple[str, int, int, bool]] = []  # name, style, fold, generated
    work = Path(work)
    neural_rows: list[np.ndarray] = []
    ngram_rows: list[np.ndarray] = []
    for f in range(folds):
        train_lists = {s: [n for i, n in enumerate(lists[s]) if fold_of[s][i] != f] for s in styles}
        config = TrainConfig(max_steps=5000, eval_interval=25, patience=10, seed=seed)
        strings_of = {s: kinds.encode((n, kind_of[s].get(n, "name")) for n in train_lists[s]) if kind_of.get(s)
                      else train_lists[s] for s in styles}
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
            result = train(NameList(strings, f"builtin:{s}"), "lstm", out, config, init=fold_init, device="cpu",
                           log=lambda _m: None, progress_bar=False, force=True)
            if kind:
                kinds.mark_checkpoint(out)
            log(f"fold {f + 1}/{folds} {s}: {len(train_lists[s])} names, best step {result.best_step}, "
                f"{result.best_val_bits:.3f} bits/char")
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
    return CrossScores(styles, [r[0] for r in scored], np.array([r[1] for r in scored]),
                       np.array([r[2] for r in scored]), np.concatenate(neural_rows), np.concatenate(ngram_rows),
                       np.array([r[3] for r in scored]))


def assign_folds(lists: dict[str, Sequence[str]], folds: int, seed: int) -> dict[str, np.ndarray]:
    """The fold of each name of each list, as `cross_scores` holds them out (balanced folds per list,
    drawn in the order of `lists`)."""
    rng = np.random.default_rng(seed)
    return {s: rng.permutation(len(names)) % folds for s, names in lists.items()}


def among(scores: CrossScores, styles: Sequence[str], lists: dict[str, Sequence[str]], folds: int, seed: int,
          alpha: float = 0.5) -> CrossScores:
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
    z = calibration.neural * neural + calibration.ngram * ngram + np.array([calibration.bias.get(s, 0.0) for s in styles])
    p = np.exp(z - z.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


def balanced_accuracy(labels: np.ndarray, predicted: np.ndarray, k: int) -> tuple[float, list[float]]:
    """Mean over styles of the share of each style's names attributed to it, and the per-style shares."""
    per = [float((predicted[labels == j] == j).mean()) if (labels == j).any() else float("nan") for j in range(k)]
    return float(np.nanmean(per)), per
