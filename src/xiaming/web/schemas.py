"""Shapes of the JSON API: pydantic request models with their bounds, and the response models.

The bounds are what keep a request cheap and safe: how many names, how long, how many to score,
how long a prefix or a character list may be. A request names a model only by the name it was
loaded under (`^[A-Za-z0-9_-]+$`, so never a path); `backend.Backend` refuses a name it has not
loaded. Requests refuse unknown fields, so a misspelt option is an error, not silently ignored.
FastAPI publishes these models, bounds and field descriptions at /docs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..limits import MAX_SEED

MAX_GENERATE = 100  # names one generate request may ask for
MAX_BEST = 20  # names one best request may ask for (a search costs more per name than sampling)
MAX_SCORE = 50  # names one score request may hold
MAX_NAME_CHARS = 32  # longest name that may be scored
MAX_LEN = 32  # largest min_len / max_len (the sampler's own cap is 64)
MAX_PREFIX = 16  # longest prefix
MAX_CHARS = 200  # longest include / exclude list
MAX_CHARSET = 8000  # longest charset
MAX_WHO = 20  # names one who request may hold
MAX_STYLES = 4  # models one style mixture or attribution may involve
MAX_ROUNDS = 20  # quiz rounds one request may ask for
MAX_VERSE = 50  # names one verse request may ask for
MAX_BODY = 64 * 1024  # bytes in one request body
TIMEOUT = 10.0  # seconds one request may take before the server answers 503

ModelName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)]


class _Strict(BaseModel):
    # strict: true is not 1 and "5" is not 5; a misspelt field is an error rather than ignored
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class _Request(_Strict):
    model: ModelName | None = Field(
        None, description="a loaded model's name (see GET /api/models); default: the server's default"
    )


Style = Annotated[dict[ModelName, Annotated[float, Field(ge=0, le=1000)]], Field(min_length=1, max_length=MAX_STYLES)]
STYLE = Field(
    None,
    description='mix loaded models\' styles instead of one model, e.g. {"jinyong": 0.7, "gulong": 0.3} '
    "(weights are normalised; novelty is checked against every list involved)",
)
Blend = Annotated[float, Field(ge=0, lt=1)]
BLEND = Field(
    None,
    description="the base model's share when the model draws blended with it, in [0, 1) (0: the model alone; "
    "default: the model's own, see GET /api/models; `xiaming generate --blend`)",
)


class _Options(_Request):
    """Constraints shared by generate and best (the flags of `xiaming generate`)."""

    prefix: str = Field("", max_length=MAX_PREFIX, description="every name starts with this, e.g. a surname (令狐)")
    min_len: int = Field(1, ge=1, le=MAX_LEN, description="shortest whole name in characters, prefix included")
    max_len: int | None = Field(
        None, ge=1, le=MAX_LEN, description="longest whole name (default: the longest training name)"
    )
    include: str = Field("", max_length=MAX_CHARS, description="at least one of these characters appears")
    exclude: str = Field("", max_length=MAX_CHARS, description="none of these characters appears after the prefix")
    charset: str | None = Field(
        None, min_length=1, max_length=MAX_CHARSET, description="the only characters allowed after the prefix"
    )
    novelty: Literal["exact", "strict", "off"] | None = Field(
        None, description="which names count as new (default: strict for the built-in corpora, else exact)"
    )
    gender: Literal["female", "male"] | None = Field(
        None,
        description="names of women or of men: proposals are reweighted by their given-name characters' "
        "gender lean (default: no preference)",
    )
    blend: Blend | None = BLEND


class GenerateRequest(_Options):
    """Sample `n` distinct new names (`xiaming generate`)."""

    n: int = Field(20, ge=1, le=MAX_GENERATE, description="how many names")
    temperature: float | None = Field(
        None, ge=0, le=100, description="0 is greedy; higher is wilder (0.01-100; default: the model's, else 1)"
    )
    top_k: int | None = Field(None, ge=1, le=100_000, description="sample among the k likeliest characters")
    top_p: float | None = Field(None, gt=0, le=1, description="nucleus sampling mass")
    min_p: float | None = Field(
        None, ge=0, le=1, description="drop characters less likely than this times the likeliest"
    )
    word_lean: float | None = Field(
        None,
        ge=1,
        le=100,
        description="a given name's second character this many times as likely where it makes the given name a "
        "word no person bore as a name (1: off; default: the model's)",
    )
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="seed for reproducible names")
    rank: bool = Field(False, description="most likely first")
    style: Style | None = STYLE
    kind: Literal["name", "epithet", "any"] = Field(
        "name",
        description="personal names, epithets such as 南海鳄神, or either as the list mixes them (models trained "
        "with name kinds; those of the built-in wuxia lists compose epithets from the lists' parts, as `--kind`)",
    )


class BestRequest(_Options):
    """The `n` most likely new names under the constraints, by search (`xiaming generate --best`)."""

    n: int = Field(10, ge=1, le=MAX_BEST, description="how many names")


class ScoreRequest(_Request):
    """How likely the model finds each name (`xiaming score`)."""

    names: list[Name] = Field(..., min_length=1, max_length=MAX_SCORE, description="names to score")
    style: Style | None = STYLE
    blend: Blend | None = BLEND


ModelList = Annotated[list[ModelName], Field(min_length=2, max_length=MAX_STYLES)]


class WhoRequest(_Strict):
    """Whose style each name is in (`xiaming who`)."""

    names: list[Name] = Field(..., min_length=1, max_length=MAX_WHO, description="names to attribute")
    models: ModelList | None = Field(
        None,
        description="loaded models to choose among, two or more "
        "(default: those of jinyong, gulong and liangyusheng loaded)",
    )


class QuizRequest(_Strict):
    """Rounds of the guessing game (`xiaming quiz`); each round carries its answer, for the page to reveal."""

    mode: Literal["author", "real"] = Field("author", description="author: whose style; real: which name is real")
    rounds: int = Field(1, ge=1, le=MAX_ROUNDS)
    size: int = Field(3, ge=1, le=5, description="names shown per round in mode author")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="the same seed gives the same rounds")
    models: ModelList | None = Field(
        None, description="loaded models to play with (default: those of jinyong, gulong and liangyusheng loaded)"
    )


class VerseRequest(_Request):
    """Given names taken from one line of classical verse, ranked as names (`xiaming verse`)."""

    surname: str | None = Field(
        None,
        min_length=1,
        max_length=2,
        description="one or two characters the model knows (default: drawn from its usual surnames)",
    )
    books: list[Annotated[str, StringConstraints(min_length=1, max_length=32)]] | None = Field(
        None,
        max_length=10,
        description="books to draw from: shijing (诗经), chuci (楚辞), tangshi300 (唐诗三百首), "
        "songci300 (宋词三百首), lunyu (论语), by key or name (default: all)",
    )
    gender: Literal["female", "male"] | None = Field(
        None, description="prefer names whose characters lean female or male in modern given names"
    )
    given_len: Literal[1, 2] | None = Field(None, description="given names of 1 or 2 characters only (default: both)")
    n: int = Field(10, ge=1, le=MAX_VERSE, description="how many names")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="seed for reproducible names")


class ExplainRequest(_Request):
    """A look inside the model for one name (`xiaming explain`): each step's alternatives, an LSTM's gates."""

    name: Name
    top: int = Field(5, ge=1, le=10, description="likeliest alternatives shown per step")
    style: Style | None = STYLE
    blend: Blend | None = BLEND


class CharLeanOut(BaseModel):
    char: str
    lean: float = Field(
        description="log-odds of the character in women's vs men's given names today (0: not in the table)"
    )
    female: int = Field(description="its count in women's given names")
    male: int = Field(description="its count in men's given names")


class GenderOut(BaseModel):
    lean: float = Field(description="mean of the given name's characters' leans: > 0 leans female, < 0 male")
    verdict: Literal["female", "male", "neutral", "unknown"]
    surname: str = Field(description="the part split off as the surname, which does not count")
    chars: list[CharLeanOut]


class NameOut(BaseModel):
    name: str
    pinyin: str | None = Field(description="romanised with tone marks, surname read as a surname; null if not Chinese")
    log_prob: float = Field(description="natural log-probability of the whole name, end included")
    bits_per_char: float
    percentile: float | None = Field(description="share (0-100) of training names with more bits per character")
    gender: GenderOut | None = Field(
        None, description="the name's gender lean with each given-name character's evidence"
    )
    critic: float | None = Field(
        None,
        description="the realism critic's chance (0-1) that a reader finds the name "
        "passable (not rated 1-2); null for a model without a critic",
    )


class NamesOut(BaseModel):
    model: str
    novelty: str = Field(description="the novelty rule applied")
    requested: int
    found: int
    exhausted: bool = Field(description="fewer names than requested were found")
    searched_all: bool = Field(
        description="the search examined every name the constraints allow, so no other new "
        "name exists (false when sampling found them all, or the search budget "
        "ran out)"
    )
    reason: str = Field(description="why there are fewer names than requested, when there are")
    names: list[NameOut]


class VerseNameOut(BaseModel):
    name: str
    surname: str
    given: str
    pinyin: str = Field(description="romanised with tone marks, the given name read as in its line")
    line: str = Field(description="the line the given name is taken from")
    marked: str = Field(description="the line with the given name's characters in 【】")
    title: str
    author: str = Field(description='"" for anonymous poems (诗经, 论语)')
    book: str
    section: str = Field(description='国风·周南 and the like, "" when none')
    log_prob: float = Field(description="natural log p(given name, then the end | surname) under the model")
    critic: float | None = Field(
        description="the realism critic's chance (0-1) that a reader finds the name "
        "passable; null for a model without a critic"
    )
    gender_lean: float | None = Field(description="> 0 leans female, < 0 male; null without the gender table")
    score: float = Field(description="the ranking score: log_prob plus the evidence's log weights")


class VerseOut(BaseModel):
    model: str
    surname: str
    books: list[str] = Field(description="the book keys drawn from")
    gender: str | None
    requested: int
    found: int
    candidates: int = Field(description="(given name, line) pairs proposed")
    scored: int = Field(description="finalists scored in full")
    steering: str = Field(description="the evidence in force, one line")
    exhausted: bool = Field(description="fewer names than requested were found")
    reason: str = Field(description="why there are fewer names than requested, when there are")
    names: list[VerseNameOut]


class CharOut(BaseModel):
    char: str
    p: float = Field(description="probability of this character given the ones before it")
    known: bool = Field(description="whether the model's vocabulary holds the character")


class ScoredOut(NameOut):
    chars: list[CharOut]
    end_p: float = Field(description="probability that the name ends here")


class ScoreOut(BaseModel):
    model: str
    reference_names: int = Field(description="training names the percentiles are computed over")
    names: list[ScoredOut]


class Pull(BaseModel):
    char: str = Field(description='a character of the name, or "(end)" for the end')
    pull: dict[str, float] = Field(description="what it adds to each style's score over the others, in nats")


class Attribution(BaseModel):
    name: str
    pinyin: str | None
    best: str = Field(description="the likeliest style")
    probs: dict[str, float] = Field(description="style -> probability (they sum to 1)")
    evidence: list[Pull]


class WhoOut(BaseModel):
    styles: list[str]
    names: list[Attribution]


class RoundOut(BaseModel):
    names: list[str]
    pinyin: list[str | None]
    choices: list[str] = Field(description="styles (mode author) or the names themselves (mode real)")
    answer: int = Field(description="index of the right choice")
    style: str = Field(description="the style the names are in")


class QuizOut(BaseModel):
    mode: str
    rounds: list[RoundOut]


class Alternative(BaseModel):
    char: str = Field(description='a character, or "(end)" for the end')
    p: float


class Step(BaseModel):
    char: str = Field(description='the character that came, or "(end)" for the end')
    p: float = Field(description="its probability given the characters before")
    rank: int = Field(description="1: it was the likeliest at this step")
    top: list[Alternative]


class UnitOut(BaseModel):
    feature: str = Field(description='"position", "surname boundary" or "given name"')
    state: str = Field(description='"hidden" or "cell"')
    unit: int
    r: float = Field(description="Pearson correlation with the feature over the training names")
    values: list[float] = Field(description="the unit after each input (the start first)")


class CriticEvidenceOut(BaseModel):
    feature: str = Field(
        description='a lexicon feature, "char X" for a character of the given name (or of an epithet\'s head), '
        'or "role X" for an epithet\'s role word'
    )
    effect: float = Field(description="how far it moved the log-odds of reading as passable (> 0: towards passable)")


class CriticOut(BaseModel):
    passable: float = Field(description="the chance (0-1) that a reader finds the name passable (not rated 1-2)")
    appeal: float | None = Field(description="the chance (0-1) of a 4-5; null when the critic has no appeal head")
    evidence: list[CriticEvidenceOut] = Field(description="the evidence that moved `passable` most, largest first")
    by: str = Field(
        "critic",
        description='who read the name: "critic" (the realism critic of personal names) or "epithet judge" '
        "(an epithet of the form composed epithets have, for a model that composes them)",
    )


class ExplainOut(BaseModel):
    name: str
    pinyin: str | None
    model: str
    kind: str
    log_prob: float
    bits_per_char: float
    inputs: list[str] = Field(description='what the model read at each step: "^" (the start), then the characters')
    steps: list[Step]
    gates: dict[str, list[list[float]]] | None = Field(
        description="LSTM only: input_gate, forget_gate, output_gate, cell, each (steps, units)"
    )
    units: list[UnitOut]
    unit_names: int = Field(description="training names the unit correlations were computed over")
    critic: CriticOut | None = Field(
        None,
        description="what the model's realism critic (or, for an epithet, the epithet judge) read in the whole "
        "name; null for a model without either",
    )


class ModelOut(BaseModel):
    name: str
    description: str
    kind: str
    training_names: int
    max_name_len: int
    novelty: str = Field(description="the default novelty rule")


class Limits(BaseModel):
    generate: int = MAX_GENERATE
    best: int = MAX_BEST
    verse: int = MAX_VERSE
    score: int = MAX_SCORE
    name_chars: int = MAX_NAME_CHARS
    length: int = MAX_LEN
    prefix: int = MAX_PREFIX
    timeout_s: float = TIMEOUT
    budget_s: float = Field(
        2.0,
        description="seconds of work a generate or best request may take; then it answers "
        "with the names found, searched_all false and the reason",
    )


class ModelsOut(BaseModel):
    default: str
    models: list[ModelOut]
    limits: Limits
    features: list[str] = Field(description="optional endpoints this server offers")
    styles: list[str] = Field(
        [],
        description="the models who and quiz choose among by default (the wuxia authors "
        "loaded); empty without who and quiz",
    )


class ErrorOut(BaseModel):
    detail: str = Field(description="one line saying what is wrong and, where it helps, what to do")
    field: str | None = Field(
        None,
        description="the request field at fault (e.g. max_len), for a value out of "
        "bounds (422) or refused by the library (400); absent otherwise",
    )
    value: str | None = Field(
        None,
        description="with field: the value refused, as detail shows it (absent when the field as a whole is at fault)",
    )
    reason: str | None = Field(
        None,
        description="with field: what is wrong, each other field it mentions written "
        "{field} (e.g. 'is above {max_len} 3')",
    )
    refs: list[str] | None = Field(None, description="with field: the fields reason mentions")
