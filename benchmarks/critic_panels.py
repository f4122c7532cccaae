"""Summarise the blind panels of the realism critic (panels/critic/*): mean rating and share rated
1-2 per group, for each author and reviewer, and the low marks' reasons for the critic's names.

    python benchmarks/critic_panels.py              # every panel
    python benchmarks/critic_panels.py panel11 --reasons       # the generated names rated 1-2, and why
    python benchmarks/critic_panels.py panel8 panel9 panel10 panel11 --by-evidence
    python benchmarks/critic_panels.py epithets5 --gender-reading   # whom readers took each group to name
    python benchmarks/critic_panels.py panel35 panel36 --pairs unleaned,leaned   # paired groups

`--by-evidence` pools the three-character names of the panels given and prints the mean rating by
origin (real, chat model, generated: every other group) and by what the lexicon knows of the given
name: a given name people bore (the historical names), a jieba dictionary word, a verse pair seen
at least 5 times. It asks whether a tilt towards one kind of evidence would please readers.

`--pairs A,B` compares two groups built in pairs that share their first two characters (a surname and a
given name's first character: 张寻 + 欢 against 张寻 + another, `benchmarks/word_lean.py --pairs`): per
author and reviewer, the number of pairs, the mean rating of B minus A's, and how many pairs B won and lost.

Each panel folder holds AUTHOR-panel.txt (what the reviewers saw), AUTHOR-key.tsv (number, group,
name; its first line says how each group was made) and AUTHOR-A.tsv / AUTHOR-B.tsv (two
independent blind reviewers: number, rating, reason).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from pathlib import Path

PANELS = Path(__file__).resolve().parent.parent / "panels" / "critic"
ORDER = (
    "real",
    "llm",
    "shipped",
    "v9only",
    "readeronly",
    "before",
    "surnameless",
    "distill4",
    "distill16",
    "words",
    "unattested",
    "unleaned",
    "leaned",
    "compound",
    "tilt",
    "p97",
    "p95",
    "v7",
    "v8",
    "v9",
    "v10",
    "neutral",
    "variety",
    "pool8",
    "pool6",
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
    "epithet-critic",
    "composed",
    "model-judge",
    "judge",
    "verse",
    "vattest",
    "vfree",
    "female",
    "male",
    "female-kept",
    "male-kept",
    "female-new",
    "male-new",
    "female-strata",
    "female-strata6",
    "female-capped",
    "female-surnameless",
    "model-female",
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


def answer_files(folders: list[Path]):
    """(panel, author, reviewer, key, answers file) for each reviewer file of each panel's keys, in order."""
    for folder in folders:
        for key_file in sorted(folder.glob("*-key.tsv")):
            author = key_file.name.removesuffix("-key.tsv")
            key = read_key(key_file)
            for answers_file in sorted(folder.glob(f"{author}-[AB].tsv")):
                yield folder.name, author, answers_file.stem.rsplit("-", 1)[1], key, answers_file


