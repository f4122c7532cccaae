"""What counts as a new name: the rules that reject generated names too close to training names.

Three modes:
- `off` rejects nothing;
- `exact` rejects the training names themselves;
- `strict` also rejects, in this order (the first rule broken is reported):
  `glued`      two training names glued together (郭靖黄蓉);
  `contains`   a name holding a whole training name of 2+ characters (林平之助 holds 林平之); a run
               that starts inside a compound surname does not count (东方亮 reads 东方 + 亮, and
               does not hold 方亮);
  `contained`  a name that is part of a training name (林平 inside 林平之);
  `surname`    a training given name of 2+ characters under another surname (李无忌 for 张无忌,
               欧阳无忌 too: compound surnames are recognised, see `pinyin.split_surname`); a
               one-character given name under another one-character surname is one edit away;
  `edit`       one edit (a character replaced, added or removed) from a training name (张无忧).
               A two-character Chinese name with one character replaced is new (阿青 beside 阿紫,
               王靖 beside 郭靖: a surname and a one-character given name are common to many
               people; 70% of the real two-character Jin Yong names held out of a model's list
               were one replacement from one of its names), unless the two characters sound the
               same (萧锋 for 萧峰).
Strict is the default for models trained on a built-in corpus, whose names a reader knows; for
them strict also rejects (`known`) the names of every other built-in list exactly, so Gu Long's
model does not print 萧峰. The shipped models (those and `base`) also reject (`famous`), under strict
or exact, the names of well-known people in jieba's dictionary (`evidence.famous`), so none of them
prints 刘德华 or 李东阳.

Every rule answers with the training name that caused the rejection, so `--verbose` and `--json`
can say why a candidate was dropped. Each rule is an index built once over the training list and
checked in time that depends on the candidate's length only, not on the number of training names:
the filter runs on every sampled candidate. The one-edit rule uses a deletion neighbourhood (the
training names with one character removed, with and without its position), as in SymSpell.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable

from ..data.pinyin import is_chinese, split_surname
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..card import TrainingRecord
    from ..evidence.famous import FamousNames

MODES = ("exact", "strict", "off")
RULES = ("exact", "known", "famous", "glued", "contains", "contained", "surname", "edit", "title", "surnames", "head")
RULE_TEXT = {
    "exact": "is the training name",
    "known": "is a character of another built-in list:",
    "famous": "is the name of a well-known person:",
    "glued": "glues together the training names",
    "contains": "contains the training name",
    "contained": "is part of the training name",
    "surname": "puts another surname on the training name",
    "edit": "is one edit away from the training name",
    "title": "ends in the epithets' title",  # kinds.PersonalFilter
    "surnames": "starts with two compound surnames:",  # kinds.PersonalFilter
    "head": "starts like the other gender's names without a surname:",  # kinds.PersonalFilter
}


@dataclass(frozen=True)
class Rejection:
    """Why a candidate is not new."""

    rule: str  # one of RULES
    training_name: str  # the training name that caused it ("a+b" for two glued names)

    def describe(self) -> str:
        """A short phrase for messages: 'is part of the training name 林平之'."""
        return f"{RULE_TEXT.get(self.rule, self.rule)} {self.training_name}"


def default_mode(train_info: "TrainingRecord | dict | None") -> str:
    """`strict` for a model trained on a built-in corpus (its source is 'builtin:...'), else `exact`."""
    from ..card import TrainingRecord

    return "strict" if TrainingRecord.from_dict(train_info).source.startswith("builtin:") else "exact"


class Exact:
    """The training names themselves."""

    rule = "exact"

    def __init__(self, names: Iterable[str]) -> None:
        self.names = set(names)

    def check(self, name: str) -> str | None:
        return name if name in self.names else None


class Known(Exact):
    """Names of other built-in lists, exactly: a shipped model does not print another author's character."""

    rule = "known"


class Famous(Exact):
    """Names of well-known people, exactly: a reader who meets 林青霞 among wuxia names sees the actress."""

    rule = "famous"

    def __init__(self, names: "FamousNames") -> None:
        self.names = names  # the shipped table itself (keys of 28k names): no copy on the cold path


class Glued:
    """Two training names written one after the other."""

    rule = "glued"

    def __init__(self, names: Iterable[str]) -> None:
        self.names = set(names)

    def check(self, name: str) -> str | None:
        for i in range(1, len(name)):
            if name[:i] in self.names and name[i:] in self.names:
                return f"{name[:i]}+{name[i:]}"
        return None


class Contains:
    """A whole training name of 2+ characters inside a longer candidate (the longest one is named)."""

    rule = "contains"

    def __init__(self, names: Iterable[str], extra: int = 1) -> None:
        self.names = {n for n in names if len(n) >= 2}
        self.extra = extra  # characters the candidate must have beyond the training name

    def check(self, name: str) -> str | None:
        surname = len(split_surname(name)[0]) if is_chinese(name) else 0
        for size in range(len(name) - self.extra, 1, -1):
            for start in range(len(name) - size + 1):
                if 0 < start < surname:
                    continue  # a run that starts inside a compound surname is not what a reader sees
                if name[start : start + size] in self.names:
                    return name[start : start + size]
        return None


class Contained:
    """A candidate that is a proper part (a run of characters) of a training name."""

    rule = "contained"

    def __init__(self, names: Iterable[str]) -> None:
        self.parts: dict[str, str] = {}
        for n in names:
            for size in range(1, len(n)):
                for start in range(len(n) - size + 1):
                    self.parts.setdefault(n[start : start + size], n)

    def check(self, name: str) -> str | None:
        return self.parts.get(name)


