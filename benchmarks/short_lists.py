"""Training a short list: time, steps and held-out loss with the old validation cadence and the new.

    python benchmarks/short_lists.py                   # 52 English names from scratch, 20 Chinese names --init base
    python benchmarks/short_lists.py --seeds 0,1,2 --cli --repeats 3 --mid
    python benchmarks/short_lists.py --recipe-check --before HEAD   # explicit recipes: same loss as commit HEAD

Each list trains twice per seed in this process, with the same data, seed and model:

- before: `TrainConfig(eval_interval=100, patience=10)`, the defaults until issue 25;
- after: `TrainConfig()`, whose validation cadence is scaled to the list (`train_config.cadence`).

Validation draws no random numbers, so both runs see the same weights at every step; they differ
only in when they look and when they stop. Printed per run: wall-clock seconds of the `train()`
call (the model built, every step, validation and checkpoint write; not Python start-up or
importing torch), steps, the step of the best checkpoint, why it stopped, the best validation loss
(on the few names the split holds out: 5 and 2) and the loss of the saved model on names it never
saw, listed below (48 English, 20 Chinese), in nats per character (end token counted, unknown
characters priced as `xiaming eval` prices them). `--cli` also times `xiaming train` end to end
in a fresh process (start-up and `import torch` included). `--repeats N` times each run N times
and keeps the fastest: the runs are identical, so the spread is the machine's other work.

`--recipe-check` trains explicit recipes (validation values given, as scripts/build_pretrained.py
gives them) on a mid-size list (jinyong's names as this checkout has them, written to a temporary
file so both sides read the same names) with the code of this checkout and of the commit `--before`
(unpacked with `git archive` into a temporary folder, so no stash or checkout touches the working
tree), and prints the final losses: they must be equal. With `--large FILE` (a list of 6,400 names
or more, e.g. ../shared/bench/names.txt), the default config is checked the same way there.

The load average is printed with the figures: on a shared machine, time them when it is low.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from xiaming import TrainConfig, train
from xiaming.data.corpus import NameList
from xiaming.generation.namer import Namer

# 52 common English first names to train on, and 48 others to score the trained model on.
EN_TRAIN = """james mary robert patricia john jennifer michael linda david elizabeth william barbara richard susan
joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew betty anthony margaret mark sandra
donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth carol kevin amanda brian dorothy
george melissa timothy deborah ronald stephanie""".split()
EN_HELD = """jason jeffrey rebecca ryan laura jacob cynthia gary kathleen nicholas amy eric angela jonathan shirley
stephen anna larry brenda justin pamela scott emma brandon nicole benjamin helen samuel samantha gregory katherine
alexander christine frank debra patrick rachel raymond carolyn jack janet dennis catherine jerry maria tyler heather
aaron""".split()
# 20 common modern Chinese names to fine-tune the shipped base on, and 20 others to score it on.
ZH_TRAIN = (
    "王建国 李秀英 张伟 刘洋 陈静 杨帆 赵磊 黄敏 周杰 吴婷 徐明 孙丽 胡军 朱琳 高峰 林晓 何勇 郭芳 马超 罗娟".split()
)
ZH_HELD = "梁斌 宋佳 郑浩 谢颖 韩冰 唐宁 冯磊 于洋 董洁 萧然 程刚 曹雪 袁博 邓丽 许强 傅敏 沈阳 曾凡 彭涛 吕薇".split()

BEFORE = {"eval_interval": 100, "patience": 10}  # the defaults before issue 25, given explicitly
LISTS = {  # name: (training names, held-out names, --init)
    "en52": (EN_TRAIN, EN_HELD, None),
    "zh20-base": (ZH_TRAIN, ZH_HELD, "base"),
}
QUIET = {"log": lambda _m: None, "progress_bar": False}


def held_out_nats(path: Path, names: list[str]) -> float:
    """Mean nats per character (end token counted) of `names` under the checkpoint at `path`."""
    scores = Namer.load(path).score(names)
    return -sum(s.log_prob for s in scores) / sum(len(s.name) + 1 for s in scores)


def one_run(names: list[str], held: list[str], init: str | None, config: TrainConfig, out: Path) -> dict:
    t = time.perf_counter()
    r = train(NameList(names, "short list"), None, out, config, init=init, force=True, **QUIET)
    seconds = time.perf_counter() - t
    return {
        "seconds": seconds,
        "steps": r.step,
        "best_step": r.best_step,
        "stopped": r.stopped,
        "reason": r.reason,
        "val": r.best_val,
        "held": held_out_nats(out, held),
    }


def cli_seconds(names: list[str], init: str | None, extra: list[str], tmp: Path) -> float:
    """Wall clock of `xiaming train` in a fresh process on `names`."""
    src = tmp / "names.txt"
    src.write_text("\n".join(names) + "\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "xiaming", "train", str(src), "-o", str(tmp / "cli.safetensors"), "--force", "--quiet"]
    cmd += (["--init", init] if init else []) + extra
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t


def mid_list() -> tuple[list[str], list[str], None]:
    """jinyong's names (as this checkout has them): every 10th held out for scoring, the rest to train on."""
    from xiaming.data.corpus import load_names

    names = load_names("jinyong").names
    return [n for i, n in enumerate(names) if i % 10], names[::10], None


