"""Every limit on the size of a name, on the work of one request and on a seed, each defined once.

The lengths are in characters; the budgets bound how long a request can run, so that an
impossible query (constraints no name meets) gives up instead of hanging. The library and the
CLI use the generous budgets; the web server, which answers many users on a few cores, the tight
ones (`results.Budget` groups them). A seed is checked here once (`check_seed`) for every front end,
so a seed numpy cannot take is a one-line error, never its traceback.
"""

from __future__ import annotations

from .errors import ConfigError

# --- names -----------------------------------------------------------------------------------------
DEFAULT_MAX_NAME_LEN = 32  # names longer than this are skipped when a list is read (--max-name-len's default)
LONGEST_NAME = 1 << 16  # the most --max-name-len may allow: a checkpoint's longest name and a model's row
LONGEST_GENERATED = 64  # the longest name the sampler builds (--min-len/--max-len): bounds batch x length memory

# --- the work of one request -----------------------------------------------------------------------
TRIES_PER_NAME, MIN_TRIES = 500, 5000  # generate(n) draws at most max(MIN_TRIES, TRIES_PER_NAME * n) candidates
SEARCH_BUDGET = 200_000  # model rows a search may compute (library and CLI; an impossible query gives up in seconds)
SERVER_TRIES = 10_000  # candidates one web generate request may draw at most
SERVER_SEARCH_BUDGET = 10_000  # model rows the search completing a web request's short sample may compute (about 1 s)
SERVER_BEST_BUDGET = 20_000  # model rows a web best request's search may compute (about 5 s on 2 busy cores)

# --- seeds -----------------------------------------------------------------------------------------
MAX_SEED = 2**63 - 1  # the largest seed a command, the web API or the library takes (numpy wants 0 or more)


def check_seed(seed: int | None, field: str = "seed") -> int | None:
    """`seed` when it is None or a whole number from 0 to `MAX_SEED`; otherwise a `ConfigError` naming
    `field`, before numpy's own "expected non-negative integer" can escape from deep in a run."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(field, seed, f"must be a whole number from 0 to {MAX_SEED}")
    return seed
