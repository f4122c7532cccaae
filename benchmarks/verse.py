"""Names from verse (issue 24): the speed and size goals, and a blind panel against random anchors.

    # speed: `xiaming verse -n 20` from a cold start with torch blocked, and the tables' size
    python benchmarks/verse.py speed --runs 7

    # panel: N of xiaming's names and N anchors (two characters of one line in order, at random,
    # same books and surnames), shuffled, for a reviewer who sees only the names
    python benchmarks/verse.py build -n 40 --seed 1 --out /work/staging/verse-panel
    # -> verse-panel.txt (the question and a numbered list, nothing else)
    #    verse-key.tsv   (number, group, name: for scoring)
    #    verse-sources.tsv (each name's book, poem, line and score: for reading afterwards)

    # score: the reviewers' answers, one `number<TAB>rating` per line (1-5), one file each
    python benchmarks/verse.py score /work/staging/verse-panel/verse-key.tsv ratings1.tsv ratings2.tsv

Speed: each run is a fresh `python -c` that blocks torch (`sys.modules["torch"] = None`, so any
import of it fails) and calls the console script's `main(["verse", "-n", "20", "--seed", S])`;
wall time of the whole process (interpreter start included) and its CPU time (user + system,
which a busy machine inflates less than wall time). Goal: <= 1 s. Size: the files the package
installs for `verse` (verse.safetensors, DATASHEET.md) and the code; goal <= 5 MB.

Panel: the names are split evenly over the five books; each pair of (book, surname) gives one
xiaming name (the first of `xiaming verse --surname S --book B --given-len 2 -n 10 --seed K` whose
given name is not yet in the panel; the default base model, everything else default) and one anchor: a line of that book at random, and two of its
CJK characters at random in order, nothing filtered (what gushi_namer-style tools do, before their
bad-character lists). Surnames are drawn from the base model's usual surnames, as `verse` does.
Goals (issue 24): xiaming's mean >= the anchors' mean + 1.0, and fewer than 5% of xiaming's names
rated 1-2.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from panel import write_readable  # benchmarks/ is on sys.path when this script runs

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Would you give this name to a child?"
SCALE = "5 = yes, gladly; 4 = yes; 3 = perhaps; 2 = hardly; 1 = never (odd, ugly or a joke)"
RUN = (
    "import sys; sys.modules['torch'] = None; from xiaming.cli import main; "
    "code = main(['verse', '-n', '20', '--seed', '{seed}']); assert 'torch' not in sys.modules or "
    "sys.modules['torch'] is None; sys.exit(code)"
)


def speed(args) -> int:
    """Time cold starts of `xiaming verse -n 20` without torch, and measure the tables."""
    walls, cpus = [], []
    for run in range(args.runs):
        before = os.times()
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", RUN.format(seed=run)], capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = os.times()
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        walls.append(wall)
        cpus.append((after.children_user - before.children_user) + (after.children_system - before.children_system))
        if run == 0:
            print(proc.stdout.splitlines()[0])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"xiaming verse -n 20, cold start, torch blocked, {args.runs} runs on {os.cpu_count()} CPUs "
        f"(load average {load:.1f}): wall median {statistics.median(walls):.2f} s (min {min(walls):.2f}), "
        f"CPU median {statistics.median(cpus):.2f} s (min {min(cpus):.2f}); goal <= 1 s"
    )
    folder = ROOT / "src" / "xiaming" / "verse"
    data = sum(p.stat().st_size for p in folder.iterdir() if p.suffix in (".safetensors", ".md"))
    code = sum(p.stat().st_size for p in folder.glob("*.py")) + (ROOT / "src/xiaming/cli/verse.py").stat().st_size
    print(f"installed for verse: tables {data / 1e6:.2f} MB, code {code / 1e3:.0f} kB; goal <= 5 MB")
    return 0


def build(args) -> int:
    """Write the panel, its key and the names' sources."""
    import numpy as np

    from xiaming.generation.namer import Namer
    from xiaming.verse import shipped_table, usual_surnames, verse_names
    from xiaming.verse.rank import mark_line
    from xiaming.verse.table import candidates

    namer = Namer.load(args.model)
    table = shipped_table()
    rng = np.random.default_rng(args.seed)
    chars, p = usual_surnames(namer)
    books = list(range(len(table.books)))
    per_book = [args.n // len(books) + (i < args.n % len(books)) for i in books]
    items = []  # (group, name, book, title, author, line, score)
    used: set[str] = set()  # xiaming's given names so far: 子明 under four surnames would tell the reviewer
    for book, count in zip(books, per_book):
        found = candidates(table, [book], (2,))
        line_of = {}
        for k, line in enumerate(found.line.tolist()):
            line_of.setdefault(line, []).append(k)
        lines = sorted(line_of)
        for _ in range(count):
            surname = chars[int(rng.choice(len(chars), p=p))]
            shown = verse_names(
                namer, 10, surname, table.books[book].key, seed=int(rng.integers(1 << 31)), lengths=(2,)
            ).items
            mine = next((item for item in shown if item.given not in used), shown[0])  # the best not yet in the panel
            used.add(mine.given)
            items.append(("xiaming", mine.name, mine.book, mine.title, mine.author, mine.marked, f"{mine.score:.2f}"))
            line = lines[int(rng.integers(len(lines)))]
            k = line_of[line][int(rng.integers(len(line_of[line])))]
            given = chr(int(table.han[found.first[k]])) + chr(int(table.han[found.second[k]]))
            poem = table.poem_of(line)
            marked = mark_line(
                table.lines[line], [int(table.han_pos[found.first[k]]), int(table.han_pos[found.second[k]])]
            )
            items.append(("anchor", surname + given, poem.book, poem.title, poem.author, marked, ""))
    random.Random(args.seed + 1).shuffle(items)
    out = Path(args.out)
    panel = [
        f"{QUESTION} (你会给孩子起这个名字吗？)",
        f"Rate each name from 1 to 5 ({SCALE}).",
        "Answer with one line per name: the number, a tab, the rating, a tab, a few words why "
        "(for ratings 1-3 say what is wrong).",
        "",
    ]
    panel += [f"{i}. {name}" for i, (_, name, *_) in enumerate(items, 1)]
    write_readable(out / "verse-panel.txt", "\n".join(panel) + "\n")
    key = [
        f"# benchmarks/verse.py build -n {args.n} --seed {args.seed} --model {args.model}: xiaming = xiaming verse "
        "--surname S --book B --given-len 2 -n 10, the first given name not yet in the panel (defaults otherwise); anchor = two CJK characters of one line "
        "of the same book in order, at random, same surname",
        "number\tgroup\tname",
    ]
    key += [f"{i}\t{group}\t{name}" for i, (group, name, *_) in enumerate(items, 1)]
    write_readable(out / "verse-key.tsv", "\n".join(key) + "\n")
    sources = ["number\tgroup\tname\tbook\ttitle\tauthor\tline\tscore"]
    sources += ["\t".join([str(i), *item]) for i, item in enumerate(items, 1)]
    write_readable(out / "verse-sources.tsv", "\n".join(sources) + "\n")
    print(f"wrote {out / 'verse-panel.txt'}, verse-key.tsv and verse-sources.tsv ({len(items)} names)")
    return 0


def read_ratings(path: Path) -> dict[int, int]:
    """number -> rating from `number<TAB>rating[<TAB>why]` lines (other lines ignored)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = [p.strip().rstrip(".") for p in (line.split("\t") if "\t" in line else line.replace(".", " ").split())]
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() and 1 <= int(parts[1]) <= 5:
            out[int(parts[0])] = int(parts[1])
    return out


def score(args) -> int:
    """Per group: mean, rated 4-5, rated 1-2, over every reviewer; and the goals."""
    key = {}
    for line in Path(args.key).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(("#", "number\t")):
            number, group, _ = line.split("\t")
            key[int(number)] = group
    groups: dict[str, list[int]] = {}
    for path in args.ratings:
        ratings = read_ratings(Path(path))
        for number, group in key.items():
            if number in ratings:
                groups.setdefault(group, []).append(ratings[number])
    print("| names | mean | rated 4-5 | rated 1-2 | ratings |\n| --- | ---: | ---: | ---: | ---: |")
    for group, r in sorted(groups.items()):
        print(
            f"| {group} | {statistics.fmean(r):.2f} | {sum(x >= 4 for x in r) / len(r):.0%} | "
            f"{sum(x <= 2 for x in r) / len(r):.0%} | {len(r)} |"
        )
    if "xiaming" in groups and "anchor" in groups:
        gap = statistics.fmean(groups["xiaming"]) - statistics.fmean(groups["anchor"])
        low = sum(x <= 2 for x in groups["xiaming"]) / len(groups["xiaming"])
        print(f"xiaming - anchors = {gap:+.2f} points (goal >= +1.0); xiaming rated 1-2: {low:.0%} (goal < 5%)")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("speed", help="cold-start time of xiaming verse -n 20 without torch, and the tables' size")
    s.add_argument("--runs", type=int, default=7)
    s.set_defaults(run=speed)
    b = sub.add_parser("build", help="write the panel, its key and the names' sources")
    b.add_argument("-n", type=int, default=40, help="xiaming names and anchors, each (default 40)")
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--model", default="base")
    b.add_argument("--out", default="runs/verse-panel")
    b.set_defaults(run=build)
    r = sub.add_parser("score", help="score the reviewers' answers")
    r.add_argument("key")
    r.add_argument("ratings", nargs="+")
    r.set_defaults(run=score)
    args = p.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
