"""Cheap and expensive requests together on `xiaming serve`: are the cheap ones still answered quickly?

    python benchmarks/load_mixed.py                    # 50 clients for 60 s, 10 of them expensive (issue 23)
    python benchmarks/load_mixed.py --duration 20      # a shorter run

Starts `python -m xiaming serve --workers 2` on a free loopback port (benchmarks/load.py's
`start_server`), then runs `--clients` threads for `--duration` seconds, each sending requests back
to back over one keep-alive connection: `--expensive` of them the issue's expensive request
(`EXPENSIVE`: 100 names of four characters with 龙, seconds of sampling), the rest a cheap one
(`{"n": 20}` with a random seed). A client told 503 or 429 waits the seconds its Retry-After header
says (as a polite client does; the end of the run at most) and goes on over a new connection; an
answer without the header counts as an error. Every request has a 60 s client timeout.

Prints, for each kind: answers by status, latency p50/p95/p99 of the 200s, and for the expensive
ones how many were cut short by the server's time budget (`searched_all` false with fewer names than
asked); whether each 503/429 carried Retry-After; the server's CPU and the machine's load average
(other work on the machine slows every figure); and the goals of issue 23: cheap p95 at most 500 ms,
no error but a 503/429 with Retry-After. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from load import cpu_seconds, free_port, load_average, quantile, start_server

EXPENSIVE = {"n": 100, "min_len": 4, "max_len": 4, "include": "龙"}
CHEAP_N = 20
KINDS = ("cheap", "expensive")


@dataclass
class Tally:
    """What the clients saw, by kind; shared by the client threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    statuses: dict[str, Counter] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    refusals: Counter = field(default_factory=Counter)  # (status, "with" / "without" Retry-After)
    cut: int = 0  # expensive answers cut short by the time budget
    found: list[int] = field(default_factory=list)  # names found per expensive answer
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def send(conn: http.client.HTTPConnection, body: dict) -> tuple[int, bytes, str | None]:
    """POST /api/generate; (status, payload, Retry-After header or None)."""
    conn.request("POST", "/api/generate", body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read(), response.getheader("Retry-After")


def record(tally: Tally, kind: str, status: int, payload: bytes, retry: str | None, elapsed: float) -> float:
    """Count one answer; return the seconds the client should wait before its next request."""
    with tally.lock:
        tally.statuses[kind][status] += 1
        if status == 200:
            tally.latencies[kind].append(elapsed)
            body = json.loads(payload)
            if kind == "expensive":
                tally.found.append(body["found"])
                tally.cut += body["exhausted"] and not body["searched_all"]
            elif body["found"] != CHEAP_N:
                tally.errors.append(f"cheap: found {body['found']} of {CHEAP_N}")
            return 0.0
        if status in (429, 503):
            tally.refusals[(status, "with" if retry and retry.isdigit() else "without")] += 1
            if retry and retry.isdigit():
                return float(retry)
        tally.errors.append(f"{kind}: HTTP {status} {payload[:120]!r}")
        return 0.0


def client(port: int, stop_at: float, tally: Tally, kind: str, seed: int) -> None:
    """Send `kind` requests back to back until `stop_at`, waiting out each Retry-After."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.monotonic() < stop_at:
        body = dict(EXPENSIVE) if kind == "expensive" else {"n": CHEAP_N, "seed": rng.randrange(2**31)}
        start = time.perf_counter()
        try:
            status, payload, retry = send(conn, body)
        except (OSError, http.client.HTTPException) as exc:
            with tally.lock:
                tally.statuses[kind]["no answer"] += 1
                tally.errors.append(f"{kind}: {type(exc).__name__} {exc}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        wait = record(tally, kind, status, payload, retry, time.perf_counter() - start)
        if wait > 0:  # a fresh connection after the pause (the server closes one idle for 5 s)
            conn.close()
            time.sleep(max(0.0, min(wait, stop_at - time.monotonic())))
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.close()


def run_clients(port: int, seconds: float, clients: int, expensive: int, tally: Tally, seed: int) -> float:
    """`clients` threads for `seconds`, the first `expensive` of them expensive; the seconds it took."""
    stop = time.monotonic() + seconds
    threads = [
        threading.Thread(target=client, args=(port, stop, tally, "expensive" if i < expensive else "cheap", seed + i))
        for i in range(clients)
    ]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - began


def report(tally: Tally, args: argparse.Namespace, elapsed: float, cpu: float, loads: list[str]) -> None:
    """Print the figures and the goals."""
    print(
        f"mixed load: {args.clients} clients for {args.duration:g} s, {args.expensive} sending {json.dumps(EXPENSIVE, ensure_ascii=False)}, "
        f'the rest {{"n": {CHEAP_N}}}; server --workers {args.workers}; {os.cpu_count()} CPU cores; '
        f"machine load average (1 min) {', '.join(loads)} at the start and the end"
    )
    print(f"server CPU {cpu / elapsed:.2f} cores on average")
    for kind in KINDS:
        values = tally.latencies[kind]
        statuses = ", ".join(f"{s}: {c}" for s, c in sorted(tally.statuses[kind].items(), key=str))
        print(
            f"{kind:<9} answers {statuses or 'none'}; 200s p50 {quantile(values, 0.5):7.1f} ms  "
            f"p95 {quantile(values, 0.95):7.1f} ms  p99 {quantile(values, 0.99):7.1f} ms"
        )
    if tally.found:
        print(
            f"expensive 200s cut short by the time budget (searched_all false, fewer names): {tally.cut} of "
            f"{len(tally.found)}; names found p50 {sorted(tally.found)[len(tally.found) // 2]} of {EXPENSIVE['n']}"
        )
    for (status, carried), count in sorted(tally.refusals.items()):
        print(f"{status} answers {carried} Retry-After: {count}")
    cheap_p95 = quantile(tally.latencies["cheap"], 0.95)
    print(f"goal: cheap p95 <= 500 ms: {cheap_p95:.1f} ms, {'met' if cheap_p95 <= 500 else 'NOT met'}")
    print(
        f"goal: no error but 503/429 with Retry-After: {len(tally.errors)} errors, "
        f"{'met' if not tally.errors else 'NOT met'}"
    )
    for error in tally.errors[:5]:
        print(f"error: {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description="Cheap and expensive generate requests together on xiaming serve.")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--expensive", type=int, default=10, help="of which send the expensive request (default 10)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of cheap load first, not counted (default 3)"
    )
    parser.add_argument("--workers", type=int, default=2, help="the server's --workers (default 2)")
    args = parser.parse_args()
    if not (1 <= args.clients <= 500 and 0 <= args.expensive <= args.clients and 0 < args.duration <= 3600):
        parser.error("--clients 1-500, --expensive 0 to --clients, --duration up to 3600 s")

    port = free_port()
    server = start_server(port, args.workers)
    try:
        run_clients(port, args.warmup, args.clients - args.expensive, 0, Tally(), 0)
        tally, loads, cpu_start = Tally(), [load_average()], cpu_seconds(server.pid)
        elapsed = run_clients(port, args.duration, args.clients, args.expensive, tally, 1000)
        cpu = cpu_seconds(server.pid) - cpu_start
        loads.append(load_average())
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except Exception:  # noqa: BLE001 (stop it whatever happened)
            server.kill()
    report(tally, args, elapsed, cpu, loads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
