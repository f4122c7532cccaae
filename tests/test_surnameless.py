"""Names without a surname (玄慈, 阿朱): the tables, their spread through a list, and what the shipped models give."""

import re

import numpy as np
import pytest
from conftest import run_cli as run

from xiaming import corpora
from xiaming.errors import ConfigError
from xiaming.generation import surnameless as S
from xiaming.generation.namer import Namer


def test_the_table_counts_the_authors_heads_and_the_genres_second_characters():
    own = ["玄慈", "玄悲", "阿朱", "张三丰", "令狐冲", "玄慈"]  # a repeated name counts once
    genre = own + ["慧净", "小昭", "仪琳", "仪琳琳", "王小二"]
    table = S.surnameless_names(own, genre)
    assert table.share == pytest.approx(3 / 5)
    assert table.heads == (("玄", 2), ("阿", 1))  # the author's own heads, most used first
    assert table.seconds == {"dharma": "净悲慈琳", "pet": "昭朱"}  # only two-character names of the families
    assert table.charset("玄") == "净悲慈琳" and table.charset("慧", exclude="净") == "悲慈琳"
    assert S.surnameless_names(["张三丰", "令狐冲"], genre) is None  # an author with none gets none


def test_a_head_is_never_repeated_and_only_two_characters_count():
    assert S.is_surnameless("玄慈") and S.is_surnameless("小昭")
    assert not S.is_surnameless("慧慧") and not S.is_surnameless("小龙女") and not S.is_surnameless("张三")
    table = S.surnameless_names(["慧净"], ["慧净", "圆慧"])
    assert "慧" not in table.charset("慧")  # 慧慧 is never drawn


def test_no_name_is_an_everyday_word():
    table = S.surnameless_for("jinyong")
    assert "止" in table.seconds["dharma"] and "止" not in table.charset("静")  # 静止, "stationary"
    assert "性" not in table.charset("本") and "性" in table.charset(
        "空"
    )  # 本性 is a word, 空性 a monk (4,820 at most)


def test_draw_heads_follows_the_authors_use_of_each_head():
    table = S.Surnameless(0.1, (("玄", 30), ("阿", 10)), {"dharma": "慈", "pet": "朱"})
    counts = table.draw_heads(4000, np.random.default_rng(0))
    assert sum(counts.values()) == 4000 and 0.72 < counts["玄"] / 4000 < 0.78


def test_interleave_spreads_the_extra_names_through_every_batch_in_order():
    extra = [f"x{i}" for i in range(10)]
    spread = S.Interleave(extra, 90, np.random.default_rng(1))
    batches = [spread.batch([f"o{b}-{i}" for i in range(30)]) for b in range(3)]
    assert [sum(n.startswith("x") for n in batch) for batch in batches] == [3, 4, 3]  # in proportion as they come
    merged = [n for batch in batches for n in batch]
    assert [n for n in merged if n.startswith("o")] == [f"o{b}-{i}" for b in range(3) for i in range(30)]
    assert sorted(n for n in merged if n.startswith("x")) == sorted(extra)
    late = S.Interleave(extra, 90, np.random.default_rng(1))
    assert sum(n.startswith("x") for n in late.batch(["o"] * 9)) == 1
    assert sum(n.startswith("x") for n in late.batch([], last=True)) == 9  # the rest with the last batch


@pytest.mark.parametrize("model", ["jinyong", "liangyusheng"])
def test_shipped_models_give_the_lists_share_of_new_names_without_a_surname(model):
    namer = Namer.load(model)
    table = S.surnameless_for(namer.train.builtin_corpus, frozenset(namer.train.panel_holdout))
    result = namer.generate(600, seed=3)
    assert len(set(result.names)) == 600 and not result.exhausted
    heads = dict(table.heads)
    bare = [n for n in result.names if S.is_surnameless(n) and n[0] in heads]
    expected = 600 * table.share
    assert expected - 3 * expected**0.5 <= len(bare) <= expected + 3 * expected**0.5 + 6  # + the model's own few
    listed = {name for corpus in corpora.names() for name in corpora.load(corpus)}
    assert not set(bare) & listed  # new names
    odd = [n for n in bare if n[1] not in table.seconds[S.family(n[0])]]
    assert len(odd) <= 6  # the genre's characters, but for the model's own few
    positions = [result.names.index(n) / 600 for n in bare]
    assert 0.3 < float(np.mean(positions)) < 0.7  # spread through the list, not first or last
    plain = namer.generate(600, seed=3, surnameless=False)
    assert sum(S.is_surnameless(n) and n[0] in heads for n in plain.names) < len(bare) / 2


def test_a_style_mixture_has_its_authors_names_without_a_surname_by_weight():
    from xiaming.style.mix import mixed_namer

    jy, gl = S.surnameless_for("jinyong"), S.surnameless_for("gulong")
    mixed = S.surnameless_mixed({"jinyong": 0.75, "gulong": 0.25})
    assert mixed.share == pytest.approx(0.75 * jy.share + 0.25 * gl.share)
    heads = dict(mixed.heads)
    use_jy, use_gl = (sum(k for _, k in t.heads) for t in (jy, gl))
    small = 0.75 * jy.share * dict(jy.heads).get("小", 0) / use_jy + 0.25 * gl.share * dict(gl.heads)["小"] / use_gl
    assert heads["小"] == pytest.approx(small)  # Gu Long's head, weighted by his share and weight
    assert heads["仪"] == pytest.approx(0.75 * jy.share * dict(jy.heads)["仪"] / use_jy)  # 仪 is Jin Yong's alone
    assert S.surnameless_mixed({"jinyong": 0.5, "poets": 0.5}) is None  # a list of another kind
    namer = mixed_namer({"jinyong": 0.5, "gulong": 0.5})
    table = namer.surnameless_table(namer.options(), namer.steering())
    assert table is not None and table.share == pytest.approx(0.5 * jy.share + 0.5 * gl.share, rel=0.05)
    names = namer.generate(200, seed=2).names
    assert sum(S.is_surnameless(n) and n[0] in dict(table.heads) for n in names) >= 4


