"""Peak memory of `xiaming train` and `xiaming eval` on a names file holding a 100,000-character line.

Before the --max-name-len guard, one 10,000-character line among 200 names made training need
6.8 GB (every batch padded to the longest name) and `xiaming eval` never finished. Now the line is
skipped with a warning and never held whole. Each command runs in its own process; its peak
resident memory comes from the kernel (`wait4`'s ru_maxrss), and is printed beside the same
command on the same names without the long line, as a ratio. Goal: under 1 GB.

    python benchmarks/bench_memory.py [--length 100000] [--steps 20]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path


def made_up_names(count: int = 200, seed: int = 0) -> list[str]:
    """Distinct names of two or three consonant-vowel syllables."""
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < count:
        names["".join(rng.choice("bdgklmnprst") + rng.choice("aeiou") for _ in range(rng.choice((2, 3))))] = None
    return list(names)


def peak_rss_mb(argv: list[str]) -> tuple[float, int, str]:
    """(peak resident MB, exit code, last stderr line) of one `xiaming` command in a fresh process."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "xiaming", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
    )
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = err.strip().splitlines()
    return usage.ru_maxrss / 1024, proc.returncode, lines[0] if lines else ""  # ru_maxrss is in KB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=100_000, help="characters of the long line (default 100000)")
    parser.add_argument("--steps", type=int, default=20, help="training steps (default 20)")
    args = parser.parse_args()
    names = made_up_names()
    with tempfile.TemporaryDirectory(prefix="xiaming-mem-") as tmp:
        clean, dirty = Path(tmp) / "clean.txt", Path(tmp) / "longline.txt"
        clean.write_text("\n".join(names) + "\n", encoding="utf-8")
        dirty.write_text("\n".join(names[:100] + ["长" * args.length] + names[100:]) + "\n", encoding="utf-8")
        train = [
            "train",
            "--size",
            "small",
            "--max-steps",
            str(args.steps),
            "--eval-interval",
            str(args.steps),
            "--quiet",
            "--device",
            "cpu",
            "--force",
        ]
        rows = []
        for label, argv in (
            ("train", lambda f: [*train, str(f), "-o", str(Path(tmp) / f"{f.stem}.safetensors")]),
            ("eval", lambda f: ["eval", "jinyong", str(f), "-n", "0", "--device", "cpu"]),
        ):
            base, code_b, _ = peak_rss_mb(argv(clean))
            peak, code, note = peak_rss_mb(argv(dirty))
            rows.append((label, peak, base, code, code_b, note))
        print(
            f"names file: {len(names)} names + one line of {args.length:,} characters ({dirty.stat().st_size:,} bytes)"
        )
        for label, peak, base, code, code_b, note in rows:
            verdict = "under 1 GB" if peak < 1024 else "OVER 1 GB"
            print(
                f"xiaming {label:<5}  peak RSS {peak:7.1f} MB with the long line, {base:7.1f} MB without "
                f"(ratio {peak / base:.2f}), exit {code}/{code_b}: {verdict}"
            )
            if note:
                print(f"    {note}")


if __name__ == "__main__":
    main()
