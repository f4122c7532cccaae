"""Composed epithets (generation/epithets.py): the parts, the composition, the draw and the Namer's use of it."""

from collections import Counter

import numpy as np
import pytest
from conftest import run_cli as run

from xiaming import corpora
from xiaming.data.vocab import Vocab
from xiaming.errors import ConfigError
from xiaming.generation import epithets as E
from xiaming.generation.constraints import SampleOptions, compile_constraints
from xiaming.generation.namer import Namer
from xiaming.generation.novelty import Rejection

SURNAMES = frozenset({"彭", "钟", "胡", "谭"})
GENRE = [
    "南海鳄神",
    "北海鳄神",
    "东海鳄神",
    "冷面剑客",
    "金刀剑客",
    "铁笔剑客",
    "彭先生",
    "钟二先生",
    "胡先生",
    "谭长老",
]


def test_role_words_are_endings_that_several_epithets_share():
    roles = E.role_words(GENRE + ["先生"])  # a two-character epithet ends in nothing
    assert roles == {"鳄神", "剑客", "先生"}  # 长老 ends one epithet only


def test_parse_tells_persons_from_modifiers():
    roles = E.role_words(GENRE)
    assert E.parse("钟二先生", roles, SURNAMES) == (E.PERSON, "钟二", "先生")
    assert E.parse("彭先生", roles, SURNAMES) == (E.PERSON, "彭", "先生")
    assert E.parse("蓝大先生", roles, SURNAMES) == (E.PERSON, "蓝大", "先生")  # a rare surname, by its rank
    assert E.parse("冷面剑客", roles, SURNAMES) == (E.MODIFIER, "冷面", "剑客")
    assert E.parse("谭长老", roles, SURNAMES) is None  # not a role word
    assert E.parse("天南海鳄神", roles, SURNAMES) is None  # a three-character head that is no surname and rank
    assert E.parse("剑客", roles, SURNAMES) is None  # no head


def test_parts_weigh_the_authors_own_heads_and_roles_above_the_genres():
    own = ["南海鳄神", "南海剑客", "彭先生"]
    parts = E.build_parts(own, GENRE + own, SURNAMES)
    heads = dict(zip(parts.heads[E.MODIFIER].items, parts.heads[E.MODIFIER].p))
    assert heads["南海"] == pytest.approx(2 * heads["冷面"])  # own heads count twice, the genre's once
    kinds = dict(zip(parts.kinds.items, parts.kinds.p))
    assert kinds == pytest.approx({E.MODIFIER: 2 / 3, E.PERSON: 1 / 3})  # the author's own mix
    roles = dict(zip(parts.roles[E.MODIFIER].items, parts.roles[E.MODIFIER].p))
    # own: 鳄神 1, 剑客 1 (0.5 each); the genre's distinct epithets: 鳄神 3, 剑客 4 after a modifier
    assert roles["鳄神"] == pytest.approx(E.OWN_SHARE * 0.5 + (1 - E.OWN_SHARE) * 3 / 7)
    assert set(parts.roles[E.PERSON].items) == {"先生"}
    assert E.build_parts(["东邪", "西毒", "南帝"], GENRE, SURNAMES) is None  # too few parse


def test_a_role_word_follows_a_kind_of_head_only_after_several_heads_of_it():
    # 太子 follows two modifiers (长平, 燕山) but one person (朱三): it is composed after modifiers only
    genre = GENRE + ["长平太子", "燕山太子", "朱三太子"]
    parts = E.build_parts(["长平太子", "冷面剑客", "彭先生", "钟二先生"], genre, SURNAMES | {"朱"})
    assert "太子" in parts.roles[E.MODIFIER].items and "太子" not in parts.roles[E.PERSON].items


def test_a_head_that_is_a_role_word_heads_nothing():
    genre = GENRE + ["公子剑客", "公子夫人", "王公子", "李公子", "赵公子"]  # 公子 is a role word and a head
    parts = E.build_parts(["冷面剑客", "南海鳄神", "公子剑客", "彭先生"], genre, SURNAMES)
    assert "公子" in E.role_words(genre) and "公子" not in parts.heads[E.MODIFIER].items