def reviews(folders: list[Path]):
    """(panel, author, reviewer, key, answers) for each reviewer file of each panel's keys, in order."""
    for panel, author, reviewer, key, path in answer_files(folders):
        yield panel, author, reviewer, key, read_answers(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("panels", nargs="*", help="panel folders under panels/critic (default all)")
    parser.add_argument("--reasons", action="store_true", help="list the generated names rated 1-2 with the reasons")
    parser.add_argument(
        "--by-evidence", action="store_true", help="mean rating of three-character names by the given name's evidence"
    )
    parser.add_argument(
        "--gender-reading",
        action="store_true",
        help="per group, how many names readers took for a woman's (W), a man's (M) or either's (E), where they said",
    )
    parser.add_argument("--pairs", metavar="A,B", help="paired groups: B's rating minus A's, name against name")
    args = parser.parse_args()
    folders = [PANELS / p for p in args.panels] if args.panels else sorted(p for p in PANELS.iterdir() if p.is_dir())
    print("| panel | author | reviewer | " + " | ".join(ORDER) + " |")
    print("| --- | --- | --- | " + " | ".join("---:" for _ in ORDER) + " |")
    low = []
    for panel, author, reviewer, key, answers in reviews(folders):
        cells = []
        for group in ORDER:
            r = [answers[n][0] for n, (g, _) in key.items() if g == group and n in answers]
            cells.append(f"{statistics.fmean(r):.2f} ({sum(x <= 2 for x in r) / len(r):.0%})" if r else "")
        print(f"| {panel} | {author} | {reviewer} | " + " | ".join(cells) + " |")
        low += [
            (panel, author, reviewer, key[n][1], rating, why)
            for n, (rating, why) in answers.items()
            if key.get(n, ("real", ""))[0] not in ("real", "llm") and rating <= 2
        ]
    print(
        "\ncells: mean rating (share rated 1-2); 40 names a group (80 in panel16 and panel20, 50 in panel24, 30 in epithets5; "
        "Gu Long's surnameless 27, 30 and 14 in panels 25-27: his 阿 and 小 names leave few new ones)"
    )
    if args.reasons:
        for row in low:
            print("\t".join(map(str, row)))
    if args.by_evidence:
        print_by_evidence(folders)
    if args.gender_reading:
        print_gender_reading(folders)
    if args.pairs:
        print_pairs(folders, *args.pairs.split(",", 1))
    return 0


def print_pairs(folders: list[Path], first: str, second: str) -> None:
    """Per panel, author and reviewer: `second`'s rating minus `first`'s over the pairs of names that share
    their first two characters (one pair per start; module docstring)."""
    print(f"\n| panel | author | reviewer | pairs | {second} minus {first} | {second} better / worse |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for panel, author, reviewer, key, answers in reviews(folders):
        rated = {group: {} for group in (first, second)}
        for n, (rating, _) in answers.items():
            group, name = key.get(n, ("", ""))
            if group in rated:
                rated[group][name[:2]] = rating
        diffs = [rated[second][start] - r for start, r in rated[first].items() if start in rated[second]]
        if diffs:
            better, worse = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
            print(
                f"| {panel} | {author} | {reviewer} | {len(diffs)} | {statistics.fmean(diffs):+.2f} | {better} / {worse} |"
            )


def print_gender_reading(folders: list[Path]) -> None:
    """W / M / E counts per group from answers whose last column says whom a name names (panels built
    with `panel.py build --ask-gender`; epithets5 asked it by hand)."""
    print("\n| panel | author | reviewer | group | W / M / E |")
    print("| --- | --- | --- | --- | ---: |")
    for panel, author, reviewer, key, path in answer_files(folders):
        said: dict[str, Counter] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = [p.strip() for p in line.split("\t")]
            if len(parts) >= 4 and parts[0].isdigit() and parts[-1][:1] in "WME" and int(parts[0]) in key:
                said.setdefault(key[int(parts[0])][0], Counter())[parts[-1][:1]] += 1
        for group in [g for g in ORDER if g in said]:
            c = said[group]
            print(f"| {panel} | {author} | {reviewer} | {group} | {c['W']} / {c['M']} / {c['E']} |")


def print_by_evidence(folders: list[Path]) -> None:
    """Mean rating (count) of three-character names by origin and by each kind of evidence."""
    from xiaming.evidence.lexicon import shipped_lexicon

    lexicon = shipped_lexicon()
    tests = {
        "a historical given name": lambda a, b: lexicon.pair_table("given_pair_keys", [a], [b])[0] > 0,
        "a dictionary word": lambda a, b: lexicon.pair_table("word_keys", [a], [b])[0] > 0,
        "a verse pair (5+)": lambda a, b: lexicon.pair_table("verse_keys", [a], [b])[0] >= 5,
    }
    ratings: dict[tuple[str, str, bool], list[int]] = {}
    for *_, key, answers in reviews(folders):
        for n, (rating, _) in answers.items():
            group, name = key.get(n, ("", ""))
            if len(name) != 3:
                continue
            origin = group if group in ("real", "llm") else "generated"
            a, b = lexicon.ids(name[1:])
            for label, test in tests.items():
                ratings.setdefault((origin, label, bool(test(a, b))), []).append(rating)
    print("\n| three-character names, given name is | origin | yes: mean (ratings) | no: mean (ratings) |")
    print("| --- | --- | ---: | ---: |")
    for label in tests:
        for origin in ("real", "llm", "generated"):
            cells = []
            for answer in (True, False):
                r = ratings.get((origin, label, answer), [])
                cells.append(f"{statistics.fmean(r):.2f} ({len(r)})" if r else "")
            print(f"| {label} | {origin} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
