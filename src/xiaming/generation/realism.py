"""Realism: can a classifier tell a model's names from real names it never saw, and are they as varied?

Two figures, behind `xiaming eval --realism` and the benchmarks (`compare.py`, `realism.py`):

- **Detectability**: a classifier (scikit-learn; logistic regression by default) learns to tell
  generated names from real held-out names on character unigrams, character bigrams (with the
  start and end of the name as characters, so first and last characters count) and the length;
  given the model's list, also on how often each character occurs there (counted leave-one-out,
  so a real name does not vouch for itself), and given a large general list of names (historical
  names), on how common each character is in names at all. These last features are what a reader
  notices as an "obscure character". Its cross-validated accuracy, mean and standard deviation
  over stratified folds, is the figure: 50% means it cannot tell them apart, 100% that every
  sample gives itself away. The features with the largest weights say *how* samples give
  themselves away ("c:鬼" = holds 鬼, "b:^四" = starts with 四, "len:5", "fmin:0" = holds a
  character the list never uses). Both groups are cut to the same size (seeded), so chance is 50%.
  Tests show it can fail: a sampler at temperature 5 is caught 99% of the time, characters drawn
  uniformly 90-95%, and two halves of one real list come out at 50 ± 3%.
- **Variety**: a sampler can fool the classifier by repeating a few safe names; the variety
  figures catch that. Distinct share; character entropy of the samples against the real names'
  at the same number of names (the plug-in entropy grows with the sample, so equal sizes keep the
  comparison fair); the share of names holding a character the model's list never uses (with the
  real held-out names' share as the reference: real names do bring new characters); and the
  total-variation distance between the length distributions.

scikit-learn is an optional extra (`pip install 'xiaming[eval]'`); without it `detectability`
raises a ConfigError saying how to install it, and the variety figures still work.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Callable, Iterable, Sequence

from ..errors import ConfigError

CLASSIFIERS = ("logistic", "bayes", "forest")  # logistic regression; naive Bayes and random forest as other families
MAX_LEN_FEATURE = 6  # lengths from this on share one feature ("len:6+")
START, END = "^", "$"  # the name's ends in bigram features


@dataclass(frozen=True)
class Telltale:
    """A feature that gives samples away (or real names away, when `toward` is "real")."""

    feature: str  # "c:X" holds X, "b:XY" holds the bigram XY (^ start, $ end), "len:N" has N characters
    weight: float  # the classifier's weight toward `toward` (logistic coefficient; log-ratio for the others)
    toward: str  # "samples" or "real"
    in_samples: float  # share of samples holding the feature
    in_real: float  # share of real names holding it


@dataclass(frozen=True)
class Detectability:
    """How well a classifier tells samples from real names (0.5 = not at all)."""

    accuracy: float  # mean cross-validated accuracy
    sd: float  # standard deviation over folds
    folds: int
    per_group: int  # names of each group used (both groups are cut to the same size)
    classifier: str
    telltales: tuple[Telltale, ...]  # strongest features toward samples, then toward real names

    def to_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


@dataclass(frozen=True)
class Variety:
    """How varied samples are, against real names."""

    samples: int  # names given
    distinct: float  # distinct names / names given
    char_entropy: float  # bits per character of the samples' character distribution (equal-size subset)
    real_char_entropy: float  # the same for the real names, at the same number of names
    foreign: float  # share of samples holding a character the reference list never uses
    real_foreign: float | None  # the same share for the real names (None when they are the list itself)
    length_tv: float  # total-variation distance of the sample lengths to the real names' lengths
    mean_length: float  # mean sample length
    real_mean_length: float  # mean real-name length

    def to_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


def length_tv(a: Iterable[str], b: Iterable[str]) -> float:
    """Total-variation distance between the length distributions of two name lists (0 same, 1 disjoint)."""
    ca, cb = Counter(len(s) for s in a), Counter(len(s) for s in b)
    na, nb = sum(ca.values()), sum(cb.values())
    if na == 0 or nb == 0:
        return 1.0 if na != nb else 0.0
    return 0.5 * sum(abs(ca[k] / na - cb[k] / nb) for k in set(ca) | set(cb))


FREQUENCY_BUCKETS = (0, 1, 2, 5, 20)  # lower bounds of the character-frequency buckets ("f:5" = seen 5-19 times)


def _bucket(count: int) -> int:
    return max(b for b in FREQUENCY_BUCKETS if count >= b)


GENERAL_BUCKETS = (0, 1, 10, 100, 1000, 10000)  # the same over a large general list of names


def _general_bucket(count: int) -> int:
    return max(b for b in GENERAL_BUCKETS if count >= b)


def name_features(
    name: str, counts: Counter | None = None, own: Counter | None = None, general: Counter | None = None
) -> list[str]:
    """The features of one name: its characters, its bigrams with start and end marks, its length,
    and, given the character counts of a reference list (the model's training names), how common
    each character is there ("f:0" never seen, "f:1" once, "f:2" 2-4 times, ...), for the first
    character ("f1:") and the rarest one ("fmin:"), which is what a reader notices as obscure.
    `own` is subtracted from `counts`: the name's own characters when the list holds the name.
    `general` (character counts of a large list of real names of any style, e.g. historical names)
    adds the same for how common each character is in names at all ("g:", "g1:", "gmin:"), which is
    how a reader tells a rare but name-worthy character from an obscure one."""
    padded = START + name + END
    feats = [f"c:{c}" for c in name]
    feats += [f"b:{padded[i : i + 2]}" for i in range(len(padded) - 1)]
    feats.append(f"len:{len(name)}" if len(name) < MAX_LEN_FEATURE else f"len:{MAX_LEN_FEATURE}+")
    if counts is not None and name:
        buckets = [_bucket(counts[c] - (own[c] if own else 0)) for c in name]
        feats += [f"f:{b}" for b in buckets]
        feats += [f"f1:{buckets[0]}", f"fmin:{min(buckets)}"]
    if general is not None and name:
        buckets = [_general_bucket(general[c]) for c in name]
        feats += [f"g:{b}" for b in buckets]
        feats += [f"g1:{buckets[0]}", f"gmin:{min(buckets)}"]
    return feats


def _require_sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise ConfigError("detectability needs scikit-learn: pip install 'xiaming[eval]'") from None


def _classifier(kind: str, seed: int):
    """A fresh scikit-learn classifier of the named family."""
    if kind == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=1.0, max_iter=2000)
    if kind == "bayes":
        from sklearn.naive_bayes import BernoulliNB

        return BernoulliNB(alpha=0.5)
    if kind == "forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=200, min_samples_leaf=2, random_state=seed, n_jobs=1)
    raise ConfigError("classifier", kind, f"unknown classifier; classifiers: {', '.join(CLASSIFIERS)}")


def _balanced(samples: Sequence[str], real: Sequence[str], seed: int) -> tuple[list[str], list[str]]:
    """Both groups cut to the size of the smaller one by a seeded draw without replacement."""
    n = min(len(samples), len(real))
    rng = random.Random(seed)
    return rng.sample(list(samples), n), rng.sample(list(real), n)


def _weights(model, kind: str, vocabulary: list[str]) -> list[float]:
    """Per-feature weight toward the sample class (label 1)."""
    if kind == "logistic":
        return [float(w) for w in model.coef_[0]]
    if kind == "bayes":  # log-odds of holding the feature, samples over real
        log_p = model.feature_log_prob_  # (2, F)
        return [float(b - a) for a, b in zip(log_p[0], log_p[1])]
    return [float(w) for w in model.feature_importances_]  # forest: importance, no direction


def detectability(
    samples: Sequence[str],
    real: Sequence[str],
    reference: Iterable[str] | None = None,
    folds: int = 5,
    seed: int = 0,
    classifier: str = "logistic",
    top: int = 8,
    general: Counter | None = None,
) -> Detectability:
    """Cross-validated accuracy of a `classifier` telling `samples` from `real` names.

    Both groups are cut to the same size, so 50% is chance. Needs at least `folds` names per group.
    `reference` (the model's training names, or the whole list) adds character-frequency
    features, counted leave-one-out: a name of the reference is described by the counts of the
    other names, or its own characters would make every real name look common. `general`: see
    `name_features` (the character counts of a large list of names, from `char_counts`).
    """
    if classifier not in CLASSIFIERS:
        raise ConfigError("classifier", classifier, f"unknown classifier; classifiers: {', '.join(CLASSIFIERS)}")
    if folds < 2:
        raise ConfigError("folds", folds, "must be at least 2")
    fake, true = _balanced(samples, real, seed)
    if len(fake) < folds:
        raise ConfigError(
            f"detectability needs at least {folds} names in each group "
            f"(got {len(samples)} samples and {len(real)} real names)"
        )
    _require_sklearn()
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    features = _featurizer(reference, general)
    texts = fake + true
    labels = [1] * len(fake) + [0] * len(true)
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform([Counter(features(t)) for t in texts])
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_score(_classifier(classifier, seed), x, labels, cv=splitter)
    model = _classifier(classifier, seed).fit(x, labels)
    names = list(vectorizer.get_feature_names_out())
    weights = _weights(model, classifier, names)
    share = _feature_shares(fake, true, features)
    order = sorted(range(len(names)), key=lambda i: -weights[i])
    telltales = [_telltale(names[i], weights[i], "samples", share) for i in order[:top] if weights[i] > 0]
    if classifier != "forest":  # the forest's importances have no direction
        telltales += [_telltale(names[i], -weights[i], "real", share) for i in order[::-1][:top] if weights[i] < 0]
    mean = float(scores.mean())
    sd = float(scores.std(ddof=1)) if len(scores) > 1 else 0.0
    return Detectability(mean, sd, folds, len(fake), classifier, tuple(telltales))


def char_counts(names: Iterable[str]) -> Counter:
    """How often each character occurs in `names` (e.g. a large general list, for `general`)."""
    return Counter(c for name in names for c in name)


def _featurizer(reference: Iterable[str] | None, general: Counter | None = None) -> Callable[[str], list[str]]:
    """`name_features` with leave-one-out character counts of `reference` (None: no counts)."""
    if reference is None:
        return lambda name: name_features(name, general=general)
    members = set(reference)
    counts = char_counts(members)
    return lambda name: name_features(name, counts, Counter(name) if name in members else None, general)


def _feature_shares(fake: list[str], true: list[str], features) -> dict[str, tuple[float, float]]:
    def shares(group: list[str]) -> Counter:
        return Counter(f for name in group for f in set(features(name)))

    a, b = shares(fake), shares(true)
    return {f: (a[f] / len(fake), b[f] / len(true)) for f in set(a) | set(b)}


def _telltale(feature: str, weight: float, toward: str, share: dict) -> Telltale:
    in_samples, in_real = share.get(feature, (0.0, 0.0))
    return Telltale(feature, round(weight, 4), toward, in_samples, in_real)


def char_entropy(names: Iterable[str]) -> float:
    """Plug-in entropy, in bits, of the character distribution of `names`."""
    counts = Counter(c for name in names for c in name)
    total = sum(counts.values())
    if total == 0:
        return 0.0
    return -sum(k / total * math.log2(k / total) for k in counts.values())


def foreign_share(names: Sequence[str], reference: Iterable[str]) -> float:
    """Share of `names` holding at least one character that no name of `reference` uses."""
    known = {c for name in reference for c in name}
    return sum(any(c not in known for c in name) for name in names) / len(names) if names else 0.0


def surname_share(names: Sequence[str], surnames: set[str]) -> float:
    """Share of `names` that start with one of `surnames` (a compound surname or one character)."""
    if not names:
        return 0.0
    return sum(name[:2] in surnames or name[:1] in surnames for name in names) / len(names)


def variety(
    samples: Sequence[str], real: Sequence[str], reference: Iterable[str] | None = None, seed: int = 0
) -> Variety:
    """Variety of `samples` against `real` names; `reference` is the list whose characters count as
    known (the model's training list; None: the real names themselves)."""
    own = reference is None
    reference = list(real if own else reference)
    fake, true = _balanced(samples, real, seed)
    n = len(samples)
    return Variety(
        samples=n,
        distinct=len(set(samples)) / n if n else 0.0,
        char_entropy=char_entropy(fake),
        real_char_entropy=char_entropy(true),
        foreign=foreign_share(samples, reference),
        real_foreign=None if own else foreign_share(real, reference),
        length_tv=length_tv(samples, real),
        mean_length=sum(map(len, samples)) / n if n else 0.0,
        real_mean_length=sum(map(len, real)) / len(real) if real else 0.0,
    )


def describe_telltales(telltales: Sequence[Telltale], toward: str = "samples", limit: int = 5) -> str:
    """One line, e.g. 'c:鬼 (6% of samples, 1% of real)'."""
    picked = [t for t in telltales if t.toward == toward][:limit]
    return ", ".join(f"{t.feature} ({t.in_samples:.0%} of samples, {t.in_real:.0%} of real)" for t in picked)


@dataclass(frozen=True)
class Realism:
    """Detectability and variety of generated names against real names the model never saw."""

    generated: int  # generated names compared
    real: int  # real names compared
    detectability: Detectability
    variety: Variety
    examples: tuple[str, ...] = ()  # a few of the generated names

    def to_dict(self) -> dict:
        """JSON-ready, flat enough to read."""
        return {
            "generated": self.generated,
            "real": self.real,
            "detectability": self.detectability.to_dict(),
            "variety": self.variety.to_dict(),
            "examples": list(self.examples),
        }


def measure(
    generated: Sequence[str],
    real: Sequence[str],
    reference: Iterable[str] | None = None,
    classifier: str = "logistic",
    seed: int = 0,
    general: Counter | None = None,
) -> Realism:
    """`detectability` and `variety` of `generated` against `real`; `reference` is the model's
    training list (character frequencies, and which characters count as new)."""
    reference = None if reference is None else list(reference)
    det = detectability(generated, real, reference=reference, seed=seed, classifier=classifier, general=general)
    held = set(real)
    known = None if reference is None else [n for n in reference if n not in held]
    var = variety(generated, real, reference=known, seed=seed)
    examples = tuple(random.Random(seed).sample(list(generated), min(10, len(generated))))
    return Realism(len(generated), len(real), det, var, examples)