def test_compositions_are_new_distinct_and_never_stutter_a_rank():
    own = ["钟二先生", "胡先生", "谭老三", "彭老三", "钟老三", "彭长老", "胡长老", "冷面剑客", "南海鳄神"]
    parts = E.build_parts(own, GENRE + own, SURNAMES | {"钟"})
    made = list(E.compositions(parts, np.random.default_rng(0), 3000))
    assert len(made) == len(set(made)) and not set(made) & parts.known
    assert all(parts.roles and name[-2:] in E.role_words(GENRE + own) for name in made)
    ranked = [n for n in made if n.startswith("钟二")]
    assert ranked and not any(n[2] in E.RANKS for n in ranked)  # 钟二 + 老三 is never made
    assert E.stutters("关老老三") and E.stutters("唐二四爷") and E.stutters("郭老长老")
    assert E.stutters("神山神龙") and not E.stutters("元元大师")  # a part may repeat itself, not the other
    assert not E.stutters("钟二先生") and not E.stutters("南海鳄神")


def test_keep_one_each_follows_the_weights_within_each_group():
    rng = np.random.default_rng(1)
    weights = np.log(np.array([0.7, 0.1, 0.1, 0.1, 0.25, 0.25, 0.25, 0.25]))
    counts = Counter()
    for _ in range(20000):
        counts.update(E.keep_one_each(weights, 2, rng))
    assert set(counts) <= set(range(8)) and sum(counts[i] for i in range(4)) == 20000  # one of each group
    assert counts[0] / 20000 == pytest.approx(0.7, abs=0.015)
    assert counts[5] / 20000 == pytest.approx(0.25, abs=0.015)
    assert E.keep_one_each(np.array([0.0, -np.inf, -np.inf]), 3, rng) == [0, 1, 2]  # groups of one: each kept


def test_draw_composed_keeps_only_what_the_constraints_and_the_novelty_rule_let_through():
    own = ["冷面剑客", "南海鳄神", "彭先生", "钟二先生"]
    parts = E.build_parts(own, GENRE + own, SURNAMES)
    turned = {"北海剑客"}
    drawn = E.draw_composed(
        parts,
        5,
        admits=lambda name: "海" in name,
        check=lambda name: Rejection("exact", name) if name in turned else None,
        log_probs=lambda names: -np.arange(len(names), dtype=float),
        rng=np.random.default_rng(3),
    )
    assert 0 < len(drawn.found) <= 5
    assert all("海" in n and n not in turned and n not in parts.known for n in drawn.found)
    assert all(name in drawn.seen for name in drawn.found) and drawn.drawn >= len(drawn.found)
    assert all(why.rule == "exact" for _, why in drawn.rejected)


def test_no_two_composed_epithets_are_one_character_apart():
    namer = Namer.load("gulong")
    names = namer.generate(200, namer.options(kind="epithet"), seed=8).names
    assert len(names) == 200
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert len(a) != len(b) or sum(x != y for x, y in zip(a, b)) > 1, (a, b)


def test_constraints_admit_a_whole_name_as_the_sampler_would():
    vocab = Vocab.from_names(["甲乙丙丁"])
    c = compile_constraints(vocab, SampleOptions(prefix="甲", max_len=3, exclude="丁", include="丙"))
    ids = vocab.encode
    assert c.admits(ids("甲丙")) and c.admits(ids("甲乙丙"))
    assert not c.admits(ids("乙丙"))  # no prefix
    assert not c.admits(ids("甲乙"))  # nothing included
    assert not c.admits(ids("甲丁丙"))  # excluded
    assert not c.admits(ids("甲乙丙丙"))  # too long
    assert not c.admits(ids("甲戊丙"))  # unknown character
    banned = compile_constraints(vocab, SampleOptions(ban_first="乙"))
    assert banned.admits(ids("丙乙")) and not banned.admits(ids("乙丙"))


