"""Build the lexicon the critic reads: compact tables of how Chinese names and words are made.

    python scripts/build_lexicon.py --ancient ../shared/data/ancient_names.txt \
        --bigrams ../shared/data/verse/poetry_bigrams.tsv \
        --surnames ../shared/data/surnames/baijiaxing.txt --modern ../shared/data/gender/charfreq.csv
        # jieba's dictionary is found in site-packages

writes src/xiaming/evidence/lexicon.safetensors (about 2-3 MB). Rerunnable; the sources are read
by path and never copied into the package (see the datasheet in src/xiaming/evidence/SOURCES.md):

- jieba's dictionary (MIT; jieba 0.42.1's dict.txt, 349k words with frequency and part of
  speech): every two-character word of the alphabet below, with its frequency and a coarse part of
  speech (person name, other proper noun, noun, verb, adjective, idiom part, other).
- 253,589 historical names (Chinese-Names-Corpus, Apache-2.0): how often each character is a
  surname, the first or second character of a two-character given name, or a one-character given
  name; and every two-character given name with its count (the given name of a three-character
  name with a one-character surname).
- Tang-Song verse bigrams (chinese-poetry, MIT): pairs seen at least `--min-bigram` times, and
  how often each character occurs in them (how classical a character is).
- 百家姓 (chinese-poetry, MIT): the two-character surnames.
- The built-in wuxia corpora (this package): how often each character is in their given names.
- ngender's charfreq.csv (MIT): how often each character is in modern given names (either sex).

The alphabet is every character of the historical names and of the built-in corpora; pairs are
stored as sorted uint32 keys (first id * 2^14 + second id) with uint16 values, read at run time with
`np.searchsorted`, so loading costs milliseconds and no Python dict is built.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from xiaming import corpora  # noqa: E402
from xiaming.evidence.lexicon import LEXICON_PATH, POS_CLASSES, SHIFT, save_lexicon  # noqa: E402


def pos_class(tag: str) -> int:
    """jieba's part-of-speech tag as an index into POS_CLASSES."""
    if tag in ("nr", "nrt", "nrfg"):
        return POS_CLASSES.index("person")
    if tag in ("ns", "nt", "nz"):
        return POS_CLASSES.index("proper")
    if tag.startswith("n"):
        return POS_CLASSES.index("noun")
    if tag.startswith("v"):
        return POS_CLASSES.index("verb")
    if tag.startswith("a"):
        return POS_CLASSES.index("adjective")
    if tag in ("i", "l"):
        return POS_CLASSES.index("idiom")
    return POS_CLASSES.index("other")


def read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def compound_surnames(path: Path) -> set[str]:
    """Two-character surnames of 百家姓 (its lines from 万俟司马 on hold mostly those)."""
    text = "".join(read_lines(path))
    start = text.index("万俟")
    tail = text[start:]
    pairs = {tail[i : i + 2] for i in range(0, len(tail) - 1, 2)}
    known_single_tail = set("第五言福百家姓终")  # the closing line mixes single surnames and words
    return {p for p in pairs if len(p) == 2 and not (set(p) & known_single_tail)}


