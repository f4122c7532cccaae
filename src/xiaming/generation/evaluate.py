"""Evaluation: how well a model predicts names it has not seen, and what its samples look like.

Two kinds of figures, both behind `xiaming eval` and the benchmark script:

- Held-out negative log-likelihood per character, the end-of-name token counted, in nats and in
  bits. It comes from `score.score_names`, so it is a proper probability for every model kind: an
  unknown character costs the model's unknown-character probability spread over its Unicode block.
- Sample statistics over names drawn at temperature 1 with no novelty filter (a filter would hide
  exactly what is measured): novelty (share not in the training list), uniqueness (distinct
  share), fragments (one-character names), glued names (training names stuck together, see
  `GluedTest`), and the total-variation distance between the sample lengths and the training
  lengths.

A low NLL with poor samples means a model that memorised; good samples with a high NLL mean one
that plays safe. Both are reported so neither can hide the other.

With `realism=True` (needs scikit-learn, the `eval` extra) the names `xiaming generate` would
print with the same options are compared with the evaluated names, which should be real names the
model never saw: how well a classifier tells them apart and how varied they are
(`realism.measure`). Samples are drawn with `options` (None: the model's own sampling defaults
and kind, as `generate` uses them).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from ..data.corpus import NameList, load_names, read_names
from ..data.vocab import Vocab
from ..engine import as_engine
from ..pretrained import label
from . import novelty
from .constraints import SampleOptions
from .realism import Realism, length_tv, measure
from .score import corpus_nll, score_names

if TYPE_CHECKING:
    from ..card import TrainingRecord

LN2 = math.log(2)


@dataclass(frozen=True)
class HeldOut:
    """How well a model predicts a list of names."""

    names: int  # names scored (repeats in the file included)
    chars: int  # predictions scored: every character plus one end token per name
    nats_per_char: float  # mean negative log-likelihood per prediction, natural log
    bits_per_char: float  # the same in bits
    unknown_chars: int  # characters of the names that the model's vocabulary lacks
    in_training: float  # share of the names that are also in the model's training list
    glued: float  # share of the names that are new but glued from training names (a reference for samples)


@dataclass(frozen=True)
class SampleStats:
    """What a model's unfiltered samples look like."""

    samples: int  # names drawn
    novelty: float  # share not in the training list
    uniqueness: float  # distinct names / names drawn
    fragments: float  # share of one-character names
    glued: float  # share that are new but glued from training names (see `GluedTest`)
    length_tv: float  # total-variation distance between the sample and the training length distributions
    mean_length: float  # mean sample length in characters
    names_length_tv: float | None = (
        None  # the same distance to the evaluated names (e.g. a list a base model never saw)
    )


@dataclass(frozen=True)
class Evaluation:
    """Everything `xiaming eval` reports about one model and one list of names."""

    model: str  # a shipped model's name, else the checkpoint path (`pretrained.label`)
    kind: str  # model kind
    parameters: int
    source: str  # where the held-out names came from
    held_out: HeldOut
    samples: SampleStats | None  # None when no samples were drawn
    seed: int  # seed of the samples
    sampling: str = ""  # the sampling settings of the samples, in words
    realism: Realism | None = None  # generated names against the evaluated names (None: not measured)

    def to_dict(self) -> dict:
        """One flat JSON-ready object: the held-out figures, then the sample statistics."""
        out = {"model": self.model, "kind": self.kind, "parameters": self.parameters, "source": self.source}
        out.update(asdict(self.held_out))
        out["reference_glued"] = out.pop("glued")
        if self.samples is not None:
            out.update(asdict(self.samples))
            out["seed"] = self.seed
            out["sampling"] = self.sampling
        if self.realism is not None:
            out["realism"] = self.realism.to_dict()
        return out


class GluedTest:
    """Whether a name is glued from training names, with the training list indexed once.

    Glued means two training names one after the other (novelty's `glued` rule, reused here), or a
    training name of 2+ characters with 2+ more characters around it (令狐冲 + 一二). Novelty's
    stricter `contains` rule rejects one extra character too; this statistic leaves that out, since
    a surname or a suffix character makes many real names contain another. A training name itself is
    not glued: that is a copy, which novelty counts.
    """

    def __init__(self, training_names: Iterable[str]) -> None:
        self.names = set(training_names)
        self.two = novelty.Glued(self.names)
        self.around = novelty.Contains(self.names, extra=2)

    def __call__(self, name: str) -> bool:
        if name in self.names:
            return False
        return self.two.check(name) is not None or self.around.check(name) is not None