@pytest.mark.parametrize("model", ["jinyong", "gulong"])
def test_shipped_models_compose_new_epithets_from_parts_the_panel_never_showed(model):
    namer = Namer.load(model)
    options = namer.options(kind="epithet")
    result = namer.generate(30, options, seed=5)
    assert result.composed and len(result.names) == 30 and not result.exhausted
    held = set(namer.train.panel_holdout)
    parts = E.parts_for(model, frozenset(held))
    _, filt = namer.novelty_rule(options, None)
    every = {name for corpus in corpora.names() for name in corpora.load(corpus)}
    assert all(filt.check(n) is None and n not in every for n in result.names)
    assert all(any(n.endswith(r) for kind in parts.roles for r in parts.roles[kind].items) for n in result.names)
    # a head only a held-out epithet had is no part: the real epithets a panel shows lent nothing
    others = {e for c in E.WUXIA for e in corpora.entries(c) if e.kind == "epithet" and e.name not in held}
    roles = E.role_words(e.name for e in others)
    kept_heads = {p[1] for p in (E.parse(e.name, roles, E.genre_surnames()) for e in others) if p}
    assert all(h in kept_heads for kind in parts.heads for h in parts.heads[kind].items)
    # the same seed gives the same epithets
    assert namer.generate(30, options, seed=5).names == result.names


def _distribution(w: E.Weighted) -> dict[str, float]:
    return dict(w.mass())


def test_a_style_mixture_composes_from_each_authors_parts_by_weight():
    jy, gl = E.parts_for("jinyong"), E.parts_for("gulong")
    alone = E.mixed_parts({"jinyong": 1.0, "gulong": 0.0})  # weight 0: that author lends nothing
    assert _distribution(alone.kinds) == pytest.approx(_distribution(jy.kinds))
    for kind in jy.heads:
        assert _distribution(alone.heads[kind]) == pytest.approx(_distribution(jy.heads[kind]))
        assert _distribution(alone.roles[kind]) == pytest.approx(_distribution(jy.roles[kind]))
    half = E.mixed_parts({"jinyong": 1.0, "gulong": 3.0})  # weights need not sum to 1
    for kind in half.kinds.items:
        expected = 0.25 * _distribution(jy.kinds).get(kind, 0) + 0.75 * _distribution(gl.kinds).get(kind, 0)
        assert _distribution(half.kinds)[kind] == pytest.approx(expected)
    assert half.share == pytest.approx(0.25 * jy.share + 0.75 * gl.share)
    assert half.known == jy.known | gl.known
    # given the kind of head, a role word is each author's by weight times that author's share of the kind
    k = E.MODIFIER
    wj, wg = 0.25 * _distribution(jy.kinds)[k], 0.75 * _distribution(gl.kinds)[k]
    mixed, rj, rg = _distribution(half.roles[k]), _distribution(jy.roles[k]), _distribution(gl.roles[k])
    for role in set(rj) | set(rg):
        assert mixed[role] == pytest.approx((wj * rj.get(role, 0) + wg * rg.get(role, 0)) / (wj + wg))
    assert E.mixed_parts({"jinyong": 0.5, "poets": 0.5}) is None  # poets compose no epithets


def test_style_mixtures_of_the_wuxia_models_compose_their_epithets():
    from xiaming.style.mix import mixed_namer

    namer = mixed_namer({"jinyong": 0.5, "gulong": 0.5})
    held = set(Namer.load("jinyong").train.panel_holdout) | set(Namer.load("gulong").train.panel_holdout)
    assert set(namer.train.panel_holdout) == held  # no part comes from a name the panels show
    result = namer.generate(20, namer.options(kind="epithet"), seed=3)
    assert result.composed and len(result.names) == 20
    listed = {name for corpus in corpora.names() for name in corpora.load(corpus)}
    assert all(E.composed_form(n) and n not in listed for n in result.names)
    poets = mixed_namer({"jinyong": 0.5, "poets": 0.5})
    assert not poets.generate(3, poets.options(kind="epithet"), seed=3).composed


