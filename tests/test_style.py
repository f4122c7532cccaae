"""Attribution (`xiaming.style.attribution`) and style mixing (`xiaming.style.mix`).

Two made-up languages that share no letter make attribution's answer known by construction: a
name in one language's letters can only be that style's. Mixing is checked against the pure
models it mixes: weights 1 and 0 must give exactly the first model's probabilities, and any
weights their weighted average.
"""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from xiaming import TrainConfig, train
from xiaming.cli import main
from xiaming.data.corpus import NameList
from xiaming.data.vocab import BOUNDARY, UNKNOWN
from xiaming.errors import CheckpointError, ConfigError
from xiaming.generation.namer import Namer
from xiaming.generation.score import UnknownShares
from xiaming.style.attribution import (
    Calibration,
    NgramStyles,
    StyleJudge,
    name_features,
    parse_weights,
    shipped_calibration,
    who,
)
from xiaming.style.build import fit_calibration

QUIET = dict(log=lambda _m: None, progress_bar=False, device="cpu")


def language(consonants: str, vowels: str, count: int, seed: int) -> list[str]:
    """Distinct names of 2-3 consonant-vowel syllables over the given letters."""
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < count:
        names["".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.choice((2, 3))))] = None
    return list(names)


@pytest.fixture(scope="module")
def two_styles(tmp_path_factory):
    """Two n-gram models (trained by counting, in milliseconds) on languages with no letter in common."""
    folder = tmp_path_factory.mktemp("styles")
    lists = {"east": language("bdgk", "ae", 200, 1), "west": language("mnpt", "iou", 200, 2)}
    paths = {}
    for style, names in lists.items():
        paths[style] = str(folder / f"{style}.safetensors")
        train(NameList(names, f"made-up {style}"), "ngram", paths[style], TrainConfig(seed=0), **QUIET)
    return paths, lists


def test_names_in_one_style_s_letters_are_attributed_to_it(two_styles):
    paths, lists = two_styles
    east_new, west_new = "gakabe", "mitopu"  # unseen names in each language's letters
    assert east_new not in lists["east"] and west_new not in lists["west"]
    for calibration in (Calibration(), Calibration(0.5, 0.5, 0.5, {})):
        found = who([east_new, west_new], [paths["east"], paths["west"]], calibration)
        assert [a.best for a in found] == ["east", "west"]
        assert found[0].probs["east"] > 0.99 and found[1].probs["west"] > 0.99
        assert math.isclose(sum(found[0].probs.values()), 1.0)
        pulls = found[0].pulls(limit=10)
        assert [
            a.best for a in who([east_new], [Namer.load(paths["east"]), Namer.load(paths["west"])], calibration)
        ] == ["east"]
        assert {c for c, _ in pulls["east"]} == set(east_new) and not pulls["west"]


def test_who_says_which_list_holds_a_name(two_styles, capsys):
    paths, lists = two_styles
    judge = StyleJudge.load([paths["east"], paths["west"]])
    known, new = lists["west"][0], "gakabe"
    assert judge.listed(known) == ["west"] and judge.listed(new) == []
    assert main(["who", known, new, "--models", f"{paths['east']},{paths['west']}"]) == 0
    out = capsys.readouterr().out
    assert out.count("a character of the west list") == 1 and "east list" not in out


def test_evidence_adds_up_to_the_log_odds(two_styles):
    paths, _ = two_styles
    calibration = Calibration(0.7, 0.4, 0.5, {"east": 0.3, "west": -0.3})
    (a,) = who(["gamito"], [paths["east"], paths["west"]], calibration)  # half one language, half the other
    diff = sum(pull["east"] - pull["west"] for _, pull in a.evidence) + 0.6
    assert math.isclose(math.log(a.probs["east"] / a.probs["west"]), diff, rel_tol=1e-6, abs_tol=1e-6)
    chars = [c for c, _ in a.evidence]
    assert chars == [*"gamito", ""]
    by_char = dict(a.evidence)
    assert by_char["g"]["east"] > by_char["g"]["west"] and by_char["t"]["west"] > by_char["t"]["east"]