def test_a_request_as_small_as_the_names_without_a_surname_in_it_is_answered():
    namer = Namer.load("jinyong")
    ones = [namer.generate(1, seed=s) for s in range(60)]
    assert all(len(r.names) == 1 and not r.exhausted for r in ones)
    assert any(S.is_surnameless(r.names[0]) for r in ones)  # about one in fifteen: one of sixty is the whole request


def test_a_request_about_a_names_start_or_shape_gets_none_and_on_where_none_can_be_is_refused():
    namer = Namer.load("jinyong")
    steering = namer.steering()
    assert namer.surnameless_table(namer.options(), steering) is not None
    for settings in ({"prefix": "张"}, {"include": "剑"}, {"min_len": 3}, {"max_len": 1}, {"temperature": 0}):
        assert namer.surnameless_table(namer.options(**settings), steering) is None, settings
    assert namer.surnameless_table(namer.options(kind="epithet"), steering) is None
    assert namer.surnameless_table(namer.options(), steering, surnameless=False) is None
    without = namer.surnameless_table(namer.options(exclude="玄阿"), steering)
    assert "玄" not in dict(without.heads) and "阿" not in dict(without.heads)
    assert Namer.load("poets").surnameless_table(Namer.load("poets").options(), OFF_STEERING) is None
    with pytest.raises(ConfigError) as err:
        namer.prepare(prefix="张", surnameless=True)
    assert err.value.field == "surnameless"
    prefixed = namer.generate(30, namer.options(prefix="张"), seed=1)
    assert all(n.startswith("张") for n in prefixed.names)


OFF_STEERING = Namer.load("jinyong").steering(critic=False)


def test_names_of_a_gender_come_from_that_genders_heads_and_lean_its_way():
    from xiaming.evidence.gender import lean_of

    namer = Namer.load("jinyong")
    women = namer.surnameless_table(namer.options(), namer.steering(gender="female"))
    men = namer.surnameless_table(namer.options(), namer.steering(gender="male"))
    assert {h for h, _ in women.heads} <= set(S.GENDER_HEADS["female"]) and "仪" in dict(women.heads)
    assert {h for h, _ in men.heads} <= set(S.GENDER_HEADS["male"]) and "玄" in dict(men.heads)
    assert women.share == men.share == namer.surnameless_table(namer.options(), namer.steering()).share
    result = namer.generate(300, seed=5, steering=namer.steering(gender="female"))
    bare = [n for n in result.names if S.is_surnameless(n) and n[0] in dict(women.heads)]
    assert len(bare) >= 8 and not [n for n in result.names if S.is_surnameless(n) and n[0] in "玄慧空渡"]
    assert np.mean([lean_of(n).lean > 0 for n in bare]) >= 0.7  # the lean chose their second character
    drawn = [n for n in bare if n[1] in women.seconds[S.family(n[0])]]
    assert len(drawn) >= 0.8 * len(bare) and all(lean_of(n).lean >= S.OTHER_WAY for n in drawn)  # no 阿武
    assert S.Surnameless(0.1, (("玄", 3),), {"dharma": "慈", "pet": ""}).for_gender("female") is None


def test_cli_surnameless_flag(capsys):
    code, out, err = run(capsys, "generate", "jinyong", "-n", "3", "--seed", "1", "--verbose")
    assert code == 0 and re.search(r"surnameless: 6\.\d% of names without a surname \(阿, 玄, 仪", err)
    code, out, err = run(capsys, "generate", "jinyong", "-n", "3", "--prefix", "张", "--without-surname", "on")
    assert (
        code == 1 and "--without-surname 'on'" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    )
    code, out, err = run(
        capsys, "generate", "jinyong", "-n", "3", "--seed", "1", "--without-surname", "off", "--verbose"
    )
    assert code == 0 and "surnameless:" not in err


def test_under_a_gender_no_name_starts_like_the_other_genders_monks_or_nuns():
    """The model's own draws too: 玄慧 (a Shaolin generation) is no woman's name, 仪光 (a Hengshan nun) no man's."""
    namer = Namer.load("jinyong")
    for gender, banned in (("female", "玄慧空渡"), ("male", "仪定静")):
        steering = namer.steering(gender=gender)
        _, rule = namer.novelty_rule(namer.options(), None, steering)
        assert rule.check(banned[0] + "英").rule == "head"
        assert getattr(rule.check("小凤"), "rule", None) != "head"  # pet names are either gender's
        names = namer.generate(600, seed=9, steering=steering).names
        assert not [n for n in names if len(n) == 2 and n[0] in S.other_heads(gender) and n[0] != n[1]]
    assert namer.novelty_rule(namer.options(), None, namer.steering())[1].check("玄英") is None  # no gender asked
