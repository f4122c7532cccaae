"""Generation: drawing names from an engine, with every constraint applied inside the sampler.

`sample_batch` draws a batch of names in lock-step, one character per step for all rows at once,
dropping rows as they end so later steps cost less. Constraints are masks on the logits, not
rejection: excluded and out-of-charset characters get probability zero, the end token is masked
below `min_len` and forced at `max_len`, and the hidden prefix and the prefix are read once and
their state shared by every row before sampling starts. Only `include` (at least one of some
characters) is checked on the finished names (by `draw_new`), so the names that pass are drawn from
the model's own distribution of names holding one of them.

Each name comes with its log-probability under the model's own distribution (untempered,
unmasked, the end token counted, given the hidden prefix), accumulated while sampling: no second
pass over the model is needed to score what was drawn.

Names are drawn by inverting the cumulative distribution with one uniform number per row, in two
levels (blocks of `BLOCK` ids, then the ids of the chosen block), so each step makes four passes
over the (rows, vocabulary) logits (max, subtract, exp, block sums), and the exp serves the
log-probability too. Every row starts from the same state, so the first character is drawn from
one distribution computed once, and the second from one per distinct first character. Rows go
`CHUNK` at a time. Everything is numpy over the `Engine` protocol; the engine may be numpy or torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from ..data.vocab import BOUNDARY, Vocab
from ..engine.protocol import Engine, State
from .constraints import NEG_INF, Constraints, SampleOptions
from .deadline import out_of_time
from .novelty import NoveltyFilter, Rejection

BLOCK = 64  # ids per block of the two-level inverse-CDF draw
CHUNK = 512  # rows per engine call: (CHUNK, V) arrays stay in cache and in the allocator's reused memory
FIRST_BATCH = 32  # rows of `draw_new`'s first batch at least (then twice the names asked for)
MAX_BATCH = 4096  # rows of one `draw_new` batch at most
LEANED = (2, 3)  # name lengths so far after which the word lean (`lean.py`) may apply: 张无, 欧阳锋's 欧阳 + one
STALE_ROWS = 256  # `draw_new` gives up after this many draws in a row bring no name not seen before


def truncate(logits: np.ndarray, options: SampleOptions) -> np.ndarray:
    """Tempered logits (A, V) with -inf outside the top-k, the top-p nucleus and the min-p floor
    (greedy: -inf but at the argmax). Returns a new array."""
    if options.temperature == 0:
        best = logits.argmax(axis=-1)  # (A,)
        out = np.full_like(logits, NEG_INF)
        rows = np.arange(len(logits))
        out[rows, best] = logits[rows, best]
        return out
    logits = logits / np.float32(options.temperature) if options.temperature != 1 else logits.copy()
    V = logits.shape[-1]
    if options.top_k is not None and options.top_k < V:
        kth = -np.partition(-logits, options.top_k - 1, axis=-1)[:, options.top_k - 1 : options.top_k]  # (A, 1)
        logits[logits < kth] = NEG_INF
    if options.min_p is not None and options.min_p > 0:
        top = logits.max(axis=-1, keepdims=True)  # (A, 1)
        logits[logits < top + np.float32(np.log(options.min_p))] = NEG_INF
    if options.top_p is not None and options.top_p < 1:
        logits[outside_nucleus(logits, options.top_p)] = NEG_INF
    return logits


HEADS = (256, 1024)  # how many values `_head` sorts first, then on (a trained model's nucleus is nearly always inside)


def _head(logits: np.ndarray, top_p: float) -> tuple[np.ndarray, np.ndarray]:
    """The largest values of each row in descending order and their probabilities (A, W): the top
    W of HEADS (the first that holds more than `top_p` of every row's mass: a partition, then a sort
    of W values, several times faster than sorting all V), else every value of the rows the widest
    head does not hold sorted (W = V; the other rows keep their head, padded with -inf and 0)."""
    A, V = logits.shape
    total = None
    held = None
    for width in HEADS:
        if V <= 2 * width:
            break
        head = -np.sort(-np.partition(logits, V - width, axis=-1)[:, V - width :], axis=-1)  # (A, W) descending
        if total is None:
            total = np.exp(logits - logits.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True)  # (A, 1)
        p = np.exp(head - head[:, :1]) / total
        held = p.sum(axis=-1) >= top_p + 1e-5  # (A,) rows whose nucleus the head holds
        if held.all():
            return head, p
    rows = slice(None) if held is None or not held.any() else ~held
    values = -np.sort(-logits[rows], axis=-1)  # descending
    q = np.exp(values - values[:, :1])
    q /= q.sum(axis=-1, keepdims=True)
    if held is None or not held.any():
        return values, q
    # only the rows the widest head does not hold are sorted whole; the others keep their head, padded
    # past it with values no id has and no mass (their running mass passes top_p inside the head)
    out_values = np.full((A, V), -np.inf, dtype=values.dtype)
    out_p = np.zeros((A, V), dtype=q.dtype)
    out_values[:, : head.shape[1]], out_p[:, : head.shape[1]] = head, p
    out_values[rows], out_p[rows] = values, q
    return out_values, out_p


def outside_nucleus(logits: np.ndarray, top_p: float) -> np.ndarray:
    """Which ids of logits (A, V) are outside the top-p nucleus (A, V): in order of decreasing
    probability (ties by id), those whose more likely ids hold at least `top_p` of the mass.

    The nucleus is the m likeliest ids, so it is found from the sorted values alone (a plain sort is
    several times faster than the stable argsort that would give the ids' order: 16 ms for 40 rows
    of 5,000 ids): the ids above the m-th value, then the ids equal to it, lowest id first. The
    sorted values are the same sequence either way, so the masses and the cut are the same
    numbers as with the argsort. The running mass is summed over the first `width` sorted values
    only, doubling `width` until every row's sum passes top_p by more than float32 rounding (past
    that, every id's mass before it is at least top_p, so all are out). A row whose cut is not a
    clean prefix (nothing allowed, or rounding) takes the stable argsort.
    """
    A, V = logits.shape
    values, p = _head(logits, top_p)
    width = min(values.shape[1], 64)
    mass = np.cumsum(p[:, :width], axis=-1)  # (A, width): the full running sum's first columns, exactly
    while width < values.shape[1] and not (mass[:, -1] >= top_p + 1e-6).all():
        more = min(
            values.shape[1], 4 * width
        )  # the running sum goes on from its last column, one addition at a time as before
        mass = np.concatenate(
            [mass, np.cumsum(np.concatenate([mass[:, -1:], p[:, width:more]], axis=1), axis=1)[:, 1:]], axis=1
        )
        width = more
    kept = (mass - p[:, :width]) < top_p  # (A, width) the mass of the more likely ids is below top_p
    m = kept.sum(axis=1)  # (A,) ids in the nucleus
    first_out = np.where(kept.all(axis=1), width, kept.argmin(axis=1))
    rows = np.arange(A)
    cut = values[rows, np.maximum(m - 1, 0)][:, None]  # (A, 1) the least likely value kept
    above = logits > cut
    tied = logits == cut
    need = m - above.sum(axis=1)  # (A,) ids equal to the cut that are kept, lowest id first
    keep = above | tied
    split = np.flatnonzero(tied.sum(axis=1) > need)  # rows with more ids at the cut than it keeps
    if len(split):
        keep[split] = above[split] | (tied[split] & (np.cumsum(tied[split], axis=1) <= need[split, None]))
    drop = ~keep
    for r in np.flatnonzero((m < 1) | (first_out != m)):
        order = np.argsort(-logits[r], kind="stable")  # (V,)
        full = -np.sort(-logits[r])
        q = np.exp(full - full[0])
        q /= q.sum()
        drop[r, order] = (np.cumsum(q) - q) >= top_p
    return drop


def _invert(p: np.ndarray, blocks: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ids (A,) drawn in proportion to `p` (A, nb * BLOCK), whose block sums are `blocks` (A, nb),
    and which rows had any mass (A,)."""
    A, nb = blocks.shape
    cum = np.cumsum(blocks, axis=1)  # (A, nb)
    ok = cum[:, -1] > 0
    u = rng.random(A) * cum[:, -1]  # (A,) float64, below the row's mass
    b = np.minimum((cum <= u[:, None]).sum(axis=1), nb - 1)  # (A,) the block holding u
    rows = np.arange(A)
    rest = u - np.where(b > 0, cum[rows, np.maximum(b - 1, 0)], 0.0)
    within = p.reshape(A, nb, BLOCK)[rows, b]  # (A, BLOCK)
    j = (np.cumsum(within, axis=1) <= rest[:, None]).sum(axis=1)
    over = j >= BLOCK  # rounding put u past the block's last id: take its last id with mass
    if over.any():
        j[over] = BLOCK - 1 - np.argmax(within[over, ::-1] > 0, axis=1)
    return b * BLOCK + j, ok


