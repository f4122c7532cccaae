"""Load on `xiaming serve`: concurrent clients sending mixed generate and score requests.

    python benchmarks/load.py                      # 50 clients for 60 s (the issue's goal)
    python benchmarks/load.py --duration 10        # a shorter run

Starts `python -m xiaming serve` on a free loopback port (127.0.0.1 only) in its own process, waits
until it answers, then runs `--clients` threads for `--duration` seconds, each sending requests
back to back over one keep-alive connection (a closed loop: no think time, so the server is
saturated): generate (`n=20`, a random seed, the default model) with probability `--generate`,
else score (1-5 names of the jinyong list). Every request has a 30 s client timeout and the run
stops at `--max-requests` in all, so it is bounded in time and count.

Before the load, one client alone sends the same mix for `--baseline` seconds: its latencies are
the service time of each kind (no queueing), the baseline the loaded figures are compared with.

Prints requests per second, p50/p95/p99 latency for each kind and overall, how much of it the
request spent waiting for one of the server's library threads and how much the library worked
(the server's Server-Timing header), the error count (any answer but 200, a generate with fewer
than n names, or no answer), the CPU the server used (with its worker processes) and the machine's
load average during the run (other work on the machine slows every figure), and the server's
memory after warm-up, at the end and at its peak: the PSS of the server and its workers (each
shared page counted once) and the RSS of each process (from /proc). Goals (issue 14): zero errors, p95 under 250 ms for generate, flat memory. Linux only (/proc).

    python benchmarks/load.py --workers 0          # library calls in the server's own threads
"""

from __future__ import annotations

import argparse
import glob
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

SCORE_NAMES = [
    "令狐冲",
    "郭靖",
    "黄蓉",
    "张无忌",
    "韦小宝",
    "乔峰",
    "段誉",
    "虚竹",
    "杨过",
    "小龙女",
    "欧阳锋",
    "洪七公",
    "东方不败",
    "任盈盈",
    "岳不群",
    "周伯通",
    "王重阳",
    "李莫愁",
    "程英",
    "陆无双",
]


