"""The Kneser-Ney n-gram model: the textbook estimate, proper distributions, counting as training, checkpoints."""

import math
import random
from collections import Counter

import numpy as np
import pytest
import torch

import xiaming
from xiaming import TrainConfig, train
from xiaming.checkpoint import load_checkpoint, save_checkpoint
from xiaming.cli import main
from xiaming.data.batches import encode_names
from xiaming.data.corpus import NameList
from xiaming.data.vocab import UNKNOWN, Vocab
from xiaming.errors import CheckpointError, ConfigError
from xiaming.models.ngram import NGramConfig, NGramLM

QUIET = {"log": lambda _m: None, "progress_bar": False}


def _fit(names, order, vocab=None):
    vocab = vocab or Vocab.from_names(names)
    model = NGramLM(NGramConfig(vocab.size, order))
    model.fit(*encode_names(vocab, names))
    return model, vocab


def _reference(names, vocab, order):
    """P(w | h) by the book, with dictionaries: interpolated modified Kneser-Ney (Chen & Goodman 1999)."""
    N, V = order, vocab.size
    seqs = [[0] * (N - 1) + vocab.encode(n) + [0] for n in names]
    grams = [tuple(s[i - N + 1 : i + 1]) for s in seqs for i in range(N - 1, len(s))]
    counts = {N: Counter(grams)}
    for k in range(N - 1, 0, -1):
        c = Counter(g[1:] for g in counts[k + 1])  # distinct left neighbours
        for g in grams:  # k-grams at the start of a name cannot be extended: raw counts
            if k >= 2 and g[N - k] == 0:
                c[g[N - k :]] = 0
        for g in grams:
            if k >= 2 and g[N - k] == 0:
                c[g[N - k :]] += 1
        counts[k] = c

    def discount(k):
        n = [sum(1 for v in counts[k].values() if v == i) for i in (1, 2, 3, 4)]
        y = n[0] / (n[0] + 2 * n[1]) if n[0] + 2 * n[1] else 0.5
        return [min(max(i - (i + 1) * y * n[i] / n[i - 1] if n[i - 1] else y, 0.05), i) for i in (1, 2, 3)]

    d = {k: discount(k) for k in counts}

    def prob(w, h):
        k = len(h) + 1
        lower = 1 / V if k == 1 else prob(w, h[1:])
        seen = {g[-1]: c for g, c in counts[k].items() if g[:-1] == h}
        if not seen:
            return lower
        total = sum(seen.values())
        gamma = sum(d[k][min(c, 3) - 1] for c in seen.values()) / total
        c = seen.get(w, 0)
        return (c - d[k][min(c, 3) - 1] if c else 0.0) / total + gamma * lower

    return prob


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_matches_the_textbook_estimate(order, tiny_names):
    names = tiny_names[:60]
    model, vocab = _fit(names, order)
    prob = _reference(names, vocab, order)
    rng = random.Random(order)
    seen = {tuple(([0] * (order - 1) + vocab.encode(n))[i : i + order - 1]) for n in names for i in range(len(n) + 1)}
    contexts = sorted(seen)[:40] + [tuple(rng.randrange(vocab.size) for _ in range(order - 1)) for _ in range(10)]
    got = model.probs(np.array(contexts, dtype=np.int64).reshape(len(contexts), order - 1))
    want = np.array([[prob(w, h) for w in range(vocab.size)] for h in contexts])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_distributions_are_proper_for_any_context():
    rng = random.Random(0)
    letters = [chr(0x4E00 + i) for i in range(300)]
    names = [
        "".join(rng.choice(letters[: rng.randrange(20, 300)]) for _ in range(rng.choice((2, 3, 3, 4))))
        for _ in range(800)
    ]
    model, vocab = _fit(names, 4)
    contexts = np.array(
        [[rng.randrange(vocab.size) for _ in range(3)] for _ in range(300)]
        + [[0, 0, 0], [0, 0, UNKNOWN], [0, vocab.id(names[0][0]), vocab.id(names[0][1])]]
    )
    p = model.probs(contexts)
    assert p.shape == (len(contexts), vocab.size) and (p > 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    idx = torch.from_numpy(contexts)
    logits, _ = model(idx)  # (B, T, V) log-probabilities
    assert torch.allclose(logits.double().exp().sum(-1), torch.ones(idx.shape, dtype=torch.float64), atol=1e-5)


def test_step_matches_forward_and_select_state(tiny_names):
    model, vocab = _fit(tiny_names, 3)
    x, _ = encode_names(vocab, tiny_names[:5])
    logits, _ = model(x)
    state = None
    for t in range(x.size(1)):
        step_logits, state = model.step(x[:, t], state)
        assert torch.equal(step_logits, logits[:, t])
    kept = model.select_state(state, torch.tensor([4, 0]))
    assert np.array_equal(kept, state[[4, 0]])


def test_loss_is_masked_mean_cross_entropy(tiny_names):
    model, vocab = _fit(tiny_names, 3)
    x, y = encode_names(vocab, tiny_names[:20])
    logits, loss = model(x, y)
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab.size), y.reshape(-1), ignore_index=-1)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def _structured_names():
    """Two-part names from fixed syllable sets: a 4-gram model can learn them well."""
    heads = ["al", "bor", "cel", "dun", "eri", "fal", "gor", "hal", "ith", "jor"]
    tails = ["ina", "on", "ric", "wen", "dor", "ith", "ara", "us"]
    names = [h + t for h in heads for t in tails]
    random.Random(1).shuffle(names)
    return names


