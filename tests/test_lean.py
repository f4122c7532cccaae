"""The word lean (`generation/lean.py`): given names that are words no person bore as a name, as the lists have."""

import json

import numpy as np
import pytest
from conftest import run_cli as run

from xiaming.data.vocab import BOUNDARY, Vocab
from xiaming.errors import ConfigError
from xiaming.evidence.lexicon import shipped_lexicon
from xiaming.generation.constraints import SampleOptions
from xiaming.generation.lean import lean_for
from xiaming.generation.namer import Namer

VOCAB = Vocab(tuple("张欧阳寻欢吹雪风无忌林安仁"))


def ids(text: str) -> list[int]:
    return [VOCAB.id(c) for c in text]


def unattested_word(given: str) -> bool:
    """Whether `given` (two characters) is a dictionary word that no historical given name is."""
    lex = shipped_lexicon()
    a, b = (np.array([i]) for i in lex.ids(given))
    return bool(lex.word_pos(a, b)[0] >= 0 and lex.pair_table("given_pair_keys", a, b)[0] == 0)


def test_the_table_holds_the_words_no_person_bore_as_a_name():
    lean = lean_for(VOCAB, 4.0)
    assert unattested_word("寻欢") and unattested_word("吹雪")  # the lexicon's facts the test rests on
    assert VOCAB.id("欢") in lean.follow(VOCAB.id("寻")) and VOCAB.id("雪") in lean.follow(VOCAB.id("吹"))
    assert VOCAB.id("忌") not in lean.follow(VOCAB.id("无"))  # 无忌 is no dictionary word
    lex = shipped_lexicon()
    a, b = (np.array([i]) for i in lex.ids("安仁"))
    assert lex.word_pos(a, b)[0] >= 0 and lex.pair_table("given_pair_keys", a, b)[0] > 0  # a word people bore
    assert VOCAB.id("仁") not in lean.follow(VOCAB.id("安"))  # so the lean leaves it to the model
    assert len(lean.follow(VOCAB.id("林"))) == 0
    assert lean_for(VOCAB, 1.0) is None and lean_for(VOCAB, None) is None  # 1 and None: off


def test_it_finds_the_given_names_first_character_after_one_or_two_character_surnames():
    lean = lean_for(VOCAB, 4.0)
    two = np.array([ids("张寻"), ids("欧阳")])
    assert lean.given_first(two).tolist() == [VOCAB.id("寻"), -1]  # 欧阳 is a surname, not 欧 + a given name
    three = np.array([ids("欧阳寻"), ids("张寻欢")])
    assert lean.given_first(three).tolist() == [VOCAB.id("寻"), -1]  # 张寻欢's given name is complete
    assert lean.given_first(np.array([ids("张")])).tolist() == [-1]


def test_word_characters_gain_alpha_among_those_that_go_on_and_the_end_keeps_its_chance():
    lean = lean_for(VOCAB, 4.0)
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, VOCAB.size)).astype(np.float32)
    out = lean.apply(logits, np.array([ids("张寻"), ids("张林")]))
    p, q = (np.exp(z - np.log(np.exp(z).sum(axis=1, keepdims=True))) for z in (logits.astype(np.float64), out))
    assert q.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert q[:, BOUNDARY] == pytest.approx(p[:, BOUNDARY], rel=1e-5)  # lengths are not moved
    word, other = VOCAB.id("欢"), VOCAB.id("林")
    assert q[0, word] / q[0, other] == pytest.approx(4.0 * p[0, word] / p[0, other], rel=1e-4)
    assert q[1] == pytest.approx(p[1], rel=1e-5)  # after 张林 no character makes such a word: untouched
    assert logits is not out and np.isfinite(out).all()


@pytest.mark.parametrize("alpha", [0.5, 0, 101, float("nan"), float("inf"), True])
def test_a_strength_out_of_range_is_refused_naming_word_lean(alpha):
    with pytest.raises(ConfigError) as err:
        SampleOptions(word_lean=alpha).validate_ranges()
    assert err.value.field == "word_lean"


def test_the_cli_refuses_a_bad_strength_in_one_line(capsys):
    code, out, err = run(capsys, "generate", "gulong", "--word-lean", "0.5")
    assert code != 0 and "word-lean" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def lean_share(names: list[str]) -> float:
    """The share of three-character names whose given name is a word no person bore as a name."""
    three = [n for n in names if len(n) == 3]
    return sum(unattested_word(n[1:]) for n in three) / len(three)


def test_the_lean_draws_such_given_names_more_often_and_scores_stay_the_models():
    namer = Namer.load("gulong")
    plain = namer.generate(600, namer.options(word_lean=1.0), seed=4)
    leaned = namer.generate(600, namer.options(word_lean=6.0), seed=4)
    assert lean_share(leaned.names) > 1.5 * lean_share(plain.names)
    scored = {s.name: s.log_prob for s in namer.score(leaned.names[:40], context=namer.options().hidden_prefix)}
    for item in leaned.items[:40]:
        assert item.log_prob == pytest.approx(scored[item.name], abs=1e-3)


def test_gu_longs_model_leans_by_default_and_says_so(capsys):
    code, out, err = run(capsys, "generate", "gulong", "-n", "5", "--seed", "1", "--verbose")
    assert code == 0 and "word-lean 3.0 (model default)" in err
    assert Namer.load("jinyong").options().word_lean is None  # Jin Yong's readers marked the lean's words down
    gulong = Namer.load("gulong")
    assert gulong.options(kind="epithet").word_lean is None  # an epithet has no given name to lean
    assert gulong.options(kind="epithet", word_lean=2.0).word_lean == 2.0  # unless asked
    code, out, _ = run(capsys, "generate", "gulong", "-n", "3", "--seed", "1", "--json", "--word-lean", "1")
    assert code == 0 and json.loads(out)["sampling"]["word_lean"] == 1.0
