"""The sampler: every constraint inside it, the distribution it draws from, and generate's guarantee."""

from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from xiaming import models
from xiaming.data.vocab import Vocab
from xiaming.engine.torch_engine import TorchEngine
from xiaming.errors import ConfigError
from xiaming.generation.constraints import SampleOptions, compile_constraints
from xiaming.generation.namer import Namer
from xiaming.generation.sample import (
    FIRST_BATCH,
    MAX_BATCH,
    STALE_ROWS,
    batch_size,
    draw_nucleus,
    outside_nucleus,
    pick,
    sample_batch,
)

VOCAB = Vocab(("a", "b", "c"))  # ids: 0 end, 1 unknown, 2 a, 3 b, 4 c
# p(next | previous): rows are the previous id (0 = start), columns the next (0 = end).
PROBS = torch.tensor(
    [
        [1e-9, 1e-9, 0.6, 0.3, 0.1],  # start: a name cannot be empty
        [0.2, 1e-9, 0.3, 0.3, 0.2],  # after an unknown character (never sampled)
        [0.4, 1e-9, 0.2, 0.3, 0.1],  # after a
        [0.4, 1e-9, 0.3, 0.1, 0.2],  # after b
        [0.7, 1e-9, 0.1, 0.1, 0.1],  # after c
    ]
)
INFO = {"max_name_len": 6}


class Bigram(torch.nn.Module):
    """A bigram table behind the model contract: the next character depends on the last one only."""

    def __init__(self, probs: torch.Tensor = PROBS) -> None:
        super().__init__()
        self.logits = torch.nn.Parameter(torch.log(probs / probs.sum(-1, keepdim=True)))
        self.config = SimpleNamespace(vocab_size=probs.size(0))

    def forward(self, idx, targets=None):
        return self.logits[idx], None

    def step(self, idx, state=None):
        return self.logits[idx], idx

    @staticmethod
    def select_state(state, index):
        return None if state is None else state[index]


def name_prob(name: str, end: bool = True) -> float:
    """p(name) under PROBS (with end=False: p that a name starts with these characters)."""
    ids = [0] + VOCAB.encode(name) + ([0] if end else [])
    p = 1.0
    for prev, nxt in zip(ids, ids[1:]):
        p *= float(PROBS[prev, nxt])
    return p


def draw(options: SampleOptions, n: int = 4000, seed: int = 0) -> list[str]:
    engine = TorchEngine(Bigram(), VOCAB.size)
    c = compile_constraints(VOCAB, options, None, INFO)
    return sample_batch(engine, VOCAB, n, c, options, np.random.default_rng(seed))[0]


def generate(model, vocab, n, options, training, novelty, seed=None, train_info=None):
    """Namer.generate over a torch model in memory."""
    return Namer.from_model(model, vocab, training, train_info).generate(n, options, novelty, seed)


def test_sampler_draws_from_the_model_distribution():
    names = draw(SampleOptions(max_len=30), n=20000)
    counts = Counter(names)
    for name in ("a", "b", "c", "ab", "ba", "ac"):
        p = name_prob(name)
        tolerance = 4 * (p * (1 - p) / len(names)) ** 0.5
        assert abs(counts[name] / len(names) - p) < tolerance, name


def test_prefix_lengths_and_exclude_are_masks_not_rejection():
    names = draw(SampleOptions(prefix="b", min_len=3, max_len=4, exclude="c"))
    assert len(names) == 4000  # no row is lost: the constraints are applied while sampling
    assert all(n.startswith("b") and 3 <= len(n) <= 4 and "c" not in n for n in names)
    assert {len(n) for n in names} == {3, 4}


def test_min_len_masks_the_end_without_changing_what_comes_before():
    names = draw(SampleOptions(min_len=2, max_len=30), n=10000)
    assert min(len(n) for n in names) == 2
    first = Counter(n[0] for n in names)
    assert abs(first["a"] / len(names) - 0.6) < 0.03


def test_max_len_forces_the_end():
    names = draw(SampleOptions(max_len=1), n=10000)
    assert {len(n) for n in names} == {1}
    assert abs(Counter(names)["a"] / len(names) - 0.6) < 0.03


