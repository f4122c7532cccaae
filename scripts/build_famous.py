"""Build src/xiaming/evidence/famous.safetensors: keys of well-known people's names, which generated names must not be.

    python scripts/build_famous.py --ancient ../shared/data/ancient_names.txt   # jieba's dictionary is found in site-packages

A character model fine-tuned from 253,589 historical names sometimes prints a real person's name:
3,000 names of each shipped model held 刘德华, 林青霞, 李鹏, 冯梦龙, 张廷玉, 李东阳 and 胡适 among others
(0.37-0.80% of the names, `python benchmarks/famous.py`). A reader sees the person, not a new
character. jieba's dictionary (MIT; jieba 0.42.1's dict.txt, credit in src/xiaming/evidence/SOURCES.md)
tags person names `nr`, `nrfg` and `nrt` with a frequency; those of two to four Chinese characters seen at least
`--min-freq` times are kept, and with `--ancient` also those seen less
often that the 253,589 historical names record too (Chinese-Names-Corpus, Apache-2.0): 1,641 more,
such as 曹冲, 颜渊 and 黄家驹, people both sources know. Each is written as its 64-bit key
(`evidence.famous.name_key`), not as text: only membership is asked, and no name of the sources is
copied into the package. The novelty rule `famous`
(`xiaming.generation.novelty`) rejects them exactly for the shipped models (under strict or exact
novelty), and `xiaming verse` never chooses one. The tag is noisy (some entries are plants or places), which costs a blocklist
nothing: a rejected candidate is replaced by another. Rerunnable: the output depends only on the
dictionary, `--ancient` and `--min-freq`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from xiaming.evidence.famous import FAMOUS_PATH, LONGEST, SHORTEST, is_entry, save_famous  # noqa: E402

PERSON_TAGS = ("nr", "nrfg", "nrt")
MIN_FREQ = 5  # jieba frequency: below it the entries are mostly people no reader would know


def famous_entries(dict_path: Path, min_freq: int, recorded: frozenset[str] = frozenset()) -> list[str]:
    """jieba's person names of SHORTEST-LONGEST Chinese characters with frequency >= `min_freq`, or any
    frequency when `recorded` (the historical names) holds them too, sorted."""
    out = set()
    for line in dict_path.read_text(encoding="utf-8").splitlines():
        word, freq, tag = line.split(" ")
        if tag in PERSON_TAGS and (int(freq) >= min_freq or word in recorded) and is_entry(word):
            out.add(word)
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jieba-dict", type=Path, default=None, help="jieba's dict.txt (default: the installed one)")
    parser.add_argument("--min-freq", type=int, default=MIN_FREQ, help=f"lowest jieba frequency (default {MIN_FREQ})")
    parser.add_argument(
        "--ancient", type=Path, default=None, help="ancient_names.txt: rarer jieba names it records count too"
    )
    parser.add_argument("--out", type=Path, default=FAMOUS_PATH)
    args = parser.parse_args(argv)
    if args.jieba_dict is None:
        import jieba

        args.jieba_dict = Path(jieba.__file__).parent / "dict.txt"
    recorded = frozenset(args.ancient.read_text(encoding="utf-8").split()) if args.ancient else frozenset()
    entries = famous_entries(args.jieba_dict, args.min_freq, recorded)
    keys = save_famous(args.out, entries)
    lengths = {n: sum(len(e) == n for e in entries) for n in range(SHORTEST, LONGEST + 1)}
    print(f"wrote {args.out}: {keys} keys of {len(entries)} names ({lengths}), {args.out.stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
