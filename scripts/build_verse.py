"""Build src/xiaming/verse/verse.safetensors: the lines of classical verse that `xiaming verse` draws names from.

    python scripts/build_verse.py ../shared/data/verse

The input folder holds one JSON object a line per poem, `{"book", "title", "section", "author",
"lines": [...]}`, in shijing.jsonl, chuci.jsonl, tangshi300.jsonl, songci300.jsonl and lunyu.jsonl
(the chinese-poetry database, MIT; credit in src/xiaming/verse/DATASHEET.md). Each book's key is
its file's stem. A source line often holds several sentences (a 诗经 stanza, a 论语 passage), so it is
cut into sentences at 。！？； (closing quotes stay with the sentence they close); a sentence of more
than MAX_HAN characters is cut again at its commas, clauses merged up to MAX_HAN. Each such
sentence is a "line": a name's characters are taken from one line, in order.

The table holds, per line, its text and poem (book, title, author, section), and its candidate
characters: the CJK characters of the line (punctuation skipped), each with its position in the
text (to mark it) and its reading in that line (pypinyin over the line's runs of characters, so
乐 in 钟鼓乐之 reads yuè; a neutral tone becomes the character's first full tone, as a name is
read). The candidate given names are every character and every ordered pair of them within one
line; they are enumerated at load time (xiaming/verse/table.py) rather than stored. It also holds
a default reading for every character of the verse, the 百家姓 and the base model's vocabulary, so
surnames are read without importing pypinyin at run time. Rerunnable: the output depends only on
the input files (and pypinyin's version, recorded).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from xiaming.data.pinyin import is_han  # noqa: E402
from xiaming.verse.table import BOOK_FILES, FORMAT, MAX_HAN, VERSE_PATH, load_table, save_table  # noqa: E402

SENTENCE = re.compile(r"[^。！？；!?;]*[。！？；!?;]+[”’」』）)]*|[^。！？；!?;]+$")
CLAUSE = re.compile(r"[^，、：,:]*[，、：,:]+|[^，、：,:]+$")
TONE_MARKS = set("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ")


def sentences(text: str) -> list[str]:
    """The lines of one source line: sentences, long ones cut at commas (see the module docstring)."""
    out: list[str] = []
    for sentence in SENTENCE.findall(text.strip()):
        sentence = sentence.strip()
        if not any(is_han(c) for c in sentence):
            if out:  # a stray closing mark: keep it with the sentence before
                out[-1] += sentence
            continue
        if sum(is_han(c) for c in sentence) <= MAX_HAN:
            out.append(sentence)
            continue
        current = ""
        for clause in CLAUSE.findall(sentence):
            if current and sum(is_han(c) for c in current + clause) > MAX_HAN:
                out.append(current)
                current = ""
            current += clause
        if current:
            out.append(current)
    return [s for s in out if any(is_han(c) for c in s)]


def full_tone(char: str, syllable: str) -> str:
    """`syllable`, or the character's first toned reading when pypinyin gives it the neutral tone."""
    from pypinyin import Style, pinyin

    if TONE_MARKS.intersection(syllable):
        return syllable
    toned = [r for r in pinyin(char, style=Style.TONE, heteronym=True)[0] if TONE_MARKS.intersection(r)]
    return toned[0] if toned else syllable


def readings(line: str) -> list[str]:
    """The reading of each CJK character of `line`, read in context run by run."""
    from pypinyin import Style, lazy_pinyin

    out: list[str] = []
    for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff]+", line):
        syllables = lazy_pinyin(run, style=Style.TONE, errors=lambda chars: list(chars))
        if len(syllables) != len(run):  # pypinyin grouped something: read character by character
            syllables = [lazy_pinyin(c, style=Style.TONE)[0] for c in run]
        out.extend(full_tone(c, s) for c, s in zip(run, syllables))
    return out


def baijiaxing(path: Path) -> tuple[list[str], list[str]]:
    """(single-character surnames, compound surnames) of the 百家姓 file: four characters a line, single
    surnames up to 万俟司马, then pairs, a pair not a known compound being two single surnames."""
    from xiaming.data.pinyin import COMPOUND_SURNAMES

    singles: list[str] = []
    compounds: list[str] = []
    pairs = False
    for line in path.read_text(encoding="utf-8").split():
        if line == "百家姓终":  # the book's closing words, not surnames
            continue
        chars = [c for c in line if is_han(c)]
        pairs = pairs or "".join(chars).startswith("万俟")
        if not pairs:
            singles.extend(chars)
            continue
        for i in range(0, len(chars), 2):
            pair = "".join(chars[i : i + 2])
            if pair in COMPOUND_SURNAMES:
                compounds.append(pair)
            else:
                singles.extend(pair)
    return list(dict.fromkeys(singles)), list(dict.fromkeys(compounds))


