"""Generation: drawing names from a model, with every constraint applied inside the sampler.

`sample_batch` draws a batch of names in lock-step, one character per step for all rows at once,
dropping rows as they end so later steps cost less. Constraints are masks on the logits, not
rejection: excluded and out-of-charset characters get probability zero, the end token is masked
below `min_len` and forced at `max_len`, and a prefix is read once and its state shared by every
row before sampling starts. Only `include` (at least one of some characters) is checked on the
finished names, so the names that pass are drawn from the model's own distribution of names
holding one of them.

`generate` repeats batches until it has `n` distinct names that pass `include` and the novelty
filter. It stops sampling after `max_tries` candidates, or early when a whole batch brings no
candidate not seen before (the constraints leave few names). If it is still short it lists what
is left, likeliest first, with the search of `search.py` over the same support and within a
budget: that either finds the missing names or proves that no more exist
(`GenerateResult.complete`). So it always ends, and a shortfall comes with the reason. Greedy
decoding (temperature 0) has one name to give; `search.py` gives the N likeliest instead.

Names are drawn by inverting the cumulative distribution (`pick`), not with `torch.multinomial`,
which is several times slower over a vocabulary of a thousand characters on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from .devices import model_device
from .errors import ConfigError
from .novelty import NoveltyFilter, Rejection, default_mode, novelty_filter
from .vocab import BOUNDARY, N_SPECIAL, UNKNOWN, Vocab

NEG_INF = float("-inf")
MAX_NAME_LEN = 64  # longest name the sampler builds: bounds memory (batch x length) and time
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.01, 100.0  # beyond these the logits overflow or every id ties


@dataclass(frozen=True)
class SampleOptions:
    """What to draw and how."""

    temperature: float = 1.0  # softmax temperature; 0 is greedy
    top_k: int | None = None  # sample among the k most likely characters
    top_p: float | None = None  # sample among the most likely characters holding this much mass
    prefix: str = ""  # every name starts with this (e.g. a surname)
    min_len: int = 1  # shortest whole name, in characters
    max_len: int | None = None  # longest whole name (None: the longest training name)
    exclude: str = ""  # characters that never appear
    include: str = ""  # at least one of these appears (when given)
    charset: str | None = None  # only these characters may follow the prefix (when given)

    def validate(self, vocab: Vocab) -> None:
        """Raise ConfigError naming the option that cannot work with this model."""
        self.validate_ranges()
        unknown = vocab.unknown_chars(self.prefix)
        if unknown:
            raise ConfigError(f"--prefix {self.prefix!r}: the model has never seen {''.join(unknown)!r}")

    def validate_ranges(self) -> None:
        """Raise ConfigError naming the first option out of range (what can be checked without a model)."""
        if not (self.temperature == 0 or MIN_TEMPERATURE <= self.temperature <= MAX_TEMPERATURE):
            raise ConfigError(f"--temperature {self.temperature}: must be 0 (greedy) or between "
                              f"{MIN_TEMPERATURE:g} and {MAX_TEMPERATURE:g}")
        if self.top_k is not None and self.top_k < 1:
            raise ConfigError(f"--top-k {self.top_k}: must be at least 1")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ConfigError(f"--top-p {self.top_p}: must be in (0, 1]")
        if self.min_len < 1:
            raise ConfigError(f"--min-len {self.min_len}: must be at least 1")
        for flag, value in (("--min-len", self.min_len), ("--max-len", self.max_len)):
            if value is not None and value > MAX_NAME_LEN:
                raise ConfigError(f"{flag} {value}: names are at most {MAX_NAME_LEN} characters")
        if self.max_len is not None and self.max_len < 1:
            raise ConfigError(f"--max-len {self.max_len}: must be at least 1")
        if self.max_len is not None and self.min_len > self.max_len:
            raise ConfigError(f"--min-len {self.min_len} is above --max-len {self.max_len}")
        if self.max_len is not None and len(self.prefix) > self.max_len:
            raise ConfigError(f"--prefix {self.prefix!r} is longer than --max-len {self.max_len}")
        if self.charset is not None and not self.charset:
            raise ConfigError("--charset: no characters given")


@dataclass
class GenerateResult:
    """Names found and what it took."""

    names: list[str]
    requested: int
    drawn: int  # candidates sampled
    rejected: list[tuple[str, Rejection]] = field(default_factory=list)  # novelty rejections
    exhausted: bool = False  # fewer names than requested
    complete: bool = False  # every name the constraints allow was examined: no more exist
    novelty: str = "exact"  # the novelty mode applied
    reason: str = ""  # why there are fewer names than requested, when there are


@dataclass(frozen=True)
class Constraints:
    """Options compiled against a vocabulary: the masks and bounds the sampler and the search share."""

    prefix_ids: tuple[int, ...]  # the prefix, encoded
    allowed: torch.Tensor  # (V,) bool: ids that may follow the prefix (the end token always may)
    include: torch.Tensor | None  # (V,) bool: ids of which one must appear (None: no such rule, or the prefix has one)
    min_len: int  # shortest whole name
    max_len: int  # longest whole name

    def banned(self, length: int) -> torch.Tensor:
        """Ids (k,) that no name of `length` characters so far may take next (the end is forced at `max_len`)."""
        banned = ~self.allowed
        if length < self.min_len:
            banned = banned.clone()
            banned[BOUNDARY] = True
        if length >= self.max_len:
            banned = torch.ones_like(banned)
            banned[BOUNDARY] = False
        return banned.nonzero()[:, 0]


def allowed_mask(vocab: Vocab, options: SampleOptions, device) -> torch.Tensor:
    """(V,) booleans: which ids may be sampled after the prefix (the end token always may)."""
    allowed = torch.ones(vocab.size, dtype=torch.bool)
    allowed[UNKNOWN] = False
    if options.charset is not None:
        allowed[N_SPECIAL:] = False
        for c in options.charset:
            if c in vocab:
                allowed[vocab.id(c)] = True
    for c in options.exclude:
        if c in vocab:
            allowed[vocab.id(c)] = False
    return allowed.to(device)


def default_max_len(model, train_info: dict, options: SampleOptions) -> int:
    """The length cap: the option, else the longest training name; never past the model's window."""
    cap = options.max_len or max(train_info.get("max_name_len", 12), len(options.prefix) + 1, options.min_len)
    block = getattr(getattr(model, "config", None), "block_size", None)
    return min(cap, block - 1) if block else cap


