"""Names of well-known people: the shipped table, its checks, and the strict novelty rule that uses it."""

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from xiaming.errors import CheckpointError
from xiaming.evidence.famous import (
    FAMOUS_PATH,
    FORMAT,
    famous_names,
    name_key,
    read_famous,
    save_famous,
)
from xiaming.generation.namer import Namer
from xiaming.generation.novelty import NoveltyFilter, Rejection
from xiaming.tablefile import save_arrays

PEOPLE = ["刘德华", "林青霞", "李鹏", "冯梦龙", "李东阳"]  # printed by the shipped models before the rule


def test_the_shipped_table_holds_well_known_people_and_only_names_of_two_to_four_characters():
    names = famous_names()
    assert len(names) > 10_000
    assert all(p in names for p in PEOPLE)
    assert "林青雪" not in names and "张无忌传" not in names
    assert "郭" not in names and "张三丰传" not in names  # no single characters, nothing longer than four


def test_the_shipped_table_holds_keys_not_names():
    data = FAMOUS_PATH.read_bytes()
    assert not [p for p in PEOPLE if p.encode("utf-8") in data]  # no name of the sources is copied in


def test_a_saved_table_reads_back_its_entries_only(tmp_path):
    path = tmp_path / "famous.safetensors"
    assert save_famous(path, ["刘德华", "赵云", "赵云", "华", "Andy Lau", "一二三四五"]) == 2
    table = read_famous(path)
    assert "刘德华" in table and "赵云" in table and len(table) == 2
    assert "华" not in table and "Andy Lau" not in table and "一二三四五" not in table and 37 not in table


def _damaged(path, keys, fmt=FORMAT):
    save_arrays(path, {"keys": keys}, {"format": fmt})


@pytest.mark.parametrize(
    "keys, fmt, field",
    [
        (np.array([3, 2], dtype=np.uint64), FORMAT, "keys"),  # not sorted
        (np.array([2, 2], dtype=np.uint64), FORMAT, "keys"),  # a key twice
        (np.array([2.0, 3.0]), FORMAT, "keys"),  # not uint64
        (np.zeros((2, 2), dtype=np.uint64), FORMAT, "keys"),  # not a vector
        (np.zeros(0, dtype=np.uint64), FORMAT, "keys"),  # empty
        (np.array([2, 3], dtype=np.uint64), "xiaming-gender", "format"),  # another table
    ],
)
def test_a_damaged_table_is_refused_naming_the_file_and_field(tmp_path, keys, fmt, field):
    path = tmp_path / "famous.safetensors"
    _damaged(path, keys, fmt)
    with pytest.raises(CheckpointError) as caught:
        read_famous(path)
    assert str(path) in str(caught.value) and f"field {field}" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_table_that_is_not_safetensors_or_missing_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "famous.safetensors"
    path.write_bytes("刘德华\n".encode("gbk"))
    with pytest.raises(CheckpointError, match=str(path)):
        read_famous(path)
    with pytest.raises(CheckpointError, match="cannot read"):
        read_famous(tmp_path / "absent.safetensors")


def test_a_key_is_stable_and_spreads():
    """Keys must not change between runs or machines (not Python's salted hash) and must not collide."""
    assert name_key("刘德华") == int.from_bytes(hashlib.blake2b("刘德华".encode(), digest_size=8).digest(), "little")
    assert len({name_key(f"李{a}{b}") for a in "一二三四五六七八九十" for b in "天地人和春夏秋冬"}) == 80


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
    famous = famous_names()
    assert not [n for n in names if n in famous]


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
