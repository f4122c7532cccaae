"""Names without a surname: monks' and nuns' names of a generation (玄慈, 仪琳) and pet names (阿朱, 小昭).

One in fifteen of Jin Yong's personal names has no surname: Shaolin's 玄, 慧, 空 and 渡
generations, Hengshan's nuns 仪 and 定, Emei's 静, maids and children called 阿 or 小 something.
Gu Long and Liang Yusheng have fewer, but have them (小蝶, 了因, 洞玄). The shipped models make
almost none (0-0.7% of their names, against 2.0-6.7% of the lists'): they learned from 250k
historical names that a name starts with a surname, and the critic rewards a known one. Asked
freely, they make such names badly (风花香大红剑, 小剥半老五, 仪雄).

So a model of a built-in wuxia list gives the list's own share of its personal names this shape:
a *head* of the author's own (a generation character or a pet prefix, weighted by how many of his
two-character names it begins), then one character the author model draws among the second
characters that the genre's names of that family have (慈, 净, 觉, 性... for monks and nuns; 朱,
紫, 碧, 蝶... for pet names). The model knows which follow which (仪 takes 琳 and 清, 玄 takes 慈
and 悲); the genre's characters keep it from surnames' given names (仪雄). Every name is new under
the model's novelty rule, and the head is never repeated (慧慧).

The families are facts of the lists, not learned: a head is a character that begins two or more
two-character names of the three lists that are monks', nuns' or Daoists' names of one generation
(DHARMA), or one of the two pet prefixes of Chinese (PET); a few second characters that blind
readers marked down are never drawn (NOT_PET, NOT_DHARMA), nor a name that is an everyday word
(MAX_WORD: 静止, 圆满). Blind panels 25-27 rated these names 0.27-0.70 above the models' other names,
panel 29 Jin Yong's women's 0.50 above his other women's names (docs/realism-panels.md, "Names without a surname,
blind").

`Namer` draws these names only when nothing in the request concerns a name's start or its shape (no
prefix, no included characters or charset, lengths that allow two characters, no evidence but the
critic and a gender). Asked for a gender, the names come only from that gender's heads
(GENDER_HEADS: nuns' 仪, 定, 静 and the pet prefixes for women), and the gender lean, not the critic,
chooses their second character. A style mixture of the wuxia models has its authors' such names by
weight (`surnameless_mixed`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable, Mapping

import numpy as np

from ..evidence.judge import RANKS, WUXIA
from ..evidence.steer import Steering

# generation characters of monks, nuns and Daoists in the lists: Shaolin 玄慈 慧净 空见 渡厄 澄观
# 觉远 晦明 止清 圆真, Tianlong temple 本因, Hengshan 仪琳 定逸, Emei 静玄, 了因, 洞玄. Not 枯 (枯木,
# 枯梅, 枯竹): it takes plants, which no other head does, and blind panel 25 rated 枯方, 枯无, 枯苦 2
DHARMA = "玄慧空渡澄觉晦止圆本仪定静了洞"
PET = "阿小"  # 阿朱, 阿紫, 小昭, 小蝶
FAMILIES = {"dharma": DHARMA, "pet": PET}
# second characters a pet name never takes, though 阿三, 阿大, 阿里 and 阿土 are in the lists: ranks (a
# servant's 阿三 is one; every such rank after 阿 is a listed name already) and 里, 土. Panel 25's
# readers rated 小大 1 ("gibberish"), 小里 1-2 ("a fragment"), 小土 and 小三 2 ("slang")
NOT_PET = RANKS + "里土"
# nor a pet name the characters of the lists' doubled names (伴伴, 波波, 娃娃, 千千): panel 26 tried them
# for Gu Long, whose 阿 and 小 names leave few new ones, and readers rated 阿伴, 阿波, 阿娃 and 小娃 2
# ("a word, not a name"). And no monk's name ends in 无 (本无 is Liang Yusheng's one): panels 25-26
# rated 玄无, 静无, 慧无, 晦无 and 了无 2.9 on average (16 ratings), the lowest of the dharma characters
NOT_DHARMA = "无"
LENGTH = 2  # every name of these families has two characters
OTHER_WAY = -0.5  # a name of a gender takes no second character leaning the other way by more than this
# nor any name that is a commoner word than every such name of the lists (jieba's frequency in the
# lexicon; the commonest, bar the foreign 阿里 and 阿曼, is 本相 at 4,820): panel 29's readers rated 静止
# 2 ("a common word"), and 圆满, 本性, 觉悟, 空虚 read the same way
MAX_WORD = 5000
# the heads of women's and of men's names: Hengshan's 仪 and 定 and Emei's 静 are nuns, the other
# generations monks or Daoists; 阿 names either (阿朱, 阿紫; 阿飞, 阿吉), 小 in the lists women (小昭, 小蝶)
GENDER_HEADS = {"female": "仪定静" + PET, "male": DHARMA.translate(str.maketrans("", "", "仪定静")) + "阿"}


def other_heads(gender: str) -> str:
    """The monastic heads of the other gender's names (玄, 慧, 空 ... for a woman's; 仪, 定, 静 for a
    man's): a two-character name starting with one reads as a monk's or a nun's, so under a gender
    lean none is printed, whether this table or the model drew it (a model's 玄慧 is no woman). The pet
    prefixes are not among them: 小马 and 小方 are Gu Long's men."""
    return "".join(h for h in DHARMA if h not in GENDER_HEADS[gender])


@dataclass(frozen=True)
class Surnameless:
    """How a model's list gives names without a surname: their share of its personal names, the
    heads it uses (with how many of its names each begins) and the second characters the genre's
    names of each family have."""

    share: float
    heads: tuple[tuple[str, float], ...]  # (head, the author's names it begins), most first (a style
    # mixture's: each author's share of names it begins, weighted)
    seconds: dict[str, str]  # family -> its second characters in the genre (sorted)
    two_share: float = 1.0  # the share of two-character names among the author's personal names
    gender: str | None = None  # names of this gender only (`for_gender`)

    def leave_room(self, steering: Steering) -> Steering:
        """`steering` for the other names: its length strata (the list's share of each length over the
        model's) keep fewer two-character names, as many fewer as these names take, so the whole list
        keeps the author's mix of lengths (the list's two-character share holds these names too)."""
        weights = list(steering.length_weights)
        if len(weights) < LENGTH:
            return steering
        weights[LENGTH - 1] *= max(self.two_share - self.share, 0.0) / self.two_share
        return replace(steering, length_weights=tuple(weights))

    def for_gender(self, gender: str) -> "Surnameless | None":
        """The table of names of one gender ("female" or "male"): only the heads of that gender's names
        (GENDER_HEADS), at the same share of names; None when the author uses none of them."""
        heads = tuple((h, k) for h, k in self.heads if h in GENDER_HEADS[gender])
        return replace(self, heads=heads, gender=gender) if heads else None

    def draw_heads(self, k: int, rng: np.random.Generator) -> Counter:
        """How many of `k` names each head begins, drawn in proportion to the author's use of it."""
        heads = [h for h, _ in self.heads]
        counts = np.array([c for _, c in self.heads], dtype=np.float64)
        picks = rng.multinomial(k, counts / counts.sum())
        return Counter({h: int(p) for h, p in zip(heads, picks) if p})

    def charset(self, head: str, exclude: str = "") -> str:
        """The characters that may follow `head`: its family's second characters, not the head itself
        (慧慧), none that the caller excludes and, for names of a gender, none that leans clearly the
        other way (OTHER_WAY: 武 in a woman's pet name; the lean chooses among the rest)."""
        from ..evidence.gender import shipped_gender_table

        sign = {None: 0.0, "female": 1.0, "male": -1.0}[self.gender]
        table = shipped_gender_table() if sign else None
        words = _word_counts(head, self.seconds[family(head)])
        return "".join(
            c
            for c in self.seconds[family(head)]
            if c != head
            and c not in exclude
            and words[c] <= MAX_WORD
            and (table is None or sign * table.char_lean(c) >= OTHER_WAY)
        )


@lru_cache(maxsize=64)
def _word_counts(head: str, seconds: str) -> dict[str, int]:
    """jieba's frequency (the lexicon's word table) of `head` + each character of `seconds` as a word."""
    from ..evidence.lexicon import shipped_lexicon

    lexicon = shipped_lexicon()
    ids = np.array(lexicon.ids(seconds), dtype=np.int64)
    first = np.full(len(ids), lexicon.ids(head)[0], dtype=np.int64)
    return dict(zip(seconds, lexicon.pair_table("word_keys", first, ids).astype(int).tolist()))


def family(head: str) -> str:
    """The family of a head character ("dharma" or "pet"); a KeyError for any other character."""
    for name, heads in FAMILIES.items():
        if head in heads:
            return name
    raise KeyError(head)


def is_surnameless(name: str) -> bool:
    """Whether `name` has the shape of these families: two characters, a head, another character."""
    return len(name) == LENGTH and name[0] != name[1] and any(name[0] in heads for heads in FAMILIES.values())


def surnameless_names(own: Iterable[str], genre: Iterable[str]) -> Surnameless | None:
    """The table of one author from his personal names (`own`) and the genre's (`genre`); None when
    he has no name of these families."""
    own = list(dict.fromkeys(own))
    mine = [n for n in own if is_surnameless(n)]
    if not mine:
        return None
    genre = list(genre)
    seconds = {
        name: "".join(sorted({n[1] for n in genre if is_surnameless(n) and n[0] in heads} - set(never)))
        for name, heads, never in (("dharma", DHARMA, NOT_DHARMA), ("pet", PET, NOT_PET))
    }
    heads = Counter(n[0] for n in mine if seconds[family(n[0])])
    two = sum(len(n) == LENGTH for n in own) / len(own)
    return Surnameless(len(mine) / len(own), tuple(heads.most_common()), seconds, two)


def _personal_names(corpus: str) -> list[str]:
    from .. import corpora

    return [e.name for e in corpora.entries(corpus) if e.kind == "name"]


@lru_cache(maxsize=8)
def surnameless_for(corpus: str, leave_out: frozenset[str] = frozenset()) -> Surnameless | None:
    """The table of a built-in wuxia list's author (None for any other list), without the names in
    `leave_out` (the model's panel holdout, so a real name a panel shows lends nothing)."""
    if corpus not in WUXIA:
        return None
    genre = [n for c in WUXIA for n in _personal_names(c) if n not in leave_out]
    return surnameless_names((n for n in _personal_names(corpus) if n not in leave_out), genre)


def surnameless_mixed(weights: Mapping[str, float], leave_out: frozenset[str] = frozenset()) -> Surnameless | None:
    """The table of a style mixture of built-in wuxia lists (`generate --style jinyong=0.7,gulong=0.3`):
    each author's share of such names and the use of his heads, weighted, so the mixture has as many
    as its authors would give in those proportions. None when a weighted list is no built-in wuxia
    list or none of them has such names."""
    chosen = {corpus: w for corpus, w in weights.items() if w > 0}
    if not chosen or any(corpus not in WUXIA for corpus in chosen):
        return None
    total = sum(chosen.values())
    each = {corpus: surnameless_for(corpus, leave_out) for corpus in chosen}
    found = {corpus: table for corpus, table in each.items() if table is not None}
    if not found:
        return None
    heads: Counter = Counter()
    for corpus, table in found.items():
        used = sum(k for _, k in table.heads)
        for head, k in table.heads:
            heads[head] += chosen[corpus] / total * table.share * k / used
    share = sum(chosen[c] / total * t.share for c, t in found.items())
    two = sum(chosen[c] / total * t.two_share for c, t in found.items())
    seconds = next(iter(found.values())).seconds  # the genre's, the same for every author
    return Surnameless(share, tuple(heads.most_common()), seconds, two)


class Interleave:
    """Spreads `extra` names through batches of the other names as they come, in proportion (about
    one extra for every `others / len(extra)` others) and at random places, so a reader meets them
    throughout a list and a streamed request gets them with its batches, never all first or last."""

    def __init__(self, extra: list, others: int, rng: np.random.Generator) -> None:
        self.extra = list(extra)
        self.others = max(int(others), 1)
        self.rng = rng
        self.seen = 0  # other names received so far
        self.given = 0  # extra names handed out so far

    def batch(self, items: list, last: bool = False) -> list:
        """`items` with the extra names now due placed among them; `last` hands out every one left."""
        self.seen += len(items)
        due = len(self.extra) if last else min(len(self.extra), round(self.seen * len(self.extra) / self.others))
        merged = list(items)
        for item in self.extra[self.given : max(due, self.given)]:
            merged.insert(int(self.rng.integers(0, len(merged) + 1)), item)
        self.given = max(due, self.given)
        return merged
