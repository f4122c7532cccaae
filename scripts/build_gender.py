"""Build src/xiaming/evidence/gender.safetensors: each character's female-vs-male lean in given names.

    python scripts/build_gender.py ../shared/data/gender/charfreq.csv

The input is ngender's charfreq.csv (MIT; credit in src/xiaming/evidence/SOURCES.md): for each of
9,442 characters, how often it occurs in men's and in women's given names of a large modern name
set (`char,male,female`, a header line). The output holds, per character, the smoothed log-odds

    lean(c) = log((f + a F/N) / F) - log((m + a M/N) / M)

where f, m are its counts, F, M the totals (N = F + M) and a = PRIOR pseudo-names spread over the
two sexes in proportion to their totals. That prior shrinks rare characters toward 0 and gives a
character never seen exactly 0. (Adding the same `a` to both counts, with a*V in the denominators,
would instead give an unseen character log(M/F) = +0.68, female, because the set holds twice as
many men as women.) Positive leans female, negative male; clipped to +-CLIP. The counts are kept
too, so `score` can show the evidence behind each lean. Rerunnable: the output depends only on the
input file.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from xiaming.evidence.gender import CLIP, GENDER_PATH, PRIOR, load_gender_table, save_gender_table  # noqa: E402


def read_counts(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(chars, female counts, male counts) from charfreq.csv, checked: one character a row, no repeats."""
    chars: list[str] = []
    female: list[int] = []
    male: list[int] = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            char = row["char"].strip()
            if len(char) != 1 or char in chars:
                raise SystemExit(f"{path}: bad or repeated character {char!r}")
            chars.append(char)
            male.append(int(row["male"]))
            female.append(int(row["female"]))
    return chars, np.array(female, dtype=np.int64), np.array(male, dtype=np.int64)


def log_odds(female: np.ndarray, male: np.ndarray, prior: float = PRIOR, clip: float = CLIP) -> np.ndarray:
    """Smoothed, clipped log-odds female vs male per character (see the module docstring)."""
    f_total, m_total = float(female.sum()), float(male.sum())
    total = f_total + m_total
    lean = np.log((female + prior * f_total / total) / f_total) - np.log((male + prior * m_total / total) / m_total)
    return np.clip(lean, -clip, clip)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("charfreq", type=Path, help="ngender's charfreq.csv (char,male,female)")
    parser.add_argument("-o", "--output", type=Path, default=GENDER_PATH)
    args = parser.parse_args()
    chars, female, male = read_counts(args.charfreq)
    order = np.argsort(chars, kind="stable")  # sorted characters: the same file from any row order
    chars = [chars[i] for i in order]
    female, male = female[order], male[order]
    lean = log_odds(female, male)
    if max(female.max(), male.max()) >= 2**32:
        raise SystemExit("counts do not fit uint32")
    about = {
        "source": "ngender charfreq.csv (MIT)",
        "chars": len(chars),
        "female_total": int(female.sum()),
        "male_total": int(male.sum()),
        "prior": PRIOR,
        "clip": CLIP,
    }
    save_gender_table(
        args.output, chars, lean.astype(np.float32), female.astype(np.uint32), male.astype(np.uint32), about
    )
    table = load_gender_table(args.output)  # the file as the package will read it
    size = args.output.stat().st_size
    print(
        f"{args.output}: {len(table.chars):,} characters, {size / 1024:.0f} kB; "
        f"female {about['female_total']:,} / male {about['male_total']:,} name-characters; "
        f"lean from {lean.min():+.2f} to {lean.max():+.2f}"
    )
    for c in "蓉婉燕霞芳英玉小龙峰刚强雄靖":
        print(f"  {c} {table.char_lean(c):+.2f}")


if __name__ == "__main__":
    main()