def test_ngram_view_counts_each_feature_once_and_knows_the_boundaries():
    assert name_features("abc") == [["a", "\x00a"], ["b", "ab"], ["c", "bc"], ["c\x00"]]
    counts = NgramStyles({"x": ["aa", "ab"], "y": ["bb"]}, alpha=1.0)
    once = counts.contributions("aa")
    assert once.shape == (3, 2)
    # "a" is counted once in "aa": the second a adds only the bigram aa
    assert once[1, 0] == pytest.approx(counts.log_theta[0, counts.index["aa"]])


def test_fit_calibration_recovers_the_weights_it_was_drawn_from():
    rng = np.random.default_rng(0)
    n, styles = 4000, ["a", "b", "c"]
    neural, ngram = rng.normal(size=(n, 3)) * 2, rng.normal(size=(n, 3)) * 2
    truth = (0.8, 0.3, {"a": 0.5, "b": -0.2, "c": -0.3})
    z = truth[0] * neural + truth[1] * ngram + np.array(list(truth[2].values()))
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    labels = np.array([rng.choice(3, p=row) for row in p])
    cal = fit_calibration(neural, ngram, labels, styles, alpha=0.5, ridge=0.0, balanced=False)
    assert cal.neural == pytest.approx(0.8, abs=0.08) and cal.ngram == pytest.approx(0.3, abs=0.08)
    assert [cal.bias[s] for s in styles] == pytest.approx([0.5, -0.2, -0.3], abs=0.12)  # centred, as drawn
    balanced = fit_calibration(neural, ngram, labels, styles, alpha=0.5, ridge=0.0)
    assert balanced.neural == pytest.approx(0.8, abs=0.08)  # reweighting styles moves the biases, not the weights


