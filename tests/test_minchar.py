"""The classic numpy min-char-rnn: exact gradients, the classic training loop, priming, checkpoints, resume."""

import math

import numpy as np
import pytest
import torch

import xiaming
from xiaming import TrainConfig, train
from xiaming.checkpoint import load_checkpoint, read_tensors, save_checkpoint, state_path
from xiaming.data.batches import encode_names
from xiaming.data.corpus import NameList
from xiaming.data.vocab import BOUNDARY, Vocab
from xiaming.models.minchar import MinCharConfig, MinCharRNN, loss_and_grads, priming_ids, stream_from_targets

QUIET = {"log": lambda _m: None, "progress_bar": False}


def _random_params(V, H, rng, scale=0.5):
    return {
        "Wxh": rng.normal(0, scale, (H, V)),
        "Whh": rng.normal(0, scale, (H, H)),
        "Why": rng.normal(0, scale, (V, H)),
        "bh": rng.normal(0, scale, H),
        "by": rng.normal(0, scale, V),
    }


def test_bptt_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    V, H, L = 7, 5, 6
    params = _random_params(V, H, rng)
    inputs = np.array([0, 3, 3, 5, 1, 6])  # a repeated id: its Wxh column collects two gradients
    targets = rng.integers(0, V, L)
    hprev = rng.normal(0, 0.5, H)
    _, grads, _ = loss_and_grads(params, inputs, targets, hprev)
    eps = 1e-6
    for key, p in params.items():
        numeric = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            plus = loss_and_grads(params, inputs, targets, hprev)[0]
            p[i] = old - eps
            minus = loss_and_grads(params, inputs, targets, hprev)[0]
            p[i] = old
            numeric[i] = (plus - minus) / (2 * eps)
        assert np.abs(grads[key] - numeric).max() < 1e-6 * max(1.0, np.abs(numeric).max()), key
    assert np.abs(grads["Wxh"]).sum() > 0 and np.all(grads["Wxh"][:, [2, 4]] == 0)  # unread ids get nothing


def test_classic_shape_parameter_count_and_seeded_init():
    torch.manual_seed(3)
    a = MinCharRNN(MinCharConfig(vocab_size=27))
    torch.manual_seed(3)
    b = MinCharRNN(MinCharConfig(vocab_size=27))
    torch.manual_seed(4)
    c = MinCharRNN(MinCharConfig(vocab_size=27))
    assert a.num_parameters() == 15_527  # 100x27 + 100x100 + 27x100 + 100 + 27
    assert a.params["Wxh"].shape == (100, 27) and a.params["Why"].shape == (27, 100)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not np.array_equal(a.params["Whh"], c.params["Whh"])
    assert 0.008 < a.params["Whh"].std() < 0.012 and not a.params["bh"].any()  # randn * 0.01, zero biases


def test_stream_is_the_names_file_and_priming_ends_before_a_newline():
    vocab = Vocab.from_names(["abc", "de", "f"])
    _, y = encode_names(vocab, ["abc", "de", "f"])
    stream = stream_from_targets(y)
    a, b, c, d, e, f = (vocab.id(ch) for ch in "abcdef")
    assert stream.tolist() == [0, a, b, c, 0, d, e, 0, f, 0]
    assert priming_ids(stream, 2).tolist() == [0, f]  # from a newline, at least 2 ids, final newline left out
    assert priming_ids(stream, 3).tolist() == [0, d, e, 0, f]
    assert priming_ids(stream, 100).tolist() == stream[:-1].tolist()  # short text: all of it


def _trainer(names, **config):
    vocab = Vocab.from_names(names)
    x, y = encode_names(vocab, names)
    torch.manual_seed(0)
    model = MinCharRNN(MinCharConfig(vocab_size=vocab.size, **config))
    return model, model.make_trainer(x, y, TrainConfig(), 0.1)


def test_a_step_is_one_window_of_the_classic_loop(tiny_names):
    model, trainer = _trainer(tiny_names[:40])
    stream = trainer.stream
    for step in range(3):  # the hidden state is carried from window to window
        params = {k: v.copy() for k, v in model.params.items()}
        memory = {k: v.copy() for k, v in trainer.memory.items()}
        p, h = trainer.position, trainer.hidden.copy()
        loss, grads, h_next = loss_and_grads(params, stream[p : p + 25], stream[p + 1 : p + 26], h)
        for k, g in grads.items():  # the original's update, on whole matrices
            np.clip(g, -5, 5, out=g)
            memory[k] += g * g
            params[k] += -0.1 * g / np.sqrt(memory[k] + 1e-8)
        got_loss, n_chars = trainer.step(step)
        assert n_chars == 25 and got_loss == pytest.approx(loss / 25)
        assert trainer.position == p + 25 and np.array_equal(trainer.hidden, h_next)
        for k in params:
            np.testing.assert_allclose(model.params[k], params[k], rtol=0, atol=1e-15)
            np.testing.assert_allclose(trainer.memory[k], memory[k], rtol=0, atol=1e-15)
    trainer.position = len(stream) - 26  # the next window would reach the last id: wrap as the original does
    params = {k: v.copy() for k, v in model.params.items()}
    trainer.step(3)
    assert trainer.position == 25
    fresh = loss_and_grads(params, stream[:25], stream[1:26], np.zeros(100))[2]  # from a zero state
    assert np.array_equal(trainer.hidden, fresh)


