"""Generation: drawing names from a model, with every constraint applied inside the sampler.

`sample_batch` draws a batch of names in lock-step, one character per step for all rows at once,
dropping rows as they end so later steps cost less. Constraints are masks on the logits, not
rejection: excluded and out-of-charset characters get probability zero, the end token is masked
below `min_len` and forced at `max_len`, and a prefix is fed to the model before sampling starts.
`generate` repeats batches until it has `n` distinct new names or has drawn `max_tries`
candidates, so it always ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .errors import ConfigError
from .novelty import NoveltyFilter, Rejection
from .vocab import BOUNDARY, N_SPECIAL, UNKNOWN, Vocab


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
        if self.temperature < 0:
            raise ConfigError(f"--temperature {self.temperature}: must be 0 or more")
        if self.top_k is not None and self.top_k < 1:
            raise ConfigError(f"--top-k {self.top_k}: must be at least 1")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ConfigError(f"--top-p {self.top_p}: must be in (0, 1]")
        if self.min_len < 1:
            raise ConfigError(f"--min-len {self.min_len}: must be at least 1")
        if self.max_len is not None and self.max_len < 1:
            raise ConfigError(f"--max-len {self.max_len}: must be at least 1")
        if self.max_len is not None and self.min_len > self.max_len:
            raise ConfigError(f"--min-len {self.min_len} is above --max-len {self.max_len}")
        unknown = vocab.unknown_chars(self.prefix)
        if unknown:
            raise ConfigError(f"--prefix {self.prefix!r}: the model has never seen {''.join(unknown)!r}")
        if self.max_len is not None and len(self.prefix) >= self.max_len:
            raise ConfigError(f"--prefix {self.prefix!r} leaves no room under --max-len {self.max_len}")


@dataclass
class GenerateResult:
    """Names found and what it took."""

    names: list[str]
    requested: int
    drawn: int  # candidates sampled
    rejected: list[tuple[str, Rejection]] = field(default_factory=list)  # novelty rejections
    exhausted: bool = False  # stopped at the try limit with fewer names than requested


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


def pick(logits: torch.Tensor, options: SampleOptions, generator: torch.Generator | None) -> torch.Tensor:
    """Next ids (A,) from masked logits (A, V) under temperature, top-k and top-p."""
    if options.temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits / options.temperature
    if options.top_k is not None and options.top_k < logits.size(-1):
        kth = torch.topk(logits, options.top_k, dim=-1).values[:, -1:]  # (A, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)  # (A, V)
    if options.top_p is not None and options.top_p < 1:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        before = sorted_p.cumsum(dim=-1) - sorted_p  # mass of the more likely ids
        sorted_p = sorted_p.masked_fill(before >= options.top_p, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_p)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


def default_max_len(model, train_info: dict, options: SampleOptions) -> int:
    """The length cap: the option, else the longest training name; never past the model's window."""
    cap = options.max_len or max(train_info.get("max_name_len", 12), len(options.prefix) + 1)
    block = getattr(getattr(model, "config", None), "block_size", None)
    return min(cap, block - 1) if block else cap


@torch.no_grad()
def sample_batch(
    model, vocab: Vocab, batch: int, options: SampleOptions, max_len: int, generator: torch.Generator | None = None
) -> list[str]:
    """Draw `batch` names; rows that no allowed character can continue are dropped."""
    device = next(iter(model.parameters())).device if hasattr(model, "parameters") else torch.device("cpu")
    allowed = allowed_mask(vocab, options, device)
    feed = [BOUNDARY] + vocab.encode(options.prefix)
    state = None
    for tok in feed[:-1]:  # read the prefix; nothing is sampled yet
        _, state = model.step(torch.full((batch,), tok, dtype=torch.long, device=device), state)
    tok = torch.full((batch,), feed[-1], dtype=torch.long, device=device)
    rows = torch.arange(batch, device=device)  # which output row each live row writes
    out = torch.zeros(batch, max_len, dtype=torch.long, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    for length in range(len(options.prefix), max_len + 1):
        logits, state = model.step(tok, state)  # (A, V)
        logits = logits.float().masked_fill(~allowed, float("-inf"))
        if length < options.min_len:
            logits[:, BOUNDARY] = float("-inf")
        if length == max_len:
            nxt = torch.full_like(tok, BOUNDARY)
        else:
            alive = torch.isfinite(logits).any(dim=-1)
            if not bool(alive.all()):
                keep = alive.nonzero()[:, 0]
                rows, logits, state = rows[keep], logits[keep], model.select_state(state, keep)
                if len(rows) == 0:
                    break
            nxt = pick(logits, options, generator)
        ended = nxt == BOUNDARY
        done[rows[ended]] = True
        keep = (~ended).nonzero()[:, 0]
        if len(keep) == 0:
            break
        rows, tok = rows[keep], nxt[keep]
        out[rows, length] = tok
        state = model.select_state(state, keep)
    prefix = options.prefix
    return [prefix + vocab.decode(out[i, len(prefix) :].tolist()) for i in done.nonzero()[:, 0].tolist()]


def generate(
    model,
    vocab: Vocab,
    n: int,
    options: SampleOptions = SampleOptions(),
    training_names: list[str] = (),
    novelty: str = "exact",
    seed: int | None = None,
    train_info: dict | None = None,
    max_tries: int | None = None,
) -> GenerateResult:
    """Up to `n` distinct names meeting every option that are new under `novelty`; always ends."""
    if n < 1:
        raise ConfigError(f"-n {n}: must be at least 1")
    options.validate(vocab)
    max_len = default_max_len(model, train_info or {}, options)
    if options.min_len > max_len:
        raise ConfigError(f"--min-len {options.min_len} is above the length cap {max_len} (set --max-len)")
    filt = NoveltyFilter(list(training_names), novelty)
    max_tries = max_tries or max(5000, 500 * n)
    device = next(iter(model.parameters())).device if hasattr(model, "parameters") else torch.device("cpu")
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    found: dict[str, None] = {}
    seen: set[str] = set()
    result = GenerateResult([], n, 0)
    while len(found) < n and result.drawn < max_tries:
        batch = min(max_tries - result.drawn, max(256, 4 * (n - len(found))), 4096)
        names = sample_batch(model, vocab, batch, options, max_len, generator)
        result.drawn += batch
        for name in names:
            if name in seen:
                continue
            seen.add(name)
            if options.include and not any(c in name for c in options.include):
                continue
            why = filt.check(name)
            if why is not None:
                result.rejected.append((name, why))
                continue
            found[name] = None
            if len(found) == n:
                break
    result.names = list(found)
    result.exhausted = len(found) < n
    return result
