"""The guessing game (`xiaming.style.quiz`, `xiaming quiz`), played through a pipe.

The seed fixes every round, so the test builds the rounds itself (`make_rounds`) and answers the
command's questions with the right answers, the wrong ones, junk, or nothing at all.
"""

from __future__ import annotations

import io
import sys

import pytest

from xiaming import corpora
from xiaming.cli import main
from xiaming.errors import ConfigError
from xiaming.style.quiz import TRIES, make_rounds, parse_answer, play


def _play_cli(monkeypatch, capsys, answers: list[str], *flags: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(a + "\n" for a in answers)))
    code = main(["quiz", *flags])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("mode", ["author", "real"])
def test_right_answers_score_full_marks_and_wrong_ones_none(monkeypatch, capsys, mode):
    rounds = make_rounds(mode, 4, seed=7)
    right = [str(r.answer + 1) for r in rounds]
    wrong = [str((r.answer + 1) % len(r.choices) + 1) for r in rounds]  # another choice
    code, out = _play_cli(monkeypatch, capsys, right, "--mode", mode, "--rounds", "4", "--seed", "7")
    assert code == 0 and out.count("  right: ") == 4 and out.rstrip().endswith("score: 4/4")
    for r in rounds:
        assert "  ".join(r.names) in out or all(n in out for n in r.names)
    code, out = _play_cli(monkeypatch, capsys, wrong, "--mode", mode, "--rounds", "4", "--seed", "7")
    assert code == 0 and out.count("  wrong: ") == 4 and out.rstrip().endswith("score: 0/4")


def test_author_answers_by_name_and_in_chinese(monkeypatch, capsys):
    rounds = make_rounds("author", 3, seed=11)
    spelled = {
        "jinyong": ["jinyong", "金庸", "J"],
        "gulong": ["gulong", "古龙", "G"],
        "liangyusheng": ["liangyusheng", "梁羽生", "L"],
    }
    answers = [spelled[r.style][i] for i, r in enumerate(rounds)]
    code, out = _play_cli(monkeypatch, capsys, answers, "--rounds", "3", "--seed", "11")
    assert code == 0 and out.rstrip().endswith("score: 3/3")
    assert "xiaming who:" in out


def test_the_author_game_is_over_the_three_authors_or_any_two(monkeypatch, capsys):
    rounds = make_rounds("author", 6, seed=4)
    assert {r.choices for r in rounds} == {("jinyong", "gulong", "liangyusheng")}
    assert {r.style for r in rounds} <= {"jinyong", "gulong", "liangyusheng"}
    pair = make_rounds("author", 4, seed=4, models=["gulong", "liangyusheng"])
    assert {r.choices for r in pair} == {("gulong", "liangyusheng")}
    answers = [str(r.answer + 1) for r in pair]
    code, out = _play_cli(
        monkeypatch, capsys, answers, "--rounds", "4", "--seed", "4", "--models", "gulong,liangyusheng"
    )
    assert code == 0 and out.rstrip().endswith("score: 4/4")
    assert "3) " not in out and "Liang Yusheng (梁羽生)" in out


def test_real_mode_pairs_a_list_name_with_an_invented_one():
    rounds = make_rounds("real", 6, seed=3)
    for r in rounds:
        real, invented = r.names[r.answer], r.names[1 - r.answer]
        assert real in corpora.load(r.style, kinds=["name"]) and invented not in corpora.load(r.style)


def test_bad_answers_are_asked_again_then_counted_wrong(monkeypatch, capsys):
    rounds = make_rounds("author", 2, seed=5)
    answers = ["maybe", str(rounds[0].answer + 1)] + ["?"] * TRIES
    code, out = _play_cli(monkeypatch, capsys, answers, "--rounds", "2", "--seed", "5")
    assert code == 0
    assert "'maybe' is not one of the choices" in out and "counted wrong" in out
    assert out.rstrip().endswith("score: 1/2")


def test_end_of_input_stops_with_the_score_so_far(monkeypatch, capsys):
    rounds = make_rounds("author", 5, seed=2)
    code, out = _play_cli(monkeypatch, capsys, [str(rounds[0].answer + 1)], "--rounds", "5", "--seed", "2")
    assert code == 0 and "round 2/5" in out and "round 3/5" not in out
    assert out.rstrip().endswith("score so far: 1/1")


def test_same_seed_same_game_and_bad_flags(capsys):
    assert make_rounds("real", 3, seed=9) == make_rounds("real", 3, seed=9)
    with pytest.raises(ConfigError, match="^mode "):
        make_rounds("colour", 3, seed=1)
    assert main(["quiz", "--rounds", "0"]) == 1
    assert "--rounds" in capsys.readouterr().err
    assert main(["quiz", "--mode", "colour"]) in (1, 2)


def test_parse_answer():
    choices = ("jinyong", "gulong")
    assert [parse_answer(t, choices) for t in ("1", "2", "j", "Gu Long", "金庸", "古龙 ")] == [0, 1, 0, 1, 0, 1]
    assert [parse_answer(t, choices) for t in ("0", "3", "", "x", "long")] == [None] * 5
    three = ("jinyong", "gulong", "liangyusheng")
    assert [parse_answer(t, three) for t in ("3", "梁羽生", "Liang Yusheng", "l", "liang")] == [2] * 5
    assert parse_answer("4", three) is None
    assert parse_answer("令狐冲", ("张三丰", "令狐冲")) == 1


def test_play_counts_only_answered_rounds():
    rounds = make_rounds("author", 2, seed=1)
    out = io.StringIO()
    score = play(rounds, "author", io.StringIO(""), out)
    assert (score.right, score.answered, score.ended_early) == (0, 0, True)
    assert "score so far: 0/0" in out.getvalue()
