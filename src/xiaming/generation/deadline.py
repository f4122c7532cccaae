"""A wall-clock budget for generation, set for a block of code: sampling and search stop at their
next batch once it is spent, exactly as when their draws or paths run out, so a caller that must
answer in time (the web server) gets the names found by then, with the library's usual reason and
`complete` False.

    with time_budget(2.0) as budget:
        result = namer.generate(100, options)
    budget.spent  # True when the time ran out (the result may then hold fewer names)

The budget is held in a context variable (as `decimal.localcontext` holds a precision): each
thread and each call has its own, and it reaches the sampler's and the search's loops through the
layers between them (`Namer`, steering, mixtures) without a parameter in each. Outside a
`time_budget` block nothing is checked against the clock, so the CLI's and the Python API's results
never depend on the machine's speed.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator


@dataclass
class TimeBudget:
    """`seconds` of work from `start` (time.monotonic()); `spent` once a loop found it over."""

    seconds: float
    start: float
    spent: bool = False

    def over(self) -> bool:
        """Whether the budget is spent (and remember it)."""
        if not self.spent and time.monotonic() - self.start >= self.seconds:
            self.spent = True
        return self.spent


_CURRENT: ContextVar[TimeBudget | None] = ContextVar("xiaming_time_budget", default=None)


@contextmanager
def time_budget(seconds: float) -> Iterator[TimeBudget]:
    """Bound the generation inside the block to `seconds` of wall-clock time (see the module docstring)."""
    if not seconds > 0:
        raise ValueError(f"a time budget must be positive, not {seconds!r}")
    budget = TimeBudget(seconds, time.monotonic())
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def out_of_time() -> bool:
    """Whether the time budget in force, if any, is spent (what the sampler and search check per batch)."""
    budget = _CURRENT.get()
    return budget is not None and budget.over()