def short_lists(seeds: list[int], cli: bool, repeats: int, mid: bool) -> None:
    rows = []
    lists = {**LISTS, **({"jinyong-mid": mid_list()} if mid else {})}
    with tempfile.TemporaryDirectory() as tmp:
        for label, (names, held, init) in lists.items():
            for seed in seeds:
                for side, fields in (("before", BEFORE), ("after", {})):
                    config, out = TrainConfig(seed=seed, **fields), Path(tmp) / f"{label}.safetensors"
                    runs = [one_run(names, held, init, config, out) for _ in range(repeats)]
                    assert all(x["steps"] == runs[0]["steps"] and x["val"] == runs[0]["val"] for x in runs)
                    r = min(runs, key=lambda x: x["seconds"])  # the same run each time: the least disturbed
                    if cli and seed == seeds[0]:
                        flags = [f"--{k.replace('_', '-')}={v}" for k, v in fields.items()] + [f"--seed={seed}"]
                        r["cli"] = min(cli_seconds(names, init, flags, Path(tmp)) for _ in range(repeats))
                    rows.append({"list": label, "seed": seed, "side": side, **r})
                    print(
                        f"  {label} seed {seed} {side}: {r['seconds']:.2f} s, {r['reason']}",
                        file=sys.stderr,
                        flush=True,
                    )
    print(f"\nload average {' '.join(f'{x:.1f}' for x in os.getloadavg())}, torch threads {torch.get_num_threads()}")
    print(
        "| list | seed | cadence | train() s | `xiaming train` s | steps | best step | stopped | "
        "validation nats/char | held-out nats/char |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    for r in rows:
        cli = f"{r['cli']:.2f}" if "cli" in r else ""
        print(
            f"| {r['list']} | {r['seed']} | {r['side']} | {r['seconds']:.2f} | {cli} | {r['steps']} | {r['best_step']} "
            f"| {r['stopped']} | {r['val']:.4f} | {r['held']:.4f} |"
        )
    print("\nmean over seeds (before -> after):")
    for label in lists:
        side = {s: [r for r in rows if r["list"] == label and r["side"] == s] for s in ("before", "after")}

        def mean(s: str, key: str) -> float:
            return statistics.mean(r[key] for r in side[s])

        print(
            f"  {label}: train() {mean('before', 'seconds'):.2f} -> {mean('after', 'seconds'):.2f} s, "
            f"steps {mean('before', 'steps'):.0f} -> {mean('after', 'steps'):.0f}, "
            f"validation {mean('before', 'val'):.4f} -> {mean('after', 'val'):.4f}, "
            f"held-out {mean('before', 'held'):.4f} -> {mean('after', 'held'):.4f} nats/char"
        )


# --- the explicit recipes give what they gave before ---------------------------------------------------------

RECIPE_RUN = """
import json, sys
from xiaming.data.corpus import load_names
from xiaming import TrainConfig, train
names_file, out, kind, size, fields = sys.argv[1:6]
r = train(load_names(names_file), kind, out, TrainConfig(**json.loads(fields)), size=size or None,
          log=lambda _m: None, progress_bar=False)
print(json.dumps({"step": r.step, "best_step": r.best_step, "best_val": r.best_val, "stopped": r.stopped,
                  "history": [h[3] for h in r.history]}))
"""

# (what, kind, size, TrainConfig fields): build_pretrained's list recipe (validation every 25 steps, patience
# 10) with a short schedule, from scratch so that it does not hang on the base's size
RECIPES = [
    (
        "build_pretrained's list recipe, 300 steps",
        "lstm",
        "small",
        {"max_steps": 300, "eval_interval": 25, "patience": 10, "seed": 1},
    )
]
LARGE_RECIPE = ("the default config, 300 steps", "lstm", "tiny", {"max_steps": 300, "seed": 1})


def run_recipe(src: Path | None, names_file: Path, out: Path, kind: str, size: str, fields: dict) -> dict:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    done = subprocess.run(
        [sys.executable, "-c", RECIPE_RUN, str(names_file), str(out), kind, size, json.dumps(fields)],
        capture_output=True,
        text=True,
        env=env,
        cwd=out.parent,
    )
    if done.returncode != 0:
        raise SystemExit(f"the run with {src or 'this checkout'} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def recipe_check(before: str, large: str | None) -> bool:
    from xiaming.data.corpus import load_names

    repo = Path(__file__).resolve().parent.parent
    same = True
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        old = tmp_path / "before"
        old.mkdir()
        archive = subprocess.run(["git", "archive", before, "src/xiaming"], cwd=repo, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        mid = tmp_path / "mid.txt"
        mid.write_text("\n".join(load_names("jinyong").names) + "\n", encoding="utf-8")
        checks = [(what, mid, kind, size, fields) for what, kind, size, fields in RECIPES]
        if large:
            checks.append((LARGE_RECIPE[0], Path(large).resolve(), *LARGE_RECIPE[1:]))
        for i, (what, names_file, kind, size, fields) in enumerate(checks):
            a = run_recipe(old / "src", names_file, tmp_path / f"{i}-before.safetensors", kind, size, fields)
            b = run_recipe(repo / "src", names_file, tmp_path / f"{i}-now.safetensors", kind, size, fields)
            equal = a == b
            same &= equal
            print(
                f"{what} on {names_file.name} ({sum(1 for _ in open(names_file, encoding='utf-8')):,} lines): "
                f"{before} step {a['step']} best {a['best_val']:.6f} at {a['best_step']} ({a['stopped']}); "
                f"this checkout step {b['step']} best {b['best_val']:.6f} at {b['best_step']} ({b['stopped']}); "
                f"{'identical' if equal else 'DIFFERENT'} ({len(a['history'])} validations compared)"
            )
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--cli", action="store_true", help="also time `xiaming train` in a fresh process (first seed)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="run each training this many times and time the fastest (default 1; the runs are "
        "identical, only the machine's other work differs)",
    )
    parser.add_argument(
        "--mid",
        action="store_true",
        help="also a mid-size list: jinyong's names, every 10th held out (its default cadence "
        "changes too: a validation about once per pass, 20 steps, patience 6)",
    )
    parser.add_argument(
        "--recipe-check",
        action="store_true",
        help="instead: explicit recipes on a mid-size list give the same losses as --before",
    )
    parser.add_argument("--before", default="HEAD", help="the commit to compare with for --recipe-check (default HEAD)")
    parser.add_argument(
        "--large", default=None, help="for --recipe-check: a list of 6,400+ names for the default config"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.recipe_check:
        sys.exit(0 if recipe_check(args.before, args.large) else 1)
    short_lists([int(s) for s in args.seeds.split(",") if s.strip()], args.cli, max(1, args.repeats), args.mid)


if __name__ == "__main__":
    main()