def base_vocab() -> list[str]:
    """The characters of the shipped base model (their default readings are stored for surnames)."""
    path = ROOT / "src" / "xiaming" / "pretrained" / "base.safetensors"
    if not path.is_file():
        return []
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        return list(json.loads(f.metadata()["vocab"])["chars"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="the shared data's verse/ folder")
    parser.add_argument(
        "--surnames",
        type=Path,
        default=None,
        help="百家姓 file, one phrase a line (default: ../surnames/baijiaxing.txt beside the folder)",
    )
    parser.add_argument("-o", "--output", type=Path, default=VERSE_PATH)
    args = parser.parse_args()
    import pypinyin
    from pypinyin import Style, lazy_pinyin

    books: list[dict] = []
    poems: list[list] = []
    lines: list[str] = []
    line_poem: list[int] = []
    han: list[int] = []
    han_pos: list[int] = []
    han_reading: list[str] = []
    line_start = [0]
    for key, filename in BOOK_FILES.items():
        path = args.folder / filename
        name, n_poems, n_lines = "", 0, 0
        with open(path, encoding="utf-8") as f:
            for row in f:
                if not row.strip():
                    continue
                poem = json.loads(row)
                name = name or poem["book"]
                poems.append([len(books), poem["title"], poem.get("author", ""), poem.get("section", "")])
                n_poems += 1
                for source in poem["lines"]:
                    for line in sentences(source):
                        chars = [(i, c) for i, c in enumerate(line) if is_han(c)]
                        said = readings(line)
                        if len(said) != len(chars):
                            raise SystemExit(f"{path}: readings do not align in {line!r}")
                        for (i, c), syllable in zip(chars, said):
                            han.append(ord(c))
                            han_pos.append(i)
                            han_reading.append(syllable)
                        lines.append(line)
                        line_poem.append(len(poems) - 1)
                        line_start.append(len(han))
                        n_lines += 1
        books.append({"key": key, "name": name, "poems": n_poems, "lines": n_lines})
        print(f"{key} ({name}): {n_poems} poems, {n_lines} lines")
    syllables = sorted(set(han_reading))
    index = {s: i for i, s in enumerate(syllables)}
    surnames_file = args.surnames or args.folder.parent / "surnames" / "baijiaxing.txt"
    singles, compounds = baijiaxing(surnames_file)
    print(f"{surnames_file}: {len(singles)} single and {len(compounds)} compound surnames")
    chars = sorted({chr(cp) for cp in han} | set(singles) | {c for c in base_vocab() if is_han(c)})
    default = {c: full_tone(c, lazy_pinyin(c, style=Style.TONE)[0]) for c in chars}
    about = {
        "source": "chinese-poetry (JackeyGao/chinese-poetry, package 2.0.1), MIT",
        "surnames": "百家姓 (chinese-poetry), MIT",
        "pypinyin": pypinyin.__version__,
        "max_han": MAX_HAN,
    }
    codes, han_char = np.unique(np.array(han, dtype=np.uint32), return_inverse=True)
    arrays = {
        "line_poem": np.array(line_poem, dtype=np.uint16),
        "line_start": np.array(line_start, dtype=np.uint32),
        "chars": codes.astype(np.uint32),
        "han_char": han_char.astype(np.uint16),
        "han_pos": np.array(han_pos, dtype=np.uint16),
        "han_reading": np.array([index[s] for s in han_reading], dtype=np.uint16),
    }
    save_table(args.output, books, poems, lines, syllables, default, arrays, about, "".join(singles))
    table = load_table(args.output)  # read back through the loader's checks
    pairs = sum(int(k) * (int(k) - 1) // 2 for k in np.diff(table.line_start))
    print(
        f"{args.output}: {len(lines):,} lines, {len(han):,} characters, {pairs:,} ordered pairs, "
        f"{args.output.stat().st_size / 1e6:.2f} MB ({FORMAT})"
    )


if __name__ == "__main__":
    main()
