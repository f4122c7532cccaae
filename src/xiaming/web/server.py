"""Running the app: in the foreground for `xiaming serve` (`serve`), or on a background thread for
tests, scripts and notebooks (`running`), on a port the system picks; loopback only by default.

`serve` limits numpy's BLAS to one thread per call (`one_math_thread`): the app already runs one
library call per core on its thread pool, and OpenBLAS threads competing with those calls (and
with each other) made a generate request five to six times slower on this 2-core machine (two
concurrent n=20 requests: about 300 ms each with OpenBLAS's default threads, 40-60 ms with one).
`running` leaves the calling process's settings alone.

With `workers`, `serve` forks that many processes to make the library calls (`workers.Workers`):
one Python process computes on one core at a time, and on this 2-core machine two workers served
about 30% more requests per second than the server's own threads (benchmarks/load.py).
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import uvicorn
from fastapi import FastAPI


def one_math_thread() -> None:
    """Limit BLAS and OpenMP pools to one thread for the rest of the process (see the module docstring)."""
    import numpy  # noqa: F401  (threadpoolctl limits only the libraries already loaded)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def serve(backend, host: str, port: int, workers: int = 0) -> None:
    """Serve the app over `backend` in the foreground until Ctrl-C (uvicorn's signal handling); on a
    loopback address it answers only to loopback host names (see `app.Guard`). With `workers`, the
    library calls are made in that many worker processes (`workers.Workers`), forked here before
    the server starts any thread; 0: in the server's own threads."""
    from .app import LOOPBACK_HOSTS, create_app
    from .workers import Workers

    one_math_thread()  # before the fork: the workers keep the limit
    processes = Workers(backend, workers) if workers else None
    try:
        app = create_app(backend, hosts=LOOPBACK_HOSTS if host in LOOPBACK_HOSTS else None, processes=processes)
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if processes is not None:
            processes.close()


@contextmanager
def running(app: FastAPI, host: str = "127.0.0.1", port: int = 0, start_timeout: float = 30.0) -> Iterator[str]:
    """Serve `app` on a background thread while the block runs; yields its base URL (`http://127.0.0.1:PORT`).

    The socket is bound before the thread starts, so the URL is valid at once (port 0: a free port);
    the server is told to stop and joined when the block ends, whatever happens inside it.
    """
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on connections of a socket made with it, and
    # without it Nagle's algorithm and delayed ACKs held each answer back about 40 ms
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="xiaming-web")
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