def test_charset_limits_what_follows_the_prefix():
    names = draw(SampleOptions(prefix="c", charset="a", max_len=5))
    assert all(n[0] == "c" and set(n[1:]) <= {"a"} for n in names)


@pytest.mark.parametrize(
    "options, firsts",
    [
        (SampleOptions(top_k=1, max_len=1), {"a"}),
        (SampleOptions(top_p=0.5, max_len=1), {"a"}),
        (SampleOptions(top_p=0.85, max_len=1), {"a", "b"}),  # c lies beyond the 0.85 nucleus
        (SampleOptions(top_p=1.0, max_len=1), {"a", "b", "c"}),
        (SampleOptions(temperature=0, max_len=1), {"a"}),
    ],
)
def test_top_k_top_p_and_greedy(options, firsts):
    assert set(draw(options, n=3000)) == firsts


def test_pick_never_draws_a_masked_id():
    logits = np.zeros((20000, 6), dtype=np.float32)
    logits[:, [0, 3, 5]] = float("-inf")
    ids, ok = pick(logits, SampleOptions(), np.random.default_rng(1))
    assert bool(ok.all()) and set(ids.tolist()) == {1, 2, 4}
    dead = np.full((3, 6), float("-inf"), dtype=np.float32)
    _, ok = pick(dead, SampleOptions(), np.random.default_rng(0))
    assert not bool(ok.any())  # a row with nothing allowed is reported, not drawn from


def test_pick_two_level_draw_matches_the_distribution_over_a_large_vocabulary():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=300).astype(np.float32)
    logits[::7] = float("-inf")  # masked ids in every block
    p = np.exp(logits - logits[np.isfinite(logits)].max())
    p /= p.sum()
    ids, ok = pick(np.tile(logits, (200000, 1)), SampleOptions(), np.random.default_rng(1))
    counts = np.bincount(ids, minlength=300) / len(ids)
    assert ok.all() and counts[::7].sum() == 0
    assert np.abs(counts - p).max() < 4 * np.sqrt(p.max() / len(ids))


def test_min_p_drops_characters_below_the_share_of_the_likeliest():
    # after the start: a 0.6, b 0.3, c 0.1; min-p 0.4 keeps ids at least 0.24
    assert set(draw(SampleOptions(min_p=0.4, max_len=1), n=3000)) == {"a", "b"}
    assert set(draw(SampleOptions(min_p=0.6, max_len=1), n=3000)) == {"a"}
    with pytest.raises(ConfigError, match=r"^min_p 1.5: must be in \[0, 1\]"):
        SampleOptions(min_p=1.5).validate_ranges()


def test_generate_is_seeded_and_new():
    training = ["a", "b", "ab"]
    one = generate(Bigram(), VOCAB, 15, SampleOptions(), training, "exact", seed=7, train_info=INFO)
    two = generate(Bigram(), VOCAB, 15, SampleOptions(), training, "exact", seed=7, train_info=INFO)
    assert one.names == two.names and len(set(one.names)) == 15
    assert not set(one.names) & set(training)
    assert one.novelty == "exact" and not one.exhausted


def nucleus_by_argsort(logits: np.ndarray, top_p: float) -> np.ndarray:
    """The oracle: ids sorted by decreasing logit (stable, so ties by id), out once the mass before them reaches top_p."""
    order = np.argsort(-logits, axis=-1, kind="stable")
    ordered = np.take_along_axis(logits, order, axis=-1)
    p = np.exp(ordered - ordered[:, :1])
    p /= p.sum(axis=-1, keepdims=True)
    drop = np.zeros(logits.shape, dtype=bool)
    np.put_along_axis(drop, order, (np.cumsum(p, axis=-1) - p) >= top_p, axis=-1)
    return drop


