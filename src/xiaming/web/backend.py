"""The web app's one door into the library: the models loaded at start, and the calls made on them.

`Backend.load` builds one `Namer` per shipped model and per checkpoint of an optional folder, once,
by name (the file's stem), and scores each model's training names once so that any score can be
given as a percentile. Requests then name a model only by that name: a name the backend has not
loaded is a `ConfigError` listing the loaded ones, so no request can reach the file system.

Each call is one `Namer` call whose result is put into the API's response shapes (`schemas.py`),
with the pinyin added; generating, searching and scoring are the library's. Work is bounded here:
at most `SAMPLE_TRIES` candidates and `SEARCH_BUDGET` paths for the search that completes a short
sample (`BEST_BUDGET` for a best request), so an impossible request gives up in a second or two
(a few seconds for best) rather than the CLI's twelve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, DataError
from ..namer import NameResult, Namer
from ..pinyin import name_pinyin
from ..pretrained import DEFAULT, SHIPPED, available
from ..score import percentile
from .schemas import CharOut, ModelOut, NameOut, NamesOut, ScoredOut, ScoreOut

SAMPLE_TRIES = 10_000  # candidates one generate request may draw at most
SEARCH_BUDGET = 10_000  # model rows the search completing a short sample may compute (about 1 s)
BEST_BUDGET = 20_000  # model rows a best request's search may compute (about 5 s on 2 busy cores)


@dataclass
class Loaded:
    """One model as the server holds it."""

    name: str
    description: str
    namer: Namer


def _load(name: str, description: str, model: str | Path) -> Loaded:
    namer = Namer.load(model)
    namer.reference()  # score the training names now, not on the first request
    return Loaded(name, description, namer)


def folder_checkpoints(folder: str | Path) -> dict[str, Path]:
    """Checkpoints of a folder by stem (resume states `*.state.safetensors` left out); DataError if unusable."""
    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"--models {folder}: no such folder")
    found = {p.name[: -len(".safetensors")]: p for p in sorted(path.glob("*.safetensors"))
             if not p.name.endswith(".state.safetensors")}
    if not found:
        raise DataError(f"--models {folder}: the folder holds no .safetensors checkpoint")
    for stem in found:
        if stem in SHIPPED:
            raise ConfigError(f"--models {folder}: {stem}.safetensors has the name of a shipped model; rename it")
        if not stem or not all(c.isalnum() and c.isascii() or c in "_-" for c in stem):
            raise ConfigError(f"--models {folder}: {stem}.safetensors: name models with letters, digits, _ and - only")
    return found


class Backend:
    """The loaded models and the library calls the API makes on them."""

    def __init__(self, models: list[Loaded], default: str | None = None) -> None:
        if not models:
            raise DataError("no model to serve: the shipped models are missing and no --models folder was given")
        self.models = {m.name: m for m in models}
        self.default = default if default in self.models else (DEFAULT if DEFAULT in self.models else models[0].name)

    @classmethod
    def load(cls, folder: str | Path | None = None, shipped: list[str] | None = None) -> "Backend":
        """Every shipped model present (or those named in `shipped`) and every checkpoint in `folder`."""
        extra = folder_checkpoints(folder) if folder is not None else {}  # a bad folder fails before any loading
        models = [_load(name, SHIPPED[name], name) for name in (available() if shipped is None else shipped)]
        models += [_load(stem, f"{path.name} from {folder}", path) for stem, path in extra.items()]
        return cls(models)

    def get(self, name: str | None) -> Loaded:
        """The model loaded under `name` (None: the default); ConfigError naming the loaded ones otherwise."""
        name = self.default if name is None else name
        if name not in self.models:
            raise ConfigError(f"model {name!r} is not loaded (loaded: {', '.join(self.models)})")
        return self.models[name]

    def features(self) -> list[str]:
        """The API calls this server offers (the page shows the controls of these only)."""
        return ["generate", "best", "score"]

    def describe(self) -> list[ModelOut]:
        """What each loaded model is, for the page's model list."""
        return [ModelOut(name=m.name, description=m.description, kind=m.namer.kind, training_names=len(m.namer.names),
                         max_name_len=int(m.namer.train.get("max_name_len", 12)), novelty=m.namer.default_novelty)
                for m in self.models.values()]

    def _names(self, m: Loaded, result: NameResult, rank: bool = False) -> NamesOut:
        reference = m.namer.reference()
        rows = [NameOut(name=item.name, pinyin=name_pinyin(item.name), log_prob=round(item.log_prob, 4),
                        bits_per_char=round(item.bits_per_char, 4),
                        percentile=_round(percentile(item.bits_per_char, reference)))
                for item in result.items]
        if rank:
            rows.sort(key=lambda row: -row.log_prob)
        return NamesOut(model=m.name, novelty=result.novelty, requested=result.requested, found=len(rows),
                        exhausted=result.exhausted, reason=result.reason if result.exhausted else "", names=rows)

    def generate(self, model: str | None, n: int, settings: dict, novelty: str | None, seed: int | None,
                 rank: bool = False) -> NamesOut:
        """Up to `n` new names sampled under `settings` (SampleOptions fields; None: the model's default)."""
        m = self.get(model)
        options = m.namer.options(**settings)
        result = m.namer.generate(n, options, novelty, seed, max_tries=min(SAMPLE_TRIES, max(5000, 500 * n)),
                                  search_budget=SEARCH_BUDGET)
        return self._names(m, result, rank)

    def best(self, model: str | None, n: int, settings: dict, novelty: str | None) -> NamesOut:
        """The `n` most likely new names under `settings`, likeliest first."""
        m = self.get(model)
        result = m.namer.best(n, m.namer.options(**settings), novelty, max_nodes=BEST_BUDGET)
        return self._names(m, result)

    def score(self, model: str | None, names: list[str]) -> ScoreOut:
        """Each name's log-probability, bits per character, percentile and per-character probabilities."""
        m = self.get(model)
        reference = m.namer.reference()
        rows = []
        for s in m.namer.score(names):
            probs = [math.exp(lp) for lp in s.char_log_probs]
            rows.append(ScoredOut(
                name=s.name, pinyin=name_pinyin(s.name), log_prob=round(s.log_prob, 4),
                bits_per_char=round(s.bits_per_char, 4), percentile=_round(percentile(s.bits_per_char, reference)),
                chars=[CharOut(char=ch, p=p, known=ch in m.namer.vocab) for ch, p in zip(s.name, probs)],
                end_p=probs[-1]))
        return ScoreOut(model=m.name, reference_names=len(reference), names=rows)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
