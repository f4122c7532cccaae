"""Whose style is a name? Attribution among style models, and the weights it is calibrated with.

    from xiaming.style.attribution import who
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
scoring the fifth they did not see, and names those models invent) with `style/build.py`, a build
step that attribution never imports: a weighted logistic regression by Newton's method. Models with no training list inside (such as `base`) leave the
n-gram view out and fall back to the plain likelihood ratio.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from ..atomic import atomic_path
from ..errors import NO_VALUE, CheckpointError, ConfigError

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
        tensors = {
            "weights": np.array([self.neural, self.ngram, self.alpha], dtype=np.float64),
            "bias": np.array([self.bias[s] for s in styles], dtype=np.float64),
        }
        meta = {"format": FORMAT, "styles": json.dumps(styles), "info": json.dumps(self.info, ensure_ascii=False)}
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata=meta)

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
        return cls(
            float(weights[0]), float(weights[1]), float(weights[2]), {s: float(b) for s, b in zip(styles, bias)}, info
        )


def shipped_calibration_path() -> Path:
    """Where the shipped calibration lives (beside the shipped models)."""
    return Path(str(resources.files("xiaming.pretrained").joinpath("style.safetensors")))


def shipped_calibration() -> Calibration:
    """The shipped calibration, or the plain likelihood ratio if the file is missing."""
    path = shipped_calibration_path()
    return Calibration.load(path) if path.is_file() else Calibration()


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
        # the authors' models alone: a blend with the base is how a model generates, not its style
        self.namers = {s: n.unblended for s, n in namers.items()}
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
        from ..generation.namer import Namer

        loaded = {}
        for m in models:
            try:
                namer = m if isinstance(m, Namer) else Namer.load(m, blend=0)  # __init__ takes it unblended
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
        ngram_parts = [
            self.ngram.contributions(n) if self.ngram else np.zeros((len(n) + 1, len(self.styles))) for n in names
        ]
        neural = np.array([p.sum(0) for p in neural_parts]).reshape(len(names), len(self.styles))
        ngram = np.array([p.sum(0) for p in ngram_parts]).reshape(len(names), len(self.styles))
        return neural, ngram, neural_parts, ngram_parts

    def who(self, names: Sequence[str]) -> list[Attribution]:
        """The probability of each style for each name, with each character's pull."""
        names = [n.strip() for n in names]
        if not all(names):
            raise ConfigError("names", "", "an empty name cannot be attributed")
        for name in names:  # with no character any model knows, only the length and the biases would speak
            if not any(c in n.vocab for n in self.namers.values() for c in name):
                raise ConfigError("names", name, "none of its characters is known to any of the models")
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
    from ..generation.kinds import markers

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


def who(
    names: Sequence[str], models: Sequence = DEFAULT_STYLES, calibration: Calibration | None = None
) -> list[Attribution]:
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
