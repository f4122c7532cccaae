"""The web app's one door into the library: the models loaded at start, and the calls made on them.

`Backend.load` builds one `Namer` per shipped model and per checkpoint of an optional folder, once,
by name (the file's stem), and scores each model's training names once so that any score can be
given as a percentile. Requests then name a model only by that name: a name the backend has not
loaded is a `ConfigError` listing the loaded ones, so no request can reach the file system.

Each call is one `Namer` call whose result is put into the API's response shapes (`schemas.py`),
with the pinyin added; generating, searching and scoring are the library's. Work is bounded by the
library's `SERVER_BUDGET` (limits.py: candidates drawn, and the paths of the search that completes a
short sample or answers a best request), so an impossible request gives up in a second or two (a few
seconds for best) rather than the CLI's twelve.

Work is bounded in time too: a generate or best request stops after `budget` seconds (`BUDGET`;
`deadline.time_budget`) if its draws and paths have not run out first, and answers with the names
found by then, `searched_all` false and the library's reason, which says that the budget ran out
(`said_budget`): an answer, not an error, as the CLI reports a search that gave up.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

from ..data.pinyin import name_pinyin
from ..data.vocab import END_TEXT
from ..errors import NO_VALUE, ConfigError, DataError
from ..evidence.gender import lean_of
from ..generation.deadline import TimeBudget, time_budget
from ..generation.namer import Namer
from ..generation.results import SERVER_BUDGET, NameResult
from ..generation.score import percentile
from ..pretrained import DEFAULT, SHIPPED, available
from ..style.attribution import DEFAULT_STYLES
from .schemas import (
    Attribution,
    CharOut,
    CriticEvidenceOut,
    CriticOut,
    ExplainOut,
    ModelOut,
    NameOut,
    NamesOut,
    Pull,
    QuizOut,
    RoundOut,
    ScoredOut,
    ScoreOut,
    Step,
    UnitOut,
    VerseOut,
    WhoOut,
)

KEPT = 16  # style mixtures and attribution judges kept built, most recent first
BUDGET = 2.0  # seconds of work one generate or best request may take (then it answers with what it found)


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
    """Checkpoints of a folder by stem (resume states `*.state.safetensors` and critics `*.critic.safetensors`,
    which load with their model, left out); DataError if unusable."""
    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"--models {folder}: no such folder")
    found = {
        p.name[: -len(".safetensors")]: p
        for p in sorted(path.glob("*.safetensors"))
        if not p.name.endswith((".state.safetensors", ".critic.safetensors"))
    }
    if not found:
        raise DataError(f"--models {folder}: the folder holds no .safetensors checkpoint")
    for stem in found:
        if stem in SHIPPED:
            raise ConfigError("models", str(folder), f"{stem}.safetensors has the name of a shipped model; rename it")
        if not stem or not all(c.isalnum() and c.isascii() or c in "_-" for c in stem):
            raise ConfigError(
                "models", str(folder), f"{stem}.safetensors: name models with letters, digits, _ and - only"
            )
    return found


class Backend:
    """The loaded models and the library calls the API makes on them."""

    def __init__(self, models: list[Loaded], default: str | None = None, budget: float = BUDGET) -> None:
        if not models:
            raise DataError("no model to serve: the shipped models are missing and no --models folder was given")
        self.models = {m.name: m for m in models}
        self.default = default if default in self.models else (DEFAULT if DEFAULT in self.models else models[0].name)
        # the styles who and quiz choose among by default: those of Jin Yong, Gu Long and Liang Yusheng that
        # are loaded, if two or more are, else the first two models with a training list (none: no who, quiz
        # or style mixing)
        listed = [m.name for m in models if m.namer.names]
        present = [s for s in DEFAULT_STYLES if s in self.models]
        self.styles = present if len(present) >= 2 else listed[:2]
        self._built: dict[tuple, object] = {}  # mixtures and judges by what they are built from
        self._lock = threading.Lock()
        self.budget = budget  # seconds of work per generate or best request

    @classmethod
    def load(
        cls, folder: str | Path | None = None, shipped: list[str] | None = None, budget: float = BUDGET
    ) -> "Backend":
        """Every shipped model present (or those named in `shipped`) and every checkpoint in `folder`;
        `budget` seconds of work per generate or best request."""
        extra = folder_checkpoints(folder) if folder is not None else {}  # a bad folder fails before any loading
        models = [_load(name, SHIPPED[name], name) for name in (available() if shipped is None else shipped)]
        models += [_load(stem, f"{path.name} from {folder}", path) for stem, path in extra.items()]
        return cls(models, budget=budget)

    def get(self, name: str | None) -> Loaded:
        """The model loaded under `name` (None: the default); ConfigError naming the loaded ones otherwise."""
        name = self.default if name is None else name
        if name not in self.models:
            raise ConfigError("model", name, f"is not loaded (loaded: {', '.join(self.models)})")
        return self.models[name]

    def features(self) -> list[str]:
        """The API calls this server offers (the page shows the controls of these only)."""
        return ["generate", "best", "score", "explain", "verse"] + (
            ["style", "who", "quiz"] if len(self.styles) >= 2 else []
        )

    def describe(self) -> list[ModelOut]:
        """What each loaded model is, for the page's model list."""
        return [
            ModelOut(
                name=m.name,
                description=m.description,
                kind=m.namer.kind,
                training_names=len(m.namer.names),
                max_name_len=m.namer.train.max_name_len,
                novelty=m.namer.default_novelty,
            )
            for m in self.models.values()
        ]

    def _kept(self, key: tuple, build):
        """A mixture or judge built once for `key` and kept (the `KEPT` most recent)."""
        with self._lock:
            if key in self._built:
                self._built[key] = self._built.pop(key)  # most recent last
                return self._built[key]
        made = build()
        with self._lock:
            self._built[key] = made
            while len(self._built) > KEPT:
                self._built.pop(next(iter(self._built)))
        return made

    def _namer(
        self, model: str | None, style: dict[str, float] | None, blend: float | None = None
    ) -> tuple[str, Namer, list[float]]:
        """(label, Namer, reference bits for percentiles) of one loaded model, drawn blended with the base
        at `blend` when given (None: as its card says), or of a mixture of loaded models.

        A mixture has no single list to compare with, so its names get no percentile.
        """
        if style is None:
            m = self.get(model)
            if blend is None:
                return m.name, m.namer, m.namer.reference()
            namer = self._kept(("blend", m.name, blend), lambda: m.namer.blended(blend))
            return m.name, namer, namer.reference()
        if blend is not None:
            raise ConfigError(
                "blend", blend, "applies to one model; give {model}, or mix with {style} alone", refs=("model", "style")
            )
        if model is not None:
            raise ConfigError(
                "style",
                NO_VALUE,
                "give {style} or {model}, not both ({style} names its models)",
                refs=("style", "model"),
            )
        from ..style.mix import mixed_namer

        for name in style:
            self.get(name)
        weights = dict(sorted(style.items()))
        namer = self._kept(
            ("mix",) + tuple(weights.items()), lambda: mixed_namer(weights, {k: self.models[k].namer for k in weights})
        )
        return ",".join(f"{k}={w:g}" for k, w in weights.items()), namer, []

    def _names(self, label: str, reference: list[float], result: NameResult, rank: bool = False) -> NamesOut:
        """The result as `generate --json` has it (`NameResult.to_dict`), each name with its percentile."""
        body = result.to_dict(label, rank)
        rows = [
            NameOut(
                **{key: row[key] for key in NameOut.model_fields if key in row},
                percentile=_round(percentile(row["bits_per_char"], reference)),
            )
            for row in body["names"]
        ]
        return NamesOut(**{key: body[key] for key in NamesOut.model_fields if key != "names"}, names=rows)

    def generate(
        self,
        model: str | None,
        n: int,
        settings: dict,
        novelty: str | None,
        seed: int | None,
        rank: bool = False,
        style: dict[str, float] | None = None,
        gender: str | None = None,
        blend: float | None = None,
        kind: str | None = None,
    ) -> NamesOut:
        """Up to `n` new names sampled under `settings` (SampleOptions fields; None: the model's default),
        from one model (blended with the base at `blend` when given) or from the mixture `style` of
        loaded models, of `gender` when given, of `kind` (name, epithet or any; None: name; the models of
        the built-in wuxia lists compose epithets, as `Namer.generate`)."""
        label, namer, reference = self._namer(model, style, blend)
        request = namer.prepare(kind=kind, novelty=novelty, gender=gender, **settings)
        with time_budget(self.budget) as budget:
            result = namer.generate(
                n, request.options, request.novelty, seed, steering=request.steering, budget=SERVER_BUDGET
            )
        return self._names(label, reference, said_budget(result, budget), rank)

    def best(
        self,
        model: str | None,
        n: int,
        settings: dict,
        novelty: str | None,
        gender: str | None = None,
        blend: float | None = None,
    ) -> NamesOut:
        """The `n` most likely new names under `settings` (of `gender` when given, blended with the base
        at `blend` when given), likeliest first."""
        label, namer, reference = self._namer(model, None, blend)
        request = namer.prepare(novelty=novelty, gender=gender, search=True, **settings)
        with time_budget(self.budget) as budget:
            result = namer.best(n, request.options, request.novelty, steering=request.steering, budget=SERVER_BUDGET)
        return self._names(label, reference, said_budget(result, budget))

    def _styles(self, models: list[str] | None) -> list[str]:
        styles = list(models) if models else list(self.styles)
        if len(styles) < 2:
            raise ConfigError("models", NO_VALUE, "give at least two loaded models to choose between")
        if len(set(styles)) != len(styles):
            raise ConfigError("models", styles, "a model is named twice")
        for name in styles:
            self.get(name)
        return styles

    def who(self, names: list[str], models: list[str] | None) -> WhoOut:
        """Whose style each name is in, among loaded models (see `xiaming.style.attribution.StyleJudge`)."""
        from ..style.attribution import StyleJudge

        styles = self._styles(models)
        judge = self._kept(("who",) + tuple(styles), lambda: StyleJudge({s: self.models[s].namer for s in styles}))
        rows = [
            Attribution(
                name=a.name,
                pinyin=name_pinyin(a.name),
                best=a.best,
                probs={k: round(v, 4) for k, v in a.probs.items()},
                evidence=[
                    Pull(char=c or END_TEXT, pull={k: round(v, 3) for k, v in pull.items()}) for c, pull in a.evidence
                ],
            )
            for a in judge.who(names)
        ]
        return WhoOut(styles=styles, names=rows)

    def quiz(self, mode: str, rounds: int, size: int, seed: int | None, models: list[str] | None) -> QuizOut:
        """Rounds of the guessing game among loaded models (see `xiaming.style.quiz.make_rounds`)."""
        from ..style.quiz import make_rounds

        styles = self._styles(models) if mode == "author" or models else list(self.styles)
        made = make_rounds(mode, rounds, seed, styles, size, {s: self.models[s].namer for s in styles})
        return QuizOut(
            mode=mode,
            rounds=[
                RoundOut(
                    names=list(r.names),
                    pinyin=[name_pinyin(n) for n in r.names],
                    choices=list(r.choices),
                    answer=r.answer,
                    style=r.style,
                )
                for r in made
            ],
        )

    def score(
        self, model: str | None, names: list[str], style: dict[str, float] | None = None, blend: float | None = None
    ) -> ScoreOut:
        """Each name's log-probability, bits per character, percentile and per-character probabilities
        (under the blend `blend` when given)."""
        label, namer, reference = self._namer(model, style, blend)
        rows = []
        for s, rating in zip(namer.score(names), namer.rate(names)):
            probs = [math.exp(lp) for lp in s.char_log_probs]
            rows.append(
                ScoredOut(
                    name=s.name,
                    pinyin=name_pinyin(s.name),
                    log_prob=round(s.log_prob, 4),
                    bits_per_char=round(s.bits_per_char, 4),
                    percentile=_round(percentile(s.bits_per_char, reference)),
                    gender=lean_of(s.name).to_dict(),
                    critic=rating,
                    chars=[CharOut(char=ch, p=p, known=ch in namer.vocab) for ch, p in zip(s.name, probs)],
                    end_p=probs[-1],
                )
            )
        return ScoreOut(model=label, reference_names=len(reference), names=rows)

    def explain(
        self,
        model: str | None,
        name: str,
        top: int,
        style: dict[str, float] | None = None,
        blend: float | None = None,
    ) -> ExplainOut:
        """What the model did at each step of `name` (see `xiaming.generation.explain.explain`), under the
        blend `blend` when given; values rounded for the wire."""
        label, namer, _ = self._namer(model, style, blend)
        e = namer.explain(name, top=top)
        return ExplainOut(
            name=e.name,
            pinyin=name_pinyin(e.name),
            model=label,
            kind=e.kind,
            log_prob=round(e.log_prob, 4),
            bits_per_char=round(e.bits_per_char, 4),
            inputs=e.inputs,
            steps=[Step(**step) for step in e.to_dict()["steps"]],  # the end as explain --json writes it
            gates=None
            if e.gates is None
            else {g: [[round(v, 3) for v in row] for row in rows] for g, rows in e.gates.items()},
            units=[
                UnitOut(
                    feature=u.feature,
                    state=u.state,
                    unit=u.unit,
                    r=round(u.r, 3),
                    values=[round(v, 3) for v in u.values],
                )
                for u in e.units
            ],
            unit_names=e.unit_names,
            critic=None
            if e.critic is None
            else CriticOut(
                passable=e.critic.passable,
                appeal=e.critic.appeal,
                evidence=[CriticEvidenceOut(feature=f, effect=x) for f, x in e.critic.evidence],
                by=e.critic.by,
            ),
        )

    def verse(
        self,
        model: str | None,
        n: int,
        surname: str | None,
        books: list[str] | None,
        gender: str | None,
        seed: int | None,
        given_len: int | None = None,
    ) -> VerseOut:
        """`n` given names from classical verse (see `xiaming.verse.verse_names`), each with its line and poem."""
        from ..verse import verse_names

        m = self.get(model)
        result = verse_names(m.namer, n, surname, books, gender, seed, (given_len,) if given_len else (1, 2))
        body = result.to_dict()
        return VerseOut(model=m.name, found=len(result.items), **body)


def said_budget(result: NameResult, budget: TimeBudget) -> NameResult:
    """`result`, its reason saying so when this server's time budget cut it short (the library's reason
    names the draws and paths it took, not why they stopped there)."""
    if budget.spent and result.exhausted:
        result.reason = f"{result.reason} (the {budget.seconds:g} s of work this server gives a request ran out)"
    return result


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
