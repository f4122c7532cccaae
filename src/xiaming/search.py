"""The most likely names under the constraints, by best-first search: `xiaming generate --best N`.

A name is a path from the prefix through characters to the end token; its cost is the negative
log-probability the model gives the characters after the prefix. Costs only grow along a path, so
taking paths from a priority queue cheapest first finishes names in order of likelihood: the first
N finished names that pass the novelty filter are exactly the N most likely new names (uniform-cost
search, as in Dijkstra). The answer is deterministic: no sampling, ties broken by insertion order.

Three things keep it fast. Nodes are expanded in batches (one model call for up to `batch` queue
entries, re-reading each path with `model.forward`, which every model kind provides), and a
finished name is accepted only once no queued path is cheaper, so batching does not change the
order. A node's children enter the queue one at a time, best first, each popped child pushing its
next sibling, so the queue grows by two entries per step instead of the vocabulary size. Children
are computed in chunks of `CHUNK` best; the rare node whose chunk runs out is re-expanded for the
next chunk.

The constraints prune the tree exactly: masked characters, the length bounds, and `include`
(a path without an `include` character may not end, and must take one at its last place). With
`sampling_support=True` the search also keeps to what sampling could draw (top-k, top-p,
temperature); `generate` uses that to finish a short sample or to prove that no more names exist.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

import torch

from .novelty import NoveltyFilter, Rejection, default_mode, novelty_filter
from .sample import Constraints, SampleOptions, compile_constraints, model_device, truncate
from .vocab import BOUNDARY, Vocab

CHUNK = 32  # children kept per expansion; more are computed on demand
REFILL = -1  # queue entry rank meaning "expand this node again for its next chunk of children"


@dataclass
class SearchResult:
    """The names found, best first, and how the search ended."""

    names: list[str]
    log_probs: list[float]  # natural log p(name | prefix) for each name
    rejected: list[tuple[str, Rejection]] = field(default_factory=list)  # novelty rejections, in order
    complete: bool = False  # every name the constraints allow was examined: no more exist
    expanded: int = 0  # nodes expanded (model rows computed)


@dataclass
class _Node:
    """A path from the start token; its queued children are one chunk of the best ones."""

    ids: tuple[int, ...]  # start token, prefix ids, chosen ids
    cost: float  # -log p(chosen ids | prefix)
    has_include: bool  # holds an `include` character (or no such rule)
    child_ids: list[int] = field(default_factory=list)
    child_costs: list[float] = field(default_factory=list)
    offset: int = 0  # rank among all children of child_ids[0]
    more: bool = False  # children beyond this chunk may exist


@torch.inference_mode()
def _expand(model, nodes: list[_Node], c: Constraints, options: SampleOptions, sampling_support: bool) -> None:
    """Fill each node's next chunk of children (ids and costs, best first) with one model call."""
    device = model_device(model)
    width = max(len(nd.ids) for nd in nodes)
    x = torch.zeros(len(nodes), width, dtype=torch.long)  # (K, T), right-padded with the start id
    for i, nd in enumerate(nodes):
        x[i, : len(nd.ids)] = torch.tensor(nd.ids)
    last = torch.tensor([len(nd.ids) - 1 for nd in nodes])  # (K,)
    logits, _ = model(x.to(device))  # (K, T, V)
    logits = logits[torch.arange(len(nodes)), last.to(device)].float()  # (K, V)
    logp = torch.log_softmax(logits, dim=-1)  # (K, V)
    lengths = last.to(device)  # characters in each name so far
    masked = c.mask(logits, lengths)
    has = torch.tensor([nd.has_include for nd in nodes], device=device)
    masked = c.prune_include(masked, lengths, has)
    if sampling_support:
        masked = truncate(masked, options)
    logp = logp.masked_fill(~torch.isfinite(masked), float("-inf"))
    top = min(logp.size(-1), max(nd.offset for nd in nodes) + CHUNK)
    values, ids = torch.topk(logp, top, dim=-1)  # (K, top), best first
    values, ids = values.cpu().tolist(), ids.cpu().tolist()
    for nd, vals, idx in zip(nodes, values, ids):
        vals, idx = vals[nd.offset : nd.offset + CHUNK], idx[nd.offset : nd.offset + CHUNK]
        keep = [j for j, v in enumerate(vals) if v != float("-inf")]
        nd.child_ids = [idx[j] for j in keep]
        nd.child_costs = [nd.cost - vals[j] for j in keep]
        nd.more = len(keep) == CHUNK and nd.offset + CHUNK < logp.size(-1)


