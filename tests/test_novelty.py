"""The novelty rules, one by one, and the filter that applies them in order."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaming.errors import ConfigError
from xiaming.generation.novelty import (
    Contained,
    Contains,
    Exact,
    Glued,
    NoveltyFilter,
    OneEdit,
    Rejection,
    SurnameSwap,
    default_mode,
    novelty_filter,
)

TRAINING = ["林平之", "张无忌", "令狐冲", "郭靖", "黄蓉", "欧阳锋", "东方不败", "阿紫"]


def test_exact():
    rule = Exact(TRAINING)
    assert rule.check("郭靖") == "郭靖"
    assert rule.check("郭靖靖") is None


def test_glued_needs_two_whole_training_names():
    rule = Glued(TRAINING)
    assert rule.check("郭靖黄蓉") == "郭靖+黄蓉"
    assert rule.check("黄蓉郭靖") == "黄蓉+郭靖"
    assert rule.check("郭靖黄") is None  # a training name plus a fragment is not two names
    assert rule.check("郭靖") is None


def test_contains_a_training_name_of_two_or_more_characters():
    rule = Contains(TRAINING + ["丁"])
    assert rule.check("林平之助") == "林平之"
    assert rule.check("小郭靖儿") == "郭靖"
    assert rule.check("丁当") is None  # one-character training names are too weak to count
    assert rule.check("郭靖") is None  # the name itself is the exact rule's business
    assert rule.check("郭大侠") is None


def test_contains_reads_a_compound_surname_as_a_reader_does():
    rule = Contains(["方亮", "郭靖"])
    assert rule.check("东方亮") is None  # 东方 + 亮: the run 方亮 starts inside the surname
    assert rule.check("李方亮") == "方亮"  # after a one-character surname it is the whole name
    assert rule.check("东方郭靖") == "郭靖"  # a whole name after the compound surname still counts


def test_contained_in_a_training_name():
    rule = Contained(TRAINING)
    assert rule.check("林平") == "林平之"
    assert rule.check("平之") == "林平之"
    assert rule.check("不败") == "东方不败"
    assert rule.check("靖") == "郭靖"
    assert rule.check("林之") is None  # not a run of characters of 林平之
    assert rule.check("林平之") is None


def test_surname_swap_of_a_given_name():
    rule = SurnameSwap(TRAINING)
    assert rule.check("李无忌") == "张无忌"
    assert rule.check("欧阳无忌") == "张无忌"  # a compound surname in front
    assert rule.check("慕容平之") == "林平之"
    assert rule.check("张不败") == "东方不败"  # a compound surname taken away
    assert rule.check("张无忌") is None  # the same surname: exact's business
    assert rule.check("李靖") is None  # one-character given names are left to the one-edit rule
    assert rule.check("李无") is None
    assert SurnameSwap(["Annabel"]).check("Bnnabel") is None  # only for Chinese names


def test_one_edit_replace_insert_delete():
    rule = OneEdit(TRAINING)
    assert rule.check("张无忧") == "张无忌"  # replaced
    assert rule.check("张小无忌") == "张无忌"  # inserted
    assert rule.check("张忌") == "张无忌"  # deleted
    assert rule.check("郭") == "郭靖"
    assert rule.check("张忧忌忌") is None  # two edits
    assert rule.check("张无忌") is None  # zero edits
    assert OneEdit(["ab"]).check("ba") is None  # a swap is two edits


def test_one_replacement_in_a_two_character_chinese_name_is_new_unless_it_sounds_the_same():
    rule = OneEdit(TRAINING + ["萧峰", "阿朱"])
    assert rule.check("阿青") is None and rule.check("王靖") is None  # same surname / same given name
    assert rule.check("萧锋") == "萧峰"  # 锋 sounds like 峰 (feng)
    assert rule.check("阿珠") == "阿朱"  # zhu, though 阿紫 shares the key too
    assert rule.check("郭") == "郭靖" and rule.check("郭靖靖") == "郭靖"  # deletions and insertions stay
    assert rule.check("张无忧") == "张无忌"  # longer names keep the full rule


def levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("abc", min_size=1, max_size=4), min_size=1, max_size=6), st.text("abc", min_size=1, max_size=5))
def test_one_edit_agrees_with_levenshtein(training, candidate):
    hit = OneEdit(training).check(candidate)
    at_one = [t for t in training if levenshtein(t, candidate) == 1]
    if at_one:
        assert hit in at_one
    else:
        assert hit is None


def test_filter_modes_and_rule_order():
    strict = NoveltyFilter(TRAINING, "strict")
    assert strict.check("郭靖") == Rejection("exact", "郭靖")
    assert strict.check("郭靖黄蓉") == Rejection("glued", "郭靖+黄蓉")
    assert strict.check("林平之助") == Rejection("contains", "林平之")
    assert strict.check("林平") == Rejection("contained", "林平之")
    assert strict.check("欧阳无忌") == Rejection("surname", "张无忌")
    assert strict.check("令狐冰") == Rejection("edit", "令狐冲")
    assert strict.check("岳不群") is None
    exact = NoveltyFilter(TRAINING, "exact")
    assert exact.check("郭靖") == Rejection("exact", "郭靖") and exact.check("林平") is None
    assert NoveltyFilter(TRAINING, "off").check("郭靖") is None
    assert "林平之" in strict.check("林平").describe()


def test_unknown_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="^novelty 'loose': choose one of exact, strict, off"):
        NoveltyFilter(TRAINING, "loose")


def test_default_mode_is_strict_only_for_builtin_corpora():
    assert default_mode({"source": "builtin:jinyong"}) == "strict"
    assert default_mode({"source": "my_names.txt"}) == "exact"
    assert default_mode({}) == "exact" and default_mode(None) == "exact"


def test_cached_filter_is_reused():
    assert novelty_filter(TRAINING, "strict") is novelty_filter(list(TRAINING), "strict")
    assert novelty_filter(TRAINING, "strict") is not novelty_filter(TRAINING, "exact")
