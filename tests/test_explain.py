"""`explain`: step probabilities are the model's, the LSTM gates are the textbook equations, the
nameable units are the ones with the largest correlation, and the CLI prints, dumps and draws it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli
from safetensors.numpy import save_file

from xiaming.checkpoint import FORMAT, FORMAT_VERSION, NAMES_KEY
from xiaming.cli import main
from xiaming.data.vocab import Vocab
from xiaming.generation.explain import _features, explain
from xiaming.generation.namer import Namer

NAMES = [
    "张无忌",
    "张三丰",
    "令狐冲",
    "令狐无忌",
    "王冲",
    "李无",
    "王三",
    "李冲忌",
    "张冲",
    "令狐三",
    "王无忌",
    "李三丰",
]
VOCAB = Vocab.from_names(NAMES)


def write_lstm(path, hidden: int = 6, embd: int = 5, seed: int = 1, cell: str = "lstm") -> dict:
    """A random LSTM (or GRU) checkpoint over NAMES, written without torch; returns its weights."""
    rng = np.random.default_rng(seed)
    V, H, E, G = VOCAB.size, hidden, embd, {"lstm": 4, "gru": 3}[cell]
    w = {
        "wte.weight": rng.normal(0, 1, (V, E)),
        "rnn.weight_ih_l0": rng.normal(0, 0.8, (G * H, E)),
        "rnn.weight_hh_l0": rng.normal(0, 0.8, (G * H, H)),
        "rnn.bias_ih_l0": rng.normal(0, 0.3, G * H),
        "rnn.bias_hh_l0": rng.normal(0, 0.3, G * H),
        "head.weight": rng.normal(0, 1.5, (V, H)),
        "head.bias": rng.normal(0, 0.5, V),
    }
    w = {k: v.astype(np.float32) for k, v in w.items()}
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "kind": cell,
        "model_config": json.dumps(
            {
                "vocab_size": V,
                "cell": cell,
                "n_embd": E,
                "n_hidden": H,
                "n_layer": 1,
                "dropout": 0.0,
                "tie_weights": False,
            }
        ),
        "vocab": json.dumps(VOCAB.to_dict(), ensure_ascii=False),
        "train": json.dumps({"max_name_len": 4}),
    }
    save_file({**w, NAMES_KEY: np.frombuffer("\n".join(NAMES).encode(), dtype=np.uint8)}, str(path), metadata=meta)
    return w


def textbook_gates(w: dict, ids: list[int]) -> dict[str, np.ndarray]:
    """i, f, o and c after each id, by the LSTM equations in float64."""
    H = w["rnn.weight_hh_l0"].shape[1]
    h, c = np.zeros(H), np.zeros(H)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    out = {"input_gate": [], "forget_gate": [], "output_gate": [], "cell": []}
    for i in ids:
        g = (
            w["rnn.weight_ih_l0"] @ w["wte.weight"][i]
            + w["rnn.bias_ih_l0"]
            + w["rnn.weight_hh_l0"] @ h
            + w["rnn.bias_hh_l0"]
        )
        ig, fg, gg, og = sig(g[:H]), sig(g[H : 2 * H]), np.tanh(g[2 * H : 3 * H]), sig(g[3 * H :])
        c = fg * c + ig * gg
        h = og * np.tanh(c)
        for key, value in zip(out, (ig, fg, og, c)):
            out[key].append(value)
    return {k: np.array(v) for k, v in out.items()}


@pytest.fixture()
def lstm(tmp_path):
    path = tmp_path / "m.safetensors"
    return str(path), write_lstm(path)


def test_steps_are_the_model_probabilities_with_ranked_alternatives(lstm):
    path, _ = lstm
    namer = Namer.load(path)
    e = explain(namer, "令狐冲", top=3)
    (score,) = namer.score(["令狐冲"])
    assert [s.p for s in e.steps] == pytest.approx(np.exp(score.char_log_probs).tolist(), rel=1e-6)
    assert [s.char for s in e.steps] == ["令", "狐", "冲", ""]
    logits = namer.engine.logits(np.array([[0] + VOCAB.encode("令狐冲")]))[0]
    for t, step in enumerate(e.steps):
        p = np.exp(logits[t] - logits[t].max())
        p /= p.sum()
        p[1] = 0  # the unknown id is never an alternative
        assert [c for c, _ in step.top] == [VOCAB.texts[i] for i in np.argsort(-p, kind="stable")[:3]]
        assert step.rank == 1 + int((p > step.p * (1 + 1e-6)).sum())


def test_gates_are_the_textbook_lstm_equations(lstm):
    path, w = lstm
    e = explain(Namer.load(path), "张无忌")
    expected = textbook_gates(w, [0] + VOCAB.encode("张无忌"))
    for gate, values in expected.items():
        np.testing.assert_allclose(np.array(e.gates[gate]), values, atol=1e-5)


def test_nameable_units_have_the_largest_correlation(lstm):
    path, _ = lstm
    namer = Namer.load(path)
    e = explain(namer, "令狐冲")
    assert {u.feature for u in e.units} == {"position", "surname boundary", "given name"} and e.unit_names == len(NAMES)
    trace = namer.engine.lstm_trace(np.array([[0] + VOCAB.encode(n) + [0] * (4 - len(n)) for n in NAMES]))
    feats = _features(NAMES)
    assert feats["surname boundary"][2].tolist() == [0, 0, 1, 0]  # 令狐 is the surname of 令狐冲
    for unit in e.units:
        y = np.concatenate(feats[unit.feature])
        states = trace.hidden if unit.state == "hidden" else trace.cell
        best = 0.0
        for state in (trace.hidden, trace.cell):
            x = np.concatenate([state[i, : len(n) + 1] for i, n in enumerate(NAMES)])  # (M, H)
            rs = [np.corrcoef(x[:, k], y)[0, 1] for k in range(x.shape[1])]
            best = max(best, max(abs(r) for r in rs))
        x = np.concatenate([states[i, : len(n) + 1, unit.unit] for i, n in enumerate(NAMES)])
        assert unit.r == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-5) and abs(unit.r) == pytest.approx(
            best, abs=1e-6
        )
        assert unit.values == pytest.approx(states[2, :4, unit.unit].tolist(), abs=1e-6)  # along 令狐冲


def test_cli_text_json_and_picture(capsys, lstm, tmp_path):
    path, _ = lstm
    assert main(["explain", "王冲", "--model", path]) == 0
    text = capsys.readouterr().out
    assert "after ^: 王" in text and "forget" in text and "surname boundary" in text
    assert main(["explain", "王冲", "--model", path, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["char"] for s in data["steps"]] == ["王", "冲", "(end)"] and len(data["gates"]["cell"]) == 3
    pytest.importorskip("matplotlib")
    picture = tmp_path / "out" / "e.png"
    assert main(["explain", "王冲", "--model", path, "-o", str(picture)]) == 0
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["explain", " ", "--model", path]) == 1


def test_a_picture_goes_to_a_png_file_not_a_folder_or_another_kind(capsys, lstm, tmp_path):
    # before, -o FOLDER failed naming the temporary file (.FOLDER.x7q.png) and -o x.txt wrote a PNG named x.txt
    path, _ = lstm
    (tmp_path / "pics").mkdir()
    for target, reason in (("pics", "is a folder; give a file name such as"), ("e.txt", "ending in .png")):
        code, out, err = run_cli(capsys, "explain", "王冲", "--model", path, "-o", str(tmp_path / target))
        assert code == 1 and out == "" and err.count("\n") == 1
        assert f"error: -o '{tmp_path / target}': " in err and reason in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors", "pics"]  # nothing written


def test_an_atomic_write_to_a_folder_names_the_folder(tmp_path):
    from xiaming.atomic import write_text

    with pytest.raises(IsADirectoryError) as refused:
        write_text(tmp_path, "x")
    assert refused.value.filename == str(tmp_path) and list(tmp_path.iterdir()) == []


def test_models_without_gates_still_explain_their_steps(tmp_path):
    path = tmp_path / "gru.safetensors"
    write_lstm(path, cell="gru")
    namer = Namer.load(path)
    e = explain(namer, "李三")
    (score,) = namer.score(["李三"])
    assert e.gates is None and e.units == [] and [s.p for s in e.steps] == pytest.approx(np.exp(score.char_log_probs))


def test_explain_shows_what_the_critic_read():
    from xiaming.generation.explain import format_text
    from xiaming.generation.namer import Namer

    namer = Namer.load("jinyong")
    seen = namer.explain("李寒江")
    assert seen.critic is not None and 0 <= seen.critic.appeal <= 1
    assert seen.critic.passable == namer.rate(["李寒江"])[0]  # the value --json and score show
    assert seen.critic.evidence and any(f == "char 寒" for f, _ in seen.critic.evidence)
    effects = [abs(x) for _, x in seen.critic.evidence]
    assert effects == sorted(effects, reverse=True)
    assert "critic: passable" in format_text(seen) and seen.to_dict()["critic"]["passable"] == seen.critic.passable
    # a character readers marked down lowers the chance of passing
    assert namer.explain("李蛆江").critic.passable < seen.critic.passable
    assert Namer.load("poets").explain("李白").critic is None  # a model without a critic explains as before
