"""Names of well-known people: the shipped table, its checks, and the strict novelty rule that uses it."""

import sys
from pathlib import Path

import pytest

from xiaming.errors import CheckpointError
from xiaming.evidence.famous import famous_names, is_entry, read_famous
from xiaming.generation.namer import Namer
from xiaming.generation.novelty import NoveltyFilter, Rejection

PEOPLE = ["刘德华", "林青霞", "李鹏", "冯梦龙", "李东阳"]  # printed by the shipped models before the rule


def test_the_shipped_table_holds_well_known_people_and_only_names_of_two_to_four_characters():
    names = famous_names()
    assert len(names) > 10_000
    assert set(PEOPLE) <= names
    assert all(is_entry(n) for n in names)
    assert "郭" not in names and "张三丰传" not in names  # no single characters, nothing longer than four


@pytest.mark.parametrize(
    "text, where",
    [("刘德华\nAndy Lau\n", "line 2"), ("刘德华\n华\n", "line 2"), ("一二三四五\n", "line 1")],
)
def test_a_damaged_table_is_refused_naming_the_file_and_line(tmp_path, text, where):
    path = tmp_path / "famous.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CheckpointError) as caught:
        read_famous(path)
    assert str(path) in str(caught.value) and where in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_table_that_is_not_utf8_or_missing_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "famous.txt"
    path.write_bytes("刘德华\n".encode("gbk"))
    with pytest.raises(CheckpointError, match="cannot read"):
        read_famous(path)
    with pytest.raises(CheckpointError, match="cannot read"):
        read_famous(tmp_path / "absent.txt")


def test_the_rule_rejects_them_in_strict_and_exact_but_not_off():
    for mode in ("strict", "exact"):
        rule = NoveltyFilter(["郭靖"], mode, famous=True)
        assert rule.check("林青霞") == Rejection("famous", "林青霞")
        assert rule.check("林青雪") is None
    assert NoveltyFilter(["郭靖"], "strict").check("林青霞") is None  # not asked for
    assert NoveltyFilter(["郭靖"], "off", famous=True).check("林青霞") is None


def test_the_shipped_models_apply_it_and_a_users_own_checkpoint_does_not(tmp_path):
    import shutil

    from xiaming.pretrained import shipped_path

    base = Namer.load("base")  # trained on a file, so its default novelty is exact
    assert base.default_novelty == "exact"
    assert base.novelty_rule(base.options(), None)[1].check("刘德华") == Rejection("famous", "刘德华")
    assert base.novelty_rule(base.options(), "off")[1].check("刘德华") is None
    mine = tmp_path / "mine.safetensors"
    shutil.copy(shipped_path("base"), mine)  # the same weights as a user's own file
    own = Namer.load(mine)
    assert own.novelty_rule(own.options(), None)[1].check("刘德华") is None


@pytest.mark.parametrize("model", ["jinyong", "liangyusheng"])
def test_the_shipped_models_print_no_well_known_person(model):
    namer = Namer.load(model)
    _, rule = namer.novelty_rule(namer.options(), None)
    assert rule.check("刘德华") == Rejection("famous", "刘德华")
    names = namer.generate(1500, seed=11).names
    assert not set(names) & famous_names()


def test_build_famous_keeps_person_names_of_the_right_length_and_frequency(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from build_famous import famous_entries

    dictionary = tmp_path / "dict.txt"
    dictionary.write_text(
        "刘德华 37 nr\n王小明 2 nr\n赵云 90 nrt\n华山 300 ns\n欧阳修传 9 nrfg\n司马相如之 20 nr\nAlan 50 nr\n",
        encoding="utf-8",
    )
    assert famous_entries(dictionary, min_freq=5) == ["刘德华", "欧阳修传", "赵云"]
    assert "王小明" in famous_entries(dictionary, min_freq=1)
    recorded = frozenset({"王小明", "华山"})  # names history records: a rare person counts, a place does not
    assert famous_entries(dictionary, min_freq=5, recorded=recorded) == ["刘德华", "欧阳修传", "王小明", "赵云"]
