"""Sampling speed on one thread, numpy engine against torch engine, in the same process: names per
second of batched sampling (unconstrained, and with a prefix and length bounds), `generate -n 20`
and `--best 20`.

    python benchmarks/bench_sampling.py                  # the shipped jinyong model
    python benchmarks/bench_sampling.py my.safetensors --seconds 5

Both engines run the same sampler (`sample.sample_batch`, the loop `Namer.generate` runs) on the
same checkpoint; only what computes the logits differs. One thread each: OPENBLAS_NUM_THREADS=1
(numpy's BLAS, set before numpy loads) and torch.set_num_threads(1). Sampling is timed over whole
batches after one warm-up batch; generate and best are the median of `--repeats` runs with the
model's default novelty rule. The load average is printed: other work on the machine slows every
figure, so the ratio numpy/torch (measured side by side) is the figure to compare. Without torch
installed only the numpy figures are printed.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

import numpy as np  # noqa: E402

from xiaming.generation.constraints import SampleOptions  # noqa: E402
from xiaming.generation.namer import Namer  # noqa: E402
from xiaming.generation.sample import sample_batch  # noqa: E402
from xiaming.pretrained import available  # noqa: E402


def names_per_second(namer: Namer, options: SampleOptions, batch: int, seconds: float) -> tuple[float, float]:
    """(names per second, mean length) of repeated `sample_batch` calls for about `seconds`."""
    c = namer.compile(options)
    rng = np.random.default_rng(0)
    sample_batch(namer.engine, namer.vocab, batch, c, options, rng)  # warm-up
    count = chars = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        names, _ = sample_batch(namer.engine, namer.vocab, batch, c, options, rng)
        count += len(names)
        chars += sum(len(n) for n in names)
    return count / (time.perf_counter() - start), chars / max(1, count)


def timed(fn, repeats: int) -> float:
    """Median seconds of `repeats` calls."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure(namer: Namer, steered: SampleOptions, args) -> dict:
    free, mean_free = names_per_second(namer, SampleOptions(), args.batch, args.seconds)
    bound, _ = names_per_second(namer, steered, args.batch, args.seconds)
    gen = timed(lambda: namer.generate(20, seed=1), args.repeats)
    best = timed(lambda: namer.best(20), args.repeats)
    return {"free": free, "mean_len": mean_free, "bound": bound, "generate": gen, "best": best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "model", nargs="?", default=None, help="checkpoint path (default: the shipped jinyong model when present)"
    )
    parser.add_argument("--batch", type=int, default=4096, help="names per sample_batch call (default 4096)")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per sampling figure (default 3)")
    parser.add_argument(
        "--prefix", default=None, help="prefix of the constrained run (default: commonest first character)"
    )
    parser.add_argument("--min-len", type=int, default=3)
    parser.add_argument("--max-len", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5, help="runs of generate and best (median; default 5)")
    args = parser.parse_args()
    model = args.model or ("jinyong" if "jinyong" in available() else None)
    if model is None:
        parser.error("the shipped jinyong model is not built; pass a checkpoint path")
    engines = {"numpy": Namer.load(model)}
    try:
        import torch

        torch.set_num_threads(1)
        engines["torch"] = Namer.load(model, engine="torch")
    except ModuleNotFoundError:
        print("torch is not installed: numpy figures only")
    namer = engines["numpy"]
    prefix = args.prefix if args.prefix is not None else Counter(n[0] for n in namer.names).most_common(1)[0][0]
    steered = SampleOptions(prefix=prefix, min_len=args.min_len, max_len=args.max_len)
    print(
        f"model {namer.path}: {namer.kind}, vocabulary {namer.vocab.size}, {len(namer.names)} training names, "
        f"novelty {namer.default_novelty}"
    )
    print(
        f"cpu: {os.cpu_count()} cores, one thread per engine, load average {os.getloadavg()[0]:.2f}, batch {args.batch}"
    )
    figures = {name: measure(eng, steered, args) for name, eng in engines.items()}
    rows = [
        ("sampling, no constraint (names/s)", "free", ",.0f"),
        (f"sampling, --prefix {prefix} --min-len {args.min_len} --max-len {args.max_len} (names/s)", "bound", ",.0f"),
        ("generate -n 20, in process (s)", "generate", ".3f"),
        ("generate --best 20, in process (s)", "best", ".3f"),
    ]
    print(
        f"{'figure':<62} "
        + " ".join(f"{name:>10}" for name in figures)
        + ("  numpy/torch" if len(figures) == 2 else "")
    )
    for label, key, fmt in rows:
        values = [figures[name][key] for name in figures]
        ratio = f"  {values[0] / values[1]:10.2f}" if len(values) == 2 else ""
        print(f"{label:<62} " + " ".join(f"{v:>10{fmt}}" for v in values) + ratio)
    print(f"mean name length {figures['numpy']['mean_len']:.2f}; best 20: {' '.join(namer.best(20).names)}")


if __name__ == "__main__":
    main()
