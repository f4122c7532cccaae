"""The epithet judge (evidence/judge.py): fitting, the file format and its checks, and its use by the Namer."""

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from xiaming.errors import CheckpointError
from xiaming.evidence import judge as J
from xiaming.generation.namer import Namer

ROOT = Path(__file__).resolve().parent.parent


def synthetic(rng, n=400):
    """Compositions of made-up heads with 道人 (read well) or 观音 (read badly), and which were rated 1-2."""
    heads = ["南海", "冷面", "七星", "千手", "铁笔", "金刀", "白云", "青城"]
    names = [heads[rng.integers(len(heads))] + ("观音" if rng.random() < 0.5 else "道人") for _ in range(n)]
    bad = np.array([(name.endswith("观音") and rng.random() < 0.8) or rng.random() < 0.1 for name in names])
    return names, bad


def test_the_judge_learns_which_role_words_read_badly():
    names, bad = synthetic(np.random.default_rng(0))
    judge = J.fit_judge(names, bad)
    assert "观音" in judge.tokens and "道人" in judge.tokens
    p = judge.passable(["白云道人", "白云观音", "七星道人", "七星观音"])
    assert p[0] > p[1] + 0.3 and p[2] > p[3] + 0.3
    assert np.allclose(judge.log_weights(["白云道人"]), np.log(p[:1]))


def test_features_read_the_head():
    x = J.judge_features(["彭先生", "钟二先生", "南海道人"])
    person = J.FEATURES.index("person")
    assert x[:, person].tolist() == [1.0, 1.0, 0.0]
    assert x[:, J.FEATURES.index("length")].tolist() == [3.0, 4.0, 4.0]
    marks = J.token_indicators(["南海道人"], ("道人", "南", "海", "人"))
    assert marks.tolist() == [[1.0, 1.0, 1.0, 0.0]]  # 人 is in the role word, not the head


def test_a_judge_round_trips(tmp_path):
    names, bad = synthetic(np.random.default_rng(1))
    judge = J.fit_judge(names, bad, strength=3.0, about="made up")
    path = tmp_path / "j.safetensors"
    J.save_judge(judge, path)
    back = J.load_judge(path)
    assert back.tokens == judge.tokens and back.strength == 3.0 and back.about == "made up"
    probe = ["南海道人", "铁笔观音", "青城道人"]
    assert np.allclose(back.passable(probe), judge.passable(probe), atol=1e-5)


def _rewrite(path: Path, out: Path, meta_change=None, array_change=None):
    """A copy of the judge at `path` with its metadata or one array changed."""
    from safetensors.numpy import load_file, save_file

    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        meta = json.loads(f.read(size))["__metadata__"]
    arrays = load_file(str(path))
    if meta_change:
        meta.update(meta_change)
    if array_change:
        arrays.update(array_change)
    save_file(arrays, str(out), metadata=meta)
    return out


@pytest.mark.parametrize(
    "meta_change, array_change, field",
    [
        ({"format": "xiaming-critic"}, None, "format"),
        ({"version": "9"}, None, "version"),
        ({"features": json.dumps(["person"])}, None, "features"),
        ({"tokens": json.dumps(["三个字"])}, None, "tokens"),
        ({"intercept": "nan"}, None, "intercept"),
        ({"strength": "99"}, None, "metadata"),
        (None, {"weights": np.array([np.inf, 0, 0, 0], dtype=np.float32)}, "weights"),
        (None, {"token_weights": np.zeros(3, dtype=np.float32)}, "token_weights"),
        (None, {"scale": np.zeros(len(J.FEATURES), dtype=np.float32)}, "scale"),
    ],
)
def test_a_damaged_judge_is_refused_naming_the_file_and_field(tmp_path, meta_change, array_change, field):
    names, bad = synthetic(np.random.default_rng(2))
    good = tmp_path / "good.safetensors"
    J.save_judge(J.fit_judge(names, bad), good)
    bad_file = _rewrite(good, tmp_path / "bad.safetensors", meta_change, array_change)
    with pytest.raises(CheckpointError) as err:
        J.load_judge(bad_file)
    message = str(err.value)
    assert str(bad_file) in message and field in message and "\n" not in message


