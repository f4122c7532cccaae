"""Data-parallel, streamed training on a synthetic list of two million names: throughput and memory.

Writes a seeded list of `--names` made-up Chinese-style names (a surname and one or two given
characters, drawn from a few thousand characters) to a temporary folder, then trains on it with
`--stream` twice, for `--seconds` each: one process of one thread, and two processes of one thread
each (gloo, the ranks started here with torchrun's environment variables), with the same total
batch. Each process reports its peak resident memory (`ru_maxrss`, the scan of the file, the
packing, validation and checkpoint saves included) and the time of its training steps. Printed:

- names/s: names per second over the training steps (a step's time runs from the end of one step
  to the end of the next; steps that include a validation and save are left out), and over the
  whole run (validations and checkpoint saves of the two-million-name list included);
- the ratio of the two-process to the one-process figure (goal: at least 1.6);
- peak memory per process and summed over the processes (goal: under 1 GB).

Other work on the machine slows both runs; the load average is printed before and after.

    python3 benchmarks/bench_ddp.py                       # 2,000,000 names, 75 s per configuration
    python3 benchmarks/bench_ddp.py --names 200000 --seconds 20   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"


def write_names(path: Path, count: int, seed: int) -> None:
    """`count` lines of made-up names (repeats possible, as in real registers), written in chunks."""
    rng = random.Random(seed)
    given = [chr(0x4E00 + i * 7) for i in range(3000)]  # 3,000 distinct CJK characters
    with open(path, "w", encoding="utf-8") as f:
        for start in range(0, count, 100_000):
            lines = [
                rng.choice(SURNAMES) + "".join(rng.choices(given, k=rng.choice((1, 2, 2, 2))))
                for _ in range(min(100_000, count - start))
            ]
            f.write("\n".join(lines) + "\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(args: argparse.Namespace) -> None:
    """One rank: train streamed for `--seconds`, then print one JSON line with its figures."""
    import torch

    torch.set_num_threads(1)
    from xiaming import TrainConfig, train
    from xiaming.training.stream import StreamedNames

    stamps: list[float] = []
    cpu: list[float] = []  # this process's CPU seconds (all its threads) at the same moments

    def note(step: int) -> bool:
        stamps.append(time.perf_counter())
        cpu.append(time.process_time())
        return False

    t0 = time.perf_counter()
    config = TrainConfig(
        max_steps=1_000_000,
        max_time=args.seconds,
        batch_size=args.batch_size,
        eval_interval=args.eval_interval,
        val_fraction=args.val_fraction,
        seed=0,
    )
    rank = int(os.environ.get("RANK", "0"))
    log = (lambda m: print(m, file=sys.stderr)) if rank == 0 else (lambda m: None)
    with StreamedNames(args.file) as streamed:
        result = train(
            streamed, "lstm", args.out, config, size=args.size, log=log, progress_bar=False, should_stop=note
        )
    # the interval ending at step k + 2 includes the validation of step k + 1 when that one validated
    plain = [i for i in range(len(stamps) - 1) if (i + 1) % args.eval_interval != 0]
    print(
        json.dumps(
            {
                "rank": rank,
                "steps": result.step,
                "elapsed": result.elapsed,
                "setup": stamps[0] - t0 if stamps else None,
                "plain_steps": len(plain),
                "plain_seconds": sum(stamps[i + 1] - stamps[i] for i in plain),
                "plain_cpu_seconds": sum(cpu[i + 1] - cpu[i] for i in plain),
                "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "best_val_bits": result.best_val_bits,
            }
        ),
        flush=True,
    )


def run_config(world: int, args: argparse.Namespace, folder: Path) -> list[dict]:
    """Start `world` ranks of one thread each and collect their reports."""
    port = free_port()
    procs = []
    for rank in range(world):
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        if world > 1:
            env.update(
                RANK=str(rank),
                WORLD_SIZE=str(world),
                LOCAL_RANK=str(rank),
                MASTER_ADDR="127.0.0.1",
                MASTER_PORT=str(port),
            )
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            "--file",
            str(folder / "names.txt"),
            "--out",
            str(folder / f"world{world}.safetensors"),
            "--seconds",
            str(args.seconds),
            "--batch-size",
            str(args.batch_size),
            "--size",
            args.size,
            "--eval-interval",
            str(args.eval_interval),
            "--val-fraction",
            str(args.val_fraction),
        ]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True))
    reports = []
    for proc in procs:
        out, _ = proc.communicate(timeout=args.seconds * 4 + 600)
        if proc.returncode != 0:
            raise SystemExit(f"a rank of the {world}-process run failed (exit {proc.returncode})")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=2_000_000, help="lines in the synthetic list")
    parser.add_argument("--seconds", type=float, default=75.0, help="training time per configuration")
    parser.add_argument("--batch-size", type=int, default=256, help="total names per step")
    parser.add_argument("--size", default="small", help="model size preset (lstm)")
    parser.add_argument("--eval-interval", type=int, default=500)
    parser.add_argument("--val-fraction", type=float, default=0.005)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-ddp-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        write_names(folder / "names.txt", args.names, seed=0)
        size_mb = (folder / "names.txt").stat().st_size / 2**20
        print(
            f"{args.names:,} synthetic names ({size_mb:.1f} MB) written in {time.perf_counter() - t:.1f} s; "
            f"lstm {args.size}, batch {args.batch_size} names in total, {args.seconds:g} s per configuration"
        )
        results = {}
        for world in (1, 2):
            reports = run_config(world, args, folder)
            main_rank = next(r for r in reports if r["rank"] == 0)
            step_rate = main_rank["plain_steps"] * args.batch_size / max(1e-9, main_rank["plain_seconds"])
            overall = main_rank["steps"] * args.batch_size / max(1e-9, main_rank["elapsed"])
            rss = [r["maxrss_mb"] for r in sorted(reports, key=lambda r: r["rank"])]
            # CPU seconds per step of the busiest rank: the step time each process would take on a core of its own
            cpu_rate = min(r["plain_steps"] * args.batch_size / max(1e-9, r["plain_cpu_seconds"]) for r in reports)
            results[world] = (step_rate, overall, cpu_rate)
            print(
                f"{world} process{'es' if world > 1 else ''} x 1 thread: {step_rate:,.0f} names/s over the steps, "
                f"{overall:,.0f} names/s over the whole run, {cpu_rate:,.0f} names per CPU-second of the busiest "
                f"process ({main_rank['steps']} steps, setup "
                f"{main_rank['setup']:.1f} s, best validation {main_rank['best_val_bits']:.3f} bits/char); "
                f"peak memory {' + '.join(f'{m:.0f}' for m in rss)} = {sum(rss):.0f} MB"
            )
        print(
            f"ratio 2 processes / 1 process: {results[2][0] / results[1][0]:.2f} over the steps "
            f"(goal >= 1.6), {results[2][1] / results[1][1]:.2f} over the whole run; "
            f"{results[2][2] / results[1][2]:.2f} if each process had a core to itself (by CPU time per step)"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
