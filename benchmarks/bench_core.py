"""Training throughput and final validation loss of each model kind on a corpus, and the cold-start
time of `xiaming generate -n 20`.

    python benchmarks/bench_core.py                      # jinyong, every kind, 60 s budget each
    python benchmarks/bench_core.py --corpus gulong --budget 30 --models lstm,gru

Each kind trains with its default (small) preset on the same seeded split until early stopping or
the budget; the table shows characters per second, steps, and the best validation loss in nats and
bits per character. The generate timing runs the real console script in a fresh process, so it
includes Python start-up, importing torch and loading the shipped model.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xiaming import TrainConfig, models, train
from xiaming.data.corpus import load_names


def bench_training(corpus: str, kinds: list[str], budget: float, seed: int) -> list[dict]:
    data = load_names(corpus)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            config = TrainConfig(max_steps=100_000, max_time=budget, eval_interval=50, patience=10, seed=seed)
            r = train(data, kind, Path(tmp) / f"{kind}.safetensors", config, log=lambda _m: None, progress_bar=False)
            rows.append(
                {
                    "model": kind,
                    "params": r.parameters,
                    "steps": r.step,
                    "stopped": r.stopped,
                    "seconds": r.elapsed,
                    "chars_per_sec": r.chars_per_sec,
                    "val_nats": r.best_val,
                    "val_bits": r.best_val_bits,
                }
            )
            print(f"  {kind}: done in {r.elapsed:.0f}s", file=sys.stderr, flush=True)
    return rows


def bench_generate(model: str, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "xiaming", "generate", model, "-n", "20", "--seed", "1"],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="jinyong", help="built-in corpus or names file")
    parser.add_argument("--models", default="rnn,lstm,gru,transformer", help="comma-separated kinds")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per model at most")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generate-model", default="jinyong", help="model for the generate timing")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    kinds = [k for k in args.models.split(",") if k]
    for k in kinds:
        models.spec(k)
    rows = bench_training(args.corpus, kinds, args.budget, args.seed)
    print(f"\nTraining on {args.corpus} (default small preset, budget {args.budget:.0f}s, seed {args.seed}):")
    print("| model | params | steps | stopped | seconds | chars/s | val nats/char | val bits/char |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['model']} | {r['params']:,} | {r['steps']} | {r['stopped']} | {r['seconds']:.0f} | "
            f"{r['chars_per_sec']:,.0f} | {r['val_nats']:.3f} | {r['val_bits']:.3f} |"
        )
    times = bench_generate(args.generate_model, args.repeats)
    print(
        f"\n`xiaming generate {args.generate_model} -n 20` from a cold start: median {statistics.median(times):.2f}s "
        f"(min {min(times):.2f}s, max {max(times):.2f}s, {args.repeats} runs)"
    )


if __name__ == "__main__":
    main()
