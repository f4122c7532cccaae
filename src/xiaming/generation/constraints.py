"""What a caller may ask of generation, checked once and compiled into masks the sampler and the
search share.

`SampleOptions` is the request (temperature, top-k/p, min-p, prefix, lengths, characters);
`compile_constraints` validates it against a vocabulary and a model window and gives
`Constraints`: the prefix ids, numpy masks over the vocabulary and the length bounds. `sample.py`
and `search.py` both read `Constraints` (the search reuses the sampler's prefix reading), and
neither needs torch: the masks are numpy arrays over the same ids whatever engine computes the
logits.

Two fields exist for callers that steer a model with a marker it learned in training (the
"kind" of a name, see `kinds.py`): `hidden_prefix` is read by the model before the prefix but is
no part of the name (never printed, never checked for novelty), and `ban_first` lists characters
that may not be the first character generated (so a model that learned markers at the start of
names does not produce one when none is asked for).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np

from ..card import TrainingRecord
from ..data.vocab import BOUNDARY, N_SPECIAL, UNKNOWN, Vocab
from ..errors import NO_VALUE, ConfigError
from .lean import WordLean, check_alpha, lean_for

NEG_INF = float("-inf")
LONGEST_GENERATED = 64  # longest name the sampler builds: bounds memory (batch x length) and time
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.01, 100.0  # beyond these the logits overflow or every id ties
SAMPLING_FIELDS = ("temperature", "top_k", "top_p", "min_p", "word_lean")  # what a checkpoint may set as defaults


@dataclass(frozen=True)
class SampleOptions:
    """What to draw and how."""

    temperature: float = 1.0  # softmax temperature; 0 is greedy
    top_k: int | None = None  # sample among the k most likely characters
    top_p: float | None = None  # sample among the most likely characters holding this much mass
    min_p: float | None = None  # drop characters less likely than this times the likeliest one
    prefix: str = ""  # every name starts with this (e.g. a surname)
    min_len: int = 1  # shortest whole name, in characters
    max_len: int | None = None  # longest whole name (None: the longest training name)
    exclude: str = ""  # characters that never appear
    include: str = ""  # at least one of these appears (when given)
    charset: str | None = None  # only these characters may follow the prefix (when given)
    hidden_prefix: str = ""  # read before the prefix, not part of the name (a marker the model learned)
    ban_first: str = ""  # characters that may not be the first one generated
    word_lean: float | None = None  # a given name's second character this many times as likely where it
    # makes the two a word no person bore as a name (`lean.py`); None or 1: off

    def validate(self, vocab: Vocab) -> None:
        """Raise ConfigError naming the option that cannot work with this model."""
        self.validate_ranges()
        unknown = vocab.unknown_chars(self.prefix)
        if unknown:
            raise ConfigError("prefix", self.prefix, f"the model has never seen {''.join(unknown)!r}")
        unknown = vocab.unknown_chars(self.hidden_prefix)
        if unknown:
            raise ConfigError("hidden_prefix", self.hidden_prefix, f"the model has never seen {''.join(unknown)!r}")

    def validate_ranges(self) -> None:
        """Raise ConfigError naming the first option out of range (what can be checked without a model)."""
        if not (self.temperature == 0 or MIN_TEMPERATURE <= self.temperature <= MAX_TEMPERATURE):
            raise ConfigError(
                "temperature",
                self.temperature,
                f"must be 0 (greedy) or between {MIN_TEMPERATURE:g} and {MAX_TEMPERATURE:g}",
            )
        if self.top_k is not None and self.top_k < 1:
            raise ConfigError("top_k", self.top_k, "must be at least 1")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ConfigError("top_p", self.top_p, "must be in (0, 1]")
        if self.min_p is not None and not 0 <= self.min_p <= 1:
            raise ConfigError("min_p", self.min_p, "must be in [0, 1]")
        check_alpha(self.word_lean)
        if self.min_len < 1:
            raise ConfigError("min_len", self.min_len, "must be at least 1")
        for name, value in (("min_len", self.min_len), ("max_len", self.max_len)):
            if value is not None and value > LONGEST_GENERATED:
                raise ConfigError(name, value, f"names are at most {LONGEST_GENERATED} characters")
        if self.max_len is not None and self.max_len < 1:
            raise ConfigError("max_len", self.max_len, "must be at least 1")
        if self.max_len is not None and self.min_len > self.max_len:
            raise ConfigError("min_len", self.min_len, f"is above {{max_len}} {self.max_len}", refs=("max_len",))
        if self.max_len is not None and len(self.prefix) > self.max_len:
            raise ConfigError("prefix", self.prefix, f"is longer than {{max_len}} {self.max_len}", refs=("max_len",))
        if self.charset is not None and not self.charset:
            raise ConfigError("charset", NO_VALUE, "no characters given")

    def sampling(self) -> dict:
        """The fields that shape the distribution (what a checkpoint's defaults may set), by name."""
        return {name: getattr(self, name) for name in SAMPLING_FIELDS}


OPTION_FIELDS = tuple(f.name for f in fields(SampleOptions))


def check_settings(**settings) -> None:
    """Raise ConfigError naming the first of `settings` (SampleOptions fields; None: not set) out of
    range, on their own: what a front end checks before it loads a model."""
    SampleOptions(**{k: v for k, v in settings.items() if v is not None}).validate_ranges()


@dataclass(frozen=True)
class Constraints:
    """Options compiled against a vocabulary: the masks and bounds the sampler and the search share.

    Lengths count the visible name (prefix included, hidden prefix not).
    """

    context_ids: tuple[int, ...]  # the hidden prefix, encoded (read, never shown)
    prefix_ids: tuple[int, ...]  # the prefix, encoded
    allowed: np.ndarray  # (V,) bool: ids that may follow the prefix (the end token always may)
    include: np.ndarray | None  # (V,) bool: ids of which one must appear (None: no such rule, or the prefix has one)
    first_banned: np.ndarray | None  # (V,) bool: ids that may not be the first generated (None: none)
    min_len: int  # shortest whole name
    max_len: int  # longest whole name
    lean: WordLean | None = None  # the word lean the sampler applies (None: off)

    @property
    def feed(self) -> tuple[int, ...]:
        """Every id the model reads before the first generated one: start, hidden prefix, prefix."""
        return (BOUNDARY,) + self.context_ids + self.prefix_ids

    def banned_mask(self, length: int) -> np.ndarray:
        """(V,) bool: ids that no name of `length` visible characters so far may take next."""
        if length >= self.max_len:  # the end is forced
            banned = np.ones_like(self.allowed)
            banned[BOUNDARY] = False
            return banned
        banned = ~self.allowed
        if length < self.min_len:
            banned[BOUNDARY] = True
        if self.first_banned is not None and length == len(self.prefix_ids):
            banned |= self.first_banned
        return banned

    def banned(self, length: int) -> np.ndarray:
        """Ids (k,) that no name of `length` characters so far may take next (the end is forced at `max_len`)."""
        return np.flatnonzero(self.banned_mask(length))

    def any_allowed(self) -> bool:
        """Whether any real character may follow the prefix."""
        return bool(self.allowed[N_SPECIAL:].any())

    def admits(self, ids: Sequence[int]) -> bool:
        """Whether a whole name, as ids (no start or end token), meets every constraint the sampler
        applies step by step: it starts with the prefix, its length is within bounds, what follows the
        prefix is allowed (no unknown character), holds an included character when one is asked for,
        and does not begin with a banned first character. For names made outside the sampler (composed
        epithets, `epithets.py`)."""
        head = len(self.prefix_ids)
        rest = list(ids[head:])
        if tuple(ids[:head]) != self.prefix_ids or not self.min_len <= len(ids) <= self.max_len:
            return False
        if any(i == BOUNDARY or not self.allowed[i] for i in rest):
            return False
        if self.include is not None and not any(self.include[i] for i in rest):
            return False
        return not (rest and self.first_banned is not None and self.first_banned[rest[0]])


def char_mask(vocab: Vocab, chars: str) -> np.ndarray:
    """(V,) bool: the ids of those of `chars` the vocabulary holds."""
    mask = np.zeros(vocab.size, dtype=bool)
    for c in chars:
        if c in vocab:
            mask[vocab.id(c)] = True
    return mask


def allowed_mask(vocab: Vocab, options: SampleOptions) -> np.ndarray:
    """(V,) booleans: which ids may be sampled after the prefix (the end token always may)."""
    allowed = np.ones(vocab.size, dtype=bool)
    allowed[UNKNOWN] = False
    if options.charset is not None:
        allowed[N_SPECIAL:] = False
        allowed |= char_mask(vocab, options.charset)
        allowed[UNKNOWN] = False
    allowed &= ~char_mask(vocab, options.exclude)
    allowed[BOUNDARY] = True
    return allowed


def default_max_len(window: int | None, train_info: TrainingRecord | dict | None, options: SampleOptions) -> int:
    """The length cap: the option, else the longest training name (`train_info`, the training record;
    a dict is read as one); never past the model's window.

    `window` is the most ids a model reads at once (None: no limit); the start token and the
    hidden prefix take their places in it.
    """
    longest = TrainingRecord.from_dict(train_info).max_name_len
    cap = options.max_len or max(longest, len(options.prefix) + 1, options.min_len)
    if window:
        return min(cap, window - 1 - len(options.hidden_prefix))
    return cap


def compile_constraints(
    vocab: Vocab, options: SampleOptions, window: int | None = None, train_info: TrainingRecord | dict | None = None
) -> Constraints:
    """Validate `options` and turn them into masks for this model; ConfigError names what cannot work."""
    options.validate(vocab)
    max_len = default_max_len(window, train_info, options)
    room = window - 1 - len(options.hidden_prefix) if window else None
    fix = (
        f"this model reads names of at most {room} characters"
        if room is not None and max_len == room
        else "set {max_len}"
    )
    if max_len < 1:
        raise ConfigError("hidden_prefix", options.hidden_prefix, f"leaves no room in this model's window of {window}")
    if options.min_len > max_len:
        raise ConfigError("min_len", options.min_len, f"is above the length cap {max_len} ({fix})", refs=("max_len",))
    if len(options.prefix) > max_len:
        raise ConfigError(
            "prefix", options.prefix, f"is longer than the length cap {max_len} ({fix})", refs=("max_len",)
        )
    allowed = allowed_mask(vocab, options)
    include = None
    prefix_included = any(c in options.include for c in options.prefix)
    if options.include:
        include = char_mask(vocab, options.include) & allowed
        include[BOUNDARY] = False
        if not prefix_included and not include.any():
            raise ConfigError(
                "include",
                options.include,
                "none of these characters can appear (unknown to the model, excluded, or outside {charset})",
                refs=("charset",),
            )
    first_banned = char_mask(vocab, options.ban_first) if options.ban_first else None
    # A prefix is a start, not a name: at least one character follows it unless --max-len leaves no room.
    min_len = max(options.min_len, min(len(options.prefix) + 1, max_len)) if options.prefix else options.min_len
    return Constraints(
        tuple(vocab.encode(options.hidden_prefix)),
        tuple(vocab.encode(options.prefix)),
        allowed,
        None if prefix_included else include,
        first_banned,
        min_len,
        max_len,
        lean_for(vocab, options.word_lean),
    )


def shortfall_reason(constraints: Constraints, complete: bool, novelty: str, rejected: int, effort: str) -> str:
    """Why fewer names were found than asked for, in words a user can act on."""
    if not constraints.any_allowed():
        return "no character the model knows is allowed after the prefix (--charset, --exclude)"
    if not complete:
        return f"no more turned up in {effort}; loosen the constraints"
    if rejected:
        looser = "--novelty exact or off" if novelty == "strict" else "--novelty off"
        return (
            f"no other names satisfy the constraints and the {novelty} novelty rule, which rejected "
            f"{rejected} (see --verbose; {looser} allows more)"
        )
    return "no other names satisfy the constraints"
