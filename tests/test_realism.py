"""Tests of realism.py: the detectability measure can fail (a broken sampler is caught, two halves
of one list are not told apart), the features and variety figures by hand, and the name kinds."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from xiaming import corpora
from xiaming.errors import ConfigError
from xiaming.generation import kinds
from xiaming.generation.realism import (
    char_entropy,
    describe_telltales,
    detectability,
    foreign_share,
    name_features,
    variety,
)

pytest.importorskip("sklearn")


def halves(names: list[str], seed: int = 0) -> tuple[list[str], list[str]]:
    order = list(names)
    random.Random(seed).shuffle(order)
    return order[: len(order) // 2], order[len(order) // 2 :]


def uniform_names(chars: list[str], count: int, seed: int, lengths=(1, 7)) -> list[str]:
    """What a sampler that ignores its model draws: characters uniformly, lengths uniformly."""
    rng = random.Random(seed)
    return ["".join(rng.choice(chars) for _ in range(rng.randint(*lengths))) for _ in range(count)]


def test_features_by_hand():
    assert name_features("令狐冲") == ["c:令", "c:狐", "c:冲", "b:^令", "b:令狐", "b:狐冲", "b:冲$", "len:3"]
    assert name_features("abcdefg")[-1] == "len:6+"
    counts = Counter({"令": 1, "狐": 25, "冲": 3})
    assert name_features("令狐冲", counts)[-5:] == ["f:1", "f:20", "f:2", "f1:1", "fmin:1"]
    # leave-one-out: the name's own characters do not count
    assert name_features("令狐冲", counts, Counter("令狐冲"))[-5:] == ["f:0", "f:20", "f:2", "f1:0", "fmin:0"]


def test_two_halves_of_one_list_are_indistinguishable():
    names = corpora.load("jinyong")
    a, b = halves(names)
    result = detectability(a, b, reference=names)
    assert 0.40 <= result.accuracy <= 0.60, result
    assert result.per_group == min(len(a), len(b)) and result.folds == 5


def test_two_halves_of_a_made_up_list_are_indistinguishable(tiny_names):
    a, b = halves(tiny_names, seed=3)
    assert 0.35 <= detectability(a, b).accuracy <= 0.65


def test_uniform_characters_are_caught():
    names = corpora.load("jinyong")
    a, b = halves(names)
    # every CJK ideograph the two wuxia lists and the poets use, drawn uniformly
    pool = sorted({c for corpus in corpora.names() for n in corpora.load(corpus) for c in n})
    fake = uniform_names(pool, len(b), seed=1)
    result = detectability(fake, b, reference=a)
    assert result.accuracy >= 0.85, result
    assert result.telltales and result.telltales[0].toward == "samples"


def test_uniform_characters_of_a_made_up_language_are_caught(tiny_names):
    a, b = halves(tiny_names)
    fake = uniform_names(sorted({c for n in tiny_names for c in n}), len(b), seed=2, lengths=(4, 6))
    result = detectability(fake, b, reference=a)
    assert result.accuracy >= 0.9, result
    assert "of samples" in describe_telltales(result.telltales, "samples")


@pytest.mark.parametrize("classifier", ["bayes", "forest"])
def test_other_classifier_families_agree(tiny_names, classifier):
    a, b = halves(tiny_names)
    fake = uniform_names(sorted({c for n in tiny_names for c in n}), len(b), seed=2, lengths=(4, 6))
    assert detectability(fake, b, reference=a, classifier=classifier).accuracy >= 0.8
    assert detectability(a, b, classifier=classifier).accuracy <= 0.65


def test_bad_requests_are_config_errors():
    with pytest.raises(ConfigError, match="classifier"):
        detectability(["ab"] * 10, ["cd"] * 10, classifier="svm")
    with pytest.raises(ConfigError, match="at least 5"):
        detectability(["ab", "cd"], ["ef", "gh", "ij"])


def test_variety_by_hand():
    real = ["ab", "cd", "abe"]
    v = variety(["ab", "ab", "xy", "abcd"], real, reference=["ab", "cd"])
    assert v.samples == 4 and v.distinct == pytest.approx(0.75)
    assert v.foreign == pytest.approx(0.25)  # xy holds characters the reference never uses; abcd does not
    assert v.real_foreign == pytest.approx(1 / 3)  # abe: e is new
    assert v.mean_length == pytest.approx(2.5) and v.real_mean_length == pytest.approx(7 / 3)
    assert char_entropy(["ab"]) == pytest.approx(1.0) and char_entropy(["aa"]) == 0.0 and char_entropy([]) == 0.0
    assert foreign_share(["a", "z"], ["abc"]) == 0.5 and foreign_share([], ["a"]) == 0.0


def test_kinds_encode_and_spec():
    strings = kinds.encode([("南海鳄神", "epithet"), ("段誉", "name"), ("一灯", "epithet"), ("一灯", "name")])
    assert strings == [kinds.EPITHET_MARK + "南海鳄神", "段誉", "一灯"]  # a name listed as both is a name
    assert kinds.strip_all(strings) == ["南海鳄神", "段誉", "一灯"]
    info = kinds.metadata()
    assert kinds.kind_spec(None, info) == kinds.KindSpec("name", "", kinds.EPITHET_MARK)
    assert kinds.kind_spec("epithet", info) == kinds.KindSpec("epithet", kinds.EPITHET_MARK, kinds.EPITHET_MARK)
    assert kinds.kind_spec("any", info) == kinds.KindSpec("any", "", "")
    assert kinds.kind_spec("name", {}) == kinds.KindSpec("name", "", "")  # a model of one kind
    with pytest.raises(ConfigError, match="^kind 'epithet': this model was not trained with name kinds"):
        kinds.kind_spec("epithet", {})
    with pytest.raises(ConfigError, match="^kind "):
        kinds.kind_spec("nickname", info)
    from xiaming.data.vocab import Vocab

    vocab = Vocab.from_names(strings)  # the marker is a character the model reads, never shown
    assert kinds.EPITHET_MARK in vocab and vocab.decode(vocab.encode(strings[0])) == "南海鳄神"
    assert "".join(vocab.display[i] for i in vocab.encode(strings[0])) == "南海鳄神"
    assert kinds.EPITHET_MARK in vocab.texts  # texts keep every character


def test_a_shipped_model_at_temperature_5_is_caught():
    """A broken sampler on the real task: the shipped Jin Yong model at temperature 5 (its
    characters nearly uniform over the base model's 5,000) against real Jin Yong names."""
    from xiaming.generation.namer import Namer

    namer = Namer.load("jinyong")
    names = corpora.load("jinyong")
    a, b = halves(names)
    # the sampler alone: names without a surname (surnameless.py) come from the genre's characters
    broken = namer.generate(300, namer.options(temperature=5.0), novelty="off", seed=0, surnameless=False).names
    result = detectability(broken, b, reference=a)
    assert result.accuracy >= 0.97, result


def _script(name: str):
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_panel_build_is_blind_and_scored_by_group(tiny_lstm, tiny_names, tmp_path, capsys):
    from xiaming.checkpoint import load_checkpoint, save_checkpoint

    panel = _script("panel")
    ckpt = load_checkpoint(tiny_lstm[0])
    held = tiny_names[:12]  # pretend these were kept out of training
    model = tmp_path / "m.safetensors"
    save_checkpoint(
        model, ckpt.model, ckpt.kind, ckpt.vocab, {**ckpt.train, "panel_holdout": {"names": held}}, ckpt.names
    )
    assert (
        panel.main(["build", str(model), "-n", "5", "--real-kind", "any", "--seed", "3", "--out", str(tmp_path)]) == 0
    )
    text = (tmp_path / "m-panel.txt").read_text(encoding="utf-8")
    assert "real" not in text and "generated" not in text and "1. " in text and "10. " in text
    key = panel.read_key(tmp_path / "m-key.tsv")
    assert sorted(g for g, _ in key.values()) == ["generated"] * 5 + ["real"] * 5
    assert {n for g, n in key.values() if g == "real"} <= set(held)
    assert all(n not in ckpt.names for g, n in key.values() if g == "generated")
    # every real name rated 5, every generated one 1 or 4, one answer missing
    lines = [f"{i}\t{5 if g == 'real' else (1 if i % 2 else 4)}" for i, (g, _) in sorted(key.items())][:-1]
    (tmp_path / "ratings.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert panel.main(["score", str(tmp_path / "m-key.tsv"), str(tmp_path / "ratings.tsv")]) == 0
    out = capsys.readouterr()
    real_row = next(line for line in out.out.splitlines() if line.startswith("| real"))
    assert "| 5.00 | 100% | 0% |" in real_row
    assert "not rated: 1" in out.err and "goal >= 0.95" in out.out


def test_panel_ratings_reader_tolerates_formats(tmp_path):
    panel = _script("panel")
    path = tmp_path / "r.txt"
    path.write_text("1\t4\n2 5\n3. 2\nnotes\n4\t9\n\n", encoding="utf-8")
    assert panel.read_ratings(path) == {1: 4, 2: 5, 3: 2}  # 9 is out of range


def test_build_pretrained_panel_holdout_is_seeded():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "build_pretrained.py"
    spec = importlib.util.spec_from_file_location("build_pretrained", path)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    names = corpora.load("jinyong")
    held = build.panel_holdout(names, 0.1, seed=0)
    assert held == build.panel_holdout(names, 0.1, seed=0) != build.panel_holdout(names, 0.1, seed=1)
    assert len(held) == round(0.1 * len(names)) and set(held) <= set(names)
    assert build.panel_holdout(names, 0, seed=0) == []
    listed = build.kinds_of("jinyong")
    assert listed["南海鳄神"] == "epithet" and listed["段誉"] == "name"


def test_build_pretrained_bridges_wuxia_lists_through_the_other_author_without_their_own_names(tmp_path, monkeypatch):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "build_pretrained.py"
    spec = importlib.util.spec_from_file_location("build_pretrained", path)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    runs = []
    monkeypatch.setattr(build, "train", lambda data, kind, out, config, **kw: runs.append((data, out, kw["init"])))
    out = build.bridge("jinyong", "BASE", tmp_path, seed=0)
    ((data, written, init),) = runs
    assert out == written == tmp_path / "jinyong-bridge.safetensors" and init == "BASE"
    trained = set(kinds.strip_all(data.names))
    gulong, jinyong = set(build.kinds_of("gulong")), set(build.kinds_of("jinyong"))
    assert trained == gulong - jinyong and jinyong & gulong  # the names both authors use are left out
    assert any(n.startswith(kinds.EPITHET_MARK) for n in data.names)  # epithets keep their marker
    assert build.bridge("poets", "BASE", tmp_path, seed=0) == "BASE" and len(runs) == 1  # no bridge: the base


def test_build_pretrained_wuxia_stage_holds_every_wuxia_name_but_the_panel_holdouts_and_validation(
    tmp_path, monkeypatch
):
    """The shipped lists' stage sees no panel holdout name and none of the names each list's own
    fine-tuning validates on (as train() itself splits them), and every other wuxia name."""
    import importlib.util
    from pathlib import Path

    from xiaming.training import sources

    path = Path(__file__).resolve().parent.parent / "scripts" / "build_pretrained.py"
    spec = importlib.util.spec_from_file_location("build_pretrained", path)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    runs = []
    monkeypatch.setattr(
        build, "train", lambda data, kind, out, config, **kw: runs.append((data, out, config, kw["init"]))
    )
    leave_out = build.stage_leave_out("wuxia", 0.1, seed=0)
    out = build.train_stage("wuxia", "BASE", tmp_path, leave_out, seed=0)
    ((data, written, _, init),) = runs
    assert out == written == tmp_path / "wuxia-stage.safetensors" and init == "BASE"
    trained = set(kinds.strip_all(data.names))
    assert sum(n.startswith(kinds.EPITHET_MARK) for n in data.names) > 100  # epithets keep their marker
    monkeypatch.setattr(build, "ship", lambda trained, name, **kw: kw["extra"])
    unseen = set()
    for corpus in ("jinyong", "gulong", "liangyusheng"):  # each list is then fine-tuned from the stage model
        extra = build.fine_tune(corpus, "BASE", tmp_path, 0.1, 0, tmp_path, stage=("wuxia", out))
        data, _, config, init = runs[-1]
        validation = set(kinds.strip_all(sources.ListSource(data).split(config.val_fraction, config.seed).val_names))
        held = set(extra["panel_holdout"]["names"])
        assert init == out and extra["stage"] == "wuxia" and extra["bridge"] == []
        assert len(held) > 50 and len(validation) > 50 and not set(kinds.strip_all(data.names)) & held
        assert not trained & (held | validation)
        unseen |= held | validation
    assert trained == set().union(*(build.kinds_of(c) for c in ("jinyong", "gulong", "liangyusheng"))) - unseen


def test_a_model_trained_with_kinds_gives_the_kind_asked_for(tmp_path, tiny_names):
    """Epithets of a made-up language start with x (names never hold one): asked for epithets the
    model starts with x, asked for names it does not, and the marker never shows."""
    from xiaming import TrainConfig, train
    from xiaming.data.corpus import NameList
    from xiaming.generation.namer import Namer

    epithets = ["x" + n for n in tiny_names[:150]]
    strings = kinds.encode([(n, "name") for n in tiny_names[150:]] + [(e, "epithet") for e in epithets])
    out = tmp_path / "kinds.safetensors"
    train(
        NameList(strings, "made-up"),
        "lstm",
        out,
        TrainConfig(max_steps=300, eval_interval=50, batch_size=32, seed=1),
        size="tiny",
        log=lambda _m: None,
        progress_bar=False,
    )
    kinds.mark_checkpoint(out)
    namer = Namer.load(out)
    assert kinds.EPITHET_MARK not in "".join(namer.names) and "x" + tiny_names[0] in namer.names
    got = {
        kind: namer.generate(60, namer.options(kind=kind), novelty="exact", seed=2).names
        for kind in ("name", "epithet", "any")
    }
    share = {kind: sum(n.startswith("x") for n in names) / len(names) for kind, names in got.items()}
    assert all(kinds.EPITHET_MARK not in n for names in got.values() for n in names)
    assert share["epithet"] >= 0.8 and share["name"] <= 0.1 and 0.2 <= share["any"] <= 0.8, share
    assert "kind epithet" in namer.describe_sampling(namer.options(kind="epithet"))
    assert "kind name" in namer.describe_sampling(namer.options())


def test_fine_tuning_a_model_with_kinds_keeps_them_also_on_resume(tmp_path, tiny_names):
    """`--init gulong` on a list of plain names: the tuned model still has the epithet marker in its
    vocabulary, so it must keep the kinds record, or generation could print an empty name."""
    from xiaming import TrainConfig, train
    from xiaming.checkpoint import load_checkpoint
    from xiaming.data.corpus import NameList
    from xiaming.generation.namer import Namer

    quiet = {"log": lambda _m: None, "progress_bar": False}
    strings = kinds.encode([(n, "name") for n in tiny_names[150:]] + [("x" + n, "epithet") for n in tiny_names[:150]])
    base = tmp_path / "base.safetensors"
    train(
        NameList(strings, "made-up"),
        "lstm",
        base,
        TrainConfig(max_steps=200, eval_interval=50, batch_size=32, seed=1),
        size="tiny",
        **quiet,
    )
    kinds.mark_checkpoint(base)
    tuned = tmp_path / "tuned.safetensors"
    plain = NameList(tiny_names[:100], "plain")
    train(plain, None, tuned, TrainConfig(max_steps=10, eval_interval=5, batch_size=16, seed=2), init=base, **quiet)
    assert load_checkpoint(tuned).train["kinds"] == {"epithet": kinds.EPITHET_MARK}
    namer = Namer.load(tuned)
    names = namer.generate(40, namer.options(), novelty="exact", seed=3).names
    assert len(names) == 40 and all(n and kinds.EPITHET_MARK not in n for n in names)
    assert namer.generate(5, namer.options(kind="epithet"), novelty="exact", seed=3).names  # not refused
    train(plain, None, tuned, TrainConfig(max_steps=20, eval_interval=5, batch_size=16, seed=2), resume=True, **quiet)
    assert load_checkpoint(tuned).train["kinds"] == {"epithet": kinds.EPITHET_MARK}


def test_generate_kind_epithet_on_a_model_without_kinds_is_one_line(tiny_lstm, capsys):
    from xiaming import cli

    assert cli.main(["generate", tiny_lstm[0], "--kind", "epithet", "-n", "3"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--kind 'epithet'" in err
    assert cli.main(["generate", tiny_lstm[0], "--kind", "any", "-n", "3", "--seed", "1"]) == 0