class SurnameSwap:
    """A Chinese training name's given name (2+ characters) under a different surname."""

    rule = "surname"

    def __init__(self, names: Iterable[str]) -> None:
        self.given: dict[str, dict[str, str]] = {}  # given name -> {surname: training name}
        for n in names:
            if is_chinese(n):
                surname, given = split_surname(n)
                if len(given) >= 2:
                    self.given.setdefault(given, {}).setdefault(surname, n)

    def check(self, name: str) -> str | None:
        if not is_chinese(name):
            return None
        surname, given = split_surname(name)
        for other, training in self.given.get(given, {}).items():
            if other != surname:
                return training
        return None


class OneEdit:
    """Levenshtein distance exactly 1: one character replaced, inserted or deleted.

    Replacing position i of the candidate equals replacing position i of a training name when both
    lose that position to the same string, so `replaced` is keyed on (position, string without it);
    a candidate with a character removed is found in `removed` (training names minus one
    character); a candidate with a character added, minus one of its characters, is a training name.
    """

    rule = "edit"

    def __init__(self, names: Iterable[str]) -> None:
        self.names: set[str] = set()
        # two names at most (one may be the candidate), every name for two-character Chinese names,
        # where a replacement counts only between characters that sound the same
        self.replaced: dict[tuple[int, str], tuple[str, ...]] = {}
        self.removed: dict[str, str] = {}
        for n in names:
            self.names.add(n)
            short = _two_chinese(n)
            for i in range(len(n)):
                rest = n[:i] + n[i + 1 :]
                known = self.replaced.get((i, rest), ())
                if (len(known) < 2 or short) and n not in known:
                    self.replaced[(i, rest)] = known + (n,)
                self.removed.setdefault(rest, n)

    def check(self, name: str) -> str | None:
        short = _two_chinese(name)
        for i in range(len(name)):
            rest = name[:i] + name[i + 1 :]
            for hit in self.replaced.get((i, rest), ()):
                if hit != name and not (short and _two_chinese(hit) and not _same_sound(hit[i], name[i])):
                    return hit
            if rest in self.names:
                return rest
        return self.removed.get(name)


def _two_chinese(name: str) -> bool:
    return len(name) == 2 and is_chinese(name)


@lru_cache(maxsize=1)
def _pinyin_table() -> dict[int, str]:
    """pypinyin's single-character readings (code point -> "zhāng,cháng"), loaded from its data file
    alone: importing the pypinyin package also loads its phrase dictionary, about 0.2 s of every
    `xiaming generate` (the file's compiled form in __pycache__ is reused all the same)."""
    import importlib.util
    from pathlib import Path

    package = importlib.util.find_spec("pypinyin")  # found, not imported
    path = Path(package.submodule_search_locations[0]) / "pinyin_dict.py"
    spec = importlib.util.spec_from_file_location("pypinyin.pinyin_dict", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.pinyin_dict


@lru_cache(maxsize=65536)
def _sound(char: str) -> frozenset[str]:
    """The toneless readings of a character (every reading, for characters with several), ü written v,
    as pypinyin's NORMAL style gives them; a character it does not know sounds like itself."""
    import unicodedata

    readings = _pinyin_table().get(ord(char))
    if readings is None:
        return frozenset({char})
    plain = (
        "".join(c for c in unicodedata.normalize("NFD", r).replace("u\u0308", "v") if not unicodedata.combining(c))
        for r in readings.split(",")
    )
    return frozenset(plain)


def _same_sound(a: str, b: str) -> bool:
    """Whether two characters share a reading, tones ignored (峰 and 锋: feng)."""
    return bool(_sound(a) & _sound(b))


STRICT_RULES = (Exact, Glued, Contains, Contained, SurnameSwap, OneEdit)


class NoveltyFilter:
    """Checks candidates against a training list under one mode (see the module docstring)."""

    def __init__(
        self, training_names: Iterable[str], mode: str = "exact", known: Iterable[str] = (), famous: bool = False
    ) -> None:
        if mode not in MODES:
            raise ConfigError("novelty", mode, f"choose one of {', '.join(MODES)}")
        self.mode = mode
        names = list(dict.fromkeys(training_names))
        rules = {"off": (), "exact": (Exact,), "strict": STRICT_RULES}[mode]
        self.rules = [rule(names) for rule in rules]
        if mode != "off" and famous:  # names of real people a reader knows (刘德华)
            from ..evidence.famous import famous_names

            self.rules.insert(1, Famous(famous_names()))
        if mode == "strict" and known:  # names a reader knows from the genre's other lists (萧峰 from gulong)
            self.rules.insert(1, Known(known))

    def check(self, name: str) -> Rejection | None:
        """None when `name` is new under this mode, else the first rule it breaks."""
        for rule in self.rules:
            hit = rule.check(name)
            if hit is not None:
                return Rejection(rule.rule, hit)
        return None


@lru_cache(maxsize=4)
def _cached(names: tuple[str, ...], mode: str, known: tuple[str, ...], famous: bool) -> NoveltyFilter:
    return NoveltyFilter(names, mode, known, famous)


def novelty_filter(
    training_names: Iterable[str], mode: str, known: Iterable[str] = (), famous: bool = False
) -> NoveltyFilter:
    """A filter for these names and mode (and, under strict, the `known` names of other lists; with
    `famous`, unless the mode is off, the names of well-known people; both rejected exactly), reused
    across calls (building strict indexes takes a moment)."""
    return _cached(tuple(training_names), mode, tuple(known), famous)
