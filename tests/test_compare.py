"""Tests of benchmarks/compare.py: the folds, the per-kind flags, and a tiny run end to end."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "compare.py"
spec = importlib.util.spec_from_file_location("compare", SCRIPT)
compare = importlib.util.module_from_spec(spec)
sys.modules["compare"] = compare  # dataclasses look their module up while the script loads
spec.loader.exec_module(compare)

NAMES = [
    "令狐冲",
    "岳灵珊",
    "任盈盈",
    "林平之",
    "田伯光",
    "东方不败",
    "仪琳",
    "向问天",
    "风清扬",
    "岳不群",
    "杨过",
    "小龙女",
    "郭靖",
    "黄蓉",
    "张无忌",
    "赵敏",
    "周芷若",
    "段誉",
    "萧峰",
    "虚竹",
]


def test_kfold_tests_every_name_once():
    folds = compare.kfold(NAMES, 3, seed=1)
    tested = [n for _, test in folds for n in test]
    assert sorted(tested) == sorted(NAMES)
    for train, test in folds:
        assert not set(train) & set(test) and len(train) + len(test) == len(NAMES)
    assert folds == compare.kfold(NAMES, 3, seed=1) and folds != compare.kfold(NAMES, 3, seed=2)


def test_flags_override_the_defaults():
    args = compare.parse_args(
        [
            "--corpus",
            "x",
            "--lr",
            "lstm=1e-3",
            "--size",
            "gru=medium,rnn=tiny",
            "--shape",
            "lstm:n_hidden=64;tie_weights=false",
            "--batch-size",
            "transformer=16",
        ]
    )
    small = compare.settings(args, ["lstm", "gru", "rnn", "transformer", "ngram"], n_chars=1000)
    assert small["lstm"].lr == 1e-3 and small["lstm"].shape == {"tie_weights": False, "n_hidden": 64}
    assert small["gru"].size == "medium" and small["rnn"].size == "tiny"
    assert small["transformer"].batch_size == 16
    assert small["ngram"] == compare.Setting()  # registry defaults
    large = compare.settings(args, ["gru"], n_chars=10**6)
    assert large["gru"].shape == compare.LARGE_LISTS["gru"].shape
    with pytest.raises(SystemExit):
        compare.settings(compare.parse_args(["--corpus", "x", "--lr", "nosuch=1"]), ["lstm"], 1000)


def test_end_to_end_tiny(tmp_path, capsys):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(NAMES) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code = compare.main(
        [
            "--corpus",
            str(names),
            "--folds",
            "2",
            "--budget",
            "5",
            "--models",
            "ngram,lstm",
            "--size",
            "lstm=tiny",
            "--max-steps",
            "6",
            "--evals",
            "3",
            "--samples",
            "20",
            "--reach",
            "99",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "ngram" in text and "lstm" in text and "bits/char" in text and "±" in text
    assert "first at or below 99.0 nats: ngram" in text
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    runs = results["runs"]
    assert [(r["kind"], r["fold"]) for r in runs] == [
        ("ngram", "fold1"),
        ("ngram", "fold2"),
        ("lstm", "fold1"),
        ("lstm", "fold2"),
    ]
    for r in runs:
        assert (
            0 < r["test_nats"] < 20
            and r["curve"]
            and r["test_bits"] == pytest.approx(r["test_nats"] / 0.6931471805599453)
        )
    assert all(r["steps"] == 6 for r in runs if r["kind"] == "lstm")
    assert "detect" in text and all(r["detect"] is None or 0 <= r["detect"] <= 1 for r in runs)


def test_init_adds_a_fine_tuned_row(tmp_path, capsys, tiny_lstm):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(NAMES) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code = compare.main(
        [
            "--corpus",
            str(names),
            "--folds",
            "2",
            "--budget",
            "5",
            "--models",
            "lstm",
            "--size",
            "lstm=tiny",
            "--max-steps",
            "4",
            "--evals",
            "2",
            "--samples",
            "10",
            "--init",
            tiny_lstm[0],
            "--out",
            str(out),
        ]
    )
    assert code == 0 and "finetuned" in capsys.readouterr().out
    runs = json.loads((out / "results.json").read_text(encoding="utf-8"))["runs"]
    tuned = [r for r in runs if r["kind"] == "finetuned"]
    assert len(tuned) == 2 and all(r["setting"]["init"] == tiny_lstm[0] for r in tuned)
    # its vocabulary is the union of the base's characters and the list's: more rows than the list alone
    assert tuned[0]["parameters"] > [r for r in runs if r["kind"] == "lstm"][0]["parameters"]


def test_several_inits_give_one_row_each(tmp_path, capsys, tiny_lstm):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(NAMES) + "\n", encoding="utf-8")
    other = tmp_path / "other.safetensors"
    other.write_bytes(Path(tiny_lstm[0]).read_bytes())
    out = tmp_path / "out"
    code = compare.main(
        [
            "--corpus",
            str(names),
            "--folds",
            "2",
            "--budget",
            "5",
            "--models",
            "lstm",
            "--size",
            "lstm=tiny",
            "--max-steps",
            "2",
            "--evals",
            "1",
            "--samples",
            "5",
            "--no-realism",
            "--init",
            tiny_lstm[0],
            "--init",
            str(other),
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0 and "finetuned:tiny" in text and "finetuned:other" in text
    assert f"{names.stem}, 2-fold cross-validation" in text  # the data's label, not a row's
    runs = json.loads((out / "results.json").read_text(encoding="utf-8"))["runs"]
    assert {r["kind"] for r in runs} == {"lstm", "finetuned:tiny", "finetuned:other"}
    assert [r["setting"]["init"] for r in runs if r["kind"] == "finetuned:other"] == [str(other)] * 2


def test_wuxia_stage_of_each_fold_leaves_out_exactly_that_folds_test_and_validation_names(
    tmp_path, capsys, monkeypatch, tiny_lstm
):
    """--stage wuxia: per fold, --init is fine-tuned on every name of the three wuxia lists except the
    fold's test names (the folds are the benchmark's own) and the names the fold's run then validates
    on (as train() itself splits them), and the fold's model from that stage model."""
    from dataclasses import replace

    from xiaming import corpora
    from xiaming.training import sources

    calls, validated = [], []
    real_train, real_split = compare.train, sources.split

    def short_train(data, kind, out, config, **kw):  # records each run, trains a few steps
        calls.append((list(data.names), Path(out), kw["init"]))
        return real_train(data, kind, out, replace(config, max_steps=2, eval_interval=2), **kw)

    def recorded_split(names, val_fraction, seed):  # the validation names train() really uses
        train_names, val = real_split(names, val_fraction, seed)
        validated.append(val)
        return train_names, val

    monkeypatch.setattr(compare, "train", short_train)
    monkeypatch.setattr(sources, "split", recorded_split)
    code = compare.main(
        [
            "--corpus",
            "jinyong",
            "--folds",
            "5",
            "--max-steps",
            "2",
            "--evals",
            "1",
            "--models",
            "",
            "--samples",
            "5",
            "--no-realism",
            "--no-curve",
            "--init",
            tiny_lstm[0],
            "--stage",
            "wuxia",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0 and "finetuned+wuxia" in capsys.readouterr().out
    wuxia = set().union(*(corpora.load(c) for c in ("jinyong", "gulong", "liangyusheng")))
    folds = compare.kfold(corpora.load("jinyong"), 5, seed=0)
    assert len(calls) == len(validated) == 10  # per fold: the stage, then the list
    for (training, test), stage, tuned, val in zip(folds, calls[0::2], calls[1::2], validated[1::2]):
        staged, stage_out, stage_init = stage
        assert stage_init == tiny_lstm[0] and stage_out.name.startswith("stage-wuxia-")
        assert val and set(val) <= set(training) and not set(staged) & (set(test) | set(val))
        assert set(staged) == wuxia - set(test) - set(val) and len(staged) == len(set(staged))
        assert tuned[0] == training and tuned[2] == stage_out  # the fold's names, from the fold's stage model
    assert len({c[1] for c in calls[0::2]}) == 5  # one stage model per fold
    runs = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["runs"]
    assert [r["setting"]["stage"] for r in runs] == ["wuxia"] * 5


def test_stage_needs_a_corpus_and_an_init():
    with pytest.raises(SystemExit):
        compare.parse_args(["--corpus", "jinyong", "--stage", "wuxia"])
    with pytest.raises(SystemExit):
        compare.parse_args(["--train", "a.txt", "--test", "b.txt", "--init", "base", "--stage", "wuxia"])