def test_counting_is_one_step_and_learns(tmp_path):
    names = _structured_names()
    result = train(NameList(names, "made-up"), "ngram", tmp_path / "n.safetensors", TrainConfig(seed=0), **QUIET)
    uniform = math.log(Vocab.from_names(names).size)
    assert result.stopped == "finished" and result.step == 1
    assert result.best_val < 0.5 * uniform, (result.best_val, uniform)
    ckpt = load_checkpoint(tmp_path / "n.safetensors")
    assert ckpt.kind == "ngram" and ckpt.config.order == 4
    assert ckpt.model.num_parameters() == sum(len(k) for k, _ in ckpt.model.counts) > 0
    namer = xiaming.load_model(tmp_path / "n.safetensors")
    out = xiaming.generate(namer, n=10, seed=3)
    assert len(out.names) == 10 and not set(out.names) & set(ckpt.names)
    assert all(set(n) <= set(ckpt.vocab.chars) for n in out.names)
    assert out.names == xiaming.generate(namer, n=10, seed=3).names


def test_checkpoint_round_trip_gives_identical_logits(tiny_names, tmp_path):
    vocab = Vocab.from_names(tiny_names)
    x, y = encode_names(vocab, tiny_names)
    model = NGramLM(NGramConfig(vocab.size, 3))
    model.make_trainer(x, y, TrainConfig(), 0).step(0)
    save_checkpoint(tmp_path / "n.safetensors", model, "ngram", vocab, {}, tiny_names)
    ckpt = load_checkpoint(tmp_path / "n.safetensors")
    assert ckpt.config == model.config and ckpt.model.num_parameters() == model.num_parameters()
    assert torch.equal(ckpt.model(x)[0], model(x)[0])
    with pytest.raises(CheckpointError, match=r"damaged tensor counts\.3: not among the tensors"):  # another order
        save_checkpoint(tmp_path / "bad.safetensors", NGramLM(NGramConfig(vocab.size, 2)), "ngram", vocab, {}, ["x"])
        _swap_config(tmp_path / "bad.safetensors", tmp_path / "n.safetensors", tmp_path / "mixed.safetensors")
        load_checkpoint(tmp_path / "mixed.safetensors")


def _swap_config(config_from, weights_from, out):
    """A file with the metadata of one checkpoint and the tensors of another."""
    from xiaming.checkpoint import atomic_write_tensors, read_tensors

    _, metadata = read_tensors(config_from)
    tensors, _ = read_tensors(weights_from)
    atomic_write_tensors(out, tensors, metadata)


def test_once_seen_characters_teach_the_unknown_id():
    rng = random.Random(0)
    common, rare = "abcdefgh", [chr(0x4E00 + i) for i in range(200)]
    names = [
        rng.choice(common) + rng.choice(rare if rng.random() < 0.3 else common) + rng.choice(common) for _ in range(400)
    ]
    vocab = Vocab.from_names(names)
    x, y = encode_names(vocab, names)
    once = [vocab.id(c) for c, n in Counter("".join(names)).items() if n == 1]
    assert once
    plain, taught = NGramLM(NGramConfig(vocab.size, 3)), NGramLM(NGramConfig(vocab.size, 3))
    plain.make_trainer(x, y, TrainConfig(unk_rate=0.0), 0).step(0)
    taught.make_trainer(x, y, TrainConfig(unk_rate=1.0), 0).step(0)
    predicted = [keys % vocab.size for keys, _ in taught.counts]
    assert all(UNKNOWN in p and not np.isin(once, p).any() for p in predicted)
    assert not any(UNKNOWN in keys % vocab.size for keys, _ in plain.counts)
    start = np.zeros((1, 2), dtype=np.int64)
    after_common = np.array([[0, vocab.id("a")]])
    assert taught.probs(after_common)[0, UNKNOWN] > 20 * plain.probs(after_common)[0, UNKNOWN]
    assert taught.probs(start)[0, UNKNOWN] < taught.probs(after_common)[0, UNKNOWN]  # rare chars come second


def test_order_is_checked_and_settable_from_the_command_line(names_file, tmp_path):
    with pytest.raises(ConfigError, match="^order "):
        NGramLM(NGramConfig(vocab_size=1500, order=7))
    out = tmp_path / "n.safetensors"
    assert main(["train", names_file, "--model", "ngram", "--order", "2", "-o", str(out), "--quiet"]) == 0
    assert load_checkpoint(out).config.order == 2