def test_forward_and_step_start_from_the_primed_state(tiny_names):
    model, trainer = _trainer(tiny_names[:40])
    for step in range(20):
        trainer.step(step)
    idx = torch.tensor([[BOUNDARY, 3, 4, 5], [BOUNDARY, 6, 2, BOUNDARY]])
    logits, _ = model(idx)
    p = model.params
    h = np.zeros(100)
    for i in model.prime:  # the priming text, then the newline the caller feeds
        h = np.tanh(p["Wxh"][:, i] + p["Whh"] @ h + p["bh"])
    h = np.tanh(p["Wxh"][:, BOUNDARY] + p["Whh"] @ h + p["bh"])
    np.testing.assert_allclose(logits[0, 0].numpy(), p["Why"] @ h + p["by"], rtol=1e-5, atol=1e-6)
    state = None
    for t in range(4):
        step_logits, state = model.step(idx[:, t], state)
        assert torch.allclose(step_logits, logits[:, t], atol=1e-5)
    kept = model.select_state(state, torch.tensor([1]))
    assert np.array_equal(kept[0], state[1])
    before = model.primed_state().copy()
    trainer.step(20)  # new weights: the cached primed state must not survive
    assert not np.allclose(model.primed_state(), before)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_names):
    out = tmp_path_factory.mktemp("minchar") / "m.safetensors"
    config = TrainConfig(max_steps=800, eval_interval=100, seed=0)
    result = train(NameList(tiny_names, "made-up"), "minchar", out, config, **QUIET)
    return out, result


def test_it_learns_through_the_shared_training_loop(trained, tiny_names):
    _, result = trained
    uniform = math.log(Vocab.from_names(tiny_names).size)
    assert result.stopped == "max_steps" and result.step == 800
    assert result.best_val < 0.75 * uniform, (result.best_val, uniform)
    assert result.parameters == MinCharRNN(MinCharConfig(Vocab.from_names(tiny_names).size)).num_parameters()


def test_checkpoint_round_trip_and_generation(trained, tiny_names, tmp_path):
    path, result = trained
    ckpt = load_checkpoint(path)
    assert ckpt.kind == "minchar" and len(ckpt.model.prime) >= 100
    x, y = encode_names(ckpt.vocab, tiny_names[:50])
    logits, loss = ckpt.model(x, y)
    tensors, _ = read_tensors(path)
    exact = MinCharRNN(ckpt.config)  # the stored weights at full precision
    exact.load_state_dict({k: v for k, v in tensors.items() if k != "__names__"})
    ref_logits, _ = exact(x, y)
    assert torch.allclose(logits, ref_logits, atol=1e-5)  # loading keeps float32 weights
    save_checkpoint(tmp_path / "again.safetensors", ckpt.model, "minchar", ckpt.vocab, ckpt.train, ckpt.names)
    again = load_checkpoint(tmp_path / "again.safetensors")
    assert torch.equal(again.model(x, y)[0], logits)
    namer = xiaming.load_model(path)
    result = xiaming.generate(namer, n=20, seed=1)
    assert len(result.names) == 20 and not set(result.names) & set(ckpt.names)
    assert result.names == xiaming.generate(namer, n=20, seed=1).names


def test_resume_ends_with_the_same_state_as_an_uninterrupted_run(tiny_names, tmp_path):
    data = NameList(tiny_names, "made-up")
    config = TrainConfig(max_steps=120, eval_interval=40, seed=2)
    straight, cut = tmp_path / "straight.safetensors", tmp_path / "cut.safetensors"
    train(data, "minchar", straight, config, **QUIET)
    first = train(data, "minchar", cut, config, should_stop=lambda step: step == 57, **QUIET)
    assert first.stopped == "interrupted" and first.step == 57
    assert train(data, "minchar", cut, config, resume=True, **QUIET).step == 120
    a, _ = read_tensors(state_path(straight), expected_format="xiaming-train-state")
    b, _ = read_tensors(state_path(cut), expected_format="xiaming-train-state")
    keys = [k for k in a if k.startswith(("model.", "best.", "trainer."))]
    assert "trainer.position" in keys and "trainer.memory.Wxh" in keys
    for key in keys:
        assert torch.equal(a[key], b[key]), key
