"""Cold start of `xiaming generate -n 20` (numpy engine) against `python -c "import torch"`, each
in a fresh process, median of several runs, measured side by side in this script.

    python benchmarks/bench_coldstart.py            # 7 runs each
    python benchmarks/bench_coldstart.py --runs 11

A fresh interpreter each time pays Python's start-up, the imports and loading the shipped model,
which is what a user waits for. The baseline is the import of torch alone, what every
`xiaming generate` paid before the numpy engine; the ratio is the figure to compare, since other
work on the machine slows both. Without torch installed only the generate figure is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def run_seconds(argv: list[str], runs: int) -> list[float]:
    """Wall-clock seconds of `runs` fresh processes running `argv` (one warm-up run first, not counted)."""
    env = dict(os.environ)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per figure (default 7)")
    args = parser.parse_args()
    print(f"cpu: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, {args.runs} runs each, medians")
    generate = run_seconds([sys.executable, "-m", "xiaming", "generate", "-n", "20"], args.runs)
    bare = run_seconds([sys.executable, "-c", "pass"], args.runs)
    print(
        f"{'xiaming generate -n 20 (numpy engine)':<42} {statistics.median(generate):8.3f} s"
        f"   (min {min(generate):.3f}, max {max(generate):.3f})"
    )
    print(f"{'python -c pass (interpreter start-up)':<42} {statistics.median(bare):8.3f} s")
    try:
        torch = run_seconds([sys.executable, "-c", "import torch"], args.runs)
    except subprocess.CalledProcessError:
        print("torch is not installed: no baseline")
        return
    label = 'python -c "import torch" (baseline)'
    print(f"{label:<42} {statistics.median(torch):8.3f} s")
    print(f"{'generate / import torch':<42} {statistics.median(generate) / statistics.median(torch):8.2f}")


if __name__ == "__main__":
    main()