def test_calibration_round_trip_and_foreign_files(tmp_path, two_styles):
    cal = Calibration(0.4, 0.6, 0.5, {"jinyong": 0.1, "gulong": -0.1}, {"folds": 5})
    cal.save(tmp_path / "style.safetensors")
    assert Calibration.load(tmp_path / "style.safetensors") == cal
    with pytest.raises(CheckpointError):
        Calibration.load(two_styles[0]["east"])  # a model, not a calibration
    (tmp_path / "junk.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError):
        Calibration.load(tmp_path / "junk.safetensors")


def test_shipped_calibration_weighs_both_views():
    cal = shipped_calibration()
    assert cal.neural > 0 and cal.ngram > 0 and set(cal.bias) == {"jinyong", "gulong", "liangyusheng"}


def test_model_without_a_list_falls_back_to_the_likelihood_ratio(two_styles, tmp_path):
    paths, _ = two_styles
    east = Namer.load(paths["east"])
    bare = Namer(east.engine, east.vocab, [], east.train)
    judge = StyleJudge({"east": bare, "west": Namer.load(paths["west"])}, Calibration(0.2, 0.9, 0.5, {}))
    assert judge.calibration.neural == 1.0 and judge.calibration.ngram == 0.0
    assert judge.who(["gabe"])[0].best == "east"


def test_parse_weights():
    assert parse_weights("jinyong=0.7,gulong=0.3") == pytest.approx({"jinyong": 0.7, "gulong": 0.3})
    assert parse_weights("a=1,b=3") == pytest.approx({"a": 0.25, "b": 0.75})
    for bad in ("jinyong", "a=x", "a=-1,b=2", "a=0,b=0", "a=1,a=2", "a=nan"):
        with pytest.raises(ConfigError, match="^style "):
            parse_weights(bad)


def test_who_needs_two_models_and_nonempty_names(two_styles):
    paths, _ = two_styles
    with pytest.raises(ConfigError, match="at least two"):
        who(["gabe"], [paths["east"]])
    with pytest.raises(ConfigError, match="empty"):
        who(["  "], [paths["east"], paths["west"]])
    # a name no model can read is refused by name (before, "abc" got 49% / 29% / 22% from the lengths and
    # biases alone); one known character is enough to weigh it
    with pytest.raises(ConfigError) as refused:
        who(["gabe", "xyz"], [paths["east"], paths["west"]])
    assert (refused.value.field, refused.value.value) == ("names", "xyz")
    assert str(refused.value) == "names 'xyz': none of its characters is known to any of the models"
    assert who(["gxz"], [paths["east"], paths["west"]])[0].best == "east"


def test_who_command(capsys, two_styles):
    paths, _ = two_styles
    assert main(["who", "gakabe", "mitopu", "--models", f"{paths['east']},{paths['west']}", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [row["best"] for row in out["names"]] == ["east", "west"]
    assert main(["who", "gakabe", "--models", paths["east"]]) == 1
    assert "--models" in capsys.readouterr().err


def test_who_is_over_the_three_authors_by_default_or_any_two(capsys):
    three = ["jinyong", "gulong", "liangyusheng"]
    for a in who(["金世遗", "令狐冲", "陆小凤"]):
        assert list(a.probs) == three and sum(a.probs.values()) == pytest.approx(1.0)
    for pair in (three[:2], three[1:], three[::2]):
        (a,) = who(["张丹枫"], pair)
        assert list(a.probs) == pair and sum(a.probs.values()) == pytest.approx(1.0)
    assert main(["who", "金世遗", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["names"]
    assert list(row["probs"]) == three and row["in_lists"] == ["liangyusheng"]


# --- mixing ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    return {m: Namer.load(m) for m in ("jinyong", "gulong")}


def _next_probs(namer, text: str) -> dict[str, float]:
    """The next-character distribution after reading `text`, by character ('' for the end)."""
    engine = namer.engine
    state = engine.initial_state(1)
    for i in [BOUNDARY, *namer.vocab.encode(text)]:
        logits, state = engine.step(np.array([i], dtype=np.int64), state)
    p = np.exp(logits[0].astype(np.float64) - logits[0].max())
    p /= p.sum()
    return {
        ("" if i == BOUNDARY else "<unk>" if i == UNKNOWN else namer.vocab.texts[i]): float(p[i]) for i in range(len(p))
    }


def test_mixing_weights_one_and_zero_give_the_pure_models(shipped):
    from xiaming.style.mix import mixed_namer

    names = ["令狐冲", "西门吹雪", "陆小凤", "郭靖"]
    for pure, other in (("jinyong", "gulong"), ("gulong", "jinyong")):
        mixed = mixed_namer({pure: 1.0, other: 0.0}, shipped)
        want = [s.log_prob for s in shipped[pure].score(names)]
        got = [s.log_prob for s in mixed.score(names)]
        assert got == pytest.approx(want, abs=1e-3)
        p_mix, p_pure = _next_probs(mixed, "令狐"), _next_probs(shipped[pure], "令狐")
        assert max(abs(p_mix[c] - p) for c, p in p_pure.items() if c != "<unk>") < 1e-5
        # the pure model's unknown mass is spread over the characters only the other model knows, and the rest
        missing = set(p_mix) - set(p_pure)
        assert p_mix["<unk>"] + sum(p_mix[c] for c in missing) == pytest.approx(p_pure["<unk>"], rel=1e-4)


def test_mixing_averages_the_next_character_distributions(shipped):
    from xiaming.generation.kinds import markers
    from xiaming.style.mix import mixed_namer

    mixed = mixed_namer({"jinyong": 0.7, "gulong": 0.3}, shipped)
    pj, pg, pm = (_next_probs(n, "西门") for n in (shipped["jinyong"], shipped["gulong"], mixed))
    # kind markers may not come inside a name, so the mixture is the weighted average without them,
    # renormalised: one common scale, at most a hair above 1
    marks = {m for n in shipped.values() for m in markers(n.train).values()}
    both = (set(pj) & set(pg)) - {"<unk>"} - marks
    top = max(both, key=lambda c: pj[c])
    scale = pm[top] / (0.7 * pj[top] + 0.3 * pg[top])
    assert 1 - 1e-6 < scale < 1.01
    assert max(abs(pm[c] - scale * (0.7 * pj[c] + 0.3 * pg[c])) for c in both) < 1e-5
    assert all(pm[m] == 0 for m in marks)
    # a character one model lacks gets that model's unknown probability times the character's share
    only_gulong = sorted(set(pg) - set(pj) - marks)
    assert only_gulong
    shares = UnknownShares(shipped["jinyong"].vocab)
    for c in only_gulong[:20]:
        want = 0.7 * pj["<unk>"] * math.exp(shares.log_share(c)) + 0.3 * pg[c]
        assert pm[c] == pytest.approx(scale * want, rel=1e-4)
    assert math.isclose(sum(pm.values()), 1.0, abs_tol=1e-4)


def test_mixed_namer_checks_novelty_against_every_list(shipped):
    from xiaming.style.mix import mixed_namer

    mixed = mixed_namer({"jinyong": 0.5, "gulong": 0.5}, shipped)
    assert set(shipped["jinyong"].names) | set(shipped["gulong"].names) <= set(mixed.names)
    assert mixed.default_novelty == "strict"
    result = mixed.generate(10, mixed.options(prefix="西门", min_len=3, max_len=4), seed=3)
    assert len(result.names) == 10 and all(n.startswith("西门") and 3 <= len(n) <= 4 for n in result.names)
    assert not set(result.names) & set(mixed.names)


def test_generate_style_flag_keeps_every_control(capsys):
    code = main(
        [
            "generate",
            "--style",
            "jinyong=0.7,gulong=0.3",
            "-n",
            "6",
            "--seed",
            "1",
            "--surname",
            "令狐",
            "--min-len",
            "3",
            "--max-len",
            "4",
            "--exclude",
            "冲",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["novelty"] == "strict" and out["model"] == "jinyong=0.7,gulong=0.3"
    names = [row["name"] for row in out["names"]]
    listed = set(Namer.load("jinyong").names) | set(Namer.load("gulong").names)
    assert len(names) == 6 and not set(names) & listed
    assert all(n.startswith("令狐") and 3 <= len(n) <= 4 and "冲" not in n for n in names)
    assert main(["generate", "--style", "jinyong=x", "-n", "2"]) == 1
    assert "--style" in capsys.readouterr().err
    assert main(["generate", "gulong", "--style", "jinyong=1", "-n", "2"]) == 1
    assert "--style: give --style or MODEL, not both" in capsys.readouterr().err


def test_generate_style_mixes_three_authors(capsys):
    code = main(["generate", "--style", "jinyong=1,gulong=1,liangyusheng=2", "-n", "6", "--seed", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["model"] == "jinyong=0.25,gulong=0.25,liangyusheng=0.5"
    names = [row["name"] for row in out["names"]]
    listed = set().union(*(Namer.load(m).names for m in ("jinyong", "gulong", "liangyusheng")))
    assert len(names) == 6 and not set(names) & listed


@pytest.fixture(scope="module")
def marked(two_styles, tmp_path_factory):
    """An n-gram model of the east language trained with name kinds (a quarter of it epithets)."""
    from xiaming.generation.kinds import encode, mark_checkpoint

    _, lists = two_styles
    entries = [(n, "name") for n in lists["east"][:150]] + [(n, "epithet") for n in lists["east"][150:]]
    path = tmp_path_factory.mktemp("kinds") / "marked.safetensors"
    train(NameList(encode(entries), "made-up kinds"), "ngram", path, TrainConfig(seed=0), **QUIET)
    mark_checkpoint(path)
    return path


def test_a_name_s_probability_counts_every_kind_reading(marked):
    from xiaming.generation.kinds import EPITHET_MARK
    from xiaming.style.attribution import neural_parts_of

    namer = Namer.load(marked)
    names = ["gabe", "kadaga"]
    parts = neural_parts_of(namer, names)
    first = namer.score([EPITHET_MARK])[0].char_log_probs[0]
    for name, p in zip(names, parts):
        plain = namer.score([name])[0].log_prob
        after = namer.score([name], context=EPITHET_MARK)[0].log_prob
        assert len(p) == len(name) + 1
        assert p.sum() == pytest.approx(np.logaddexp(plain, first + after), abs=1e-5)
        assert p.sum() > plain  # the epithet reading adds probability


def test_mixture_keeps_the_name_kinds_of_its_models(two_styles, marked):
    from xiaming.generation.kinds import EPITHET_MARK
    from xiaming.style.mix import mixed_namer

    paths, _ = two_styles
    mixed = mixed_namer({str(marked): 0.5, paths["west"]: 0.5})
    names = mixed.generate(40, mixed.options(kind="name"), seed=0, novelty="off").names
    assert len(names) == 40 and not any(EPITHET_MARK in n for n in names)
    epithets = mixed.generate(10, mixed.options(kind="epithet"), seed=0, novelty="off").names
    assert epithets and not any(EPITHET_MARK in n for n in epithets)


def test_cross_scores_starts_each_fold_from_a_checkpoint_made_without_the_names_it_scores(
    tmp_path, monkeypatch, tiny_lstm
):
    """A callable `init` (a training stage per fold) is asked once per fold with exactly the names that
    fold scores, of every list, and those its models validate on (as train() splits them); that
    fold's models start from what it returns."""
    from dataclasses import replace
    from pathlib import Path

    import xiaming
    from xiaming.style.build import assign_folds, cross_scores
    from xiaming.training import sources

    lists = {"east": language("bdgk", "ae", 30, 1), "west": language("mnpt", "iou", 30, 2)}
    asked, runs, validated = [], [], []

    def start(fold: int, unseen: set) -> Path:
        asked.append((fold, set(unseen)))
        path = tmp_path / f"start{fold}.safetensors"
        path.write_bytes(Path(tiny_lstm[0]).read_bytes())
        return path

    real_train, real_split = xiaming.train, sources.split

    def short(data, kind, out, config, **kw):  # records each fold model's run, trains two steps
        runs.append((Path(out).name, kw["init"], set(data.names)))
        return real_train(data, kind, out, replace(config, max_steps=2, eval_interval=2), **kw)

    def recorded_split(names, val_fraction, seed):  # the validation names train() really uses
        train_names, val = real_split(names, val_fraction, seed)
        validated.append(set(val))
        return train_names, val

    monkeypatch.setattr(xiaming, "train", short)
    monkeypatch.setattr(sources, "split", recorded_split)
    scores = cross_scores(lists, tmp_path, folds=3, seed=0, init=start, with_kinds=False, log=lambda _m: None)
    fold_of = assign_folds(lists, 3, 0)
    assert [f for f, _ in asked] == [0, 1, 2] and len(runs) == len(validated) == 6
    for f, unseen in asked:
        scored = {n for n, g in zip(scores.names, scores.folds) if g == f}
        assert scored == {n for s in lists for i, n in enumerate(lists[s]) if fold_of[s][i] == f}
        assert unseen == scored | validated[2 * f] | validated[2 * f + 1] and validated[2 * f]
    for (name, init, trained), val in zip(runs, validated):
        f = int(name.split("fold")[1].split(".")[0])
        assert init == tmp_path / f"start{f}.safetensors" and trained and not trained & (asked[f][1] - val)


def test_build_style_stage_of_a_fold_leaves_out_the_names_that_fold_scores(tmp_path, monkeypatch):
    import importlib.util
    from pathlib import Path

    from xiaming import corpora
    from xiaming.generation import kinds

    path = Path(__file__).resolve().parent.parent / "scripts" / "build_style.py"
    spec = importlib.util.spec_from_file_location("build_style", path)
    build_style = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_style)  # puts scripts/ on sys.path
    import build_pretrained

    runs = []
    monkeypatch.setattr(build_pretrained, "train", lambda data, kind, out, config, **kw: runs.append((data, out, kw)))
    held = set(corpora.load("jinyong")[::5]) | set(corpora.load("liangyusheng")[1::5])
    out = build_style.fold_stage("wuxia", tmp_path, seed=0)(3, held)
    ((data, written, kw),) = runs
    assert out == written == tmp_path / "wuxia-stage-fold3.safetensors" and kw["init"] == "base"
    wuxia = set().union(*(corpora.load(c) for c in ("jinyong", "gulong", "liangyusheng")))
    assert set(kinds.strip_all(data.names)) == wuxia - held


def test_attribution_panel_names_are_real_names_no_model_of_the_three_trained_on():
    import importlib.util
    from pathlib import Path

    from xiaming import corpora

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "attribution.py"
    spec = importlib.util.spec_from_file_location("attribution", path)
    attribution = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(attribution)
    namers = {s: Namer.load(s) for s in attribution.STYLES}
    names, labels = attribution.panel_names(namers)
    lists = [set(corpora.load(s)) for s in attribution.STYLES]
    assert len(names) > 300 and sorted(set(labels.tolist())) == [0, 1, 2]
    for name, k in zip(names, labels):
        assert name in lists[k] and sum(name in listed for listed in lists) == 1
        assert name in namers[attribution.STYLES[k]].train["panel_holdout"]["names"]
