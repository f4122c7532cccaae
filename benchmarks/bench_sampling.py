"""Sampling speed: names per second of batched sampling, unconstrained and with a prefix and length
bounds, and the time of `generate -n 20` and of `--best 20`.

    python benchmarks/bench_sampling.py                     # the shipped jinyong model
    python benchmarks/bench_sampling.py my.safetensors --threads 0   # torch's own thread count

Sampling is timed in-process over whole batches (`sample_batch`, the loop `generate` runs), after
one warm-up batch. The constrained run uses `--prefix` (default: the commonest first character of
the training names) with `--min-len`/`--max-len`. `generate -n 20` and `--best 20` are timed with
the model's default novelty mode (strict for the built-in corpora), median of `--repeats` runs.
The load average is printed because other work on the machine slows every figure. One thread is
the default, as in `xiaming generate`; `--threads 0` keeps torch's default to compare.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter

import torch

from xiaming import load_model
from xiaming.novelty import default_mode
from xiaming.pretrained import available
from xiaming.sample import SampleOptions, compile_constraints, generate, sample_batch
from xiaming.search import best_names


def names_per_second(ckpt, options: SampleOptions, batch: int, seconds: float) -> tuple[float, float]:
    """(names per second, mean length) of repeated `sample_batch` calls for about `seconds`."""
    constraints = compile_constraints(ckpt.model, ckpt.vocab, options, ckpt.train)
    generator = torch.Generator().manual_seed(0)
    sample_batch(ckpt.model, ckpt.vocab, batch, options, generator=generator, constraints=constraints)  # warm-up
    count = chars = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        names = sample_batch(ckpt.model, ckpt.vocab, batch, options, generator=generator, constraints=constraints)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None,
                        help="checkpoint path (default: the shipped jinyong model when present)")
    parser.add_argument("--batch", type=int, default=4096, help="names per sample_batch call")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per sampling figure")
    parser.add_argument("--prefix", default=None, help="prefix of the constrained run")
    parser.add_argument("--min-len", type=int, default=3)
    parser.add_argument("--max-len", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1, as `xiaming generate` runs; 0: torch's own choice)")
    args = parser.parse_args()
    model = args.model or ("jinyong" if "jinyong" in available() else None)
    if model is None:
        parser.error("the shipped jinyong model is not built; pass a checkpoint path")
    if args.threads:
        torch.set_num_threads(args.threads)
    ckpt = load_model(model)
    prefix = args.prefix if args.prefix is not None else Counter(n[0] for n in ckpt.names).most_common(1)[0][0]
    novelty = default_mode(ckpt.train)
    params = sum(p.numel() for p in ckpt.model.parameters()) if hasattr(ckpt.model, "parameters") else 0
    print(f"model {ckpt.path}: {ckpt.kind}, {params:,} parameters, vocabulary {ckpt.vocab.size}, "
          f"{len(ckpt.names)} training names, novelty {novelty}")
    print(f"cpu: {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.2f}, batch {args.batch}")
    free, mean_free = names_per_second(ckpt, SampleOptions(), args.batch, args.seconds)
    steered = SampleOptions(prefix=prefix, min_len=args.min_len, max_len=args.max_len)
    bound, mean_bound = names_per_second(ckpt, steered, args.batch, args.seconds)
    gen = timed(lambda: generate(ckpt.model, ckpt.vocab, 20, SampleOptions(), ckpt.names, novelty, 1, ckpt.train),
                args.repeats)
    best_result = best_names(ckpt.model, ckpt.vocab, 20, SampleOptions(), ckpt.names, novelty, ckpt.train)
    best = timed(lambda: best_names(ckpt.model, ckpt.vocab, 20, SampleOptions(), ckpt.names, novelty, ckpt.train),
                 args.repeats)
    print(f"{'figure':<44} {'value':>12}")
    print(f"{'sampling, no constraint (names/s)':<44} {free:>12,.0f}   mean length {mean_free:.2f}")
    label = f"sampling, --prefix {prefix} --min-len {args.min_len} --max-len {args.max_len} (names/s)"
    print(f"{label:<44} {bound:>12,.0f}   mean length {mean_bound:.2f}")
    print(f"{'generate -n 20, in process (s)':<44} {gen:>12.3f}")
    print(f"{'generate --best 20, in process (s)':<44} {best:>12.3f}   "
          f"{best_result.expanded:,} paths, {len(best_result.rejected)} rejected")
    print(f"best 20: {' '.join(best_result.names)}")


if __name__ == "__main__":
    main()
