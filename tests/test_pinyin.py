"""Pinyin of Chinese names: surname readings, compound surnames, full tones, and what is not Chinese."""

import pytest

from xiaming.data.pinyin import COMPOUND_SURNAMES, is_chinese, name_pinyin, name_syllables, split_surname


@pytest.mark.parametrize(
    "name, reading",
    [
        ("单正", "Shàn Zhèng"),  # 单 as a surname is shàn, not dān
        ("仇神", "Qiú Shén"),  # not chóu
        ("曾阿牛", "Zēng Āniú"),  # not céng
        ("令狐冲", "Línghú Chōng"),
        ("尉迟恭", "Yùchí Gōng"),
        ("单于飞", "Chányú Fēi"),  # the compound 单于 reads chán, unlike the single 单
        ("张无忌", "Zhāng Wújì"),
        ("欧阳锋", "Ōuyáng Fēng"),
        ("解风", "Xiè Fēng"),
        ("查良镛", "Zhā Liángyōng"),
    ],
)
def test_surname_readings(name, reading):
    assert name_pinyin(name) == reading


def test_given_names_keep_full_tones():
    assert name_pinyin("桃仙子") == "Táo Xiānzǐ"  # the dictionary's neutral xiānzi is not how a name reads
    assert name_syllables("单单") == ["shàn", "dān"]  # only the surname takes the surname reading


def test_apostrophe_before_a_vowel_syllable_inside_a_word():
    assert name_pinyin("李天安") == "Lǐ Tiān'ān"


def test_split_surname():
    assert split_surname("欧阳锋") == ("欧阳", "锋")
    assert split_surname("东方不败") == ("东方", "不败")
    assert split_surname("欧阳") == ("欧", "阳")  # a compound surname alone is read as surname plus name
    assert split_surname("郭靖") == ("郭", "靖")
    assert {"欧阳", "上官", "司马", "东方", "慕容", "令狐", "诸葛", "公孙", "西门", "尉迟"} <= set(COMPOUND_SURNAMES)


def test_not_chinese_has_no_pinyin():
    assert name_pinyin("Anna") is None
    assert name_pinyin("郭Jing") is None
    assert not is_chinese("") and is_chinese("阿凡提·买买提")
    assert name_pinyin("阿凡提·买买提") == "Āfántí·Mǎimǎití"  # transliterations: part by part, no surname