def random_nucleus_case(rng: np.random.Generator, trial: int, top_ps: list[float]) -> tuple[np.ndarray, float]:
    """Logits (rows, width) of one random case and a top-p: every fourth case has many ties (some at
    the cut), every fourth masked ids and a row with nothing allowed."""
    rows, width = int(rng.integers(1, 6)), int(rng.choice([1, 2, 63, 64, 65, 300, 5000]))
    logits = (rng.normal(size=(rows, width)) * rng.uniform(0.05, 6)).astype(np.float32)
    if trial % 4 == 1:
        logits = np.round(logits).astype(np.float32)
    if trial % 4 == 2:
        logits[rng.random(logits.shape) < 0.5] = -np.inf
        logits[0] = -np.inf
    return logits, float(rng.choice(top_ps))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # rows with nothing allowed: exp(-inf - -inf)
def test_the_nucleus_is_the_argsort_nucleus_exactly():
    rng = np.random.default_rng(0)
    for trial in range(600):
        logits, top_p = random_nucleus_case(rng, trial, [0.1, 0.5, 0.9, 0.95, 0.999, 0.9999999])
        assert np.array_equal(outside_nucleus(logits, top_p), nucleus_by_argsort(logits, top_p)), (trial, top_p)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # rows with nothing allowed: exp(-inf - -inf)
def test_the_nucleus_drawn_by_rejection_never_leaves_the_nucleus():
    """`draw_nucleus` keeps an id when the ids before it hold less than top_p: never one the sorted
    nucleus drops, ties, masks and rows with nothing allowed included."""
    rng = np.random.default_rng(2)
    for trial in range(300):
        logits, top_p = random_nucleus_case(rng, trial, [0.5, 0.9, 0.95, 0.999])
        drop = nucleus_by_argsort(logits, top_p)
        for _ in range(10):
            ids, ok = draw_nucleus(logits, top_p, rng)
            assert np.array_equal(ok, np.isfinite(logits).any(axis=1)), trial
            assert not drop[np.flatnonzero(ok), ids[ok]].any(), (trial, top_p)


def test_the_nucleus_drawn_by_rejection_has_the_renormalised_distribution():
    """Ties at the cut (ids 2 and 3 share a probability; the nucleus keeps the lower id) and a
    nucleus holding 0.8 of the mass, so two draws in ten are redrawn."""
    logits = np.log(np.array([0.4, 0.3, 0.1, 0.1, 0.06, 0.04], dtype=np.float32))
    keep = ~nucleus_by_argsort(logits[None], 0.75)[0]
    assert keep.tolist() == [True, True, True, False, False, False]
    want = np.where(keep, np.exp(logits), 0) / np.exp(logits)[keep].sum()
    ids, ok = draw_nucleus(np.tile(logits, (100_000, 1)), 0.75, np.random.default_rng(3))
    counts = np.bincount(ids, minlength=6) / len(ids)
    assert ok.all() and counts[~keep].sum() == 0
    assert np.abs(counts - want).max() < 4 * np.sqrt(want.max() / len(ids))


def test_batches_are_sized_to_the_request():
    assert batch_size(20, 0, 0, 0) == 40 and batch_size(1, 0, 0, 0) == FIRST_BATCH  # twice the names asked for
    assert batch_size(100_000, 0, 0, 0) == MAX_BATCH
    assert batch_size(2, 40, 18, 40) == 80  # short by a few: at least twice the last batch
    assert batch_size(20, 80, 4, 80) == 800  # one name in 20 passes: twice the 400 draws 20 names need
    assert batch_size(5, 64, 0, 64) == 256  # nothing passed yet: four times the last batch
    assert batch_size(5, 10_000, 1, 4096) == MAX_BATCH


def test_a_small_request_draws_a_small_batch():
    result = generate(Bigram(), VOCAB, 5, SampleOptions(), [], "exact", seed=3, train_info=INFO)
    assert len(result.names) == 5 and result.drawn == FIRST_BATCH  # one batch of a few dozen rows was enough


def test_sampling_gives_up_after_a_run_of_names_already_seen():
    result = generate(Bigram(), VOCAB, 10, SampleOptions(charset="a", max_len=2), [], "exact", seed=0, train_info=INFO)
    assert sorted(result.names) == ["a", "aa"] and result.complete  # the search proves there are no others
    assert STALE_ROWS <= result.drawn <= FIRST_BATCH + 4 * STALE_ROWS  # stopped early, well short of max_tries