def test_a_gender_keeps_the_role_words_of_that_gender():
    namer = Namer.load("jinyong")
    epithet = namer.options(kind="epithet")
    women = namer.epithet_parts(epithet, None, namer.steering(gender="female"))
    men = namer.epithet_parts(epithet, None, namer.steering(gender="male"))
    every = namer.epithet_parts(epithet)
    roles = lambda parts: {r for table in parts.roles.values() for r in table.items}  # noqa: E731
    women_roles = (roles(every) & E.FEMALE_ROLES) - E.NOT_COMPOSED_FOR_WOMEN
    assert roles(women) == women_roles and roles(men) == roles(every) - E.FEMALE_ROLES
    assert all(h[-1] not in E.RANKS for h in women.heads[E.PERSON].items)  # 崔夫人, never 田八夫人
    assert any(h[-1] in E.RANKS for h in men.heads[E.PERSON].items)  # 钟二先生
    for kind in women.roles:  # within a kind, the women's role words keep their odds against each other
        full = dict(zip(every.roles[kind].items, every.roles[kind].p))
        kept = sum(full[r] for r in women.roles[kind].items)
        assert dict(zip(women.roles[kind].items, women.roles[kind].p)) == pytest.approx(
            {r: full[r] / kept for r in women.roles[kind].items}
        )
    result = namer.generate(20, epithet, seed=4, steering=namer.steering(gender="female"))
    assert result.composed and len(result.names) == 20
    assert all(n[-2:] in E.FEMALE_ROLES - E.NOT_COMPOSED_FOR_WOMEN for n in result.names)
    prepared = namer.prepare(kind="epithet", compose=True, gender="male")  # no longer refused
    assert prepared.compose
    nothing = E.Parts(
        every.kinds, every.heads, {k: E.Weighted.of(Counter({"夫人": 1})) for k in every.roles}, every.known
    )
    assert E.gendered_parts(nothing, "male") is None  # no man's role word left: the model draws them


def test_either_kind_mixes_personal_names_and_composed_epithets_as_the_list_does():
    namer = Namer.load("gulong")
    mixed = namer.generate(80, namer.options(kind="any"), seed=6)
    assert len(set(mixed.names)) == 80 and not mixed.exhausted
    parts = E.parts_for("gulong", frozenset(namer.train.panel_holdout))
    roles = {r for kind in parts.roles.values() for r in kind.items}
    composed = [n for n in mixed.names if n[-2:] in roles and len(n) >= 3]
    assert 0.15 * 80 <= len(composed) <= 0.6 * 80  # about the list's share of epithets, 36%
    listed = {name for corpus in corpora.names() for name in corpora.load(corpus)}
    assert not set(mixed.names) & listed
    own = namer.generate(20, namer.options(kind="any"), seed=6, compose=False)  # the model's own mix
    assert not own.composed and own.names != mixed.names[:20]


def test_constraints_hold_and_the_model_draws_what_compositions_cannot():
    namer = Namer.load("gulong")
    some = namer.generate(6, namer.options(kind="epithet", prefix="铁", include="剑"), seed=2)
    assert some.composed and len(some.names) == 6 and all(n.startswith("铁") and "剑" in n for n in some.names)
    short = namer.generate(8, namer.options(kind="epithet", max_len=2), seed=2)  # no composition is that short
    assert short.composed and len(short.names) == 8 and all(len(n) <= 2 for n in short.names)


def test_composing_is_off_when_asked_or_where_it_cannot_be():
    namer = Namer.load("jinyong")
    epithet = namer.options(kind="epithet")
    assert not namer.generate(5, epithet, seed=1, compose=False).composed
    assert not namer.generate(5, namer.options(), seed=1).composed  # personal names
    poets = Namer.load("poets")
    with pytest.raises(ConfigError) as err:
        poets.prepare(kind="epithet", compose=True)
    assert err.value.field == "epithets"
    with pytest.raises(ConfigError):
        namer.prepare(kind="name", compose=True)
    with pytest.raises(ConfigError) as err:
        namer.prepare(kind="epithet", compose=True, search=True)
    assert err.value.field == "epithets" and "best" in err.value.refs
    greedy = namer.generate(3, namer.options(kind="epithet", temperature=0), seed=1)
    assert greedy.composed and len(greedy.names) == 3  # sampling settings apply to the model's own draws


def test_cli_epithets_flag(capsys):
    code, out, err = run(capsys, "generate", "gulong", "--kind", "epithet", "-n", "4", "--seed", "1", "--verbose")
    assert code == 0 and len(out.split()) == 4 and "epithets: composed" in err
    code, out, err = run(capsys, "generate", "gulong", "-n", "3", "--epithets", "composed")
    assert code == 1 and "--epithets" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
