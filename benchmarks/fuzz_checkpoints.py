"""Fuzzed checkpoints by the thousand: how many load, how many are refused, and that nothing else happens.

The cases are those of tests/test_checkpoint_fuzz.py (tests/checkpoint_mutations.py: one to three
mutations of a small valid checkpoint of every model kind, in its header bytes and length, metadata
keys, the types, values and nesting of metadata fields, tensor names, shapes, dtypes, offsets and
values, and truncation), drawn by hypothesis with a fixed seed and no shrinking. Each case is
loaded as every front end loads a model (`Namer.load`) and, if it loads, made to generate and score
(and, with --torch, loaded and used through the torch engine too), with a small search budget
(`checkpoint_mutations.SEARCH_BUDGET`): a mutated model can put its mass on a few strings, and the
library's default budget then spends seconds proving no more names exist. Printed: the counts of
loaded, refused (CheckpointError) and other exceptions (the goal: 0), the slowest load or refusal
and the slowest use apart, and the process's peak resident memory. The issue's goals: 0 other exceptions over at least 2,000 cases, no case over
2 s or 1 GB.

    python benchmarks/fuzz_checkpoints.py [--cases 2000] [--seed 0] [--torch]
"""

from __future__ import annotations

import argparse
import collections
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from checkpoint_mutations import SEARCH_BUDGET, make_bases, mutate, outcome  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="fuzzed checkpoints to try (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0)")
    parser.add_argument(
        "--torch", action="store_true", help="also load and use every loaded case with the torch engine"
    )
    parser.add_argument(
        "--keep-slow",
        default=None,
        metavar="DIR",
        help="copy every case that takes over 2 s into DIR, to look at (default: none kept)",
    )
    args = parser.parse_args()

    if args.torch:  # tiny models: torch's threads only wait for each other (on a busy machine, for seconds a step)
        import torch

        torch.set_num_threads(1)
    counts: collections.Counter = collections.Counter()
    others: list[str] = []
    slowest = {"load": (0.0, ""), "use": (0.0, "")}  # seconds and which case
    with tempfile.TemporaryDirectory(prefix="xiaming-fuzz-") as work:
        folder = Path(work)
        bases = [(path.stem, path.read_bytes()) for path in make_bases(folder)]
        target = folder / "case.safetensors"

        @hypothesis_seed(args.seed)
        @settings(
            max_examples=args.cases,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(data=st.data())
        def case(data) -> None:
            name, raw = data.draw(st.sampled_from(bases))
            target.write_bytes(mutate(data, raw))
            times: dict = {}
            try:
                result = outcome(target, torch_too=args.torch, times=times)
            except Exception as exc:  # what the fuzzing looks for: anything but a CheckpointError
                result = "other"
                if len(others) < 10:
                    others.append(
                        f"{name}: {type(exc).__name__}: {str(exc)[:160]}\n"
                        f"{''.join(traceback.format_tb(exc.__traceback__)[-2:])}"
                    )
            for part, took in times.items():
                if took > slowest[part][0]:
                    slowest[part] = (took, f"{name}, {result}")
            if sum(times.values()) > 2:
                counts["slow"] += 1
                if args.keep_slow:
                    Path(args.keep_slow).mkdir(parents=True, exist_ok=True)
                    (Path(args.keep_slow) / f"slow-{counts['slow']}-{name}.safetensors").write_bytes(
                        target.read_bytes()
                    )
            counts[result] += 1
            counts[f"{result}:{name}"] += 1

        t0 = time.perf_counter()
        case()
        elapsed = time.perf_counter() - t0

    total = counts["loaded"] + counts["refused"] + counts["other"]
    print(
        f"{total} fuzzed checkpoints in {elapsed:.1f} s (seed {args.seed}{', torch engine too' if args.torch else ''})"
    )
    print(f"  loaded and generated: {counts['loaded']}")
    print(f"  refused with CheckpointError: {counts['refused']}")
    print(f"  other exceptions: {counts['other']}")
    stems = sorted({key.split(":", 1)[1] for key in counts if ":" in key})
    print(
        "  by base: "
        + ", ".join(f"{s} {counts['loaded:' + s]}/{counts['refused:' + s]}/{counts['other:' + s]}" for s in stems)
        + "  (loaded/refused/other)"
    )
    print(
        f"  slowest load or refusal: {slowest['load'][0] * 1000:.0f} ms ({slowest['load'][1]}); slowest use of a "
        f"loaded model (2 names, search budget {SEARCH_BUDGET:,} rows, and a score): {slowest['use'][0] * 1000:.0f} ms "
        f"({slowest['use'][1]}); cases over 2 s: {counts['slow']}"
    )
    print(f"  peak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    for text in others:
        print("--- " + text)
    return 1 if counts["other"] else 0


if __name__ == "__main__":
    sys.exit(main())