def test_generate_gives_all_that_exist_and_says_so():
    result = generate(
        Bigram(), VOCAB, 10, SampleOptions(charset="a", max_len=3), ["a"], "exact", seed=0, train_info=INFO
    )
    assert sorted(result.names) == ["aa", "aaa"]  # a, aa and aaa are all there are; a is a training name
    assert result.exhausted and result.complete and "no other names" in result.reason
    assert "exact novelty rule, which rejected 1" in result.reason
    assert [name for name, _ in result.rejected] == ["a"]


def test_generate_include_puts_one_of_the_characters_in_every_name():
    result = generate(Bigram(), VOCAB, 30, SampleOptions(include="c", max_len=5), [], "exact", seed=0, train_info=INFO)
    assert len(result.names) == 30 and all("c" in n for n in result.names)


def test_greedy_gives_one_name_and_the_reason():
    result = generate(Bigram(), VOCAB, 3, SampleOptions(temperature=0), [], "exact", seed=0, train_info=INFO)
    assert result.names == ["a"] and result.drawn == 1  # start -> a (0.6) -> end (0.4)
    assert "--best" in result.reason


def test_default_novelty_follows_the_training_source():
    strict = generate(Bigram(), VOCAB, 5, SampleOptions(), ["abc"], None, 0, {"source": "builtin:jinyong"})
    assert strict.novelty == "strict"
    assert generate(Bigram(), VOCAB, 5, SampleOptions(), ["abc"], None, 0, INFO).novelty == "exact"


@pytest.mark.parametrize(
    "options, message",
    [
        (SampleOptions(prefix="az"), "^prefix 'az'.*never seen 'z'"),
        (SampleOptions(min_len=4, max_len=3), "^min_len 4: is above max_len 3"),
        (SampleOptions(top_p=0.0), r"^top_p 0.0: must be in \(0, 1\]"),
        (SampleOptions(top_p=1.5), r"^top_p 1.5: must be in \(0, 1\]"),
        (SampleOptions(temperature=-1), "^temperature "),
        (SampleOptions(top_k=0), "^top_k "),
        (SampleOptions(prefix="abc", max_len=2), "^prefix 'abc': is longer than max_len 2"),
        (SampleOptions(include="z"), "^include 'z': none of these characters can appear"),
        (SampleOptions(include="c", exclude="c"), "^include 'c'"),
    ],
)
def test_options_that_cannot_work_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        generate(Bigram(), VOCAB, 5, options, [], "exact", 0, INFO)


def test_min_len_past_the_longest_training_name_raises_the_cap():
    result = generate(Bigram(), VOCAB, 5, SampleOptions(min_len=9), [], "exact", 0, INFO)
    assert len(result.names) == 5 and all(len(n) == 9 for n in result.names)


@pytest.mark.parametrize("kind", ["lstm", "gru", "transformer"])
def test_real_models_honour_the_constraints(kind):
    vocab = Vocab(tuple("abcdefg"))
    torch.manual_seed(0)
    config = models.make_config(kind, {"vocab_size": vocab.size, "block_size": 16}, "tiny")
    model = models.build_model(kind, config).eval()
    options = SampleOptions(prefix="ab", min_len=4, max_len=6, exclude="c", charset="abcde")
    result = generate(model, vocab, 25, options, ["abdd"], "strict", seed=0, train_info={"max_name_len": 8})
    assert len(result.names) == 25
    assert all(n.startswith("ab") and 4 <= len(n) <= 6 and set(n[2:]) <= set("abde") for n in result.names)
    assert "abdd" not in result.names and not any(n in ("abd", "abdde") for n in result.names)


def test_a_prefix_alone_is_not_a_name(tiny_lstm):
    namer = Namer.load(tiny_lstm[0])
    result = namer.generate(200, SampleOptions(prefix="ba"), "off", 0)
    assert result.names and all(name.startswith("ba") and len(name) > 2 for name in result.names)
    only = namer.generate(5, SampleOptions(prefix="ba", max_len=2), "off", 0)
    assert only.names == ["ba"]  # --max-len equal to the prefix leaves just the prefix


