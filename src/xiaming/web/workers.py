"""Library calls in worker processes, for `xiaming serve --workers N`.

One Python process computes on one core at a time (the global interpreter lock): with the page's
requests answered by threads of one process, the HTTP side and the library calls take turns on a
single core however many the machine has. `Workers` forks `N` processes after the models are
loaded, so they share the models' memory with the server instead of loading their own copies
(`warm` first loads what the library loads on first use, and `gc.freeze` keeps the collector from
touching, and so copying, the loaded objects), and each makes the library calls it is handed.
(Reading an object still writes its reference count, so the pages a worker reads are copied on
first use: the PSS of server and workers together rises by some megabytes in the first minutes
under load and levels off, while each process's RSS stays flat.) The app keeps its own thread pool, one thread per worker:
a thread hands its call to a free worker over a pipe and waits for the answer (the wait releases
the lock), so the app's queueing, time limit and Server-Timing work exactly as with calls made in
its own threads, and one queue keeps every worker busy.

Messages are JSON, never pickle: a call is `{"call": name, "args": [...]}` with `name` one of
`CALLS` (the `Backend` methods the API uses); an answer is `{"ok": result}` (the response shape as
a dict), `{"refused": body}` for a `XiamingError` (its JSON error body; the app answers 400 with it), or
`{"bug": type}` (the app answers 500). A worker that dies is not replaced (forking a server that
runs threads is unsafe); the call it was making, and every later one, is made in the server process.
Workers exit when the server closes their pipes or dies, and ignore Ctrl-C (the server stops them).
"""

from __future__ import annotations

import gc
import json
import os
import queue
import signal
import sys
from multiprocessing.connection import Connection, Pipe
from typing import Any

from ..data.pinyin import name_pinyin
from ..errors import XiamingError
from .backend import Backend
from .errors import Refused, error_body

CALLS = frozenset({"generate", "best", "score", "explain", "who", "quiz", "verse"})  # Backend methods a worker makes


class WorkerBug(Exception):
    """A library call failed in a worker with an error other than a `XiamingError` (a bug)."""


def answer(backend: Backend, message: bytes) -> bytes:
    """The JSON answer to one JSON call message (what a worker does with each call it receives)."""
    try:
        call = json.loads(message)
        if call.get("call") not in CALLS:
            raise WorkerBug(f"unknown call {call.get('call')!r}")
        result = getattr(backend, call["call"])(*call["args"])
        return json.dumps({"ok": result.model_dump()}).encode()
    except XiamingError as exc:
        return json.dumps({"refused": error_body(exc)}).encode()
    except Exception as exc:  # noqa: BLE001 (a bug: reported as a 500 naming its type, the worker lives on)
        return json.dumps({"bug": type(exc).__name__}).encode()


def _serve_calls(backend: Backend, conn: Connection) -> None:
    """A worker's life: answer calls until the server closes the pipe."""
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        conn.send_bytes(answer(backend, message))


def result_of(reply: bytes) -> Any:
    """The result carried by a worker's JSON answer; XiamingError or WorkerBug for a failed call."""
    out = json.loads(reply)
    if "ok" in out:
        return out["ok"]
    if "refused" in out:
        raise Refused(out["refused"])
    raise WorkerBug(f"{out.get('bug', 'an error')} in a worker")


def warm(backend: Backend) -> None:
    """Load what the library loads on first use (pypinyin's tables, lazily imported modules) in this
    process, so the workers share it instead of each loading its own copy."""
    name_pinyin("令狐冲")
    for call in (lambda: backend.score(None, ["令狐冲"]), lambda: backend.generate(None, 1, {}, None, 0)):
        try:
            call()
        except XiamingError:  # a model that cannot (a custom one): nothing to warm there
            pass


class Workers:
    """`count` forked processes making `Backend` calls (see the module docstring)."""

    def __init__(self, backend: Backend, count: int) -> None:
        if count < 1:
            raise ValueError("at least one worker")
        self.backend = backend
        self.count = count
        self.pids: list[int] = []
        self._closed = False
        self._free: queue.SimpleQueue[Connection] = queue.SimpleQueue()
        warm(backend)
        gc.collect()
        gc.freeze()  # what is loaded now stays untouched by the collector, so shared with the workers
        for _ in range(count):
            ours, theirs = Pipe()
            pid = os.fork()
            if pid == 0:  # the worker
                code = 0
                try:
                    signal.signal(signal.SIGINT, signal.SIG_IGN)
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    ours.close()
                    while not self._free.empty():  # the pipes of the workers forked before this one
                        self._free.get().close()
                    _serve_calls(backend, theirs)
                except BaseException:  # noqa: BLE001 (never return into the server's code)
                    code = 1
                finally:
                    sys.stdout.flush()
                    os._exit(code)
            theirs.close()
            self.pids.append(pid)
            self._free.put(ours)

    def call(self, name: str, args: list[Any]) -> Any:
        """`Backend.<name>(*args)` in a free worker (in this process if none is left); the result as a
        dict of the response shape, or the model itself when made here."""
        try:
            conn = self._free.get_nowait()
        except queue.Empty:  # every worker died (one thread per worker: none is ever busy here)
            return getattr(self.backend, name)(*args)
        try:
            conn.send_bytes(json.dumps({"call": name, "args": args}).encode())
            reply = conn.recv_bytes()
        except (EOFError, OSError):  # the worker died: its thread works here from now on
            conn.close()
            if self._closed:  # stopped by `close`: the server is shutting down, no work to take over
                raise WorkerBug("the workers were stopped") from None
            return getattr(self.backend, name)(*args)
        self._free.put(conn)
        return result_of(reply)

    def close(self) -> None:
        """Stop the workers: close their pipes (each exits on the end of its pipe) and reap them."""
        self._closed = True
        while not self._free.empty():
            self._free.get().close()
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGTERM)  # one still busy with a long call stops now
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        self.pids = []
