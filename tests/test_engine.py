"""The numpy engines against torch: the same next-character probabilities for every kind, on random
checkpoints and on the shipped models, step by step and over whole names."""

from __future__ import annotations

import numpy as np
import pytest
from torch_leg import import_torch

torch = import_torch()  # skips this module without torch; fails it in CI's torch leg (XIAMING_REQUIRE_TORCH=1)

from xiaming import (  # noqa: E402
    TrainConfig,
    models,  # noqa: E402
    train,
)
from xiaming.checkpoint import save_checkpoint  # noqa: E402
from xiaming.data.corpus import NameList  # noqa: E402
from xiaming.data.vocab import Vocab  # noqa: E402
from xiaming.engine import ENGINES, Engine  # noqa: E402
from xiaming.engine.protocol import log_softmax  # noqa: E402
from xiaming.generation.namer import Namer  # noqa: E402
from xiaming.pretrained import available  # noqa: E402

TOL = 1e-5
NAMES = ["abcab", "bcd", "dab", "cabd", "aab", "ddca", "bacd", "cc"]


def probs(logits: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(np.asarray(logits, dtype=np.float32)))


def random_checkpoint(kind: str, path, **shape) -> str:
    """A checkpoint of `kind` with large random weights (so probabilities are far from uniform)."""
    vocab = Vocab.from_names(NAMES)
    torch.manual_seed(3)
    if kind in ("ngram", "minchar"):  # counts and the primed state come from training
        train(
            NameList(NAMES * 3, "made-up"),
            kind,
            path,
            TrainConfig(max_steps=30, eval_interval=10, seed=0),
            log=lambda _m: None,
            progress_bar=False,
        )
        return str(path)
    config = models.make_config(kind, {"vocab_size": vocab.size, "block_size": 10}, "tiny", **shape)
    model = models.build_model(kind, config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.5)
    save_checkpoint(path, model, kind, vocab, {"max_name_len": 5}, NAMES)
    return str(path)


def assert_same_engines(path: str, batch_ids: np.ndarray) -> None:
    """Step-by-step and whole-sequence probabilities agree between the numpy and torch engines."""
    fast, ref = Namer.load(path, engine="numpy").engine, Namer.load(path, engine="torch").engine
    assert isinstance(fast, Engine) and isinstance(ref, Engine) and fast.window == ref.window
    B, T = batch_ids.shape
    a, b = fast.initial_state(B), ref.initial_state(B)
    for t in range(T):
        la, a = fast.step(batch_ids[:, t], a)
        lb, b = ref.step(batch_ids[:, t], b)
        assert la.dtype == np.float32 and la.shape == (B, fast.vocab_size)
        np.testing.assert_allclose(probs(la), probs(lb), atol=TOL)
        keep = np.array([B - 1] + list(range(B - 1)))  # reorder rows: select_state must follow
        a, b = fast.select_state(a, keep), ref.select_state(b, keep)
        batch_ids = batch_ids[keep]
    np.testing.assert_allclose(probs(fast.logits(batch_ids)), probs(ref.logits(batch_ids)), atol=TOL)


@pytest.mark.parametrize("kind", sorted(ENGINES))
def test_every_kind_gives_torch_probabilities(kind, tmp_path):
    path = random_checkpoint(kind, tmp_path / f"{kind}.safetensors")
    rng = np.random.default_rng(0)
    vocab = Vocab.from_names(NAMES)
    ids = np.concatenate([np.zeros((6, 1), dtype=np.int64), rng.integers(1, vocab.size, size=(6, 7))], axis=1)
    assert_same_engines(path, ids)


@pytest.mark.parametrize(
    "kind, shape",
    [
        ("lstm", {"n_layer": 2}),
        ("gru", {"n_layer": 2}),
        ("rnn", {"n_layer": 3}),
        ("lstm", {"tie_weights": True}),
        ("transformer", {"n_layer": 2}),
    ],
)
def test_stacked_and_tied_shapes(kind, shape, tmp_path):
    overrides = {k: v for k, v in shape.items() if k != "tie_weights"}
    path = tmp_path / "m.safetensors"
    if shape.get("tie_weights"):
        vocab = Vocab.from_names(NAMES)
        config = models.RNNConfig(vocab.size, "lstm", n_embd=8, n_hidden=12, n_layer=1, dropout=0.0, tie_weights=True)
        model = models.build_model("lstm", config).eval()
        with torch.no_grad():
            for p in model.parameters():
                p.normal_(0.0, 0.5)
        save_checkpoint(path, model, "lstm", vocab, {"max_name_len": 5}, NAMES)
    else:
        random_checkpoint(kind, path, **overrides)
    ids = np.array([[0, 2, 3, 4, 5, 2, 3], [0, 5, 5, 1, 2, 4, 4]], dtype=np.int64)
    assert_same_engines(str(path), ids)


@pytest.mark.parametrize("name", available())
def test_shipped_models_give_torch_probabilities(name):
    namer = Namer.load(name)
    names = [n for n in namer.names[:40]] or ["令狐冲", "张无忌", "李白"]
    x = np.zeros((len(names), 5), dtype=np.int64)
    for i, n in enumerate(names):
        ids = namer.vocab.encode(n)[:4]
        x[i, 1 : len(ids) + 1] = ids
    assert_same_engines(str(namer.path), x)


def test_generation_is_the_same_on_both_engines(tmp_path):
    path = random_checkpoint("lstm", tmp_path / "m.safetensors")
    fast, ref = Namer.load(path), Namer.load(path, engine="torch")
    assert fast.generate(10, seed=4, novelty="off").names == ref.generate(10, seed=4, novelty="off").names
    a, b = fast.best(8, novelty="off"), ref.best(8, novelty="off")
    assert a.names == b.names and np.allclose(a.log_probs, b.log_probs, atol=1e-4)
    sa, sb = fast.score(["abc", "dd"]), ref.score(["abc", "dd"])
    assert np.allclose([s.log_prob for s in sa], [s.log_prob for s in sb], atol=1e-4)
