"""Print the per-work count tables of the built-in corpora in Markdown (for corpora/DATASHEET.md).

    python scripts/corpus_counts.py                      # every corpus
    python scripts/corpus_counts.py jinyong gulong       # some of them
    python scripts/corpus_counts.py jinyong --notes ../staging/jinyong_notes.tsv

Each corpus gets a heading with its distinct names, rows and works, a table of rows per work split
by kind (works in file order), and the distinct names by length. With `--notes` (a TSV whose
header has `method` and `kind` columns, one line per added row, as the corpus editors keep them),
it also prints how many rows were confirmed by each method. Reads only the package's own files
(and the notes file, if given); writes nothing.
"""

from __future__ import annotations

import argparse
import collections
import csv
import sys
from pathlib import Path

from xiaming import corpora


def corpus_table(name: str) -> str:
    """Markdown heading, per-work table and length summary of one built-in corpus."""
    rows = corpora.entries(name)
    info = corpora.info(name)
    per_work: dict[str, collections.Counter[str]] = {w: collections.Counter() for w in info.works}
    for e in rows:
        per_work[e.work][e.kind] += 1
    lines = [
        f"### {name}: {info.names} distinct names, {info.rows} rows, {len(info.works)} works",
        "",
        "| work | rows | name | epithet |",
        "| --- | ---: | ---: | ---: |",
    ]
    for work, kinds in per_work.items():
        lines.append(f"| {work} | {sum(kinds.values())} | {kinds['name']} | {kinds['epithet']} |")
    lengths = collections.Counter(len(n) for n in {e.name for e in rows})
    summary = ", ".join(f"{k} chars: {lengths[k]}" for k in sorted(lengths))
    lines += ["", f"Distinct names by length: {summary}"]
    return "\n".join(lines)


def method_table(notes: Path) -> str:
    """Markdown table of confirmation methods (rows per `method`) in an editor's notes file."""
    with notes.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        if reader.fieldnames is None or "method" not in reader.fieldnames:
            raise SystemExit(f"{notes}: expected a TSV header with a 'method' column")
        counts = collections.Counter(row["method"] for row in reader)
    lines = ["| method | rows |", "| --- | ---: |"]
    lines += [f"| {method} | {n} |" for method, n in counts.most_common()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the tables; exit 1 on an unknown corpus or an unreadable notes file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="*", help=f"corpora to count (default: {', '.join(corpora.names())})")
    parser.add_argument("--notes", type=Path, help="an editor's notes TSV with a 'method' column")
    args = parser.parse_args(argv)
    unknown = [c for c in args.corpus if not corpora.is_builtin(c)]
    if unknown:
        print(
            f"error: unknown corpus {', '.join(unknown)}; built-in corpora: {', '.join(corpora.names())}",
            file=sys.stderr,
        )
        return 1
    blocks = [corpus_table(c) for c in (args.corpus or corpora.names())]
    if args.notes is not None:
        try:
            blocks.append(f"Confirmation methods in {args.notes.name}:\n\n{method_table(args.notes)}")
        except OSError as exc:
            print(f"error: --notes {args.notes}: {exc.strerror}", file=sys.stderr)
            return 1
    print("\n\n".join(blocks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
