"""Chinese names: where the surname ends, and how the name reads in pinyin with tone marks.

A Chinese name is a surname of one or two characters (欧阳, 令狐, 尉迟 ...) followed by a given name.
`split_surname` finds that boundary; the novelty rules use it to spot a training given name under
another surname. `name_pinyin` writes a name the way names are romanised, surname and given name as
two words, each capitalised (令狐冲 -> Línghú Chōng), with tone marks from pypinyin.

Surnames need care because many surname characters read differently as surnames than as words:
单 is shàn (not dān), 仇 qiú (not chóu), 曾 zēng, 解 xiè, 查 zhā. pypinyin has no surname mode, so
the readings of such surnames live here, in `SURNAME_READINGS` and `COMPOUND_SURNAMES`; the given
name is left to pypinyin's phrase dictionary.
"""

from __future__ import annotations

# Compound (two-character) surnames and their readings, syllables separated by spaces.
COMPOUND_SURNAMES: dict[str, str] = {
    "欧阳": "ōu yáng",
    "上官": "shàng guān",
    "司马": "sī mǎ",
    "东方": "dōng fāng",
    "慕容": "mù róng",
    "令狐": "líng hú",
    "诸葛": "zhū gě",
    "公孙": "gōng sūn",
    "西门": "xī mén",
    "南宫": "nán gōng",
    "独孤": "dú gū",
    "皇甫": "huáng fǔ",
    "尉迟": "yù chí",
    "长孙": "zhǎng sūn",
    "宇文": "yǔ wén",
    "夏侯": "xià hóu",
    "轩辕": "xuān yuán",
    "完颜": "wán yán",
    "耶律": "yē lǜ",
    "司徒": "sī tú",
    "司空": "sī kōng",
    "端木": "duān mù",
    "澹台": "tán tái",
    "公冶": "gōng yě",
    "万俟": "mò qí",
    "单于": "chán yú",
    "呼延": "hū yán",
    "赫连": "hè lián",
    "拓跋": "tuò bá",
    "闻人": "wén rén",
    "东郭": "dōng guō",
    "百里": "bǎi lǐ",
    "钟离": "zhōng lí",
    "淳于": "chún yú",
    "申屠": "shēn tú",
    "太史": "tài shǐ",
    "濮阳": "pú yáng",
    "宗政": "zōng zhèng",
    "第五": "dì wǔ",
    "羊舌": "yáng shé",
    "乐正": "yuè zhèng",
    "鲜于": "xiān yú",
    "段干": "duàn gān",
    "梁丘": "liáng qiū",
    "左丘": "zuǒ qiū",
    "东门": "dōng mén",
    "仲孙": "zhòng sūn",
    "叔孙": "shū sūn",
    "公羊": "gōng yáng",
    "司寇": "sī kòu",
    "漆雕": "qī diāo",
    "巫马": "wū mǎ",
    "公西": "gōng xī",
    "颛孙": "zhuān sūn",
    "壤驷": "rǎng sì",
    "公良": "gōng liáng",
    "亓官": "qí guān",
    "子车": "zǐ jū",
    "闾丘": "lǘ qiū",
    "谷梁": "gǔ liáng",
}

# Single-character surnames whose surname reading differs from pypinyin's everyday reading.
SURNAME_READINGS: dict[str, str] = {
    "单": "shàn",
    "仇": "qiú",
    "曾": "zēng",
    "任": "rén",
    "解": "xiè",
    "查": "zhā",
    "区": "ōu",
    "朴": "piáo",
    "乐": "yuè",
    "翟": "zhái",
    "盖": "gě",
    "缪": "miào",
    "瞿": "qú",
    "覃": "qín",
    "华": "huà",
    "燕": "yān",
    "纪": "jǐ",
    "冼": "xiǎn",
    "洗": "xiǎn",
    "秘": "bì",
    "种": "chóng",
    "重": "chóng",
    "过": "guō",
    "宿": "sù",
    "薄": "bó",
    "贾": "jiǎ",
    "都": "dū",
    "阚": "kàn",
    "召": "shào",
    "祭": "zhài",
    "句": "gōu",
    "尉": "wèi",
    "沈": "shěn",
    "石": "shí",
    "柏": "bǎi",
    "葛": "gě",
    "叶": "yè",
    "藏": "zàng",
    "莘": "shēn",
    "员": "yùn",
    "隗": "wěi",
    "那": "nā",
    "卜": "bǔ",
    "长": "cháng",
    "曲": "qū",
    "繁": "pó",
    "能": "nài",
    "折": "shé",
    "谌": "chén",
    "殷": "yīn",
    "车": "chē",
    "盛": "shèng",
    "应": "yīng",
    "朝": "cháo",
    "哈": "hǎ",
    "仉": "zhǎng",
    "佴": "nài",
    "粘": "niàn",
}

