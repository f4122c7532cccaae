"""The most likely names under the constraints: `xiaming generate --best N`.

A name is a path from the prefix through characters to the end token; its cost is the negative
log-probability the model gives the characters after the prefix (the model's own distribution,
not renormalised by the constraints). Costs only grow along a path, so every name costing at most
a bound `tau` can be listed exactly by growing paths and dropping any that pass `tau`. If at least
N of the listed names are new, the N cheapest are exactly the N most likely new names; if not, the
bound rises and the listing starts again (iterative deepening on log-probability, the
breadth-first relative of uniform-cost search). A listing in which nothing was dropped covered
every name the constraints allow (`complete`). The answer is deterministic: no sampling, ties
broken by listing order.

The listing runs level by level, all paths of one length at once, which is what makes it fast in
numpy: one `engine.step` per block of up to `BLOCK` paths, with the children of a block kept
beside their parent's recurrent state (`select_state`), so no state ever has to be merged and no
path is re-read. Work grows with the number of paths under the bound, which `max_nodes` caps.

The constraints prune exactly: masked characters, the length bounds, and `include` (a path without
an `include` character may not end, and must take one at its last place). With
`sampling_support=True` the search also keeps to what sampling could draw (top-k, top-p,
temperature); `generate` uses that to finish a short sample or to prove that no more names exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import log as math_log

import numpy as np

from ..data.vocab import BOUNDARY, Vocab
from ..engine.protocol import Engine, State
from .constraints import NEG_INF, Constraints
from .deadline import out_of_time
from .novelty import NoveltyFilter, Rejection
from .sample import SampleOptions, read_prefix, truncate

BLOCK = 1024  # paths per model call: (BLOCK, V) arrays small enough for the allocator to reuse
FIRST_BOUND = 6.0  # nats: the first listing's bound
STEP = 1.5  # nats: the rise of the bound when the listing gives nothing to pace it by


@dataclass
class SearchResult:
    """The names found, best first, and how the search ended."""

    names: list[str]
    log_probs: list[float]  # natural log p(name | prefix) for each name
    rejected: list[tuple[str, Rejection]] = field(default_factory=list)  # likelier names the filter dropped
    complete: bool = False  # every name the constraints allow was examined: no more exist
    expanded: int = 0  # paths extended by one character (model rows computed), all listings together
    bound: float = 0.0  # the last listing's bound, in nats


@dataclass
class _Block:
    """Paths of one length sharing one batched model state."""

    path: np.ndarray  # (B, d) ids chosen after the prefix
    cost: np.ndarray  # (B,) -log p(path | prefix), float64
    has_include: np.ndarray  # (B,) bool
    tok: np.ndarray  # (B,) the id the model reads next
    state: State  # the model state before reading `tok`


@dataclass
class _Listing:
    """What one bounded listing found."""

    finished: list[tuple[float, str]]  # (cost, name) of every name within the bound
    dropped: bool  # some allowed path passed the bound (so the listing is not the whole space)
    rows: int  # model rows computed
    row_costs: list[np.ndarray]  # the cost of every row computed, to pace the next bound


def _children(
    block: _Block,
    logits: np.ndarray,
    c: Constraints,
    options: SampleOptions,
    length: int,
    sampling_support: bool,
    bound: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Children within `bound` as (parent rows, ids, costs), and whether an allowed child passed the bound.

    A child costs its parent's cost plus log-sum-exp minus its logit. Rather than forming that for
    every (row, id), each row's logits are compared with the logit that would cost exactly `bound`,
    and only in the rows whose largest logit reaches it (usually few): the (B, V) work is one
    log-sum-exp. `logits` is masked in place.
    """
    top = logits.max(axis=-1)  # (B,)
    e = logits - top[:, None]
    np.exp(e, out=e)
    lse = top.astype(np.float64) + np.log(e.sum(axis=-1).astype(np.float64))  # (B,) before any mask
    del e
    banned = c.banned(length)
    masked = logits
    masked[:, banned] = NEG_INF
    exact_count = c.include is None and not sampling_support
    if c.include is not None:  # rows without an include character may not end, and at the last place must take one
        need = ~block.has_include  # (B,)
        masked[need, BOUNDARY] = NEG_INF
        if length == c.max_len - 1:
            masked[np.ix_(need, ~c.include)] = NEG_INF
    if sampling_support:
        masked[~np.isfinite(truncate(masked, options))] = NEG_INF
    threshold = lse + block.cost - bound  # (B,): the least logit within the bound
    live = np.flatnonzero(top >= threshold)  # rows that may have a child (the unmasked top bounds the masked)
    r, ids = np.nonzero(masked[live] >= threshold[live, None])  # (C,), (C,)
    rows = live[r]
    costs = block.cost[rows] + lse[rows] - masked[rows, ids]  # (C,)
    allowed = len(block.tok) * (logits.shape[-1] - len(banned)) if exact_count else int(np.isfinite(masked).sum())
    return rows, ids, costs, allowed > len(rows)


