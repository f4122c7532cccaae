"""Built-in name corpora: the characters of Jin Yong's, Gu Long's and Liang Yusheng's novels, and Tang-Song poets.

Each corpus is a TSV file in this folder (`work<TAB>name<TAB>kind`, one row per name and work;
see DATASHEET.md for sources, counts and known gaps). `load("jinyong")` returns the distinct names
in file order, optionally restricted to some works (novels, or dynasties for `poets`) and kinds
(`name` for personal names, `epithet` for nicknames and titles).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable

from ..errors import ConfigError, DataError

DESCRIPTIONS: dict[str, str] = {
    "jinyong": "characters of Jin Yong's 15 novels (金庸)",
    "gulong": "characters of Gu Long's novels (古龙)",
    "liangyusheng": "characters of Liang Yusheng's novels (梁羽生)",
    "poets": "Tang, Five Dynasties and Song poets and ci writers (唐宋诗人、词人)",
}
KINDS = ("name", "epithet")

# Known titles of each corpus's works: the 15 novels of Jin Yong; Gu Long's novels under the titles
# gulong.tsv files them by (each 楚留香 and 陆小凤 book under its own title: 鬼恋侠情 for 借尸还魂,
# 陆小凤传奇 for 金鹏王朝, 大旗英雄传 for 铁血大旗); every Liang Yusheng novel liangyusheng.tsv uses; for
# `poets`, the dynasties. Every row's work must be one of these (tests/test_corpora.py), so a typo or
# another author's title cannot slip in.
KNOWN_WORKS: dict[str, tuple[str, ...]] = {
    "jinyong": (
        "飞狐外传",
        "雪山飞狐",
        "连城诀",
        "天龙八部",
        "射雕英雄传",
        "白马啸西风",
        "鹿鼎记",
        "笑傲江湖",
        "书剑恩仇录",
        "神雕侠侣",
        "侠客行",
        "倚天屠龙记",
        "碧血剑",
        "鸳鸯刀",
        "越女剑",
    ),
    "gulong": (
        # 楚留香 series
        "血海飘香",
        "大沙漠",
        "画眉鸟",
        "鬼恋侠情",
        "蝙蝠传奇",
        "桃花传奇",
        "新月传奇",
        "午夜兰花",
        # 陆小凤 series
        "陆小凤传奇",
        "绣花大盗",
        "决战前后",
        "银钩赌坊",
        "幽灵山庄",
        "凤舞九天",
        "剑神一笑",
        # 七种武器
        "长生剑",
        "孔雀翎",
        "碧玉刀",
        "多情环",
        "离别钩",
        "霸王枪",
        "拳头",
        # 小李飞刀 and 萧十一郎 cycles
        "多情剑客无情剑",
        "边城浪子",
        "九月鹰飞",
        "天涯明月刀",
        "飞刀又见飞刀",
        "萧十一郎",
        "火并萧十一郎",
        # other novels
        "绝代双骄",
        "武林外史",
        "大旗英雄传",
        "名剑风流",
        "浣花洗剑录",
        "欢乐英雄",
        "流星蝴蝶剑",
        "三少爷的剑",
        "圆月弯刀",
        "白玉老虎",
        "大人物",
        "碧血洗银枪",
        "大地飞鹰",
        "英雄无泪",
        "七星龙王",
        "七杀手",
        "血鹦鹉",
        "绝不低头",
        "风铃中的刀声",
        "怒剑狂花",
        "猎鹰",
        "赌局",
        "财神与短刀",
        "护花铃",
        "剑气书香",
        "江湖人",
        "菊花的刺",
        # early works
        "苍穹神剑",
        "剑毒梅香",
        "孤星传",
        "湘妃剑",
        "失魂引",
        "月异星邪",
        "残金缺玉",
        "飘香剑雨",
        "游侠录",
        "剑玄录",
        "神君别传",
        "彩环曲",
        "情人箭",
    ),
    "liangyusheng": (
        # the nine novels whose rows were checked against the text (DATASHEET.md)
        "侠骨丹心",
        "剑网尘丝",
        "幻剑灵旗",
        "弹指惊雷",
        "武当一剑",
        "游剑江湖",
        "牧野流星",
        "绝塞传烽录",
        "风雷震九州",
        # other novels, main characters only, from an editor's knowledge (not text-checked)
        "七剑下天山",
        "塞外奇侠传",
        "萍踪侠影",
        "散花女侠",
        "联剑风云录",
        "白发魔女传",
        "江湖三女侠",
        "冰川天女传",
        "云海玉弓缘",
        "冰河洗剑录",
        "大唐游侠传",
        "龙凤宝钗缘",
        "广陵剑",
        "还剑奇情录",
        "女帝奇英传",
        "龙虎斗京华",
    ),
    "poets": ("唐", "五代", "宋"),
}


@dataclass(frozen=True)
class Entry:
    """One row of a corpus file: a name as it appears in one work."""

    work: str  # novel title, or dynasty for `poets`
    name: str  # the name in simplified characters
    kind: str  # "name" (personal name) or "epithet" (nickname or title)


@dataclass(frozen=True)
class CorpusInfo:
    """Summary of one built-in corpus, for `xiaming corpora`."""

    name: str
    description: str
    names: int  # distinct names
    rows: int  # rows in the file (one per name and work)
    works: tuple[str, ...]


def names() -> list[str]:
    """Names of the built-in corpora."""
    return list(DESCRIPTIONS)


def is_builtin(name: str) -> bool:
    """Whether `name` is the name of a built-in corpus."""
    return name in DESCRIPTIONS


@lru_cache(maxsize=None)
def entries(corpus: str) -> tuple[Entry, ...]:
    """Every row of a built-in corpus, in file order."""
    if corpus not in DESCRIPTIONS:
        raise ConfigError("corpus", corpus, f"unknown corpus; built-in corpora: {', '.join(DESCRIPTIONS)}")
    text = resources.files(__package__).joinpath(f"{corpus}.tsv").read_text(encoding="utf-8")
    return tuple(_parse(text, f"{corpus}.tsv"))


def _parse(text: str, filename: str) -> Iterable[Entry]:
    reader = csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header != ["work", "name", "kind"]:
        raise DataError(f"{filename} line 1: expected header 'work<TAB>name<TAB>kind', got {header!r}")
    for lineno, row in enumerate(reader, start=2):
        if len(row) != 3 or row[2] not in KINDS or not row[0] or not row[1]:
            raise DataError(f"{filename} line {lineno}: expected work, name and kind (name|epithet): {row!r}")
        yield Entry(*row)


def load(corpus: str, works: Iterable[str] | None = None, kinds: Iterable[str] | None = None) -> list[str]:
    """Distinct names of a built-in corpus, in file order, optionally filtered by work and kind."""
    rows = entries(corpus)
    if works is not None:
        works = set(works)
        unknown = works - {e.work for e in rows}
        if unknown:
            known = ", ".join(dict.fromkeys(e.work for e in rows))
            raise ConfigError(
                "works", sorted(unknown), f"corpus {corpus!r} has no work of that title; its works: {known}"
            )
        rows = tuple(e for e in rows if e.work in works)
    if kinds is not None:
        kinds = set(kinds)
        if not kinds <= set(KINDS):
            raise ConfigError("kinds", sorted(kinds - set(KINDS)), f"unknown kind; kinds: {', '.join(KINDS)}")
        rows = tuple(e for e in rows if e.kind in kinds)
    return list(dict.fromkeys(e.name for e in rows))


def info(corpus: str) -> CorpusInfo:
    """Counts of one built-in corpus."""
    rows = entries(corpus)
    return CorpusInfo(
        name=corpus,
        description=DESCRIPTIONS[corpus],
        names=len({e.name for e in rows}),
        rows=len(rows),
        works=tuple(dict.fromkeys(e.work for e in rows)),
    )


def listing() -> list[CorpusInfo]:
    """Counts of every built-in corpus."""
    return [info(c) for c in DESCRIPTIONS]
