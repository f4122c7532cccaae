"""The realism critic: lexicon tables, features, fitting, the stored file, and sampling with it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from xiaming.errors import CheckpointError, ConfigError
from xiaming.evidence.critic import critic_path, fit_critic, load_critic, save_critic
from xiaming.evidence.features import FEATURES, INDEX, name_features, split_name
from xiaming.evidence.lexicon import LEXICON_PATH, load_lexicon, shipped_lexicon
from xiaming.evidence.steer import Steering, quotas, resample
from xiaming.generation.namer import Namer
from xiaming.pretrained import shipped_path


def test_shipped_lexicon_knows_names_words_and_verse():
    lex = shipped_lexicon()
    assert split_name(lex, "欧阳锋") == ("欧阳", "锋") and split_name(lex, "张无忌") == ("张", "无忌")
    x = name_features(lex, ["张建国", "张无忌", "李寒江", "王蝠粉"])
    assert x[0, INDEX["given_attested"]] == 1  # 建国: a given name many people bore
    assert x[2, INDEX["verse_seen"]] == 1  # 寒江: a phrase of verse
    assert x[3, INDEX["given_attested"]] == 0 and x[3, INDEX["weakest"]] < x[0, INDEX["weakest"]]
    assert x.shape == (4, len(FEATURES)) and np.isfinite(x).all()


def test_features_of_unknown_characters_and_empty_input():
    lex = shipped_lexicon()
    assert name_features(lex, []).shape == (0, len(FEATURES))
    x = name_features(lex, ["Zorro", "张"])
    assert x[0, INDEX["unknown_char"]] == 1 and x[1, INDEX["given0"]] == 1


def test_fit_learns_which_names_fail():
    good = ["张建国", "李文华", "王志明", "陈国栋", "刘德华", "赵子龙"]
    bad = ["张蝠粉", "李仞嗤", "王噬瘸", "陈粪蛆", "刘嗝屁", "赵蛆臭"]
    critic = fit_critic(good + bad, [False] * 6 + [True] * 6, ridge=1.0)
    passable = critic.rate(["孙建明", "孙蛆嗝"])
    assert passable[0] > 0.7 > 0.3 > passable[1]
    assert critic.log_weights(["孙建明"], strength=0)[0] == 0
    assert critic.explain("孙蛆嗝")[0].effect < 0  # its strongest evidence points towards a failure


def test_character_weights_and_the_appeal_head():
    # 蛆 is in three failed names, 寒 in three names rated 4-5: each character gets its own weight
    names = ["张蛆明", "李蛆华", "王蛆国", "张寒江", "李寒山", "王寒松", "陈文华", "刘志明", "赵国栋"]
    bad = [True, True, True, False, False, False, False, False, False]
    good = [False, False, False, True, True, True, False, False, False]
    critic = fit_critic(names, bad, good, ridge=10.0, char_ridge=0.5, min_count=3, flavour=1.0)
    assert critic.chars == "寒蛆"  # the characters seen in at least three given names
    assert critic.failure.char_weights[critic.chars.index("蛆")] > 0.3  # towards "rated 1-2"
    assert critic.appeal.char_weights[critic.chars.index("寒")] > 0.3  # towards "rated 4-5"
    assert critic.rate(["孙蛆英"])[0] < critic.rate(["孙志英"])[0]
    appeal = critic.appeal_of(["孙寒英", "孙志英"])
    assert appeal[0] > appeal[1]
    assert any(c.feature == "char 蛆" and c.effect < 0 for c in critic.explain("孙蛆英", top=len(FEATURES) + 2))
    plain = fit_critic(names, bad, good, ridge=10.0, char_ridge=0.5, min_count=3, flavour=0.0)
    lifted = critic.log_weights(["孙寒英"])[0] - critic.log_weights(["孙志英"])[0]
    assert lifted > plain.log_weights(["孙寒英"])[0] - plain.log_weights(["孙志英"])[0]  # flavour counts appeal


def test_build_critic_auc_and_labels():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from build_critic import auc

    assert auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True])) == 0.75
    assert auc(np.array([0.9, 0.8, 0.1]), np.array([False, False, True])) == 0.0


def test_critic_round_trip_and_damaged_files(tmp_path):
    names = ["张建国", "张蝠粉", "李文华", "李仞嗤", "王建华", "王蝠明"]
    critic = fit_critic(
        names,
        [False, True, False, True, False, True],
        [True, False, False, False, True, False],
        ridge=1.0,
        min_count=2,
        strength=2.5,
        pool=6,
        flavour=0.5,
    )
    path = tmp_path / "m.critic.safetensors"
    save_critic(replace(critic, lengths=(1.0, 1.2, 0.5), plain_long=0.25), path)
    again = load_critic(path)
    assert again.strength == 2.5 and again.pool == 6 and again.flavour == 0.5 and again.chars == critic.chars
    assert again.lengths == (1.0, 1.2, 0.5) and again.plain_long == 0.25
    assert len(critic.chars) >= 2
    np.testing.assert_allclose(again.rate(["王建华"]), critic.rate(["王建华"]), rtol=1e-5)
    np.testing.assert_allclose(again.log_weights(["王蝠华"]), critic.log_weights(["王蝠华"]), rtol=1e-5)
    from safetensors.numpy import save_file

    bad = tmp_path / "bad.critic.safetensors"
    f = len(FEATURES)
    meta = {
        "format": "xiaming-critic",
        "version": "2",
        "features": json.dumps(list(FEATURES)),
        "intercept": "3.0",
        "chars": json.dumps("寒蛆", ensure_ascii=False),
    }
    ok = {**{k: np.ones(f, np.float32) for k in ("mean", "scale", "weights")}, "char_weights": np.ones(2, np.float32)}
    save_file(ok, str(bad), metadata=meta)
    assert load_critic(bad).chars == "寒蛆"  # the valid file the cases below damage
    for arrays, metadata, field in [
        ({**ok, "weights": np.full(f, np.nan, np.float32)}, meta, "weights"),
        ({**ok, "mean": np.ones(3, np.float32)}, meta, "mean"),
        ({**ok, "char_weights": np.ones(5, np.float32)}, meta, "char_weights"),
        (ok, {**meta, "chars": json.dumps("寒寒", ensure_ascii=False)}, "chars"),
        (ok, {**meta, "chars": "[1, 2]"}, "chars"),
        (ok, {**meta, "version": "1"}, "version"),
        (ok, {**meta, "features": json.dumps(["len1"])}, "features"),
        (ok, {**meta, "format": "other"}, "format"),
        (ok, {**meta, "pool": "1000"}, "pool"),
        (ok, {**meta, "flavour": "nan"}, "flavour"),
        (ok, {**meta, "appeal_intercept": "0.5"}, "appeal_weights"),
        (ok, {**meta, "lengths": "[1.0, NaN]"}, "lengths"),
        (ok, {**meta, "lengths": "[1.0, 0.0]"}, "lengths"),
        (ok, {**meta, "lengths": "[1.0, true]"}, "lengths"),
        (ok, {**meta, "lengths": "[]"}, "lengths"),
        (ok, {**meta, "lengths": json.dumps([1.0] * 40)}, "lengths"),
        (ok, {**meta, "lengths": "[1.0]", "plain_long": "NaN"}, "plain_long"),
        (ok, {**meta, "lengths": "[1.0]", "plain_long": "0.0"}, "plain_long"),
        (ok, {**meta, "lengths": "[1.0]", "plain_long": "true"}, "plain_long"),
        (ok, {**meta, "lengths": "[1.0]", "plain_long": "[0.5]"}, "plain_long"),
        (ok, {**meta, "plain_long": "0.5"}, "plain_long"),  # without the length ratios it belongs to
    ]:
        save_file(arrays, str(bad), metadata=metadata)
        with pytest.raises(CheckpointError, match=field):
            load_critic(bad)
    bad.write_bytes(b"\xff" * 16)
    with pytest.raises(CheckpointError, match=str(bad.name)):
        load_critic(bad)


def test_damaged_lexicon_is_refused(tmp_path):
    from safetensors.numpy import load_file, save_file

    arrays = load_file(str(LEXICON_PATH))
    lex = shipped_lexicon()
    meta = {
        "format": "xiaming-lexicon",
        "chars": json.dumps(list(lex.chars), ensure_ascii=False),
        "compounds": json.dumps(sorted(lex.compounds), ensure_ascii=False),
        "sources": "{}",
    }
    path = tmp_path / "lex.safetensors"
    arrays["word_keys"] = arrays["word_keys"][::-1].copy()
    save_file(arrays, str(path), metadata=meta)
    with pytest.raises(CheckpointError, match="word_keys"):
        load_lexicon(path)


def test_resample_is_proportional_and_keeps_strata():
    rng = np.random.default_rng(0)
    weights = np.log(np.array([1.0, 1.0, 8.0, 1.0]))
    picks = np.bincount([resample(weights, 1, rng)[0] for _ in range(4000)], minlength=4) / 4000
    assert abs(picks[2] - 8 / 11) < 0.03 and abs(picks[0] - 1 / 11) < 0.02
    strata = np.array([2, 2, 2, 2, 3, 3, 3, 3])
    chosen = resample(np.array([9, 9, 9, 9, 0, 0, 0, 0.0]), 4, rng, strata=strata)
    assert sorted(strata[chosen].tolist()) == [2, 2, 3, 3] and len(set(chosen.tolist())) == 4
    # a stratum weight moves the strata's shares: length 3 counts three times, so it gets 3 of 4 picks
    chosen = resample(np.zeros(8), 4, rng, strata=strata, stratum_weight=lambda length: 3.0 if length == 3 else 1.0)
    assert sorted(strata[chosen].tolist()) == [2, 3, 3, 3]


@pytest.mark.parametrize(
    "counts, weights, n, want",
    [
        ([10, 20, 5], [1, 1, 1], 10, [3, 6, 1]),  # the pool's mix, by largest remainders
        ([10, 20, 5], [1, 1, 0.2], 10, [3, 7, 0]),
        ([2, 20, 5], [10, 1, 1], 10, [2, 6, 2]),  # a full stratum's excess goes to the others
        ([3, 3], [1, 0], 5, [3, 2]),  # only weight-0 strata left: filled all the same
        ([4, 4, 4], [1, 1, 1], 12, [4, 4, 4]),
        ([1, 2], [1, 1], 9, [1, 2]),  # more picks than items: every item, once
    ],
)
def test_quotas_follow_count_times_weight_within_each_count(counts, weights, n, want):
    got = quotas(np.array(counts), np.array(weights, dtype=float), n)
    assert got.tolist() == want and got.sum() == min(n, sum(counts)) and (got <= np.array(counts)).all()


def test_length_ratios_bring_the_lengths_to_the_lists():
    """The shipped critics carry each model's length ratios; with them the kept names' lengths follow
    the list's personal names (Liang Yusheng's model made 6.5% four-character names, his list has 2%)."""
    from xiaming import corpora
    from xiaming.generation.realism import length_tv

    namer = Namer.load("liangyusheng")
    assert namer.critic.lengths is not None and namer.critic.plain_long < 0.5  # long glued names: fewer
    listed = corpora.load("liangyusheng", kinds=["name"])
    steering = namer.steering()
    with_ratios = namer.generate(600, seed=3, steering=steering).names
    without = namer.generate(600, seed=3, steering=replace(steering, length_weights=(), plain_long_weight=None)).names
    assert length_tv(with_ratios, listed) < length_tv(without, listed) / 2
    # epithets are no personal names: their lengths are left as the model makes them
    epithets = namer.options(kind="epithet")
    assert (
        namer.generate(30, epithets, seed=3).names
        == namer.generate(30, epithets, seed=3, steering=replace(steering, length_weights=())).names
    )


def test_shipped_models_carry_a_critic_and_it_raises_the_rating():
    namer = Namer.load("jinyong")
    assert namer.critic is not None and critic_path(shipped_path("jinyong")).is_file()
    off = namer.generate(200, seed=3, steering=namer.steering(critic=False))
    on = namer.generate(200, seed=3, steering=namer.steering(critic_strength=4))
    assert on.steering.active and not off.steering.active
    assert np.mean(namer.rate(on.names)) > np.mean(namer.rate(off.names)) + 0.05
    assert len(set(on.names)) == 200 and not set(on.names) & set(namer.names)
    assert all(item.critic is not None for item in on.items)


def test_critic_keeps_every_constraint():
    namer = Namer.load("gulong")
    result = namer.generate(15, namer.options(prefix="欧阳", max_len=4), seed=1)
    assert result.steering.active and all(n.startswith("欧阳") and len(n) <= 4 for n in result.names)
    best = namer.best(5, namer.options(include="剑"))
    assert len(best.names) == 5 and all("剑" in n for n in best.names)


def test_strength_zero_is_the_model_alone_and_bad_settings_are_refused():
    namer = Namer.load("jinyong")
    plain = namer.generate(10, seed=5, steering=Steering())
    zero = namer.generate(10, seed=5, steering=namer.steering(critic_strength=0))
    assert plain.names == zero.names
    with pytest.raises(ConfigError, match="critic_strength"):
        namer.steering(critic_strength=-1)
    with pytest.raises(ConfigError, match="no critic"):
        Namer.load("poets").steering(critic=True)


def test_cli_critic_flags_and_json():
    run = [sys.executable, "-m", "xiaming", "generate", "-n", "3", "--seed", "2", "--json"]
    out = json.loads(subprocess.run(run, capture_output=True, text=True, check=True).stdout)
    strength = Namer.load("jinyong").critic.strength
    assert strength > 0 and out["steering"]["evidence"] == {"critic": strength}
    assert all(0 <= n["critic"] <= 1 for n in out["names"])
    off = json.loads(subprocess.run(run + ["--critic", "off"], capture_output=True, text=True, check=True).stdout)
    assert off["steering"]["evidence"] == {} and off["steering"]["pool"] == 1
    bad = subprocess.run(run + ["--critic-strength", "nan"], capture_output=True, text=True)
    assert bad.returncode == 1 and "--critic-strength" in bad.stderr and "Traceback" not in bad.stderr


def test_a_gender_lean_keeps_only_the_critics_failure_head():
    namer = Namer.load("jinyong")
    plain = dict((label, ev) for label, ev, _ in namer.steering().evidence)
    gendered = dict((label, ev) for label, ev, _ in namer.steering(gender="female").evidence)
    assert plain["critic"].flavour == namer.critic.flavour > 0  # the appeal head's genre flavour counts
    assert gendered["critic"].flavour == 0  # it learned from mostly men's names and would pull against the lean
    names = ["王寒鹤", "王秋芸"]
    np.testing.assert_allclose(gendered["critic"].log_weights(names), np.log(namer.critic.rate(names)))


def test_long_names_without_a_compound_surname_are_a_stratum_of_their_own():
    """Names of four or more characters that do not start with a compound surname are mostly glued when
    a model makes them (readers marked 73-86% of them 1-2): the shipped critics keep them apart from
    their length, at a weight that holds as many as the critic expects to pass."""
    from xiaming.evidence.steer import PLAIN_LONG, Steering, is_plain_long

    split = Steering(length_weights=(1.0, 1.0, 1.0, 2.0), plain_long_weight=0.1)
    assert [split.stratum(n) for n in ("天如道韶", "上官剑南", "张三丰", "阿紫")] == [PLAIN_LONG, 4, 3, 2]
    assert split.length_weight(PLAIN_LONG) == 0.1 and split.length_weight(4) == 2.0
    assert Steering(length_weights=(1.0,)).stratum("天如道韶") == 4  # without its weight: by length
    assert is_plain_long("苏克萨哈") and not is_plain_long("欧阳克") and not is_plain_long("慕容紫英")

    namer = Namer.load("jinyong")
    assert namer.critic.plain_long is not None and namer.critic.plain_long < 0.5
    steering = namer.steering()
    kept = namer.generate(1000, seed=7, steering=steering).names
    by_length = namer.generate(1000, seed=7, steering=replace(steering, plain_long_weight=None)).names
    share = lambda names: sum(map(is_plain_long, names)) / len(names)  # noqa: E731
    assert share(kept) < 0.015 < 0.025 < share(by_length)
    assert np.mean(namer.rate(kept)) > np.mean(namer.rate(by_length))


def test_kept_names_come_in_the_order_they_were_proposed():
    """The critic chooses which names are kept, not their order: a batch lists them as the model
    proposed them, so its two-character names (the critic's weakest stratum) are not gathered at its end."""
    namer = Namer.load("jinyong")
    steering = namer.steering()
    positions = []  # where each batch's two-character names sit, 0 = first, 1 = last
    for seed in range(5):
        names = namer.generate(60, seed=seed, steering=steering).names  # one round of steered sampling
        positions += [i / (len(names) - 1) for i, name in enumerate(names) if len(name) == 2]
    assert len(positions) > 50
    assert abs(np.mean(positions) - 0.5) < 0.08  # in proposal order they sit anywhere
    # and the kept names are in the order `_keep` received them
    found = {name: 0.0 for name in namer.generate(40, seed=5, steering=Steering()).names}
    kept = list(namer._keep(found, 10, steering, np.random.default_rng(0)))
    order = list(found)
    assert [order.index(name) for name in kept] == sorted(order.index(name) for name in kept)
