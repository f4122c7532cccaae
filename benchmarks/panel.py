"""Blind panel: do generated names pass as real ones to a reader who knows the novels?

    # build: N real names the model never saw and N names of `xiaming generate MODEL`, shuffled
    python benchmarks/panel.py build jinyong -n 40 --seed 1 --out /work/staging/panel
    # -> jinyong-panel.txt (for the reviewer: the question and a numbered list, nothing else)
    #    jinyong-key.tsv   (for scoring: number, group, name)

    # score: the reviewer's answers, one `number<TAB>rating` per line (1-5)
    python benchmarks/panel.py score /work/staging/panel/jinyong-key.tsv ratings.tsv

    # the held-out names themselves (e.g. for `xiaming eval jinyong held.txt --realism`)
    python benchmarks/panel.py holdout jinyong > held.txt

Real names come from the model's panel holdout: the seeded share of its list that
`scripts/build_pretrained.py` kept out of training and recorded in the checkpoint
(`panel_holdout`). By default only those of the kind that `generate` prints by default (personal
names; `--real-kind any` takes epithets too). Generated names are what `xiaming generate MODEL
-n N --seed S` prints with the model's own defaults, nothing filtered or picked afterwards.

The scorer prints one row per group: mean rating, share rated 4-5, share rated 1-2, names rated;
and the two goals of issue 9 (generated mean at least 0.95 of the real mean; share rated 1-2 at
most 5 points above the real names').
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

QUESTION = {
    "jinyong": "a character's name or epithet in a Jin Yong (金庸) novel",
    "gulong": "a character's name or epithet in a Gu Long (古龙) novel",
    "liangyusheng": "a character's name or epithet in a Liang Yusheng (梁羽生) novel",
    "poets": "the name of a Tang or Song poet",
}
SCALE = "5 = could be in the book, 1 = gibberish, glued or a fragment"
GENDER_ASK = ", a tab, and W if it names a woman, M if a man, E if it could be either."  # --ask-gender
# (critic_panels.py --gender-reading counts the answers)


def write_readable(path: Path, text: str) -> None:
    """Write `text` atomically (temporary file, then rename), readable by the reviewers (benchmarks/verse.py
    writes its panel with it too)."""
    from xiaming.atomic import write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, text)  # an ordinary file's mode (mkstemp's is private): the reviewers and the lead read it


def held_out(namer, kind: str) -> list[str]:
    """The model's panel holdout (of `kind`: name, epithet or any), in list order."""
    from xiaming import corpora

    held = (namer.train.get("panel_holdout") or {}).get("names") or []
    if not held:
        raise SystemExit(
            "panel.py: error: the model records no panel holdout (rebuild it with "
            "scripts/build_pretrained.py, which keeps one out of training)"
        )
    corpus = str(namer.train.get("source", "")).removeprefix("builtin:")
    if kind != "any" and corpora.is_builtin(corpus):
        of_kind = set(corpora.load(corpus, kinds=[kind]))
        if kind == "epithet":  # a name listed as both kinds was trained as a personal name
            of_kind -= set(corpora.load(corpus, kinds=["name"]))
        held = [h for h in held if h in of_kind]
    return held


def real_names(namer, n: int, seed: int, kind: str) -> list[str]:
    """`n` names of the model's panel holdout (of `kind`: name, epithet or any), seeded."""
    held = held_out(namer, kind)
    if len(held) < n:
        raise SystemExit(f"panel.py: error: only {len(held)} held-out names of kind {kind}; ask for fewer (-n)")
    return random.Random(seed).sample(held, n)


def holdout(args) -> int:
    """Print the model's panel holdout, one name per line (of --kind, default every kind)."""
    from xiaming.generation.namer import Namer

    print("\n".join(held_out(Namer.load(args.model), args.kind)))
    return 0