def is_glued(name: str, training_names: Iterable[str]) -> bool:
    """`GluedTest` for one name (build a `GluedTest` once to check many)."""
    return GluedTest(training_names)(name)


def sample_stats(samples: Sequence[str], training_names: Iterable[str]) -> SampleStats:
    """Statistics of `samples` against the list the model was trained on."""
    training = set(training_names)
    glued = GluedTest(training)
    n = len(samples)
    share = (lambda count: count / n) if n else (lambda count: 0.0)
    return SampleStats(
        samples=n,
        novelty=share(sum(s not in training for s in samples)),
        uniqueness=share(len(set(samples))),
        fragments=share(sum(len(s) == 1 for s in samples)),
        glued=share(sum(glued(s) for s in samples)),
        length_tv=length_tv(samples, training),
        mean_length=share(sum(len(s) for s in samples)),
    )


def held_out(model, vocab: Vocab, names: Sequence[str], training_names: Iterable[str] = ()) -> HeldOut:
    """Held-out NLL per character of `names` (end tokens counted) under `model`."""
    training = set(training_names)
    glued = GluedTest(training)
    scores = score_names(as_engine(model, vocab.size), vocab, list(names))
    nll = corpus_nll(scores)
    n = max(1, len(names))
    return HeldOut(
        names=len(names),
        chars=sum(len(s.char_log_probs) for s in scores),
        nats_per_char=nll,
        bits_per_char=nll / LN2,
        unknown_chars=sum(c not in vocab for name in names for c in name),
        in_training=sum(name in training for name in names) / n,
        glued=sum(glued(name) for name in names) / n,
    )


def draw_samples(
    model,
    vocab: Vocab,
    n: int,
    seed: int = 0,
    train_info: dict | None = None,
    batch: int = 1000,
    options: SampleOptions | None = None,
) -> list[str]:
    """`Namer.sample` of a bare model (an inference engine, or a torch model) and its vocabulary: `n`
    names drawn with `options` (None: temperature 1, no constraint), no novelty filter, repeats kept."""
    from .namer import Namer

    return Namer(as_engine(model, vocab.size), vocab, train=train_info).sample(n, seed, options, batch)


def load_eval_names(source: str, encoding: str = "utf-8", max_len: int | None = 32) -> NameList:
    """Held-out names from a file, line by line with repeats kept (as other tools score a test
    file), or from a built-in corpus; names over `max_len` characters skipped with a warning."""
    if not Path(source).is_file():
        return load_names(source, encoding, min_names=1, max_len=max_len)  # a built-in corpus, or a clear error
    names = read_names(source, encoding, dedupe=False, max_len=max_len)  # none left: a DataError
    return NameList(names, str(source))


def trained_names(names: Sequence[str], train_info: "TrainingRecord | dict | None") -> list[str]:
    """The names a model was trained on: its name list (which novelty checks against) without the
    panel holdout that `scripts/build_pretrained.py` kept out of training and recorded."""
    from ..card import TrainingRecord

    held = set(TrainingRecord.from_dict(train_info).panel_holdout)
    return [n for n in names if n not in held]


def evaluate(
    checkpoint,
    names: NameList,
    n_samples: int = 1000,
    seed: int = 0,
    options: SampleOptions | None = None,
    realism: bool = False,
    classifier: str = "logistic",
) -> Evaluation:
    """Score `names` with a loaded model (a `Namer`) and draw `n_samples` names with `options` (None:
    the model's defaults) for the sample statistics and, with `realism`, the realism figures."""
    model, vocab = checkpoint.engine, checkpoint.vocab
    options = checkpoint.options() if options is None else options
    trained = trained_names(checkpoint.names, checkpoint.train)
    stats = found = None
    if n_samples > 0:
        samples = checkpoint.sample(n_samples, seed, options)
        stats = replace(sample_stats(samples, checkpoint.names), names_length_tv=length_tv(samples, names.names))
        if realism:
            generated = checkpoint.generate(n_samples, options, seed=seed).names
            found = measure(generated, list(dict.fromkeys(names.names)), trained, classifier, seed)
    return Evaluation(
        model=label(checkpoint.path),
        kind=checkpoint.kind,
        parameters=checkpoint.parameters,
        source=names.source,
        held_out=held_out(model, vocab, names.names, trained),
        samples=stats,
        seed=seed,
        sampling=checkpoint.describe_sampling(options),
        realism=found,
    )