def compile_constraints(model, vocab: Vocab, options: SampleOptions, train_info: dict | None = None) -> Constraints:
    """Validate `options` and turn them into masks for this model; ConfigError names what cannot work."""
    options.validate(vocab)
    max_len = default_max_len(model, train_info or {}, options)
    block = getattr(getattr(model, "config", None), "block_size", None)
    fix = f"this model reads names of at most {block - 1} characters" if block and max_len == block - 1 else "set --max-len"
    if options.min_len > max_len:
        raise ConfigError(f"--min-len {options.min_len} is above the length cap {max_len} ({fix})")
    if len(options.prefix) > max_len:
        raise ConfigError(f"--prefix {options.prefix!r} is longer than the length cap {max_len} ({fix})")
    device = model_device(model)
    allowed = allowed_mask(vocab, options, device)
    include = None
    if options.include:
        include = torch.zeros(vocab.size, dtype=torch.bool)
        for c in options.include:
            if c in vocab:
                include[vocab.id(c)] = True
        include = include.to(device) & allowed
    prefix_included = any(c in options.include for c in options.prefix)
    if include is not None and not prefix_included and not bool(include.any()):
        raise ConfigError(
            f"--include {options.include!r}: none of these characters can appear "
            "(unknown to the model, excluded, or outside --charset)"
        )
    ids = tuple(vocab.encode(options.prefix))
    # A prefix is a start, not a name: at least one character follows it unless --max-len leaves no room.
    min_len = max(options.min_len, min(len(options.prefix) + 1, max_len)) if options.prefix else options.min_len
    return Constraints(ids, allowed, None if prefix_included else include, min_len, max_len)


