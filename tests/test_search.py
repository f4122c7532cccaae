"""The most likely names by search: checked against brute-force enumeration of every name."""

import itertools
import math

import pytest
import torch
from test_sample import INFO, VOCAB, Bigram, name_prob

from xiaming import models
from xiaming.data.vocab import Vocab
from xiaming.engine.torch_engine import TorchEngine
from xiaming.generation.constraints import SampleOptions, compile_constraints
from xiaming.generation.namer import Namer
from xiaming.generation.novelty import NoveltyFilter
from xiaming.generation.score import score_names
from xiaming.generation.search import search_names as _search_names


def best_names(model, vocab, n, options, training, novelty, info, window=None):
    """Namer.best over a torch model in memory, with log p(name | prefix) as the search reports it."""
    namer = Namer.from_model(model, vocab, training, info, window)
    result = namer.best(n, options, novelty)
    c = namer.compile(options)
    from xiaming.generation.sample import read_prefix

    given = read_prefix(namer.engine, c, 1)[2]  # log p(prefix): best's log-probs cover the whole name
    result.cond_log_probs = [lp - given for lp in result.log_probs]
    return result


def search_names(model, vocab, n, options, filt, info, **kwargs):
    c = compile_constraints(vocab, options, None, info)
    return _search_names(TorchEngine(model, vocab.size), vocab, n, c, options, filt, **kwargs)


def every_name(chars: str, max_len: int):
    for length in range(1, max_len + 1):
        for letters in itertools.product(chars, repeat=length):
            yield "".join(letters)


def brute_force(options: SampleOptions, n: int, training=(), max_len: int = 6) -> list[str]:
    """The n likeliest names meeting the options, by listing them all."""
    max_len = options.max_len or max_len
    names = [
        name
        for name in every_name("abc", max_len)
        if name.startswith(options.prefix)
        and len(name) >= options.min_len
        and (not options.prefix or len(name) > len(options.prefix) or max_len == len(options.prefix))
        and not set(name) & set(options.exclude)
        and (options.charset is None or set(name[len(options.prefix) :]) <= set(options.charset))
        and (not options.include or set(name) & set(options.include))
        and name not in training
    ]
    return sorted(names, key=lambda name: -name_prob(name))[:n]


@pytest.mark.parametrize(
    "options",
    [
        SampleOptions(),
        SampleOptions(min_len=2),
        SampleOptions(prefix="b", max_len=3),
        SampleOptions(exclude="a"),
        SampleOptions(include="c"),
        SampleOptions(include="c", max_len=2),
        SampleOptions(charset="ab", prefix="c"),
    ],
)
def test_best_names_are_the_likeliest_under_the_constraints(options):
    result = best_names(Bigram(), VOCAB, 12, options, [], "exact", INFO)
    expected = brute_force(options, 12)
    assert [round(name_prob(n), 12) for n in result.names] == [round(name_prob(n), 12) for n in expected]
    assert set(result.names) == set(expected) or len({name_prob(n) for n in expected}) < len(expected)
    for name, lp in zip(result.names, result.cond_log_probs):  # log p(name | prefix)
        assert lp == pytest.approx(math.log(name_prob(name) / name_prob(options.prefix, end=False)), abs=1e-4)


def test_novelty_rejections_are_reported_in_order_of_likelihood():
    training = ["a", "b", "ab"]
    result = best_names(Bigram(), VOCAB, 5, SampleOptions(), training, "exact", INFO)
    assert result.names == brute_force(SampleOptions(), 5, training)
    assert [name for name, _ in result.rejected] == ["a", "b", "ab"]  # 0.24, 0.12, 0.072: all likelier than the 5th
    assert all(why.rule == "exact" for _, why in result.rejected)


def test_a_small_space_is_listed_completely():
    result = best_names(Bigram(), VOCAB, 10, SampleOptions(charset="a", max_len=3), [], "exact", INFO)
    assert result.names == ["a", "aa", "aaa"] and result.complete


def test_search_is_deterministic_and_bounded():
    one = best_names(Bigram(), VOCAB, 30, SampleOptions(), ["a"], "strict", INFO)
    two = best_names(Bigram(), VOCAB, 30, SampleOptions(), ["a"], "strict", INFO)
    assert one.names == two.names and len(one.names) == 30
    tiny = search_names(Bigram(), VOCAB, 30, SampleOptions(), NoveltyFilter([], "exact"), INFO, max_nodes=20)
    assert len(tiny.names) < 30 and not tiny.complete  # stops at the budget instead of running on


def test_sampling_support_keeps_to_what_sampling_could_draw():
    greedy_support = search_names(Bigram(), VOCAB, 5, SampleOptions(top_k=1), None, INFO, sampling_support=True)
    assert greedy_support.names == ["a"] and greedy_support.complete  # start -> a -> end is the only top-1 path
    skip = search_names(Bigram(), VOCAB, 2, SampleOptions(), None, INFO, skip={"a", "b"})
    assert "a" not in skip.names and "b" not in skip.names


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_real_models_agree_with_their_own_scores(kind):
    vocab = Vocab(("a", "b", "c"))
    torch.manual_seed(1)
    config = models.make_config(kind, {"vocab_size": vocab.size, "block_size": 8}, "tiny")
    model = models.build_model(kind, config).eval()
    window = config.block_size if kind == "transformer" else None
    result = best_names(model, vocab, 8, SampleOptions(max_len=4), [], "off", {"max_name_len": 4}, window)
    everything = list(every_name("abc", 4))
    scored = sorted(score_names(TorchEngine(model, vocab.size, window), vocab, everything), key=lambda s: -s.log_prob)
    assert [round(s.log_prob, 3) for s in scored[:8]] == [round(lp, 3) for lp in result.log_probs]
