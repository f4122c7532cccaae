"""Which request runs next: a fair queue with two lanes, a cost estimate before admission, and a
refusal (503 with Retry-After) only when a request could not start in time.

The server makes `slots` library calls at once (one per worker process or thread). A burst of
expensive requests (a generate whose `include` draws thousands of candidates, a search) used to
take every slot for seconds while cheap requests queued behind them. `Admission` keeps them apart:

- each request is estimated before it is queued (`lane_of`): *heavy* if the same request (its
  body without the seed) took, on average lately, over `HEAVY_FACTOR` times the mean work of light
  requests and over `HEAVY_SECONDS` (relative, so that on a machine slowed by other work the
  cheap requests, slowed too, stay light), else if it asks for what is usually slow
  (`heavy_by_rule`: a search, `include`, `gender`, a style mixture, many names), *light* otherwise;
- heavy requests hold at most `slots - 1` slots (one slot when there is one), so a cheap request
  always has a slot that no heavy one can take; when requests of both lanes wait, a free slot goes
  to a heavy one only while heavy requests have had less than `HEAVY_SHARE` of the work done lately
  (work seconds, decaying over `WINDOW` seconds), so ten clients sending seconds-long requests take
  a quarter of the machine, not half of it, from forty sending cheap ones; and heavy requests are
  never starved either (below their share they go first); within a lane, first come, first served;
- a request is admitted only if it can be expected to start within the time limit (the requests
  of its lane ahead of it, times the lane's mean work, over the slots the lane may use); if not, the
  server is full for it, and it is refused at once with 503 and `Retry-After` (the seconds until the
  queue ahead of it should have drained) rather than after waiting the whole limit;
- a queued request whose client has gone away leaves the queue (`Ticket.leave`) and never runs.

Everything runs on the event loop's thread, so no lock is needed: `admit` and `release` are
plain calls, `wait` an await.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

HEAVY_SECONDS = 0.5  # library work above which a request may be heavy (a plain n=20 generate: tens of ms)
HEAVY_FACTOR = 5.0  # ... if it is also over this many times the mean work of light requests
LIGHT, HEAVY = "light", "heavy"
FIRST_GUESS = {LIGHT: 0.05, HEAVY: 2.0}  # seconds of work per lane before any was measured
SMOOTHING = 0.05  # weight of the newest measurement in a lane's mean work (about the last 20 count)
SHAPES = 4096  # request shapes whose mean work is remembered
SHAPE_SMOOTHING = 0.3  # weight of the newest measurement in a shape's mean work
MAX_RETRY_AFTER = 60  # seconds: the most Retry-After ever says
MANY_NAMES = 50  # a generate for more names than this is heavy by rule
HEAVY_SHARE = 0.25  # of the work done lately, what heavy requests get while cheap ones wait
WINDOW = 10.0  # seconds over which past work counts (its weight falls by e every WINDOW seconds)


class Full(Exception):
    """The server cannot start this request within the time limit: answer 503 with Retry-After."""

    def __init__(self, lane: str, retry_after: int) -> None:
        super().__init__(lane, retry_after)
        self.lane, self.retry_after = lane, retry_after


@dataclass
class Ticket:
    """One admitted request: its lane, and the future that is set when it may take a slot."""

    lane: str
    shape: str
    granted: asyncio.Future = field(repr=False)
    running: bool = False
    gone: bool = False

    def leave(self) -> None:
        """The client went away or the wait timed out: never start (the queue drops it)."""
        self.gone = True


def heavy_by_rule(path: str, body: dict[str, Any]) -> bool:
    """Whether a request is usually slow, from its body alone: a search (best), a generate that keeps
    only names with one of some characters (`include`, rejection sampling: often thousands of draws),
    that reweights proposals by gender, mixes styles or asks for many names."""
    if path == "best":
        return True
    if path == "generate":
        return (
            bool(body.get("include"))
            or bool(body.get("gender"))
            or bool(body.get("style"))
            or int(body.get("n", 0)) > MANY_NAMES
        )
    return False


def shape_of(path: str, body: dict[str, Any]) -> str:
    """What identifies a request for the cost estimate: its path and body without the seed (the same
    request with another seed costs about the same)."""
    kept = sorted((k, repr(v)) for k, v in body.items() if k != "seed")
    return f"{path} {kept}"


class Admission:
    """The fair two-lane queue in front of `slots` library calls (see the module docstring)."""

    def __init__(self, slots: int, limit: float) -> None:
        if slots < 1:
            raise ValueError("at least one slot")
        self.slots, self.limit = slots, limit
        self.caps = {LIGHT: slots, HEAVY: max(1, slots - 1)}  # slots each lane may hold at once
        self.busy = {LIGHT: 0, HEAVY: 0}
        self.work = dict(FIRST_GUESS)  # mean seconds of library work per lane
        self.queue: deque[Ticket] = deque()  # in order of arrival
        self.shapes: OrderedDict[str, float] = OrderedDict()  # shape -> mean work seconds lately
        self.used = {LIGHT: 0.0, HEAVY: 0.0}  # work seconds done lately per lane (decaying; see WINDOW)
        self.stamp = time.monotonic()  # when `used` was last decayed

    def lane_of(self, path: str, body: dict[str, Any]) -> tuple[str, str]:
        """(lane, shape) of a request: by its shape's measured work when known, else by rule."""
        shape = shape_of(path, body)
        seconds = self.shapes.get(shape)
        if seconds is None:
            heavy = heavy_by_rule(path, body)
        else:
            heavy = seconds > max(HEAVY_SECONDS, HEAVY_FACTOR * self.work[LIGHT])
        return (HEAVY if heavy else LIGHT), shape

    def waiting(self, lane: str) -> int:
        """Requests of `lane` queued and not yet started."""
        return sum(1 for t in self.queue if t.lane == lane and not t.gone)

    def expected_wait(self, lane: str) -> float:
        """Seconds a new request of `lane` should wait for a slot: the work queued before it in its lane
        (and, when every slot it may use is busy, half a request's work) over the slots it may use
        (for heavy requests while cheap ones wait: their share of the slots)."""
        ahead = self.waiting(lane) + (0.5 if self.busy[lane] >= self.caps[lane] or self.free() == 0 else 0.0)
        slots = self.caps[lane]
        if lane == HEAVY and self.waiting(LIGHT):
            slots = min(slots, max(HEAVY_SHARE * self.slots, 0.25))
        return ahead * self.work[lane] / slots

    def heavy_share(self) -> float:
        """The share of the work done lately that heavy requests did (0 when none was done)."""
        self._decay()
        total = self.used[LIGHT] + self.used[HEAVY]
        return self.used[HEAVY] / total if total > 0 else 0.0

    def _decay(self) -> None:
        now = time.monotonic()
        factor = math.exp(-(now - self.stamp) / WINDOW)
        self.used = {lane: seconds * factor for lane, seconds in self.used.items()}
        self.stamp = now

    def free(self) -> int:
        return self.slots - self.busy[LIGHT] - self.busy[HEAVY]

    def retry_after(self, lane: str) -> int:
        """Whole seconds (1 to MAX_RETRY_AFTER) until a request of `lane` should be admitted again: until
        the queue ahead of it has drained enough for it to start and finish within the limit."""
        late = self.expected_wait(lane) + self.work[lane] - self.limit
        return min(MAX_RETRY_AFTER, max(1, math.ceil(late)))

    def admit(self, lane: str, shape: str) -> Ticket:
        """Queue a request of `lane`, or raise Full when it could not start and finish in time."""
        if self.expected_wait(lane) + self.work[lane] > self.limit:
            raise Full(lane, self.retry_after(lane))
        ticket = Ticket(lane, shape, asyncio.get_running_loop().create_future())
        self.queue.append(ticket)
        self._dispatch()
        return ticket

    def release(self, ticket: Ticket, seconds: float | None) -> None:
        """A request ended after `seconds` of library work (None: it did none, or never started):
        free its slot, learn its cost, start the next."""
        if ticket.running:
            ticket.running = False
            self.busy[ticket.lane] -= 1
        if seconds is not None:
            self._decay()
            self.used[ticket.lane] += seconds
            self.work[ticket.lane] += SMOOTHING * (seconds - self.work[ticket.lane])
            known = self.shapes.pop(ticket.shape, seconds)
            self.shapes[ticket.shape] = known + SHAPE_SMOOTHING * (seconds - known)  # most recent last
            while len(self.shapes) > SHAPES:
                self.shapes.popitem(last=False)
        self._dispatch()

    def _dispatch(self) -> None:
        """Give each free slot to the next request (`_next`), dropping those gone."""
        self.queue = deque(t for t in self.queue if not t.gone)
        while self.free() > 0:
            ticket = self._next()
            if ticket is None:
                return
            self.queue.remove(ticket)
            ticket.running = True
            self.busy[ticket.lane] += 1
            ticket.granted.set_result(None)

    def _next(self) -> Ticket | None:
        """The request that takes a free slot: the first of each lane allowed one (heavy below its cap);
        of two, the heavy one only while heavy requests are below their share of the work."""
        light = next((t for t in self.queue if t.lane == LIGHT), None)
        heavy = next((t for t in self.queue if t.lane == HEAVY), None) if self.busy[HEAVY] < self.caps[HEAVY] else None
        if light is None or heavy is None:
            return light or heavy
        return heavy if self.heavy_share() < HEAVY_SHARE else light