@dataclass
class Tally:
    """Latencies by kind and errors, shared by the client threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"generate": [], "score": []})
    work: dict[str, list[float]] = field(default_factory=lambda: {"generate": [], "score": []})  # server's own, s
    queue: dict[str, list[float]] = field(default_factory=lambda: {"generate": [], "score": []})
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def family(pid: int) -> list[int]:
    """A process and its descendants (the server and its worker processes), from /proc."""
    found = [pid]
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(path, encoding="ascii") as f:
                children = [int(c) for c in f.read().split()]
        except OSError:  # the thread ended
            continue
        for child in children:
            found += family(child)
    return found


def memory_mb(pid: int) -> float:
    """Memory of a process and its descendants in MiB: the sum of their proportional set sizes (PSS,
    from /proc: each shared page counted once in all, so workers forked with the models in memory
    are not counted as copies of the server)."""
    total = 0
    for p in family(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup", encoding="ascii") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, StopIteration):  # it just ended
            continue
    return total / 1024


def resident_mb(pid: int) -> list[float]:
    """Resident memory (RSS) of a process and of each of its descendants in MiB, from /proc: what each
    holds, shared pages included (a worker's pages copied from the server on write move from shared
    to private, which raises the PSS sum but not these)."""
    sizes = []
    for p in family(pid):
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as f:
                sizes.append(next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024)
        except (OSError, StopIteration):
            continue
    return sizes


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and its descendants have used so far, in seconds, from /proc."""
    total = 0
    for p in family(pid):
        try:
            with open(f"/proc/{p}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    """The 1-minute load average of the machine (other work slows every figure)."""
    return f"{os.getloadavg()[0]:.2f}"


def start_server(port: int, workers: int | None) -> subprocess.Popen:
    """`xiaming serve` on 127.0.0.1:port (with `--workers` unless None), once it answers /api/models."""
    command = [sys.executable, "-m", "xiaming", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        command + ([] if workers is None else ["--workers", str(workers)]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited: {server.stderr.read().decode(errors='replace').strip()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/models")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not answer within 120 s")


def client(
    port: int, stop_at: float, tally: Tally, share_generate: float, n: int, max_requests: int, seed: int
) -> None:
    """Send requests back to back until `stop_at` or the shared request cap."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < stop_at:
        with tally.lock:
            if tally.sent >= max_requests:
                return
            tally.sent += 1
        if rng.random() < share_generate:
            kind, path, body = "generate", "/api/generate", {"n": n, "seed": rng.randrange(2**31)}
        else:
            kind, path, body = "score", "/api/score", {"names": rng.sample(SCORE_NAMES, rng.randint(1, 5))}
        data = json.dumps(body).encode()
        start = time.perf_counter()
        try:
            conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - start
            ok = response.status == 200 and (kind != "generate" or json.loads(payload)["found"] == n)
            timing = dict(
                p.strip().split(";dur=") for p in (response.getheader("Server-Timing") or "").split(",") if ";dur=" in p
            )
            error = None if ok else f"{kind}: HTTP {response.status} {payload[:120]!r}"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            elapsed, error, timing = time.perf_counter() - start, f"{kind}: {type(exc).__name__} {exc}", {}
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with tally.lock:
            if error is None:
                tally.latencies[kind].append(elapsed)
                if "work" in timing:
                    tally.work[kind].append(float(timing["work"]) / 1000)
                    tally.queue[kind].append(float(timing["queue"]) / 1000)
            else:
                tally.errors.append(error)
    conn.close()


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of values, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description="Load on xiaming serve: concurrent mixed generate and score requests.")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring (default 3)")
    parser.add_argument("--baseline", type=float, default=5.0, help="seconds of one client alone first (default 5)")
    parser.add_argument("--generate", type=float, default=0.5, help="share of generate requests (default 0.5)")
    parser.add_argument("-n", type=int, default=20, help="names per generate request (default 20)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="stop after this many requests in all")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="the server's --workers (default: its own default, one worker process per core)",
    )
    args = parser.parse_args()
    if not (1 <= args.clients <= 500 and 0 < args.duration <= 3600 and 0 <= args.generate <= 1):
        parser.error("--clients 1-500, --duration up to 3600 s, --generate in [0, 1]")

    port = free_port()
    server = start_server(port, args.workers)
    try:
        warm = Tally()
        stop = time.monotonic() + args.warmup
        threads = [
            threading.Thread(target=client, args=(port, stop, warm, args.generate, args.n, args.max_requests, i))
            for i in range(args.clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        alone = Tally()
        client(port, time.monotonic() + args.baseline, alone, args.generate, args.n, args.max_requests, 99)
        mem_start, rss_start = memory_mb(server.pid), resident_mb(server.pid)
        peak = [mem_start]
        cpu_start, loads, own_start = cpu_seconds(server.pid), [load_average()], time.process_time()
        tally = Tally()
        stop = time.monotonic() + args.duration
        threads = [
            threading.Thread(
                target=client, args=(port, stop, tally, args.generate, args.n, args.max_requests, 1000 + i)
            )
            for i in range(args.clients)
        ]
        began = time.monotonic()
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            time.sleep(0.5)
            peak.append(memory_mb(server.pid))
            if len(peak) % 40 == 0:  # every 20 s
                loads.append(load_average())
        for t in threads:
            t.join()
        elapsed = time.monotonic() - began
        mem_end, cpu, rss_end = memory_mb(server.pid), cpu_seconds(server.pid) - cpu_start, resident_mb(server.pid)
        own = time.process_time() - own_start
        processes = len(family(server.pid))
        loads.append(load_average())
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()

    done = sum(len(v) for v in tally.latencies.values())
    print(
        f"one client alone for {args.baseline:g} s (service time, no queueing): "
        + "  ".join(
            f"{kind} p50 {quantile(v, 0.5):.1f} ms p95 {quantile(v, 0.95):.1f} ms"
            for kind, v in alone.latencies.items()
        )
        + (f"  errors {len(alone.errors)}" if alone.errors else "")
    )
    print(
        f"load: {args.clients} clients for {args.duration:g} s (closed loop), {args.generate:.0%} generate (n={args.n}), "
        f"the rest score; {os.cpu_count()} CPU cores"
    )
    print(
        f"requests {done + len(tally.errors)}  ok {done}  errors {len(tally.errors)}  {done / elapsed:.1f} requests/s"
    )
    print(
        f"server CPU {cpu / elapsed:.2f} cores on average, {1000 * cpu / max(1, done + len(tally.errors)):.2f} ms per "
        f"request; the clients (this process) {own / elapsed:.2f} cores; machine load average (1 min) "
        f"{', '.join(loads)} at the start, every 20 s and at the end"
    )
    every = tally.latencies["generate"] + tally.latencies["score"]
    for kind, values in (
        ("generate", tally.latencies["generate"]),
        ("score", tally.latencies["score"]),
        ("all", every),
    ):
        print(
            f"{kind:<9} {len(values):>6} ok  p50 {quantile(values, 0.5):7.1f} ms  p95 {quantile(values, 0.95):7.1f} ms  "
            f"p99 {quantile(values, 0.99):7.1f} ms"
        )
    for kind in ("generate", "score"):
        print(
            f"{kind:<9} in the server: waiting for a thread p50 {quantile(tally.queue[kind], 0.5):7.1f} ms  "
            f"p95 {quantile(tally.queue[kind], 0.95):7.1f} ms; library work p50 {quantile(tally.work[kind], 0.5):6.1f} ms  "
            f"p95 {quantile(tally.work[kind], 0.95):6.1f} ms"
        )
    print(
        f"server memory (PSS of its {processes} process{'es' if processes > 1 else ''}) {mem_start:.1f} MiB after "
        f"warm-up, {mem_end:.1f} MiB at the end, peak {max(peak):.1f} MiB; RSS of each "
        f"{' '.join(f'{a:.0f}' for a in rss_start)} MiB after warm-up, {' '.join(f'{b:.0f}' for b in rss_end)} at the end"
    )
    for error in tally.errors[:5]:
        print(f"error: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
