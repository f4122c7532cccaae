"""Summarise the blind panels of the realism critic (panels/critic/*): mean rating and share rated
1-2 per group, for each author and reviewer, and the low marks' reasons for the critic's names.

    python benchmarks/critic_panels.py              # every panel
    python benchmarks/critic_panels.py panel5 --reasons

Each panel folder holds AUTHOR-panel.txt (what the reviewers saw), AUTHOR-key.tsv (number, group,
name; its first line says how each group was made) and AUTHOR-A.tsv / AUTHOR-B.tsv (two
independent blind reviewers: number, rating, reason).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

PANELS = Path(__file__).resolve().parent.parent / "panels" / "critic"
ORDER = (
    "real",
    "llm",
    "shipped",
    "tilt",
    "p97",
    "p95",
    "blend20",
    "blend35",
    "pool16",
    "gljy",
    "critic-v6",
    "critic-v6a",
    "critic-v5",
    "critic-v4",
    "critic-v2",
    "critic-v1",
    "critic-off",
)


def read_key(path: Path) -> dict[int, tuple[str, str]]:
    rows = [
        line.split("\t")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#") and not line.startswith("number")
    ]
    return {int(n): (g, name) for n, g, name in rows}


def read_answers(path: Path) -> dict[int, tuple[int, str]]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip().isdigit() and parts[1].strip().isdigit():
            out[int(parts[0])] = (int(parts[1]), parts[2].strip() if len(parts) > 2 else "")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("panels", nargs="*", help="panel folders under panels/critic (default all)")
    parser.add_argument("--reasons", action="store_true", help="list the critic's names rated 1-2 with the reasons")
    args = parser.parse_args()
    folders = [PANELS / p for p in args.panels] if args.panels else sorted(p for p in PANELS.iterdir() if p.is_dir())
    print("| panel | author | reviewer | " + " | ".join(ORDER) + " |")
    print("| --- | --- | --- | " + " | ".join("---:" for _ in ORDER) + " |")
    low = []
    for folder in folders:
        for key_file in sorted(folder.glob("*-key.tsv")):
            author = key_file.name.removesuffix("-key.tsv")
            key = read_key(key_file)
            for answers_file in sorted(folder.glob(f"{author}-[AB].tsv")):
                answers = read_answers(answers_file)
                cells = []
                for group in ORDER:
                    r = [answers[n][0] for n, (g, _) in key.items() if g == group and n in answers]
                    cells.append(f"{statistics.fmean(r):.2f} ({sum(x <= 2 for x in r) / len(r):.0%})" if r else "")
                reviewer = answers_file.stem.rsplit("-", 1)[1]
                print(f"| {folder.name} | {author} | {reviewer} | " + " | ".join(cells) + " |")
                low += [
                    (folder.name, author, reviewer, key[n][1], rating, why)
                    for n, (rating, why) in answers.items()
                    if key.get(n, ("", ""))[0] in ("critic-v5",) and rating <= 2
                ]
    print("\ncells: mean rating (share rated 1-2); 40 names a group")
    if args.reasons:
        for row in low:
            print("\t".join(map(str, row)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
