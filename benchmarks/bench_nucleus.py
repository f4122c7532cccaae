"""Top-p sampling, one step, two ways in the same process: the sorted nucleus (`truncate`, then
`draw`) against the rejection draw (`draw_nucleus`), on a shipped model's own next-character
distributions.

    python benchmarks/bench_nucleus.py                   # jinyong as shipped (blended), 512 rows
    python benchmarks/bench_nucleus.py gulong --rows 64

The rows are the states after each of `--rows` names' first two characters, drawn from the model;
each figure is the median of `--repeats` timings of one step over all rows, one thread. Both ways
draw from the same distribution (tests/test_sample.py checks the rule and the frequencies), so the
ratio sorted / rejection is the speed-up of a sampling step's cut.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from xiaming.generation.constraints import SampleOptions  # noqa: E402
from xiaming.generation.namer import Namer  # noqa: E402
from xiaming.generation.sample import draw, draw_nucleus, sample_batch, truncate  # noqa: E402


def logits_after_two(namer: Namer, rows: int, seed: int) -> np.ndarray:
    """The model's next-character log-probabilities (rows, V) after the first two characters of
    `rows` sampled names (names shorter than that are drawn again)."""
    rng = np.random.default_rng(seed)
    options = namer.options()
    prefixes: list[str] = []
    while len(prefixes) < rows:
        names, _ = sample_batch(namer.engine, namer.vocab, rows, namer.compile(options), options, rng)
        prefixes += [n[:2] for n in names if len(n) >= 2]
    ids = np.array([[0] + namer.vocab.encode(p) for p in prefixes[:rows]], dtype=np.int64)  # start, two chars
    return np.ascontiguousarray(namer.engine.logits(ids)[:, -1, :])


def median_ms(step, repeats: int) -> float:
    """Median wall time of `step()` in milliseconds, after one warm-up call."""
    step()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="jinyong")
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    namer = Namer.load(args.model)
    logits = logits_after_two(namer, args.rows, args.seed)
    print(f"model {args.model}: {logits.shape[0]} rows of {logits.shape[1]} characters, one thread")
    print("| top-p | sorted nucleus (ms) | rejection (ms) | sorted / rejection |")
    print("| ---: | ---: | ---: | ---: |")
    for top_p in (0.9, 0.95, 0.97, 0.99):
        options = SampleOptions(top_p=top_p)
        sorted_ms = median_ms(lambda: draw(truncate(logits, options), np.random.default_rng(1)), args.repeats)
        reject_ms = median_ms(lambda: draw_nucleus(logits, top_p, np.random.default_rng(1)), args.repeats)
        print(f"| {top_p:g} | {sorted_ms:.2f} | {reject_ms:.2f} | {sorted_ms / reject_ms:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
