"""Every model kind honours the contract and learns a tiny corpus."""

import math

import pytest
import torch

from xiaming import TrainConfig, models, train
from xiaming.data.corpus import NameList
from xiaming.data.vocab import Vocab
from xiaming.errors import ConfigError

KINDS = list(models.MODELS)


def _tiny(kind, vocab_size=12):
    config = models.make_config(kind, {"vocab_size": vocab_size, "block_size": 16}, "tiny")
    return models.build_model(kind, config)


@pytest.mark.parametrize("kind", KINDS)
def test_forward_contract_shapes_and_masked_loss(kind):
    torch.manual_seed(0)
    model = _tiny(kind).eval()
    idx = torch.randint(0, 12, (3, 5))
    logits, loss = model(idx)
    assert logits.shape == (3, 5, 12) and loss is None
    targets = torch.randint(0, 12, (3, 5))
    padded = targets.clone()
    padded[:, 3:] = -1
    _, masked = model(idx, padded)
    expected = torch.nn.functional.cross_entropy(logits[:, :3].reshape(-1, 12), targets[:, :3].reshape(-1))
    assert torch.isclose(masked, expected, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_step_matches_forward(kind):
    torch.manual_seed(0)
    model = _tiny(kind).eval()
    idx = torch.randint(0, 12, (2, 4))
    logits, _ = model(idx)
    state = None
    with torch.no_grad():
        for t in range(4):
            step_logits, state = model.step(idx[:, t], state)
            assert torch.allclose(step_logits, logits[:, t], atol=1e-4)
    kept = model.select_state(state, torch.tensor([1]))
    nxt = torch.tensor([3])
    one, _ = model.step(nxt, kept)
    both, _ = model.step(torch.tensor([3, 3]), state)
    assert torch.allclose(one[0], both[1], atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_learns_a_tiny_corpus(kind, tiny_names, tmp_path):
    steps = 800 if kind == "minchar" else 250  # a minchar step is one 25-character window, not a batch
    result = train(
        NameList(tiny_names, "made-up"),
        kind,
        tmp_path / "m.safetensors",
        TrainConfig(max_steps=steps, eval_interval=50, batch_size=32, seed=0),
        size="tiny",
        log=lambda _m: None,
        progress_bar=False,
    )
    uniform = math.log(Vocab.from_names(tiny_names).size)
    assert result.best_val < 0.8 * uniform, (kind, result.best_val, uniform)


def test_unknown_kind_lists_valid_ones():
    with pytest.raises(ConfigError, match="choose one of .*lstm.*transformer"):
        models.spec("lsmt")


def test_overrides_and_bad_values_name_the_flag():
    config = models.make_config("gru", {"vocab_size": 9}, "small", n_hidden=40, n_head=None)
    assert config.n_hidden == 40 and config.cell == "gru" and config.vocab_size == 9
    with pytest.raises(ConfigError, match="^n_head 2: not a setting of the lstm model"):
        models.make_config("lstm", {"vocab_size": 9}, None, n_head=2)
    with pytest.raises(ConfigError, match="^dropout "):
        models.make_config("lstm", {"vocab_size": 9}, None, dropout=1.5)
    with pytest.raises(ConfigError, match="divisible"):
        models.make_config("transformer", {"vocab_size": 9, "block_size": 8}, None, n_embd=10, n_head=4)
