"""Names drawn from classical verse: propose a book's candidate given names, rank them as names, keep variety.

    from xiaming.generation.namer import Namer
    from xiaming.verse import verse_names
    result = verse_names(Namer.load("base"), n=10, surname="李", books="shijing,chuci", gender="female", seed=1)
    for item in result.items:
        print(item.name, item.pinyin, item.marked, item.title, item.author, item.book)

The tools parents use (gushi_namer, PiPiName) take two characters of a line at random; most such
names do not read as names at all (刘谗人). Here a model that knows real names judges them:

1. `propose`: every given name of one character, or of two characters in order, from one line of
   the chosen books (`table.candidates`); a name with a character of `AVOID`, one of `AVOID_WORDS`,
   a character right after a negation in its line (`NEGATIONS`), a character the model never saw
   (it cannot judge it) or a character of the surname is left out.
2. `score`, a prefilter in two engine steps: log p(a | surname) + log p(b | surname a) for every
   candidate whose first character is one of the model's FIRST_CHARS likeliest after the surname;
   with a gender asked, the gender lean joins here too; the FINALISTS best distinct given names of
   each length go on, each with one of its lines drawn at random.
3. `score`, the score of a finalist (one more engine step for the end of two-character names): the
   model's log-probability of the given name and its end after the surname (natural log), plus the
   evidence of `Namer.steering`: the critic's judgement when the model carries one, the gender lean
   when asked, and two more pieces of evidence, `TonePattern` and `ModernUse`. The same evidence
   reweights `generate`; here it reweights the verse's candidates instead of the sampler's.
4. `rank`, the choice: of the POOL * n best, n are drawn without replacement in proportion to
   exp(score) (Gumbel top-k), none a well-known person's name (`evidence.famous`: 张汉卿, 陈道明;
   2.7% of the names before, `python benchmarks/famous.py --verse`), at most one per line,
   `1 + n // 20` per character and `1 + n // 10` per poem, the given names' lengths in the model's
   own mix (its probability of a one-character given name after the surname; the mix and the poem
   cap give way when names run short); shown best first. Different seeds give different names of
   the same quality.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..data.pinyin import COMPOUND_SURNAMES, SURNAME_READINGS, as_word, is_han, tone
from ..data.vocab import BOUNDARY, UNKNOWN
from ..errors import NO_VALUE, ConfigError
from ..evidence.famous import famous_names
from ..limits import check_seed
from .table import VerseTable, candidates, shipped_table

# Characters a namer avoids whatever the line: their plain meaning is bad (death, illness, grief,
# crime, filth, servitude, misfortune) or they read as a joke in a name today. gushi_namer's users
# complained of 刘谗人; baby-naming guides give lists like this one. Short on purpose: the model
# judges the rest (it knows 之 is a name character, 羲之, and that 兮 is not).
AVOID: dict[str, str] = {
    "death and mourning": "死亡丧殁殇尸葬坟墓冢棺椁骸魂鬼魄祭奠孝吊",
    "illness and injury": "病疾痛疮疫瘟疠疡瘴瘠癫痴残伤瘦瘁痍疲",
    "grief and fear": "哀悲愁泣涕泪哭恨怨忧惧恐怖惊戚凄惨苦愍悯",
    "evil, crime and war": "谗恶奸邪贼盗寇匪凶杀戮刑狱囚罪虐暴乱讼斗兵戈妖魔怪",
    "filth and the body": "屎尿粪秽臭腐朽蛆蝇屁乳臀淫娼妓骚",
    "servitude and shame": "奴婢妾仆贱卑辱耻丑鄙愚蠢狗猪豕鼠",
    "misfortune": "祸灾殃厄凶败衰穷贫饥馑寡鳏孤独废弃绝灭亡溺难困",
    "particles that end a phrase": "兮矣焉哉乎也耶欤",
}
AVOID_CHARS = frozenset("".join(AVOID.values()))
# Given names that are titles, forms of address or kinship words: 王夫人 reads as "Mrs Wang", 李寡人
# and 令狐公主 as jokes (the wuxia models like them: their lists hold such epithets).
AVOID_WORDS = frozenset(
    "夫人 小人 寡人 妇人 丈人 老人 大人 主人 美人 佳人 女子 男子 天子 夫子 妻子 先生 "
    "父母 兄弟 子孙 孙子 儿子 女儿 公子 君子 臣子 使君 寡君 孤子 小子 之子 公主 太子 大王 "
    "皇后 皇帝 王后 王子 道人 老夫 长老 大夫 丈夫 将军 小姐 姑娘 娘子 夫君 郎君 师父 和尚 "
    "道士 真人 仙人 上人 圣人 小姑 老子 先王 后王 如来 观音 天王 圣王".split()
)
# A character right after a negation is not taken: its line says the opposite (祈父，亶不【聪】 is "truly
# not wise"; 之子无【良】 "the man without goodness").
NEGATIONS = frozenset("不无非莫匪靡弗未勿毋罔否没")
FIRST_CHARS = 500  # likeliest first given-name characters whose continuations are scored
FINALISTS = 600  # distinct candidates of each length scored in full (at least POOL * n)
POOL = 30  # of the POOL * n best, n are drawn
TONE_PENALTY = 1.5  # log weight off a name whose syllables all have one tone (李雨晓: lǐ yǔ xiǎo reads flat)
MODERN_REF = 20_000  # occurrences in modern given names at which a character costs nothing (昭 12k, 文 429k)
MODERN_FLOOR = 5.0  # the most a character never used in names costs
MODERN_STRENGTH = 1.0  # its weight among the evidence
GENDER_STRENGTH = 4.0  # the gender lean's weight here: verse ranks pairs by their mean lean, and the stronger
# default of `generate` (6, for its length strata) favours reduplicated pairs (陈燕燕, 陈凤凤, 陈武武)
SURNAMES = 60  # the default surname is drawn from the model's this many likeliest first characters


@dataclass(frozen=True)
class VerseName:
    """A name from verse, with the line it comes from and why it was ranked where it is."""

    name: str
    surname: str
    given: str
    pinyin: str  # 李关洲 -> Lǐ Guānzhōu; the given name read as in its line
    line: str  # the line as written
    marked: str  # the line with the given name's characters in 【】
    title: str
    author: str  # "" for anonymous poems (诗经, 论语)
    book: str  # 诗经, 楚辞, ...
    section: str  # 国风·周南 and the like, "" when none
    log_prob: float  # natural log p(given name, then the end | surname) under the model
    critic: float | None  # the critic's chance that a reader finds the name passable, 0-1 (None: no critic)
    gender_lean: float | None  # > 0 leans female, < 0 male (None: the gender table is not installed)
    score: float  # the ranking score: log_prob plus the evidence's log weights

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "surname": self.surname,
            "given": self.given,
            "pinyin": self.pinyin,
            "line": self.line,
            "marked": self.marked,
            "title": self.title,
            "author": self.author,
            "book": self.book,
            "section": self.section,
            "log_prob": round(self.log_prob, 3),
            "critic": self.critic,
            "gender_lean": None if self.gender_lean is None else round(self.gender_lean, 3),
            "score": round(self.score, 3),
        }


@dataclass
class VerseResult:
    """What `verse_names` (or `rank`) found."""

    items: list[VerseName]  # best first
    surname: str
    books: list[str]  # the book keys drawn from
    requested: int
    candidates: int = 0  # (given name, line) pairs proposed
    scored: int = 0  # finalists scored in full
    gender: str | None = None
    steering: str = ""  # the evidence in force, one line
    exhausted: bool = False
    reason: str = ""

    @property
    def names(self) -> list[str]:
        return [item.name for item in self.items]

    def to_dict(self) -> dict:
        return {
            "surname": self.surname,
            "books": self.books,
            "gender": self.gender,
            "requested": self.requested,
            "candidates": self.candidates,
            "scored": self.scored,
            "steering": self.steering,
            "exhausted": self.exhausted,
            "reason": self.reason,
            "names": [i.to_dict() for i in self.items],
        }


@dataclass(frozen=True)
class Proposal:
    """The candidate given names of some books for one surname: one row per occurrence (a given name
    and one line it can be taken from), those a namer would never use already left out (see `propose`)."""

    table: VerseTable
    surname: str
    books: tuple[int, ...]
    line: np.ndarray  # (K,) line index
    first: np.ndarray  # (K,) index into table.han
    second: np.ndarray  # (K,) index into table.han, -1 for a one-character given name
    key: np.ndarray  # (K,) the given name as a number: rows with one key are one name from several lines
    first_id: np.ndarray  # (K,) model vocabulary id of the first character
    second_id: np.ndarray  # (K,) model vocabulary id of the second, -1 for none

    def __len__(self) -> int:
        return len(self.line)

    def given(self, k: int) -> str:
        chars = [chr(int(self.table.han[self.first[k]]))]
        if self.second[k] >= 0:
            chars.append(chr(int(self.table.han[self.second[k]])))
        return "".join(chars)


class TonePattern:
    """Evidence from how a name sounds: -1 per unit of strength when every syllable has one tone.

    `syllables` maps each name to its tone-marked syllables (the given name read as in its line)."""

    def __init__(self, syllables: dict[str, list[str]]) -> None:
        self.syllables = syllables

    def log_weights(self, names: Sequence[str]) -> np.ndarray:
        out = np.zeros(len(names))
        for i, name in enumerate(names):
            tones = {tone(s) for s in self.syllables.get(name, [])}
            out[i] = -1.0 if len(tones) == 1 else 0.0
        return out


class ModernUse:
    """Evidence from today's names: how often the given name's rarest character occurs in modern given
    names (the gender table's counts, 32 million character occurrences): log((count + 1) / MODERN_REF),
    at most 0 and at least -MODERN_FLOOR. A character as common in names as 昭 or 宜 costs little, 在 or
    于 1.2 to 1.5, one never used in names (雎, 鸠) the full floor: a parent's "would I give this name
    to a child" leans on today's names, which the historical base model does not know. Names are of
    one surname length (`surname_len` characters, not counted)."""

    def __init__(self, counts: dict[str, int], surname_len: int = 1) -> None:
        self.counts = counts
        self.surname_len = surname_len

    def char_weight(self, char: str) -> float:
        return float(np.clip(np.log((self.counts.get(char, 0) + 1) / MODERN_REF), -MODERN_FLOOR, 0.0))

    def log_weights(self, names: Sequence[str]) -> np.ndarray:
        cut = self.surname_len
        return np.array([min(self.char_weight(c) for c in name[cut:]) if len(name) > cut else 0.0 for name in names])


def _modern_counts() -> dict[str, int] | None:
    """Character -> occurrences in modern given names (None when the gender table is not installed)."""
    try:
        from ..evidence.gender import shipped_gender_table
    except ImportError:
        return None
    table = shipped_gender_table()
    total = table.female.astype(np.int64) + table.male.astype(np.int64)
    return dict(zip(table.chars, total.tolist()))


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    top = logits.max(axis=-1, keepdims=True)
    shifted = logits - top
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def usual_surnames(namer, top: int = SURNAMES, table: VerseTable | None = None) -> tuple[list[str], np.ndarray]:
    """The model's `top` likeliest first characters that are 百家姓 surnames (its names' usual
    surnames; 释, the monks' name, is not one), with their probabilities renormalised."""
    surnames = set((shipped_table() if table is None else table).surnames)
    logits, _ = namer.engine.step(np.array([BOUNDARY], dtype=np.int64), namer.engine.initial_state(1))
    lp = _log_softmax(np.asarray(logits, dtype=np.float64))[0]
    chars = [(lp[namer.vocab.id(c)], c) for c in namer.vocab.chars if c in surnames and c not in AVOID_CHARS]
    if not chars:
        raise ConfigError("surname", NO_VALUE, "this model knows none of the 百家姓 surnames; give one")
    chars.sort(reverse=True)
    chosen = chars[:top]
    p = np.exp(np.array([x for x, _ in chosen]) - chosen[0][0])
    return [c for _, c in chosen], p / p.sum()


def check_surname(namer, surname: str) -> str:
    """`surname` checked: one or two Chinese characters, each one the model has seen (ConfigError otherwise)."""
    surname = surname.strip()
    if not surname or len(surname) > 2 or not all(is_han(c) for c in surname):
        raise ConfigError("surname", surname, "give a surname of one or two Chinese characters")
    unseen = [c for c in surname if c not in namer.vocab]
    if unseen:
        raise ConfigError(
            "surname",
            surname,
            f"this model never saw {''.join(unseen)} in a name, so it cannot "
            "judge names with it (try another surname or {model} base)",
            refs=("model",),
        )
    return surname


def propose(
    namer,
    books: str | Sequence[str] | None = None,
    surname: str | None = None,
    lengths: Sequence[int] = (1, 2),
    rng: np.random.Generator | None = None,
    table: VerseTable | None = None,
) -> Proposal:
    """The candidate given names of `books` (None: all) for `surname` (None: drawn from the model's
    usual surnames), of `lengths` characters (1, 2 or both); see the module docstring."""
    rng = np.random.default_rng() if rng is None else rng
    table = shipped_table() if table is None else table
    chosen = table.resolve_books(books)
    lengths = tuple(sorted(set(lengths)))
    if not lengths or not set(lengths) <= {1, 2}:
        raise ConfigError("lengths", lengths, "choose 1, 2 or both")
    if surname is None:
        chars, p = usual_surnames(namer, table=table)
        surname = chars[int(rng.choice(len(chars), p=p))]
    else:
        surname = check_surname(namer, surname)
    found = candidates(table, chosen, lengths)
    text = [chr(int(c)) for c in table.chars]
    ids = np.array([namer.vocab.id(c) for c in text], dtype=np.int64)  # (U,)
    bad = np.array([c in AVOID_CHARS or c in surname for c in text]) | (ids == UNKNOWN)
    negated = np.isin(table.han_before, [ord(c) for c in NEGATIONS])  # (C,)
    a = table.han_char[found.first]
    b = np.where(found.second >= 0, table.han_char[np.maximum(found.second, 0)], -1)
    two = b >= 0
    keep = ~bad[a] & ~negated[found.first] & ~(two & (bad[np.maximum(b, 0)] | negated[np.maximum(found.second, 0)]))
    key = a * (len(text) + 1) + (b + 1)
    keep &= ~np.isin(key, [_key(table, w) for w in AVOID_WORDS])
    if len(surname) == 1:  # 司 + 马X would read as the compound surname 司马
        starts = np.array([(surname + c) in COMPOUND_SURNAMES for c in text])
        keep &= ~(two & starts[a])
    rows = np.flatnonzero(keep)
    return Proposal(
        table,
        surname,
        tuple(chosen),
        found.line[rows],
        found.first[rows],
        found.second[rows],
        key[rows],
        ids[a[rows]],
        np.where(two[rows], ids[np.maximum(b[rows], 0)], -1),
    )


def _key(table: VerseTable, given: str) -> int:
    """The key of a one- or two-character given name (-1 when a character is not in the table)."""
    index = np.searchsorted(table.chars, [ord(c) for c in given])
    if any(i >= len(table.chars) or table.chars[i] != ord(c) for i, c in zip(index, given)):
        return -1
    return int(index[0]) * (len(table.chars) + 1) + (int(index[1]) + 1 if len(given) == 2 else 0)


def mark_line(text: str, positions: list[int]) -> str:
    """`text` with the characters at `positions` in 【】 (adjacent ones share one pair)."""
    out = []
    for i, c in enumerate(text):
        if i in positions and i - 1 not in positions:
            out.append("【")
        out.append(c)
        if i in positions and i + 1 not in positions:
            out.append("】")
    return "".join(out)


def _surname_syllables(table: VerseTable, surname: str) -> list[str]:
    """The surname read as a surname, from the table's readings (pypinyin only for a character it lacks)."""
    if surname in COMPOUND_SURNAMES:
        return COMPOUND_SURNAMES[surname].split()
    if surname in SURNAME_READINGS:
        return [SURNAME_READINGS[surname]]
    if all(c in table.readings for c in surname):
        return [table.readings[c] for c in surname]
    from ..data.pinyin import surname_syllables

    return surname_syllables(surname)


def _char_leans(table: VerseTable) -> np.ndarray:
    """(U,) the gender lean of each of the table's characters (> 0 female; 0 when unknown), for the prefilter."""
    from ..evidence.gender import shipped_gender_table

    gender = shipped_gender_table()
    index = gender.index
    return np.array([float(gender.lean[index[c]]) if c in index else 0.0 for c in map(chr, table.chars.tolist())])


def _gender_lean(names: list[str]) -> list[float | None]:
    try:
        from ..evidence.gender import lean_of
    except ImportError:  # an installation without the gender table
        return [None] * len(names)
    return [lean_of(name).lean for name in names]


@dataclass
class Scored:
    """The finalists of a proposal with their scores (see `score`)."""

    rows: np.ndarray  # (F,) rows of the proposal: the distinct given names scored in full
    names: list[str]  # surname + given name of each
    log_prob: np.ndarray  # (F,) natural log p(given name, then the end | surname)
    score: np.ndarray  # (F,) log_prob plus the evidence's log weights
    syllables: dict[str, list[str]]  # each name's tone-marked syllables, the given name read as in its line
    share1: float | None  # the model's share of one-character given names (None: one length only)
    steering: str  # the evidence in force, one line


def _steering(namer, critic: bool | None, gender: str | None, extra: tuple = ()):
    """`namer`'s steering for verse: its critic and, when asked, the gender lean at GENDER_STRENGTH."""
    return namer.steering(
        critic=critic, gender=gender, gender_strength=GENDER_STRENGTH if gender else None, extra=extra
    )


def score(
    namer,
    proposal: Proposal,
    gender: str | None = None,
    critic: bool | None = None,
    wanted: int = FINALISTS,
    rng: np.random.Generator | None = None,
) -> Scored:
    """The `wanted` best distinct given names of each length in `proposal` by the model's prefilter,
    scored in full: steps 2 and 3 of the module docstring."""
    rng = np.random.default_rng() if rng is None else rng
    steering = _steering(namer, critic, gender)  # bad values fail before any work
    table, surname = proposal.table, proposal.surname
    engine, vocab = namer.engine, namer.vocab
    # log p(a | surname): the state after the boundary, the hidden prefix and the surname
    state = engine.initial_state(1)
    for tok in [BOUNDARY, *vocab.encode(namer.options().hidden_prefix + surname)]:
        logits, state = engine.step(np.array([tok], dtype=np.int64), state)
    lp1 = _log_softmax(np.asarray(logits, dtype=np.float64))[0]  # (V,)
    # log p(b | surname a) for the likeliest first characters: one engine step for all of them
    firsts = np.unique(proposal.first_id)
    firsts = firsts[np.argsort(-lp1[firsts], kind="stable")[:FIRST_CHARS]]
    row_of = np.full(vocab.size, -1, dtype=np.int64)
    row_of[firsts] = np.arange(len(firsts))
    logits2, state2 = engine.step(firsts, engine.select_state(state, np.zeros(len(firsts), dtype=np.int64)))
    logits2 = np.asarray(logits2, dtype=np.float32)  # (A, V)
    lse2 = _logsumexp(logits2)  # (A,)
    rows = row_of[proposal.first_id]
    live = np.flatnonzero(rows >= 0)
    single = proposal.second_id[live] < 0
    nxt = np.where(single, BOUNDARY, proposal.second_id[live])
    # exact for one character; for two, the end is still to come
    stage1 = lp1[proposal.first_id[live]] + (logits2[rows[live], nxt] - lse2[rows[live]])
    if gender is not None:  # the gender lean (mean over the given name's characters) joins the prefilter
        lean = _char_leans(table)
        pair = np.where(
            single,
            lean[table.han_char[proposal.first[live]]],
            (lean[table.han_char[proposal.first[live]]] + lean[table.han_char[np.maximum(proposal.second[live], 0)]])
            / 2,
        )
        strength = next(s for label, _, s in steering.evidence if label.startswith("gender"))
        stage1 = stage1 + strength * (1.0 if gender == "female" else -1.0) * pair
    # the model's own share of one-character given names after this surname (over these first characters)
    p_first = np.exp(lp1[firsts] - lp1[firsts].max())
    share1 = float((p_first * np.exp(logits2[:, BOUNDARY] - lse2)).sum() / p_first.sum())
    finalists = np.concatenate(
        [_distinct_best(proposal, live[mask], stage1[mask], wanted, rng) for mask in (single, ~single) if mask.any()]
        or [np.zeros(0, dtype=np.int64)]
    )
    first_row = row_of[proposal.first_id[finalists]]
    two = proposal.second_id[finalists] >= 0
    log_prob = (
        lp1[proposal.first_id[finalists]]
        - lse2[first_row]
        + logits2[first_row, np.where(two, proposal.second_id[finalists], BOUNDARY)].astype(np.float64)
    )
    pairs = np.flatnonzero(two)
    if len(pairs):  # log p(end | surname a b)
        k = finalists[pairs]
        logits3, _ = engine.step(proposal.second_id[k], engine.select_state(state2, row_of[proposal.first_id[k]]))
        logits3 = np.asarray(logits3, dtype=np.float32)
        log_prob[pairs] += logits3[:, BOUNDARY] - _logsumexp(logits3)
    # the evidence: the critic, the gender lean, the tone pattern, today's names
    sur_syll = _surname_syllables(table, surname)
    names, syllables = [], {}
    for k in finalists.tolist():
        name = surname + proposal.given(k)
        names.append(name)
        syllables[name] = sur_syll + [table.reading(i) for i in _positions(proposal, k)]
    extra = [("tone", TonePattern(syllables), TONE_PENALTY)]
    counts = _modern_counts()
    if counts is not None:
        extra.append(("modern use", ModernUse(counts, len(surname)), MODERN_STRENGTH))
    steering = _steering(namer, critic, gender, tuple(extra))
    total = log_prob + steering.log_weights(names) if names else log_prob
    both = bool(two.any() and (~two).any())
    return Scored(
        finalists,
        names,
        log_prob,
        total,
        syllables,
        share1 if both else None,
        steering.describe().replace(f" (one name kept of {steering.pool} proposals)", ""),
    )


def rank(
    namer,
    proposal: Proposal,
    n: int = 10,
    gender: str | None = None,
    critic: bool | None = None,
    rng: np.random.Generator | None = None,
    pool: int = POOL,
) -> VerseResult:
    """`n` names of `proposal`, chosen as the module docstring says; `gender` "female" or "male" adds
    the gender lean, `critic` None uses the model's critic when it carries one (False: never); `pool`
    1 gives the best names (with the variety rules) instead of drawing them."""
    if n < 1:
        raise ConfigError("n", n, "must be at least 1")
    rng = np.random.default_rng() if rng is None else rng
    scored = score(namer, proposal, gender, critic, max(FINALISTS, pool * n), rng)
    table, surname = proposal.table, proposal.surname
    result = VerseResult(
        [],
        surname,
        [table.books[i].key for i in proposal.books],
        n,
        candidates=len(proposal),
        scored=len(scored.rows),
        gender=gender,
        steering=scored.steering,
    )
    famous = famous_names()  # 张汉卿 is a general's courtesy name before it is a line of verse
    banned = np.array([name in famous for name in scored.names], dtype=bool)
    chosen = _choose(proposal, scored.rows, scored.score, n, scored.share1, rng, pool, banned)
    chosen.sort(key=lambda j: -scored.score[j])
    picked = [scored.names[j] for j in chosen]
    sur_syll = _surname_syllables(table, surname)
    for j, rating, lean in zip(chosen, namer.rate(picked), _gender_lean(picked)):
        k = int(scored.rows[j])
        name = scored.names[j]
        line = int(proposal.line[k])
        poem = table.poem_of(line)
        text = table.lines[line]
        result.items.append(
            VerseName(
                name,
                surname,
                name[len(surname) :],
                f"{as_word(sur_syll)} {as_word(scored.syllables[name][len(sur_syll) :])}",
                text,
                mark_line(text, [int(table.han_pos[i]) for i in _positions(proposal, k)]),
                poem.title,
                poem.author,
                poem.book,
                poem.section,
                float(scored.log_prob[j]),
                rating,
                lean,
                float(scored.score[j]),
            )
        )
    if not scored.names:
        result.exhausted, result.reason = True, "no candidate given names in these books for this model"
    elif len(result.items) < n:
        result.exhausted = True
        result.reason = (
            f"only {len(result.items)} names meet the variety rules among {len(scored.rows):,} "
            "finalists (one per line, few per character); choose more books or ask for fewer"
        )
    return result


def _logsumexp(logits: np.ndarray) -> np.ndarray:
    """log sum exp along the last axis, float64 (B, V) -> (B,)."""
    top = logits.max(axis=-1, keepdims=True)
    return (top[..., 0] + np.log(np.exp(logits - top).sum(axis=-1))).astype(np.float64)


def _positions(proposal: Proposal, k: int) -> list[int]:
    """Indices into table.han of row k's given-name characters."""
    return [int(proposal.first[k])] + ([int(proposal.second[k])] if proposal.second[k] >= 0 else [])


def _distinct_best(
    proposal: Proposal, rows: np.ndarray, score: np.ndarray, wanted: int, rng: np.random.Generator
) -> np.ndarray:
    """The rows of the `wanted` best distinct given names among `rows` (scored `score`), each with a
    line drawn at random among all its lines in `rows`."""
    take = wanted * 4  # a given name occurs in several lines (子 in hundreds): take more, then keep distinct
    while True:
        take = min(len(rows), take)
        top = np.argpartition(-score, take - 1)[:take] if take < len(rows) else np.arange(len(rows))
        top = top[np.argsort(-score[top], kind="stable")]
        _, first = np.unique(proposal.key[rows[top]], return_index=True)
        if len(first) >= wanted or take == len(rows):
            break
        take *= 4
    keys = proposal.key[rows[top[np.sort(first)[:wanted]]]]  # best first
    every = rows[np.isin(proposal.key[rows], keys)]  # all their lines
    every = every[rng.permutation(len(every))]
    _, pick = np.unique(proposal.key[every], return_index=True)  # a random line of each
    return every[pick]


def _lengths(proposal: Proposal) -> set[int]:
    """The given-name lengths present among the proposal's candidates."""
    return {
        length
        for length, present in ((1, (proposal.second_id < 0).any()), (2, (proposal.second_id >= 0).any()))
        if present
    }


def _choose(
    proposal: Proposal,
    finalists: np.ndarray,
    score: np.ndarray,
    n: int,
    share1: float | None,
    rng: np.random.Generator,
    pool: int,
    banned: np.ndarray | None = None,
) -> list[int]:
    """Indices into `finalists` of up to `n` names: the POOL * n best, drawn in proportion to exp(score)
    with at most one per line and a cap per character and per poem; `share1` (None: no quota) the
    share of one-character given names. A finalist `banned` marks (a well-known person's name) is
    passed over where the draw reaches it, so the other names drawn stay as they were."""
    top = np.argsort(-score, kind="stable")[: pool * n]
    keys = score[top] + rng.gumbel(size=len(top))
    order = top[np.argsort(-keys, kind="stable")]
    quota = None
    if share1 is not None:
        n1 = int(round(n * share1))
        quota = {1: n1, 2: n - n1}
    char_cap, poem_cap = 1 + n // 20, 1 + n // 10
    lines: set[int] = set()
    chars: dict[int, int] = {}
    poems: dict[int, int] = {}
    taken: dict[int, int] = {1: 0, 2: 0}
    out: list[int] = []
    for relaxed in (False, True):  # the quota and the poem cap give way when names run short
        for j in order.tolist():
            if len(out) == n:
                return out
            k = finalists[j]
            length = 1 if proposal.second[k] < 0 else 2
            if j in out or (not relaxed and quota is not None and taken[length] >= quota[length]):
                continue
            if banned is not None and banned[j]:
                continue
            line = int(proposal.line[k])
            poem = int(proposal.table.line_poem[line])
            cps = [int(proposal.table.han[i]) for i in (proposal.first[k], proposal.second[k]) if i >= 0]
            if (
                line in lines
                or (not relaxed and poems.get(poem, 0) >= poem_cap)
                or any(chars.get(c, 0) >= char_cap for c in cps)
            ):
                continue
            out.append(j)
            lines.add(line)
            poems[poem] = poems.get(poem, 0) + 1
            for c in cps:
                chars[c] = chars.get(c, 0) + 1
            taken[length] += 1
    return out


def verse_names(
    namer,
    n: int = 10,
    surname: str | None = None,
    books: str | Sequence[str] | None = None,
    gender: str | None = None,
    seed: int | None = None,
    lengths: Sequence[int] = (1, 2),
    critic: bool | None = None,
    table: VerseTable | None = None,
) -> VerseResult:
    """`n` names from verse for `surname` (None: one of the model's usual surnames), from `books`
    (None: all; keys such as "shijing,chuci" or names such as 诗经), leaning to `gender` when given;
    reproducible with `seed`. See the module docstring."""
    if n < 1:
        raise ConfigError("n", n, "must be at least 1")
    check_seed(seed)
    _steering(namer, critic, gender)  # a bad gender fails before any work
    rng = np.random.default_rng(seed)
    proposal = propose(namer, books, surname, lengths, rng, table)
    return rank(namer, proposal, n, gender, critic, rng)


__all__ = [
    "AVOID",
    "AVOID_CHARS",
    "AVOID_WORDS",
    "ModernUse",
    "mark_line",
    "Proposal",
    "Scored",
    "TonePattern",
    "VerseName",
    "VerseResult",
    "check_surname",
    "propose",
    "rank",
    "score",
    "usual_surnames",
    "verse_names",
]