def search_names(
    model,
    vocab: Vocab,
    n: int,
    options: SampleOptions = SampleOptions(),
    filt: NoveltyFilter | None = None,
    train_info: dict | None = None,
    skip: set[str] | frozenset[str] = frozenset(),
    max_expansions: int = 20000,
    sampling_support: bool = False,
    constraints: Constraints | None = None,
    batch: int = 128,
) -> SearchResult:
    """The `n` most likely names under `options` that pass `filt` and are not in `skip`, best first.

    Stops after expanding `max_expansions` nodes (then `complete` is False and fewer names may be
    returned); `complete` is True when the whole constrained space was examined.
    """
    c = constraints or compile_constraints(model, vocab, options, train_info)
    if hasattr(model, "eval"):
        model.eval()
    include = set(c.include.nonzero()[:, 0].tolist()) if c.include is not None else set()
    seq = itertools.count()
    queue: list[tuple[float, int, _Node, int]] = []  # (cost, tie, node, child rank or REFILL)
    finished: list[tuple[float, int, str]] = []  # (cost, tie, name)
    result = SearchResult([], [])
    pending = [_Node((BOUNDARY,) + c.prefix_ids, 0.0, c.include is None)]
    while True:
        if pending:
            if result.expanded + len(pending) > max_expansions:
                break
            _expand(model, pending, c, options, sampling_support)
            result.expanded += len(pending)
            for nd in pending:
                if nd.child_ids:
                    heapq.heappush(queue, (nd.child_costs[0], next(seq), nd, 0))
            pending = []
        while finished and (not queue or finished[0][0] <= queue[0][0]):
            cost, _, name = heapq.heappop(finished)
            if name in skip:
                continue
            why = filt.check(name) if filt is not None else None
            if why is not None:
                result.rejected.append((name, why))
                continue
            result.names.append(name)
            result.log_probs.append(-cost)
            if len(result.names) == n:
                return result
        if not queue:
            result.complete = True
            return result
        while queue and len(pending) < batch:
            cost, _, nd, rank = heapq.heappop(queue)
            if rank == REFILL:
                nd.offset += CHUNK
                pending.append(nd)
                continue
            if rank + 1 < len(nd.child_ids):
                heapq.heappush(queue, (nd.child_costs[rank + 1], next(seq), nd, rank + 1))
            elif nd.more:
                heapq.heappush(queue, (cost, next(seq), nd, REFILL))
            tok = nd.child_ids[rank]
            if tok == BOUNDARY:
                heapq.heappush(finished, (cost, next(seq), vocab.decode(nd.ids[1:])))
            else:
                pending.append(_Node(nd.ids + (tok,), cost, nd.has_include or tok in include))
    return result


def best_names(
    model,
    vocab: Vocab,
    n: int,
    options: SampleOptions = SampleOptions(),
    training_names: list[str] = (),
    novelty: str | None = None,
    train_info: dict | None = None,
    max_expansions: int = 20000,
) -> SearchResult:
    """The `n` most likely names under `options` that are new under `novelty` (None: the model's default)."""
    filt = novelty_filter(training_names, novelty or default_mode(train_info))
    return search_names(model, vocab, n, options, filt, train_info, max_expansions=max_expansions)