def _exp_blocks(logits: np.ndarray, top: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """exp(logits - top) (A, nb * BLOCK), zero-padded, and its block sums (A, nb)."""
    A, V = logits.shape
    nb = -(-V // BLOCK)
    p = np.empty((A, nb * BLOCK), dtype=np.float32)
    p[:, V:] = 0.0
    np.subtract(logits, top, out=p[:, :V])
    np.exp(p[:, :V], out=p[:, :V])
    return p, p.reshape(A, nb, BLOCK).sum(axis=2)


def draw(logits: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ids (A,) drawn from softmax(logits (A, V)), and which rows could draw at all (A,).

    An id of zero probability is never drawn: the uniform number stays strictly below the mass
    of its row, and the first block and id whose running mass passes it has mass of its own.
    """
    A, V = logits.shape
    if V == 0:  # nothing allowed at all
        return np.zeros(A, dtype=np.int64), np.zeros(A, dtype=bool)
    top = logits.max(axis=1, keepdims=True)  # (A, 1)
    top[~np.isfinite(top)] = 0.0
    p, blocks = _exp_blocks(logits, top)
    return _invert(p, blocks, rng)


NUCLEUS_ROUNDS = 8  # redraws of `draw_nucleus` before the rows left take the sorted nucleus
MIN_REJECTION_TOP_P = 0.5  # below this the sorted nucleus is cheaper than the redraws


def draw_nucleus(logits: np.ndarray, top_p: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ids (A,) drawn from the top-p nucleus of softmax(logits (A, V)), and which rows could draw.

    By rejection, without sorting: an id drawn from the whole distribution is kept when the ids more
    likely than it (ties: those of lower id) hold less than `top_p` of the mass, which is exactly
    `outside_nucleus`'s rule, so the ids kept follow the nucleus's renormalised distribution. A row
    is redrawn with probability one minus its nucleus's mass, at most 1 - top_p; one pass over the
    drawn rows replaces the partition and sorts of `truncate` (the costliest part of a step at top-p
    0.95). Rows still out after `NUCLEUS_ROUNDS` redraws take `truncate`'s nucleus."""
    A, V = logits.shape
    if V == 0:
        return np.zeros(A, dtype=np.int64), np.zeros(A, dtype=bool)
    top = logits.max(axis=1, keepdims=True)  # (A, 1)
    top[~np.isfinite(top)] = 0.0
    p, blocks = _exp_blocks(logits, top)
    mass = blocks.sum(axis=1, dtype=np.float64)  # (A,)
    ids, ok = _invert(p, blocks, rng)
    todo = np.flatnonzero(ok)
    for _ in range(NUCLEUS_ROUNDS):
        rows = p[:, :V] if len(todo) == A else p[todo, :V]  # a view while every row is checked
        out = todo[~_in_nucleus(rows, ids[todo], mass[todo], top_p)]
        if not len(out):
            return ids, ok
        ids[out], _ = _invert(p[out], blocks[out], rng)
        todo = out
    rest = todo[~_in_nucleus(p[todo, :V], ids[todo], mass[todo], top_p)]
    if len(rest):
        ids[rest], ok[rest] = draw(truncate(logits[rest], SampleOptions(top_p=top_p)), rng)
    return ids, ok


def _in_nucleus(p: np.ndarray, ids: np.ndarray, mass: np.ndarray, top_p: float) -> np.ndarray:
    """Whether each drawn id (A,) is in its row's top-p nucleus, given the rows' unnormalised
    probabilities p (A, V) and their sums (A,): the mass of the more likely ids is below top_p."""
    rows = np.arange(len(ids))
    mine = p[rows, ids][:, None]  # (A, 1)
    before = np.einsum("av,av->a", p, p > mine, dtype=np.float64)  # (A,) mass of the likelier ids
    tied = np.flatnonzero((p == mine).sum(axis=1) > 1)  # rows where others share the id's probability
    for r in tied:  # ties count in order of id, as in `outside_nucleus`
        before[r] += float(mine[r, 0]) * int(np.count_nonzero(p[r, : ids[r]] == mine[r, 0]))
    return before < top_p * mass


def pick(logits: np.ndarray, options: SampleOptions, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Next ids (A,) drawn from masked logits (A, V) under temperature, top-k, top-p and min-p, and
    which rows could draw at all (A,) (a row with every id masked cannot)."""
    if options.temperature == 0:
        if logits.shape[-1] == 0:
            return np.zeros(len(logits), dtype=np.int64), np.zeros(len(logits), dtype=bool)
        ids = logits.argmax(axis=-1)
        return ids, np.isfinite(logits[np.arange(len(ids)), ids])
    if is_plain(options):
        return draw(logits, rng)
    if _nucleus_only(options):
        tempered = logits if options.temperature == 1 else logits / np.float32(options.temperature)
        return draw_nucleus(tempered, options.top_p, rng)
    return draw(truncate(logits, options), rng)


def _nucleus_only(options: SampleOptions) -> bool:
    """Top-p (of at least MIN_REJECTION_TOP_P, below 1) is the only cut: `draw_nucleus` serves."""
    return (
        options.top_p is not None
        and MIN_REJECTION_TOP_P <= options.top_p < 1
        and options.top_k is None
        and not options.min_p
    )


def is_plain(options: SampleOptions) -> bool:
    """Sampling from the model's own distribution: temperature 1, no top-k, top-p or min-p."""
    return options.temperature == 1 and options.top_k is None and options.top_p is None and not options.min_p


def lse(logits: np.ndarray) -> np.ndarray:
    """log-sum-exp of each row (A, V) -> (A,), float64."""
    top = logits.max(axis=-1)
    return top + np.log(np.exp(logits - top[:, None]).sum(axis=-1, dtype=np.float64))


def choose(
    logits: np.ndarray, banned: np.ndarray, options: SampleOptions, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Next ids (A,) for logits (A, V) with the ids `banned` excluded, which rows could choose (A,),
    and the log-probability of each chosen id under the model's own distribution (A,).

    Plain sampling over a vocabulary mostly allowed (the usual case) shares one exp pass between
    the normaliser and the draw. Otherwise the normaliser comes first and the draw works on the
    masked logits, or on the allowed columns alone when few are allowed (a --charset).
    """
    A, V = logits.shape
    rows = np.arange(A)
    if is_plain(options) and 2 * len(banned) <= V:
        top = logits.max(axis=1, keepdims=True)  # (A, 1): finite, engines give finite logits
        p, blocks = _exp_blocks(logits, top)
        norm = top[:, 0] + np.log(blocks.sum(axis=1, dtype=np.float64))  # (A,) before any mask
        if len(banned):
            p[:, banned] = 0.0
            for blk in sorted(
                set((banned // BLOCK).tolist())
            ):  # (np.unique would import numpy.ma: 40 ms of cold start)
                blocks[:, blk] = p[:, blk * BLOCK : (blk + 1) * BLOCK].sum(axis=1)
        ids, ok = _invert(p, blocks, rng)
        lost = ~ok  # allowed mass that underflowed next to a banned likeliest id: draw again, exactly
        if lost.any():
            again = logits[lost]
            again[:, banned] = NEG_INF
            ids[lost], ok[lost] = pick(again, options, rng)
        return ids, ok, np.where(ok, logits[rows, ids] - norm, 0.0)
    norm = lse(logits)
    if 2 * len(banned) > V:  # few allowed: draw among those columns only
        allowed = np.setdiff1d(np.arange(V), banned, assume_unique=True)
        j, ok = pick(np.ascontiguousarray(logits[:, allowed]), options, rng)
        ids = allowed[j] if len(allowed) else j
    else:
        masked = logits.copy()
        masked[:, banned] = NEG_INF
        ids, ok = pick(masked, options, rng)
    return ids, ok, np.where(ok, logits[rows, ids] - norm, 0.0)


def choose_shared(
    logits: np.ndarray, banned: np.ndarray, options: SampleOptions, rng: np.random.Generator, batch: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`choose` for `batch` rows that all have the same logits (1, V): one distribution, many draws."""
    norm = float(lse(logits)[0])
    masked = logits.copy()
    masked[:, banned] = NEG_INF
    if options.temperature == 0:
        ids, ok = pick(masked, options, rng)
        ids, ok = np.repeat(ids, batch), np.repeat(ok, batch)
    else:
        z = masked if is_plain(options) else truncate(masked, options)
        top = z.max()
        cdf = np.cumsum(np.exp(z[0] - (top if np.isfinite(top) else 0.0)), dtype=np.float64)  # (V,)
        ok = np.full(batch, cdf[-1] > 0)
        ids = np.minimum(np.searchsorted(cdf, rng.random(batch) * cdf[-1], side="right"), len(cdf) - 1)
    return ids, ok, np.where(ok, logits[0, ids] - norm, 0.0)


def read_prefix(engine: Engine, c: Constraints, batch: int) -> tuple[State, int, float]:
    """The state after the start token, the hidden prefix and all but the last prefix id, shared by
    `batch` rows; the id to read next; and log p(prefix | hidden prefix)."""
    feed = c.feed
    state = engine.initial_state(1)
    logp = 0.0
    scored_from = 1 + len(c.context_ids)  # the prefix ids are scored, the hidden ones are given
    for i, tok in enumerate(feed[:-1]):
        logits, state = engine.step(np.array([tok], dtype=np.int64), state)
        if i + 1 >= scored_from:
            logp += float(logits[0, feed[i + 1]] - lse(logits)[0])
    return engine.select_state(state, np.zeros(batch, dtype=np.int64)), feed[-1], logp


def sample_batch(
    engine: Engine, vocab: Vocab, batch: int, c: Constraints, options: SampleOptions, rng: np.random.Generator
) -> tuple[list[str], list[float]]:
    """Draw `batch` names meeting every constraint but `include`, with their log-probabilities;
    rows no allowed character can continue are dropped. Computed `CHUNK` rows at a time (with a
    vocabulary of thousands, smaller arrays are faster than one large batch)."""
    names, log_probs, _ = _sample_rows(engine, vocab, batch, c, options, rng)
    return names, log_probs


def _sample_rows(
    engine: Engine, vocab: Vocab, batch: int, c: Constraints, options: SampleOptions, rng: np.random.Generator
) -> tuple[list[str], list[float], int]:
    """`sample_batch`, and the rows drawn: all `batch` of them, unless a time budget (deadline.py) ran
    out between two chunks, where it stops (a large batch takes a second or more on a busy machine)."""
    names: list[str] = []
    log_probs: list[float] = []
    for start in range(0, batch, CHUNK):
        if start and out_of_time():
            return names, log_probs, start
        more, lps = _sample_chunk(engine, vocab, min(CHUNK, batch - start), c, options, rng)
        names += more
        log_probs += lps
    return names, log_probs, batch


def _sample_chunk(
    engine: Engine, vocab: Vocab, batch: int, c: Constraints, options: SampleOptions, rng: np.random.Generator
) -> tuple[list[str], list[float]]:
    """`sample_batch` for one chunk. Every row starts from the same state, so the first character
    is drawn `batch` times from one distribution computed once, and the second from one
    distribution per distinct first character; the engine sees every row from the third on."""
    start = len(c.prefix_ids)
    state, last, prefix_logp = read_prefix(engine, c, 1)
    logits, state = engine.step(np.array([last], dtype=np.int64), state)  # (1, V)
    texts = vocab.display  # markers (a kind the model generated) are not printed
    prefix = "".join(texts[i] for i in c.prefix_ids)
    if start == c.max_len:  # the end is forced right after the prefix
        return [prefix] * batch, [prefix_logp + float(logits[0, BOUNDARY] - lse(logits)[0])] * batch
    if c.lean is None:
        nxt, ok, logp = choose_shared(logits, c.banned(start), options, rng, batch)
    else:  # the lean moves the draw; the log-probability stays the model's own
        leaned = c.lean.apply(logits, np.array([c.prefix_ids], dtype=np.int64))
        nxt, ok, _ = choose_shared(leaned, c.banned(start), options, rng, batch)
        logp = np.where(ok, logits[0, nxt] - lse(logits)[0], 0.0)
    logp += prefix_logp
    out = np.zeros((batch, c.max_len - start + 1), dtype=np.int64)
    done = (nxt == BOUNDARY) & ok
    rows = np.flatnonzero(ok & ~done)  # which output row each live row writes
    tok = nxt[rows]
    out[rows, 0] = tok
    for length in range(start + 1, c.max_len + 1):
        if len(rows) == 0:
            break
        if length == start + 1:  # rows that drew the same first character share a state: compute each once
            first, inverse = np.unique(tok, return_inverse=True)
            logits, state = engine.step(first, engine.select_state(state, np.zeros(len(first), dtype=np.int64)))
            logits, state = logits[inverse], engine.select_state(state, inverse)  # (A, V)
        else:
            logits, state = engine.step(tok, state)  # (A, V)
        if length == c.max_len:  # the end is forced
            logp[rows] += logits[:, BOUNDARY] - lse(logits)
            done[rows] = True
            break
        if c.lean is not None and length in LEANED:
            so_far = np.concatenate([np.tile(c.prefix_ids, (len(rows), 1)), out[rows, : length - start]], axis=1)
            nxt, ok, _ = choose(c.lean.apply(logits, so_far.astype(np.int64)), c.banned(length), options, rng)
            lp = np.where(ok, logits[np.arange(len(nxt)), nxt] - lse(logits), 0.0)
        else:
            nxt, ok, lp = choose(logits, c.banned(length), options, rng)
        logp[rows] += lp
        ended = (nxt == BOUNDARY) & ok
        done[rows[ended]] = True
        go = ok & ~ended
        if not go.all():
            keep = np.flatnonzero(go)
            rows, nxt, state = rows[keep], nxt[keep], engine.select_state(state, keep)
        out[rows, length - start] = nxt
        tok = nxt
    names = []
    for ids in out[done].tolist():
        n = ids.index(BOUNDARY) if BOUNDARY in ids else len(ids)
        names.append(prefix + "".join([texts[i] for i in ids[:n]]))
    return names, logp[done].tolist()


@dataclass
class Draw:
    """What sampling found: new names with their log-probabilities, and what it took."""

    found: dict[str, float] = field(default_factory=dict)  # name -> log p, in the order found
    seen: set[str] = field(default_factory=set)  # every distinct candidate drawn
    rejected: list[tuple[str, Rejection]] = field(default_factory=list)  # novelty rejections
    drawn: int = 0  # candidates sampled


def draw_new(
    engine: Engine,
    vocab: Vocab,
    n: int,
    c: Constraints,
    options: SampleOptions,
    filt: NoveltyFilter,
    rng: np.random.Generator,
    max_tries: int,
    on_names: Callable[[list[tuple[str, float]]], None] | None = None,
    into: Draw | None = None,
) -> Draw:
    """Sample until `n` distinct names pass `include` and `filt`, `max_tries` candidates were drawn,
    or `STALE_ROWS` draws in a row bring nothing not seen before (the constraints leave few names).

    Batches are sized to the request (`batch_size`): most drawn names pass, so a request for 20
    names draws about 40 rows, not hundreds, and a request whose names are rare grows its batches
    geometrically.

    `on_names` is called with each batch's newly accepted (name, log p) as soon as it is known.
    `into` continues an earlier draw (its names, candidates seen and tries count).
    """
    result = Draw() if into is None else into
    for fresh_names in _batches(engine, vocab, n, c, options, filt, rng, max_tries, result):
        if on_names is not None and fresh_names:
            on_names(fresh_names)
    return result


def _batches(engine, vocab, n, c, options, filt, rng, max_tries, result: Draw) -> Iterator[list[tuple[str, float]]]:
    """The accepted names of each batch, updating `result` as it goes."""
    batch = stale = 0
    while len(result.found) < n and result.drawn < max_tries and not out_of_time():  # (deadline.py)
        batch = min(max_tries - result.drawn, batch_size(n - len(result.found), result.drawn, len(result.found), batch))
        names, log_probs, drawn = _sample_rows(engine, vocab, batch, c, options, rng)
        result.drawn += drawn
        fresh = 0
        accepted = []
        for name, lp in zip(names, log_probs):
            if not name or name in result.seen:  # "": a kind marker and the end (--kind any), no name
                continue
            result.seen.add(name)
            fresh += 1
            if options.include and not any(ch in name for ch in options.include):
                continue
            why = filt.check(name)
            if why is not None:
                result.rejected.append((name, why))
                continue
            result.found[name] = lp
            accepted.append((name, lp))
            if len(result.found) == n:
                break
        yield accepted
        stale = stale + batch if fresh == 0 else 0
        if stale >= STALE_ROWS:  # hundreds of draws of names already seen: few names are left to find
            break


def batch_size(missing: int, drawn: int, accepted: int, last: int) -> int:
    """Rows of `draw_new`'s next batch, for `missing` names still wanted after `drawn` draws gave
    `accepted` names and the last batch had `last` rows (0: none yet).

    The first batch draws twice the names wanted (at least `FIRST_BATCH`): with the shipped models
    three names in four or more are new, so it nearly always suffices, and the rows an engine step
    computes, most of a request's cost, stay few. A later batch draws twice the rows the missing names
    need at the rate seen so far, and at least twice the last batch, so a rare name is reached in a
    few batches; at most `MAX_BATCH`.
    """
    if last == 0:
        want = max(FIRST_BATCH, 2 * missing)
    else:
        want = max(2 * last, -(-2 * missing * drawn // accepted) if accepted else 4 * last)
    return min(want, MAX_BATCH)