def test_the_shipped_judge_agrees_with_the_ratings_it_was_fitted_on():
    judge = J.shipped_judge()
    assert judge is not None and judge.strength > 0
    low, high = [], []
    for names_file in sorted((ROOT / "critic" / "ratings" / "epithet2").glob("*-names.txt")):
        names = names_file.read_text(encoding="utf-8").split()
        for line in names_file.with_name(names_file.name.replace("-names.txt", "-r1.tsv")).read_text().splitlines():
            number, rating = line.split("\t")[:2]
            (low if int(rating) <= 2 else high if int(rating) >= 4 else []).append(names[int(number) - 1])
    assert len(low) > 100 and len(high) > 50
    assert judge.passable(low).mean() + 0.1 < judge.passable(high).mean()


def test_composed_epithets_are_kept_by_the_judge(monkeypatch):
    namer = Namer.load("gulong")
    options = namer.options(kind="epithet")
    judge = J.shipped_judge()
    judged = namer.generate(200, options, seed=4)
    assert judged.composed and [i.critic for i in judged.items] == judge.passable(judged.names).round(3).tolist()
    monkeypatch.setattr(J, "shipped_judge", lambda: None)  # without a judge file the model weighs them
    plain = namer.generate(200, options, seed=4)
    assert plain.composed and all(i.critic is None for i in plain.items)
    assert judge.passable(judged.names).mean() > judge.passable(plain.names).mean() + 0.05


def test_a_truncated_or_foreign_file_is_refused(tmp_path):
    names, bad = synthetic(np.random.default_rng(3))
    good = tmp_path / "good.safetensors"
    J.save_judge(J.fit_judge(names, bad), good)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(good.read_bytes()[:-40])
    foreign = tmp_path / "foreign.safetensors"
    foreign.write_bytes(b"\x00" * 4 + b"not a table at all")
    for path in (cut, foreign, tmp_path / "missing.safetensors"):
        with pytest.raises(CheckpointError) as err:
            J.load_judge(path)
        assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_a_damaged_shipped_judge_is_one_line_from_the_cli(tmp_path, monkeypatch, capsys):
    from conftest import run_cli

    damaged = tmp_path / "epithets.judge.safetensors"
    damaged.write_bytes(b"\x00" * 64)
    monkeypatch.setattr(J, "JUDGE_PATH", damaged)
    J.shipped_judge.cache_clear()
    try:
        code, out, err = run_cli(capsys, "generate", "gulong", "--kind", "epithet", "-n", "3", "--seed", "1")
    finally:
        J.shipped_judge.cache_clear()
    assert code == 1 and out == "" and str(damaged) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_judge_explains_which_evidence_moved_an_epithet():
    names, bad = synthetic(np.random.default_rng(0))
    judge = J.fit_judge(names, bad)
    every = len(J.FEATURES) + len(judge.tokens)
    moved = {c.feature: c.effect for c in judge.explain("白云观音", top=every)}
    assert moved["role 观音"] < 0 < {c.feature: c.effect for c in judge.explain("白云道人", top=every)}["role 道人"]
    assert "char 白" in moved and "char 音" not in moved  # head characters are "char", the role word is "role"
    # the effects add up to how far the epithet's log-odds of passing lie from the average epithet's
    centre = 1.0 - judge.passable(["白云观音"])[0]
    logit = np.log(centre / (1 - centre))
    baseline = judge.failure.intercept
    assert sum(moved.values()) == pytest.approx(-(logit - baseline), abs=0.05)
    effects = [abs(c.effect) for c in judge.explain("白云观音")]
    assert effects == sorted(effects, reverse=True) and len(effects) <= 4


def test_explain_reads_an_epithet_with_the_judge_and_a_personal_name_with_the_critic():
    from xiaming.generation.explain import format_text

    namer = Namer.load("jinyong")
    epithet = namer.explain("冷面老人")
    assert epithet.critic.by == "epithet judge" and epithet.critic.appeal is None
    assert epithet.critic.passable == pytest.approx(J.shipped_judge().passable(["冷面老人"])[0], abs=1e-3)
    assert any(f == "role 老人" for f, _ in epithet.critic.evidence)
    assert format_text(epithet).splitlines()[-1].startswith("epithet judge: passable")
    assert epithet.to_dict()["critic"]["by"] == "epithet judge"
    person = namer.explain("李寒江")
    assert person.critic.by == "critic" and person.critic.appeal is not None
    # a model that does not compose epithets reads every name with its own critic (poets: none)
    assert Namer.load("poets").explain("冷面老人").critic is None