MIDDLE_DOT = "·"  # separates the parts of transliterated names (阿凡提·...)
_VOWEL_START = set("aāáǎàoōóǒòeēéěè")  # a syllable starting with these takes an apostrophe inside a word
_TONE_MARKS = set("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ")  # a syllable without one has the neutral tone


def is_han(char: str) -> bool:
    """Whether `char` is a CJK unified ideograph (the basic block or extension A)."""
    cp = ord(char)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF


def is_chinese(name: str) -> bool:
    """Whether `name` is written in Chinese characters (the middle dot of transliterations allowed)."""
    return bool(name) and any(is_han(c) for c in name) and all(is_han(c) or c == MIDDLE_DOT for c in name)


def split_surname(name: str) -> tuple[str, str]:
    """(surname, given name): a known compound surname when the name is longer than it, else one character."""
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def _syllables(text: str) -> list[str]:
    """Tone-marked syllables of `text` from pypinyin's phrase dictionary (non-Han characters kept as they are).

    A name is read with full tones, so where the dictionary gives a neutral tone (仙子 xiānzi) the
    character's first toned reading is used instead (zǐ).
    """
    from pypinyin import Style, lazy_pinyin, pinyin

    syllables = lazy_pinyin(text, style=Style.TONE, errors=lambda chars: list(chars))
    if len(syllables) != len(text):  # pypinyin grouped something unexpectedly: keep its reading
        return syllables
    out = []
    for char, syllable in zip(text, syllables):
        if is_han(char) and not _TONE_MARKS.intersection(syllable):
            toned = [r for r in pinyin(char, style=Style.TONE, heteronym=True)[0] if _TONE_MARKS.intersection(r)]
            syllable = toned[0] if toned else syllable
        out.append(syllable)
    return out


def _word(syllables: list[str]) -> str:
    """Syllables written as one capitalised word, with the apostrophe before a, o, e inside it (Xī'ān)."""
    out = ""
    for i, s in enumerate(syllables):
        out += ("'" if i and s[:1] in _VOWEL_START else "") + s
    return out[:1].upper() + out[1:]


def as_word(syllables: list[str]) -> str:
    """Syllables read elsewhere (a verse line's own readings) written as one name word: Guānjū."""
    return _word(list(syllables))


_TONES = {
    **dict.fromkeys("āēīōūǖ", 1),
    **dict.fromkeys("áéíóúǘńḿ", 2),
    **dict.fromkeys("ǎěǐǒǔǚň", 3),
    **dict.fromkeys("àèìòùǜǹ", 4),
}


def tone(syllable: str) -> int:
    """The tone of a tone-marked syllable: 1 to 4, 5 for the neutral tone (no mark)."""
    return next((_TONES[c] for c in syllable if c in _TONES), 5)


def surname_syllables(surname: str) -> list[str]:
    """Tone-marked syllables of a surname, read as a surname (单 -> shàn, 令狐 -> líng hú)."""
    if surname in COMPOUND_SURNAMES:
        return COMPOUND_SURNAMES[surname].split()
    if surname in SURNAME_READINGS:
        return [SURNAME_READINGS[surname]]
    return _syllables(surname)


def name_syllables(name: str) -> list[str]:
    """Tone-marked syllables of a whole name, the surname read as a surname."""
    surname, given = split_surname(name)
    return surname_syllables(surname) + (_syllables(given) if given else [])


def name_pinyin(name: str) -> str | None:
    """The romanised name, surname and given name as capitalised words (令狐冲 -> Línghú Chōng).

    None for a name that is not written in Chinese characters. A transliterated name with middle
    dots (阿凡提·...) is written part by part, with no surname reading.
    """
    if not is_chinese(name):
        return None
    if MIDDLE_DOT in name:
        return MIDDLE_DOT.join(_word(_syllables(part)) for part in name.split(MIDDLE_DOT) if part)
    surname, given = split_surname(name)
    words = [_word(surname_syllables(surname))]
    if given:
        words.append(_word(_syllables(given)))
    return " ".join(words)