def test_a_kind_marker_alone_is_never_a_name():
    """With --kind any a model may end right after the epithet marker: that is no name to print."""
    from xiaming.generation.namer import Namer

    jinyong = Namer.load("jinyong")
    options = jinyong.options(kind="any")
    assert "" not in jinyong.best(12, options, steering=jinyong.steering(critic=False)).names
    assert "" in jinyong.unblended.sample(20000, 1, options)  # the draw that used to come out as a name
    assert "" not in jinyong.generate(200, options, seed=1, steering=jinyong.steering(critic=False)).names


def test_personal_names_asked_for_end_in_no_epithet_title():
    """Under kind name a model trained with kinds still glues on a title now and then (花孝先生): the
    filter turns those away as rule `title`; epithets asked for keep their titles."""
    from xiaming.generation.kinds import PersonalFilter, title_endings
    from xiaming.generation.novelty import novelty_filter

    endings = title_endings()
    assert {"先生", "夫人", "大侠", "长老", "居士"} <= endings
    assert not {"大师", "道人"} & endings  # many personal names of the lists end so too
    filt = PersonalFilter(novelty_filter(["张三先生", "李四"], "exact"))
    assert filt.check("花孝先生").rule == "title" and filt.check("花孝先生").training_name == "先生"
    assert filt.check("花孝") is None and filt.check("李四").rule == "exact"
    assert filt.check("张三先生").rule == "exact"  # the novelty rule is asked first

    gulong = Namer.load("gulong")
    wild = gulong.options(kind="name", temperature=1.5, top_p=1.0)
    raw = gulong.sample(3000, 1, wild)
    assert sum(len(n) > 2 and n[-2:] in endings for n in raw) >= 20  # the rule has work to do
    result = gulong.generate(300, wild, seed=2, steering=gulong.steering(critic=False))
    assert not [n for n in result.names if len(n) > 2 and n[-2:] in endings]
    assert any(why.rule == "title" for _, why in result.rejected)
    epithets = gulong.generate(300, gulong.options(kind="epithet"), seed=2, steering=gulong.steering(critic=False))
    assert any(n[-2:] in endings for n in epithets.names)


def test_personal_names_start_with_no_two_compound_surnames():
    """上官西门 and 欧阳欧阳 are two surnames glued together (the shipped models made one in a few thousand
    names, and no name of the lists starts so): rule `surnames` turns them away, while a compound surname
    with a given name (上官金虹) and a given name that reads like a surname's half (欧阳西) stay."""
    from xiaming import corpora
    from xiaming.data.pinyin import COMPOUND_SURNAMES
    from xiaming.generation.kinds import PersonalFilter
    from xiaming.generation.novelty import novelty_filter

    filt = PersonalFilter(novelty_filter(["李四"], "exact"))
    assert filt.check("上官西门").rule == "surnames" and filt.check("上官西门").training_name == "上官西门"
    assert filt.check("欧阳欧阳").rule == "surnames"
    assert filt.check("慕容公孙飞").describe() == "starts with two compound surnames: 慕容公孙"
    for fine in ("上官金虹", "欧阳西", "西门吹雪", "韩百里", "李四四"):
        assert filt.check(fine) is None, fine
    listed = [e.name for c in corpora.names() for e in corpora.entries(c)]
    assert not [n for n in listed if n[:2] in COMPOUND_SURNAMES and n[2:4] in COMPOUND_SURNAMES]

    gulong = Namer.load(
        "gulong"
    )  # after 上官西 the model wants 门 (a tenth of raw draws are 上官西门): the rule turns it away
    options = gulong.options(kind="name", temperature=1.5, top_p=1.0, prefix="上官西")
    assert sum(n.startswith("上官西门") for n in gulong.sample(1000, 1, options)) >= 20  # the rule has work to do
    result = gulong.generate(100, options, seed=3, steering=gulong.steering(critic=False))
    assert any(why.rule == "surnames" for _, why in result.rejected)
    assert result.names and not [n for n in result.names if n.startswith("上官西门")]