def clamp16(value: float) -> int:
    return int(min(65535, max(0, round(value))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ancient", type=Path, required=True, help="ancient_names.txt (one name a line)")
    parser.add_argument("--bigrams", type=Path, required=True, help="poetry_bigrams.tsv (bigram<TAB>count)")
    parser.add_argument("--surnames", type=Path, required=True, help="baijiaxing.txt")
    parser.add_argument("--modern", type=Path, required=True, help="gender/charfreq.csv (char,male,female)")
    parser.add_argument(
        "--jieba-dict", type=Path, default=None, help="jieba's dict.txt (default: the installed jieba's)"
    )
    parser.add_argument(
        "--min-bigram", type=int, default=3, help="keep verse pairs seen at least this often (default 3)"
    )
    parser.add_argument("--out", type=Path, default=LEXICON_PATH)
    args = parser.parse_args(argv)

    if args.jieba_dict is None:
        import jieba

        args.jieba_dict = Path(jieba.__file__).parent / "dict.txt"
    ancient = read_lines(args.ancient)
    compounds = compound_surnames(args.surnames)
    alphabet = set("".join(ancient))
    for corpus in corpora.names():
        alphabet |= set("".join(corpora.load(corpus)))
    chars = sorted(c for c in alphabet if "\u3400" <= c <= "\u9fff" or c == "·")
    if len(chars) >= 1 << SHIFT:
        raise SystemExit(f"alphabet of {len(chars)} characters does not fit {SHIFT} bits")
    index = {c: i for i, c in enumerate(chars)}
    n = len(chars)

    surname = np.zeros(n, np.float64)
    given1 = np.zeros(n, np.float64)
    given2 = np.zeros(n, np.float64)
    single = np.zeros(n, np.float64)
    given_pairs: Counter = Counter()
    for name in ancient:
        if not all(c in index for c in name):
            continue
        cut = 2 if name[:2] in compounds and len(name) >= 3 else 1
        sur, given = name[:cut], name[cut:]
        surname[index[sur[0]]] += 1
        if len(given) == 1:
            single[index[given]] += 1
        elif len(given) == 2:
            given1[index[given[0]]] += 1
            given2[index[given[1]]] += 1
            given_pairs[given] += 1

    wuxia = np.zeros(n, np.float64)  # characters of the wuxia lists' given names: the genre's own flavour
    for corpus in ("jinyong", "gulong", "liangyusheng"):
        if corpus in corpora.names():
            for name in corpora.load(corpus, kinds=["name"]):
                cut = 2 if name[:2] in compounds and len(name) >= 3 else 1
                for c in name[cut:]:
                    if c in index:
                        wuxia[index[c]] += 1

    modern = np.zeros(n, np.float64)  # how often each character is in modern given names (either sex)
    for line in args.modern.read_text(encoding="utf-8").splitlines()[1:]:
        char, male, female = (line.split(",") + ["", "", ""])[:3]
        if char in index and male.isdigit() and female.isdigit():
            modern[index[char]] = int(male) + int(female)

    words: dict[str, tuple[int, int]] = {}
    for line in args.jieba_dict.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) != 3 or len(parts[0]) != 2 or not all(c in index for c in parts[0]):
            continue
        word, freq, tag = parts[0], int(parts[1]), parts[2]
        if word not in words or freq > words[word][0]:
            words[word] = (freq, pos_class(tag))

    verse: dict[str, int] = {}
    verse_char = np.zeros(n, np.float64)
    for line in args.bigrams.read_text(encoding="utf-8").splitlines():
        pair, _, count = line.partition("\t")
        if len(pair) == 2 and count.isdigit() and all(c in index for c in pair):
            for c in pair:
                verse_char[index[c]] += int(count)
            if int(count) >= args.min_bigram:
                verse[pair] = int(count)

    def key(pair: str) -> int:
        return (index[pair[0]] << SHIFT) | index[pair[1]]

    def table(entries: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
        keys = np.array([key(p) for p in entries], dtype=np.uint32)
        values = np.array([clamp16(v) for v in entries.values()], dtype=np.uint16)
        order = np.argsort(keys)
        return keys[order], values[order]

    def log_counts(counts: np.ndarray) -> np.ndarray:
        return np.log1p(counts).astype(np.float32)

    gk, gv = table(dict(given_pairs))
    wk, _ = table({w: 0 for w in words})
    order = np.argsort(np.array([key(w) for w in words], dtype=np.uint32))
    wfreq = np.array([clamp16(1000 * math.log1p(f)) for f, _ in words.values()], dtype=np.uint16)[order]
    wpos = np.array([p for _, p in words.values()], dtype=np.uint8)[order]
    vk, vv = table(verse)
    arrays = {
        "surname": log_counts(surname),
        "given1": log_counts(given1),
        "given2": log_counts(given2),
        "single": log_counts(single),
        "verse_char": log_counts(verse_char / 2),
        "wuxia": log_counts(wuxia),
        "modern": log_counts(modern),
        "given_pair_keys": gk,
        "given_pair_counts": gv,
        "word_keys": wk,
        "word_freq": wfreq,
        "word_pos": wpos,
        "verse_keys": vk,
        "verse_counts": vv,
    }
    sources = {
        "ancient_names": len(ancient),
        "jieba_words": len(words),
        "verse_pairs": len(verse),
        "given_pairs": len(given_pairs),
        "min_bigram": args.min_bigram,
    }
    save_lexicon(args.out, chars, sorted(compounds), arrays, sources)
    size = args.out.stat().st_size
    print(
        f"wrote {args.out}: {n} characters, {len(given_pairs):,} given names, {len(words):,} two-character words, "
        f"{len(verse):,} verse pairs, {len(compounds)} compound surnames; {size / 1e6:.2f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
