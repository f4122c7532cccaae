"""A model's blend (card.Blend): the shipped Jin Yong and Liang Yusheng models generate mixed, step by
step, with the base; the card's blend is validated like every other field, `--blend` sets another
weight or turns it off, and attribution judges the author's model alone."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cli
from safetensors_bytes import small_checkpoint, with_metadata

from xiaming.checkpoint import read_checkpoint
from xiaming.errors import CheckpointError, ConfigError
from xiaming.generation.namer import Namer
from xiaming.style.attribution import StyleJudge

NAMES = ["令狐冲", "张无忌", "萧峰", "王语嫣"]


@pytest.fixture(scope="module")
def jinyong():
    return Namer.load("jinyong")


def test_the_shipped_wuxia_models_carry_the_blend_the_panel_chose():
    assert read_checkpoint(Namer.load("jinyong", blend=0).path).blend.to_dict() == {"model": "base", "weight": 0.35}
    assert read_checkpoint(Namer.load("liangyusheng", blend=0).path).blend.weight == 0.35
    assert Namer.load("gulong").blend is None  # panel 8 rated Gu Long's blended names no better


def test_a_blend_scores_each_character_by_the_weighted_mixture(jinyong):
    own, base = Namer.load("jinyong", blend=0), Namer.load("base")
    assert jinyong.blend.model == "base" and jinyong.blend.weight == 0.35 and own.blend is None
    for mixed, a, b in zip(jinyong.score(NAMES), own.score(NAMES), base.score(NAMES)):
        want = 0.65 * np.exp(a.char_log_probs) + 0.35 * np.exp(b.char_log_probs)
        np.testing.assert_allclose(np.exp(mixed.char_log_probs), want, rtol=2e-4, atol=1e-6)


def test_weight_zero_is_the_model_alone_and_another_weight_moves_it(jinyong):
    own = jinyong.blended(0)
    assert own is jinyong.unblended and own.blend is None and own.vocab == own.unblended.vocab
    heavier = jinyong.blended(0.8)
    assert heavier.blend.weight == 0.8 and heavier.card_blend == jinyong.card_blend
    names = own.generate(30, seed=5).names
    # the more of the base, the closer the scores come to the base's own
    base = Namer.load("base").score(names)
    gap = [
        np.mean([abs(m.log_prob - b.log_prob) for m, b in zip(n.score(names), base)]) for n in (own, jinyong, heavier)
    ]
    assert gap[0] > gap[1] > gap[2]


def test_a_checkpoint_without_a_blend_is_blended_with_base_on_request():
    gulong = Namer.load("gulong", blend=0.2)
    assert gulong.blend.model == "base" and gulong.card_blend is None


@pytest.mark.parametrize("weight", [1, 1.5, -0.1, float("nan"), "0.3"])
def test_a_weight_outside_0_to_1_is_a_config_error(weight):
    with pytest.raises(ConfigError) as info:
        Namer.load("gulong", blend=weight)
    assert info.value.field == "blend"


def test_base_cannot_be_blended_with_itself():
    with pytest.raises(ConfigError, match="cannot be blended with itself"):
        Namer.load("base", blend=0.3)


@pytest.mark.parametrize(
    "blend, field",
    [
        ({"model": "nowhere", "weight": 0.3}, "blend.model"),
        ({"model": "../../etc/passwd", "weight": 0.3}, "blend.model"),
        ({"model": "base", "weight": 1.0}, "blend.weight"),
        ({"model": "base", "weight": "0.3"}, "blend.weight"),
        ({"model": "base"}, "blend.weight"),
        ([1], "blend"),
    ],
)
def test_a_damaged_blend_is_refused_naming_the_field(tmp_path, blend, field):
    path = with_metadata(small_checkpoint(tmp_path / "m.safetensors"), tmp_path / "b.safetensors", "blend", blend)
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(path)
    assert info.value.field == field and "\n" not in str(info.value)


def test_explain_shows_the_models_own_gates_under_a_blend(jinyong):
    blended, own = jinyong.explain("令狐冲"), jinyong.unblended.explain("令狐冲")
    assert blended.gates == own.gates and blended.gates  # the LSTM's gates, whatever it is mixed with
    assert blended.bits_per_char != own.bits_per_char  # the probabilities are the blend's


def test_attribution_judges_the_authors_model_alone(jinyong):
    judge = StyleJudge.load([jinyong, "gulong"])
    assert judge.namers["jinyong"].blend is None
    assert judge.who(["令狐冲"])[0].best == "jinyong"


def test_the_cli_blend_flag(capsys):
    code, out, err = run_cli(capsys, "generate", "-n", "5", "--seed", "3", "--blend", "0")
    alone = Namer.load("jinyong", blend=0).generate(5, seed=3).names
    assert code == 0 and out.split() == alone
    code, out, err = run_cli(capsys, "generate", "-n", "5", "--seed", "3")
    assert code == 0 and out.split() == Namer.load("jinyong").generate(5, seed=3).names != alone
    code, out, err = run_cli(capsys, "generate", "-n", "5", "--blend", "1")
    assert code == 1 and err.strip().startswith("xiaming generate: error: --blend 1.0: must be at least 0") and not out
    code, out, err = run_cli(capsys, "generate", "--style", "jinyong=0.5,gulong=0.5", "--blend", "0.2")
    assert code == 1 and "--blend 0.2: applies to one model" in err


def test_epithets_come_from_the_model_alone(jinyong):
    """The base never saw an epithet: blended, the model's epithets read as plain personal names. So
    epithets, composed or the model's own, and the model's own mix of both kinds come from the model
    alone; composed mixes (`kind any`) take their personal names from the blend, as `kind name` does."""
    for kind, compose in (("epithet", None), ("epithet", False), ("any", False)):
        options = jinyong.options(kind=kind)
        alone = jinyong.unblended.generate(6, options, seed=2, compose=compose).names
        assert jinyong.generate(6, options, seed=2, compose=compose).names == alone
        assert jinyong.best(3, options).names == jinyong.unblended.best(3, options).names
    names = jinyong.options(kind="name")
    assert jinyong.generate(6, names, seed=2).names != jinyong.unblended.generate(6, names, seed=2).names
    mixed = jinyong.options(kind="any")
    assert jinyong.generate(20, mixed, seed=2).names != jinyong.unblended.generate(20, mixed, seed=2).names


def test_a_model_without_name_kinds_is_blended_on_request(tiny_lstm):
    """A list of one kind is all personal names: `--blend` applies to everything it generates."""
    alone = Namer.load(tiny_lstm[0])
    mixed = Namer.load(tiny_lstm[0], blend=0.5)
    assert alone.blend is None and mixed.blend.model == "base"
    names = mixed.generate(40, seed=1, novelty="off").names
    assert names != alone.generate(40, seed=1, novelty="off").names
    assert any("\u4e00" <= c <= "\u9fff" for n in names for c in n)  # the base's characters come in


def test_verbose_says_what_the_names_are_drawn_from(jinyong):
    assert jinyong.describe_sampling(jinyong.options()).endswith("kind name, blended with base 0.35 (model default)")
    assert "blended" not in jinyong.describe_sampling(jinyong.options(kind="epithet"))  # the model alone
    assert jinyong.blended(0.5).describe_sampling(jinyong.options()).endswith("blended with base 0.5")