def build(args) -> int:
    """Write the panel file and its key."""
    from xiaming.generation.namer import Namer

    namer = Namer.load(args.model)
    real = real_names(namer, args.n, args.seed, args.real_kind)
    options = namer.options(kind=args.kind)
    result = namer.generate(args.n, options, seed=args.seed)
    generated = result.names
    if len(generated) < args.n:
        raise SystemExit(f"panel.py: error: generate gave {len(generated)} names: {result.reason}")
    if set(generated) & set(real):
        raise SystemExit("panel.py: error: a generated name equals a held-out one (novelty should prevent it)")
    items = [("real", name) for name in real] + [(args.label, name) for name in generated]
    if args.before:  # the same model with the critic off: what `generate` printed before the critic
        off = namer.generate(args.n, options, seed=args.seed + 7, steering=namer.steering(critic=False)).names
        items += [("critic-off", name) for name in off if name not in set(generated)][: args.n]
    if args.llm:  # names a chat model invented in the author's style, none of them in a built-in list
        from xiaming import corpora

        known = {nm for c in corpora.names() for nm in corpora.load(c)}
        invented = [x.strip() for x in Path(args.llm).read_text(encoding="utf-8").splitlines() if x.strip()]
        invented = [x for x in dict.fromkeys(invented) if x not in known and x not in set(generated)]
        items += [("llm", name) for name in random.Random(args.seed + 2).sample(invented, min(args.n, len(invented)))]
    for spec in args.extra:  # LABEL=FILE: names made elsewhere (another version of the code, other settings)
        group, _, path = spec.partition("=")
        taken = {name for _, name in items}
        made = [x.strip() for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]
        items += [(group, name) for name in dict.fromkeys(made) if name not in taken][: args.n]
    random.Random(args.seed + 1).shuffle(items)
    label = Path(str(args.model)).stem
    what = QUESTION.get(label, "a character's name")
    out = Path(args.out)
    panel = [
        f"How well would each name below pass as {what}?",
        f"Rate each from 1 to 5 ({SCALE}).",
        "Answer with one line per name: the number, a tab, the rating, a tab, a few words why "
        "(for ratings 1-3 say what is wrong)" + (GENDER_ASK if args.ask_gender else "."),
        "",
    ]
    panel += [f"{i}. {name}" for i, (_, name) in enumerate(items, 1)]
    write_readable(out / f"{label}-panel.txt", "\n".join(panel) + "\n")
    key = [
        f"# model {args.model}; seed {args.seed}; real: {args.n} of the model's panel holdout "
        f"(kind {args.real_kind}); generated: xiaming generate {label} -n {args.n} --seed {args.seed} "
        f"({namer.describe_sampling(options)}; {namer.steering().describe()}); critic-off: --critic off, "
        f"seed {args.seed + 7}; llm: {args.llm}; extra: {' '.join(args.extra) or 'none'}; {args.about}",
        "number\tgroup\tname",
    ]
    key += [f"{i}\t{group}\t{name}" for i, (group, name) in enumerate(items, 1)]
    write_readable(out / f"{label}-key.tsv", "\n".join(key) + "\n")
    print(f"wrote {out / f'{label}-panel.txt'} and {out / f'{label}-key.tsv'} ({len(items)} names)")
    return 0


def read_key(path: Path) -> dict[int, tuple[str, str]]:
    """number -> (group, name) from a key file."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("number\t"):
            continue
        number, group, name = line.split("\t")
        out[int(number)] = (group, name)
    return out


def read_ratings(path: Path) -> dict[int, int]:
    """number -> rating from `number<TAB>rating[<TAB>comment]` lines (spaces, a trailing '.', a
    comment after the rating, and blank or other lines tolerated)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t") if "\t" in line else line.replace(".", " ").split()
        parts = [p.strip().rstrip(".") for p in parts]
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() and 1 <= int(parts[1]) <= 5:
            out[int(parts[0])] = int(parts[1])
    return out