def truncate(logits: torch.Tensor, options: SampleOptions) -> torch.Tensor:
    """Tempered logits (A, V) with -inf outside the top-k and the top-p nucleus (greedy: the argmax)."""
    if options.temperature == 0:
        best = logits.argmax(dim=-1, keepdim=True)  # (A, 1)
        return torch.full_like(logits, NEG_INF).scatter_(-1, best, logits.gather(-1, best))
    if options.temperature != 1:
        logits = logits / options.temperature
    if options.top_k is not None and options.top_k < logits.size(-1):
        kth = torch.topk(logits, options.top_k, dim=-1).values[:, -1:]  # (A, 1)
        logits = logits.masked_fill(logits < kth, NEG_INF)
    if options.top_p is not None and options.top_p < 1:
        sorted_logits, order = logits.sort(dim=-1, descending=True)  # (A, V)
        sorted_p = torch.softmax(sorted_logits, dim=-1)
        before = sorted_p.cumsum(dim=-1) - sorted_p  # mass of the more likely ids
        drop = torch.zeros_like(before, dtype=torch.bool).scatter_(-1, order, before >= options.top_p)
        logits = logits.masked_fill(drop, NEG_INF)
    return logits


def pick(
    logits: torch.Tensor, options: SampleOptions, generator: torch.Generator | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Next ids (A,) drawn from masked logits (A, V) under temperature, top-k and top-p, and which rows
    could draw at all (A,) (a row with every id masked cannot).

    Drawn by inverting the cumulative distribution with one uniform number per row, which on a CPU
    is several times faster than `torch.multinomial` over a large vocabulary. An id of zero
    probability is never drawn: the uniform number stays strictly below the total mass, and only
    an id with mass can hold it.
    """
    logits = truncate(logits, options)
    if options.temperature == 0:
        best, ids = logits.max(dim=-1)  # (A,), (A,)
        return ids, torch.isfinite(best)
    cdf = torch.softmax(logits, dim=-1).cumsum_(dim=-1)  # (A, V)
    total = cdf[:, -1:]  # (A, 1): 1 up to rounding, NaN for a row with every id masked
    u = torch.rand(total.shape, generator=generator, device=logits.device) * total  # (A, 1)
    u = torch.minimum(u, torch.nextafter(total, torch.zeros_like(total)))
    ids = torch.searchsorted(cdf, u, right=True)[:, 0]  # (A,)
    return ids.clamp_(max=logits.size(-1) - 1), total[:, 0] > 0


def _decode_rows(vocab: Vocab, prefix: str, out: list[list[int]]) -> list[str]:
    chars = vocab.texts
    names = []
    for ids in out:
        n = ids.index(BOUNDARY) if BOUNDARY in ids else len(ids)
        names.append(prefix + "".join([chars[i] for i in ids[:n]]))
    return names


def _prefix_state(model, constraints: Constraints, batch: int, device):
    """The model state after reading the start token and all but the last prefix id, shared by `batch` rows."""
    feed = (BOUNDARY,) + constraints.prefix_ids
    state = None
    for tok in feed[:-1]:
        _, state = model.step(torch.full((1,), tok, dtype=torch.long, device=device), state)
    if state is not None:
        state = model.select_state(state, torch.zeros(batch, dtype=torch.long, device=device))
    return state, feed[-1]


@torch.inference_mode()
def sample_batch(
    model,
    vocab: Vocab,
    batch: int,
    options: SampleOptions,
    max_len: int | None = None,
    generator: torch.Generator | None = None,
    constraints: Constraints | None = None,
) -> list[str]:
    """Draw `batch` names meeting every option but `include`; rows no allowed character can continue are dropped."""
    if constraints is None:
        if max_len is not None:
            options = replace(options, max_len=max_len)
        constraints = compile_constraints(model, vocab, options)
    device = model_device(model)
    c = constraints
    start = len(c.prefix_ids)
    state, last = _prefix_state(model, c, batch, device)
    tok = torch.full((batch,), last, dtype=torch.long, device=device)
    rows = torch.arange(batch, device=device)  # which output row each live row writes
    out = torch.zeros(batch, c.max_len - start + 1, dtype=torch.long, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    banned = {length: c.banned(length) for length in range(start, c.max_len)}
    for length in range(start, c.max_len + 1):
        if length == c.max_len:  # the end is forced: no need to ask the model
            done[rows] = True
            break
        logits, state = model.step(tok, state)  # (A, V)
        logits = logits.float().index_fill_(1, banned[length], NEG_INF)  # (A, V)
        nxt, ok = pick(logits, options, generator)  # (A,), (A,)
        ended = (nxt == BOUNDARY) & ok
        done[rows[ended]] = True
        go = ok & ~ended
        if not bool(go.all()):
            keep = go.nonzero()[:, 0]
            if len(keep) == 0:
                break
            rows, nxt, state = rows[keep], nxt[keep], model.select_state(state, keep)
        out[rows, length - start] = nxt
        tok = nxt
    return _decode_rows(vocab, options.prefix, out[done].tolist())


def shortfall_reason(constraints: Constraints, complete: bool, novelty: str, rejected: int, effort: str) -> str:
    """Why fewer names were found than asked for, in words a user can act on."""
    if not bool(constraints.allowed[N_SPECIAL:].any()):
        return "no character the model knows is allowed after the prefix (--charset, --exclude)"
    if not complete:
        return f"no more turned up in {effort}; loosen the constraints"
    if rejected:
        looser = "--novelty exact or off" if novelty == "strict" else "--novelty off"
        return (f"no other names satisfy the constraints and the {novelty} novelty rule, which rejected "
                f"{rejected} (see --verbose; {looser} allows more)")
    return "no other names satisfy the constraints"


def _new_generator(device, seed: int | None) -> torch.Generator:
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


def generate(
    model,
    vocab: Vocab,
    n: int,
    options: SampleOptions = SampleOptions(),
    training_names: list[str] = (),
    novelty: str | None = None,
    seed: int | None = None,
    train_info: dict | None = None,
    max_tries: int | None = None,
    search_budget: int = 200_000,
) -> GenerateResult:
    """Up to `n` distinct names meeting every option that are new under `novelty`; always ends.

    `novelty` None picks the default for the model (`novelty.default_mode`). `max_tries` bounds the
    candidates sampled; `search_budget` bounds the model rows the closing search may compute.
    """
    from .search import search_names

    if n < 1:
        raise ConfigError(f"-n {n}: must be at least 1")
    novelty = novelty or default_mode(train_info)
    constraints = compile_constraints(model, vocab, options, train_info)
    filt: NoveltyFilter = novelty_filter(training_names, novelty)
    if hasattr(model, "eval"):
        model.eval()
    greedy = options.temperature == 0
    max_tries = 1 if greedy else (max_tries or max(5000, 500 * n))
    generator = _new_generator(model_device(model), seed)
    found: dict[str, None] = {}
    seen: set[str] = set()
    result = GenerateResult([], n, 0, novelty=novelty)
    while len(found) < n and result.drawn < max_tries:
        batch = min(max_tries - result.drawn, max(256, 4 * (n - len(found))), 4096)
        names = sample_batch(model, vocab, batch, options, generator=generator, constraints=constraints)
        result.drawn += batch
        fresh = 0
        for name in names:
            if name in seen:
                continue
            seen.add(name)
            fresh += 1
            if options.include and not any(c in name for c in options.include):
                continue
            why = filt.check(name)
            if why is not None:
                result.rejected.append((name, why))
                continue
            found[name] = None
            if len(found) == n:
                break
        if fresh == 0:  # a whole batch of names already seen: few names are left to find
            break
    if len(found) < n and greedy:
        why = f", {result.rejected[0][0]}, which {result.rejected[0][1].describe()}" if result.rejected else ""
        result.reason = f"greedy decoding (--temperature 0) gives one name{why}; use --best N for the N most likely"
    elif len(found) < n:
        more = search_names(model, vocab, n - len(found), options, filt, train_info, skip=seen,
                            max_nodes=search_budget, sampling_support=True, constraints=constraints)
        for name in more.names:
            found[name] = None
        result.rejected.extend(more.rejected)
        result.complete = more.complete
        result.reason = shortfall_reason(constraints, more.complete, novelty, len(result.rejected),
                                         f"{result.drawn} draws and a search of {more.expanded:,} paths")
    result.names = list(found)
    result.exhausted = len(found) < n
    return result
