"""`xiaming serve`: the web page and its JSON API."""

from __future__ import annotations

import os
import sys

from ..errors import ConfigError
from .args import integer, number

MAX_BUDGET = 60.0  # seconds: past the server's 10 s time limit a budget would never end a request anyway


def add_serve(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="the web page and its JSON API, on this machine",
        description="Serve the page (generate, mix styles, score, whose style, the guessing game, "
        "a look inside the model) and its JSON API, documented at /docs, with every "
        "shipped model loaded once at start. Needs the web extra: pip install "
        '"xiaming[web]". Ctrl-C stops it.',
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it to the network)",
    )
    p.add_argument("--port", type=integer, default=8000, help="port (default 8000)")
    p.add_argument(
        "--models",
        default=None,
        metavar="DIR",
        help="also serve every checkpoint in DIR, each under its file name (my.safetensors as 'my')",
    )
    p.add_argument(
        "--workers",
        type=integer,
        default=None,
        metavar="N",
        help="processes making the library calls, so they use more than one core "
        "(default: one per core, none on a 1-core machine; 0: in the server process)",
    )
    p.add_argument(
        "--budget",
        type=number,
        default=2.0,
        metavar="SECONDS",  # web.backend.BUDGET (not imported:
        # the web extra may be missing, which _cmd_serve reports in one line)
        help="seconds of work a generate or best request may take; then it answers with the names "
        "found so far, saying so (default 2)",
    )
    p.set_defaults(run=_cmd_serve)


def _cmd_serve(args) -> int:
    import socket

    if not 1 <= args.port <= 65535:
        raise ConfigError("port", args.port, "must be between 1 and 65535")
    if args.workers is not None and not 0 <= args.workers <= 64:
        raise ConfigError("workers", args.workers, "must be between 0 and 64")
    if not 0 < args.budget <= MAX_BUDGET:
        raise ConfigError("budget", args.budget, f"must be above 0 and at most {MAX_BUDGET:g} seconds")
    if args.workers and not hasattr(os, "fork"):
        raise ConfigError(
            "workers", args.workers, "worker processes need os.fork (Linux, macOS); use {workers} 0", refs=("workers",)
        )
    try:
        from ..web.server import serve
    except ModuleNotFoundError as exc:
        raise ConfigError(f'serve needs the web extra ({exc.name} is missing): pip install "xiaming[web]"') from None
    from ..web.backend import Backend

    try:  # refuse a busy or foreign address in one line, before loading anything
        with socket.create_server((args.host, args.port)):
            pass
    except (OSError, OverflowError) as exc:
        why = os.strerror(exc.errno) if getattr(exc, "errno", None) else str(exc)
        raise ConfigError(
            "host", args.host, f"cannot listen there on {{port}} {args.port} ({why})", refs=("port",)
        ) from None
    backend = Backend.load(args.models, budget=args.budget)
    url = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}/"
    print(f"xiaming: serving {', '.join(backend.models)} at {url} (API at {url}docs); Ctrl-C stops", file=sys.stderr)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"xiaming: note: {args.host} is reachable from other machines, and the server has no login", file=sys.stderr
        )
    cores = (os.cpu_count() or 1) if hasattr(os, "fork") else 1  # worker processes are forked
    serve(backend, args.host, args.port, (cores if cores > 1 else 0) if args.workers is None else args.workers)
    print("xiaming: server stopped", file=sys.stderr)  # a clean stop on Ctrl-C or SIGTERM, exit code 0
    return 0