def table(key: dict[int, tuple[str, str]], ratings: dict[int, int]) -> tuple[str, dict[str, list[int]]]:
    """The markdown table of the panel and the ratings per group."""
    groups: dict[str, list[int]] = {}
    for number, (group, _) in sorted(key.items()):
        if number in ratings:
            groups.setdefault(group, []).append(ratings[number])
    lines = ["| names | mean | rated 4-5 | rated 1-2 | rated |", "| --- | ---: | ---: | ---: | ---: |"]
    for group in sorted(groups, key=lambda g: g != "real"):
        r = groups[group]
        lines.append(
            f"| {group} | {statistics.fmean(r):.2f} | {sum(x >= 4 for x in r) / len(r):.0%} | "
            f"{sum(x <= 2 for x in r) / len(r):.0%} | {len(r)} |"
        )
    return "\n".join(lines), groups


def score(args) -> int:
    """Print the panel's table and the goals."""
    key = read_key(Path(args.key))
    ratings = read_ratings(Path(args.ratings))
    missing = sorted(set(key) - set(ratings))
    text, groups = table(key, ratings)
    print(text)
    if missing:
        print(
            f"not rated: {len(missing)} names ({', '.join(map(str, missing[:10]))}{'...' if len(missing) > 10 else ''})",
            file=sys.stderr,
        )
    if "real" in groups and "generated" in groups:
        real, gen = groups["real"], groups["generated"]
        ratio = statistics.fmean(gen) / statistics.fmean(real)
        low = sum(x <= 2 for x in gen) / len(gen) - sum(x <= 2 for x in real) / len(real)
        print(
            f"generated mean / real mean = {ratio:.2f} (goal >= 0.95); rated 1-2: {low * 100:+.0f} points "
            f"against the real names (goal <= +5)"
        )
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write a panel file and its key")
    b.add_argument(
        "model", help="shipped model or checkpoint with a panel holdout (jinyong, gulong, liangyusheng, poets)"
    )
    b.add_argument("-n", type=int, default=40, help="real names and generated names, each (default 40)")
    b.add_argument("--seed", type=int, default=1)
    b.add_argument(
        "--real-kind",
        choices=("name", "epithet", "any"),
        default="name",
        help="which held-out names to show (default name: the kind generate prints by default)",
    )
    b.add_argument("--out", default="runs/panel", help="folder for MODEL-panel.txt and MODEL-key.tsv")
    b.add_argument(
        "--before", action="store_true", help="add N names of the same model with the critic off (group critic-off)"
    )
    b.add_argument(
        "--kind",
        choices=("name", "epithet", "any"),
        default=None,
        help="the kind the generated groups are (default: the model's default, personal names)",
    )
    b.add_argument("--label", default="generated", help="the generated group's label in the key (default generated)")
    b.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="LABEL=FILE",
        help="one more group: the first N new names of FILE (e.g. another version's output); repeatable",
    )
    b.add_argument("--about", default="", help="a note for the key's first line (how the groups were made)")
    b.add_argument(
        "--ask-gender",
        action="store_true",
        help="also ask whether each name names a woman (W), a man (M) or either (E)",
    )
    b.add_argument(
        "--llm",
        default=None,
        metavar="FILE",
        help="add N names of FILE (one a line: names a chat model invented), none in a built-in list (group llm)",
    )
    b.set_defaults(run=build)
    h = sub.add_parser("holdout", help="print the names a model's panel holdout kept out of its training")
    h.add_argument("model", help="shipped model or checkpoint with a panel holdout")
    h.add_argument("--kind", choices=("name", "epithet", "any"), default="any", help="which of them (default any)")
    h.set_defaults(run=holdout)
    s = sub.add_parser("score", help="print the table of a rated panel")
    s.add_argument("key", help="the MODEL-key.tsv written by build")
    s.add_argument("ratings", help="the reviewer's answers: number<TAB>rating per line")
    s.set_defaults(run=score)
    args = p.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