def _list(
    engine: Engine,
    vocab: Vocab,
    c: Constraints,
    options: SampleOptions,
    bound: float,
    max_rows: int,
    sampling_support: bool,
) -> _Listing | None:
    """Every name costing at most `bound`; None when that takes more than `max_rows` model rows."""
    state, tok, _ = read_prefix(engine, c, 1)
    include_ids = np.flatnonzero(c.include) if c.include is not None else None
    level = [
        _Block(
            np.zeros((1, 0), dtype=np.int64),
            np.zeros(1),
            np.array([c.include is None]),
            np.array([tok], dtype=np.int64),
            state,
        )
    ]
    out = _Listing([], False, 0, [])
    chars = vocab.display  # markers are not printed
    prefix = "".join(chars[i] for i in c.prefix_ids)
    for length in range(len(c.prefix_ids), c.max_len + 1):
        following: list[_Block] = []
        for block in level:
            out.rows += len(block.tok)
            if out.rows > max_rows or out_of_time():  # over budget, in rows or in time (deadline.py)
                return None
            out.row_costs.append(block.cost)
            logits, state = engine.step(block.tok, block.state)  # (B, V)
            rows, ids, costs, dropped = _children(
                block, np.asarray(logits, dtype=np.float32), c, options, length, sampling_support, bound
            )
            out.dropped |= dropped
            ends = ids == BOUNDARY
            for cost, path in zip(costs[ends].tolist(), block.path[rows[ends]].tolist()):
                out.finished.append((cost, prefix + "".join([chars[i] for i in path])))
            rows, ids, costs = rows[~ends], ids[~ends], costs[~ends]
            for s in range(0, len(rows), BLOCK):
                r, i = rows[s : s + BLOCK], ids[s : s + BLOCK]
                has = block.has_include[r]
                if include_ids is not None:
                    has = has | np.isin(i, include_ids)
                following.append(
                    _Block(
                        np.concatenate([block.path[r], i[:, None]], axis=1),
                        costs[s : s + BLOCK],
                        has,
                        i,
                        engine.select_state(state, r),
                    )
                )
        level = following
        if not level:
            break
    return out


def _next_bound(bound: float, listing: _Listing, accepted: list[float], n: int) -> float:
    """The next listing's bound: where about `n` names should pass, growing the work about threefold at most.

    Both the rows of a listing and the names that pass grow roughly exponentially with the bound;
    their rates over the last nat of this listing predict where the next one should stop. Work
    that triples per round costs, summed over the rounds and the overshoot, about e times the
    last round's, near the best a geometric schedule can do.
    """
    costs = np.concatenate(listing.row_costs)
    below = int((costs <= bound - 1.0).sum())
    row_rate = math_log(max(1, len(costs)) / max(1, below))  # per nat
    step = min(math_log(3.0) / row_rate, STEP) if row_rate > 0 else STEP
    if len(accepted) >= 2:
        earlier = sum(1 for a in accepted if a <= bound - 1.0)
        name_rate = math_log(len(accepted) / max(1, earlier))
        if name_rate > 0:
            step = min(step, math_log(n / len(accepted)) / name_rate + 0.15)
    return bound + max(step, 0.1)


def search_names(
    engine: Engine,
    vocab: Vocab,
    n: int,
    c: Constraints,
    options: SampleOptions = SampleOptions(),
    filt: NoveltyFilter | None = None,
    skip: set[str] | frozenset[str] = frozenset(),
    max_nodes: int = 200_000,
    sampling_support: bool = False,
) -> SearchResult:
    """The `n` most likely names under the constraints `c` that pass `filt` and are not in `skip`, best first.

    Stops when the listings together would pass `max_nodes` model rows; the names returned then are
    still the most likely ones, but there may be fewer than `n` and `complete` is False.
    """
    result = SearchResult([], [])
    bound = FIRST_BOUND
    verdicts: dict[str, Rejection | None] = {}
    while True:
        listing = _list(engine, vocab, c, options, bound, max_nodes - result.expanded, sampling_support)
        if listing is None:  # the paths (or the time) ran out: the last complete listing's names stand
            result.expanded = result.expanded if out_of_time() else max_nodes
            return result
        result.expanded += listing.rows
        names, log_probs, rejected = [], [], []
        for cost, name in sorted(listing.finished, key=lambda f: f[0]):
            if not name or name in skip:  # "": a kind marker and the end (--kind any), no name
                continue
            if name not in verdicts:
                verdicts[name] = filt.check(name) if filt is not None else None
            if verdicts[name] is not None:
                rejected.append((name, verdicts[name]))
                continue
            names.append(name)
            log_probs.append(-cost)
            if len(names) == n:
                break
        result.names, result.log_probs, result.rejected, result.bound = names, log_probs, rejected, bound
        if len(names) == n or not listing.dropped:
            result.complete = not listing.dropped
            return result
        bound = _next_bound(bound, listing, [-lp for lp in log_probs], n)
