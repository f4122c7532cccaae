"""What a generation request may spend and what it returns: the types `Namer` and every front end share.

`Budget` bounds the work of one request (the library's and the web server's); `Prepared` is a
request checked against a model; `ScoredName` and `NameResult` are what `generate` and `best`
return, with the `--json` and web API form of each (README, "JSON output").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..evidence.steer import OFF, Steering
from ..limits import MIN_TRIES, SEARCH_BUDGET, SERVER_BEST_BUDGET, SERVER_SEARCH_BUDGET, SERVER_TRIES, TRIES_PER_NAME
from .constraints import SampleOptions
from .novelty import Rejection

LN2 = math.log(2)


@dataclass(frozen=True)
class Budget:
    """The work one request may do, so that an impossible one gives up (the numbers are in limits.py)."""

    tries: int | None = None  # most candidates generate draws (None: no cap on the per-name allowance)
    search: int = SEARCH_BUDGET  # model rows the search completing a short sample may compute
    best: int = SEARCH_BUDGET  # model rows a best search may compute

    def tries_for(self, n: int) -> int:
        """Candidates generate(n) may draw: `TRIES_PER_NAME` per name, at least `MIN_TRIES`, at most `tries`."""
        allowance = max(MIN_TRIES, TRIES_PER_NAME * n)
        return allowance if self.tries is None else min(self.tries, allowance)


LIBRARY_BUDGET = Budget()  # the library's and the CLI's
SERVER_BUDGET = Budget(SERVER_TRIES, SERVER_SEARCH_BUDGET, SERVER_BEST_BUDGET)  # one web request's


@dataclass(frozen=True)
class ScoredName:
    """A name and how likely the model finds it."""

    name: str
    log_prob: float  # natural log p(name, then the end | the hidden prefix), under the model's own distribution
    critic: float | None = (
        None  # the critic's chance that a reader finds it passable, 0-1 (None: the model has no critic)
    )

    @property
    def bits_per_char(self) -> float:
        """Bits per prediction, the end token counted (comparable across lengths)."""
        return -self.log_prob / (len(self.name) + 1) / LN2

    def to_dict(self) -> dict:
        """The name as `--json` and the web API write it (README, "JSON output"): with its pinyin, rounded
        scores, the critic's P(passable) and the gender lean."""
        from ..data.pinyin import name_pinyin
        from ..evidence.gender import lean_of

        return {
            "name": self.name,
            "pinyin": name_pinyin(self.name),
            "log_prob": round(self.log_prob, 4),
            "bits_per_char": round(self.bits_per_char, 4),
            "critic": self.critic,
            "gender": lean_of(self.name).to_dict(),
        }


@dataclass
class NameResult:
    """What `Namer.generate` and `Namer.best` found, and what it took."""

    items: list[ScoredName]  # the names, in the order found (generate) or likeliest first (best)
    requested: int  # names asked for
    novelty: str  # the novelty mode applied
    options: SampleOptions  # the options used, model defaults included
    exhausted: bool = False  # fewer names than requested
    complete: bool = False  # every name the constraints allow was examined: no more exist
    reason: str = ""  # why there are fewer names than requested, when there are
    rejected: list[tuple[str, Rejection]] = field(default_factory=list)  # novelty rejections, for --verbose
    drawn: int = 0  # candidates sampled
    searched: int = 0  # paths the search extended
    steering: Steering = OFF  # the evidence that reweighted the proposals (see evidence/steer.py)
    searched_only: bool = False  # from `best`: found by search, so the sampling settings did not apply
    composed: bool = False  # epithets composed from the genre's parts (epithets.py): the sampling settings
    # did not apply

    @property
    def names(self) -> list[str]:
        return [item.name for item in self.items]

    @property
    def log_probs(self) -> list[float]:
        return [item.log_prob for item in self.items]

    def ranked(self) -> list[ScoredName]:
        """The names from most to least likely."""
        return sorted(self.items, key=lambda item: -item.log_prob)

    def to_dict(self, model: str, rank: bool = False) -> dict:
        """The result as `generate --json` writes it (README, "JSON output"; the web API's answers use the
        same names): `model` is its label, `rank` lists the names most likely first."""
        return {
            "model": model,
            "novelty": self.novelty,
            "requested": self.requested,
            "found": len(self.items),
            "exhausted": self.exhausted,
            "searched_all": self.complete,
            "reason": self.reason,
            "drawn": self.drawn,
            "searched": self.searched,
            "sampling": None if self.searched_only or self.composed else self.options.sampling(),
            "composed": self.composed,
            "steering": {
                "evidence": {label: strength for label, _, strength in self.steering.evidence},
                "pool": self.steering.pool,
            },
            "names": [{**item.to_dict(), "novelty": "new"} for item in (self.ranked() if rank else self.items)],
            "rejected": [
                {"name": name, "rule": why.rule, "training_name": why.training_name} for name, why in self.rejected
            ],
        }


@dataclass(frozen=True)
class Prepared:
    """A request checked against a model (`Namer.prepare`): what `generate` and `best` are called with."""

    options: SampleOptions  # the model's defaults under the caller's settings, checked and compilable
    steering: Steering  # the evidence that reweights the proposals
    novelty: str | None  # the novelty mode asked for (None: the model's default)
    compose: bool | None = None  # epithets composed from the genre's parts (None: when the model has them)
    surnameless: bool | None = None  # names without a surname mixed in (None: when the model has them)
