"""Failure taxonomy: why blind reviewers marked the default names down (issue 26, item 1).

    python benchmarks/failure_taxonomy.py                      # every table of docs/realism-failures.md
    python benchmarks/failure_taxonomy.py --show awkward_pair  # each reason filed under one class
    python benchmarks/failure_taxonomy.py --dump > all.tsv     # every rating with the classes given
    python benchmarks/failure_taxonomy.py --features           # + the critic's lexicon evidence per class
    python benchmarks/failure_taxonomy.py --rounds rate9,rate10,rate11,rate12,rate13   # later rounds

Reads the rating folders under critic/ratings (rate1, rate2, ... ; each holds, per author,
`<author>-names.txt` (the names `xiaming generate` printed), `<author>-rate.txt` (what the reviewers
saw) and `<author>-r1.tsv`, `<author>-r2.tsv` (one blind reviewer each: `number<TAB>rating<TAB>reason`)),
and prints: the mean rating and the 1-5 distribution per author and reviewer; inter-reviewer
agreement; the classes of the reasons given for ratings 1-3, counted per author and reviewer, with
example names; and what the reasons for ratings 4-5 praised.

A reason is cut into clauses (at commas and semicolons) and each clause is filed by the keyword map
FAILURES below (English and Chinese, as the reviewers wrote). A reason may name two faults
(红姓罕见，雪云拼凑: a bad surname and an awkward given name), so one reason can count in two
classes; the tables count reasons, and each class's count is the number of reasons that name it.
Words that say only "odd", "awkward", "stiff", "meaningless" (怪, 不通, 生硬, 别扭 ...) are filed by
what they point at: the characters the clause quotes, else the name's given name (the name less its
surname, `xiaming.data.pinyin.split_surname`); one character is an odd character, two or more an awkward
given name, three or more after the surname a glued name. A reason that names no fault ("okay",
"passable", 尚可) is filed as `no_fault`. The assignments were checked by reading every reason;
where the map is wrong, critic/failure-overrides.tsv (round, author, reviewer, number, classes, note)
sets the classes by hand.
"""

from __future__ import annotations

import argparse
import collections
import csv
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from xiaming.data.pinyin import split_surname  # noqa: E402  (after the sys.path line above)

AUTHORS = ("jinyong", "gulong")  # the authors of rounds 1-2
REVIEWERS = ("r1", "r2")
HAN = re.compile(r"[\u3400-\u9fff]+")

# The failure classes, in the order the tables print them: (key, label, keyword pattern). The
# pattern is searched in one clause of a reason, lower-cased, with the characters of the name it
# quotes left in (Chinese keywords are written so that they do not match name characters alone).
# `None`: filed only by the rules in `classify` (the generic words below) or by hand.
FAILURES: list[tuple[str, str, str | None]] = [
    ("awkward_pair", "awkward given name: characters that do not belong together", None),
    (
        "odd_char",
        "odd or unnamelike character",
        (
            r"odd character|rare char|variant char|name char|unfit|unsuitable|negative|odd in (a|the)? ?(female |given )?name"
            r"|bad name|字(作名|作法名)?(怪|生硬|不合|不妥|罕僻|少见|不像)"
            r"|作名(怪|太|不)|作法名|罕僻"
        ),
    ),
    (
        "word",
        "common word, term or place name as a given name",
        (
            r"common (word|noun)|\bis a word|= a word|a word \(|word \+|\bword$|modern word|\bword-like|reads as .*word"
            r"|reads? like a phrase|^phrase|place|geographic|province|weather word|material|(?<!address )\bterm\b|technical"
            r"|smallpox|starfish|tomorrow|常用词|词语|术语|地名|成语|描述词|是词|像词"
        ),
    ),
    (
        "title",
        "title, epithet, nickname or religious name instead of a personal name",
        (
            r"title|epithet|nickname|sobriquet|address term|servant|maid|\bnun\b|monk|taoist|daoist|religious|hermit"
            r"|lama|generation|diminutive|numeral|numbered|number name|\bmr\b|boss|generic (elder|阿|taoist|title)"
            r"|comic name|称号|称呼|称谓|绰号|别号|道号|法号|法名|尊称|泛称|封号|字辈|排行"
        ),
    ),
    (
        "glued",
        "fragment or glued names (a surname, title or number stuck on)",
        (
            r"glue|粘|fragment|片段|残缺|incomplete|\balone\b|surnames|两姓|surname.*(inside|\bin\b|at end|as given|glued)"
            r"|ends in surname|\bis a surname|(?<!not )\ba surname$|surname-like glued|surname\+surname|surname repeated|\+"
        ),
    ),
    ("gibberish", "gibberish: no reading at all", r"gibberish|garbled|乱"),
    (
        "foreign",
        "transliteration-like or foreign-sounding string",
        r"foreign|transliteration|译名|japanese|western|marco|\bmatt\b",
    ),
    (
        "surname",
        "bad, rare or missing surname",
        (
            r"not (a )?surname|非姓|odd surname|surname (odd|unusual|rare)|(rare|unusual) surname|姓(罕见|少见)"
            r"|no surname|不是姓|手非姓"
        ),
    ),
    ("redup", "odd reduplication or repetition", r"doubl|reduplicat|repetit|叠"),
    ("long", "too long", r"too long|过长|太长"),
    (
        "plain",
        "plain, bland, thin",
        r"plain|bland|\bthin\b|\bweak\b|flat|terse|blunt|generic|ordinary|\bbare\b|平淡|单名平|偏弱|弱|直白|泛|俗，|俗$",
    ),
    ("modern", "modern feel", r"modern|现代|口语"),
    ("other", "other (a famous person's name, an era name ...)", r"historical|poet's name|era-name|crude but"),
]
LABEL = {key: label for key, label, _ in FAILURES}
ORDER = [key for key, _, _ in FAILURES] + ["no_fault"]
LABEL["no_fault"] = 'no fault named ("okay", "passable", 尚可)'
PATTERN = {key: re.compile(p) for key, _, p in FAILURES if p}

# Words that say only that something is wrong, not what: filed by what they point at (see classify).
GENERIC = re.compile(
    r"odd|awkward|stiff|meaningless|nonsense|unusual|clumsy|clunky|strained|mismatch|unclear|not a name|not name-like"
    r"|not a given name|as given"
    r"|not a person|combo|\bmix\b|word order|怪|不通|生硬|别扭|不成|无意义|勉强|搭配|拼凑|不合|不妥|不像|非人名|语义|差"
)
NO_FAULT = re.compile(r"okay|\bok\b|passable|possible|plausible|acceptable|\bfine\b|usable|尚可")

# What the reasons for ratings 4-5 praised (a reason may praise two things).
PRAISE: list[tuple[str, str, str]] = [
    (
        "classical",
        "classical, elegant, literary, scholarly",
        r"classic|elegant|literary|refined|scholar|古雅|雅|古意|文人|史书|书卷",
    ),
    (
        "wuxia",
        "wuxia or jianghu flavour, the author's style",
        r"wuxia|jianghu|flavou?r|gu long|jin yong|evocative|江湖|豪侠|侠|金庸|古龙|武侠|味",
    ),
    (
        "martial",
        "martial, rough, strong (fits a fighter or villain)",
        r"rough|tough|villain|sturdy|strong|heroic|有力|粗豪|武人|豪|硬朗|霸气",
    ),
    ("female", "a natural woman's name", r"female|girl|heroine|woman|女名|女子|少女|姑娘"),
    (
        "religious",
        "a monk's, nun's or Taoist's name (with its generation character)",
        r"monk|nun|taoist|daoist|buddhist|shaolin|generation|religious|lama|法名|字辈|道人|僧|尼|道号|少林|辈",
    ),
    (
        "nickname",
        "a nickname, rank or servant's name",
        r"nickname|numeral|number|servant|maid|title|rank|排行|绰号|称呼|丫鬟|仆",
    ),
    (
        "surname",
        "a compound or family surname used well",
        r"compound surname|surname, fine|surname fine|段氏|宗室|复姓",
    ),
    ("simple", "simple, terse, plain but fine", r"simple|terse|short|plain|ordinary|简洁|简朴|简单|朴实|普通|单名"),
]
PRAISE_PATTERN = {key: re.compile(p) for key, _, p in PRAISE}
PRAISE_LABEL = {key: label for key, label, _ in PRAISE}
PRAISE_LABEL["plausible"] = 'only "plausible", "natural" (自然可信)'
PRAISE_ORDER = [key for key, _, _ in PRAISE] + ["plausible"]


def given_name(name: str) -> str:
    """The name less its surname (a compound surname when it has one)."""
    return split_surname(name)[1]


def quoted(clause: str, name: str) -> str:
    """The longest run of the name's characters that the clause quotes ('' if none)."""
    best = ""
    for run in HAN.findall(clause):
        for i in range(len(name)):
            for j in range(len(name), i, -1):
                if j - i > len(best) and name[i:j] in run:
                    best = name[i:j]
    return best


def classify(name: str, reason: str) -> list[str]:
    """The failure classes a reason names (ORDER order); ['no_fault'] when it names none and says "okay"."""
    found: set[str] = set()
    clauses = [c.strip() for c in re.split(r"[,，;；、]", reason.lower()) if c.strip()]
    generic_clauses = []
    for clause in clauses:
        hits = {key for key, pattern in PATTERN.items() if pattern.search(clause)}
        if hits & {"glued", "gibberish"}:
            hits.discard("word")  # "glued place words", "gibberish phrase": the glue is the fault
        if "title" in hits and "word" in hits and "title word" in clause:
            hits.discard("word")
        found |= hits
        if not hits and GENERIC.search(clause):
            generic_clauses.append(clause)
    for clause in generic_clauses:
        span = quoted(clause, name)
        if not span and found:
            continue  # "fragment, nonsense": the other clause already says what is wrong
        given = given_name(name)
        if "nonsense" in clause and (not span or span == name):
            found.add("gibberish")  # the whole name called nonsense (翠足玉 "nonsense")
            continue
        target = span if span and span != name else given
        if len(given) >= 3 and (not span or span == name or len(span) >= 3):
            found.add("glued")
        elif len(target) <= 1:
            found.add("odd_char")
        else:
            found.add("awkward_pair")
    if not found:
        found.add("no_fault" if NO_FAULT.search(reason.lower()) else "other")
    return [key for key in ORDER if key in found]


def praise(reason: str) -> list[str]:
    """What a reason for a 4-5 praised (PRAISE_ORDER order); ['plausible'] when only that."""
    text = reason.lower()
    found = [key for key in PRAISE_ORDER[:-1] if PRAISE_PATTERN[key].search(text)]
    return found or ["plausible"]


def load(ratings: Path, rounds: tuple[str, ...] = ("rate1", "rate2")) -> list[dict]:
    """One row per (round, author, reviewer, number): name, rating, reason, over the rating `rounds`
    (a reviewer file a round lacks, as the one-reviewer rounds lack r2, is skipped)."""
    rows = []
    for round_dir in sorted(p for p in ratings.iterdir() if p.is_dir() and p.name in rounds):
        for author in AUTHORS:
            names_file = round_dir / f"{author}-names.txt"
            if not names_file.exists():
                continue
            names = names_file.read_text(encoding="utf-8").split()
            listed = re.findall(
                r"^(\d+)\. (\S+)$", (round_dir / f"{author}-rate.txt").read_text(encoding="utf-8"), re.MULTILINE
            )
            if [n for _, n in listed] != names or [int(i) for i, _ in listed] != list(range(1, len(names) + 1)):
                raise SystemExit(f"{round_dir}/{author}-rate.txt does not list {names_file.name} in order")
            for reviewer in REVIEWERS:
                path = round_dir / f"{author}-{reviewer}.tsv"
                if not path.exists():
                    continue
                seen = set()
                for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                    parts = line.split("\t")
                    if len(parts) != 3 or not parts[0].isdigit() or parts[1] not in ("1", "2", "3", "4", "5"):
                        raise SystemExit(f"{path}:{line_no}: not number<TAB>rating 1-5<TAB>reason: {line!r}")
                    number = int(parts[0])
                    if not 1 <= number <= len(names) or number in seen:
                        raise SystemExit(f"{path}:{line_no}: number {number} out of range or repeated")
                    seen.add(number)
                    rows.append(
                        {
                            "round": round_dir.name,
                            "author": author,
                            "reviewer": reviewer,
                            "number": number,
                            "name": names[number - 1],
                            "rating": int(parts[1]),
                            "reason": parts[2].strip(),
                        }
                    )
                if len(seen) != len(names):
                    raise SystemExit(f"{path}: rates {len(seen)} of {len(names)} names")
    if not rows:
        raise SystemExit(f"no ratings under {ratings}")
    return rows


def load_overrides(path: Path) -> dict[tuple, list[str]]:
    """(round, author, reviewer, number) -> classes, from the hand-made TSV (header line first)."""
    if not path.exists():
        return {}
    out = {}
    with path.open(encoding="utf-8") as f:
        for rec in csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t"):
            classes = [c.strip() for c in rec["classes"].split(",") if c.strip()]
            bad = [c for c in classes if c not in ORDER]
            if bad or not classes:
                raise SystemExit(f"{path}: unknown class {bad} for {rec}")
            out[(rec["round"], rec["author"], rec["reviewer"], int(rec["number"]))] = [c for c in ORDER if c in classes]
    return out


def reviewer_id(row: dict) -> str:
    """A column name per blind reviewer: round number and r1/r2 (rate1 r1 -> 1a)."""
    digits = re.sub(r"\D", "", row["round"]) or row["round"]
    return f"{digits}{'ab'[REVIEWERS.index(row['reviewer'])]}"


def pearson(x: list[float], y: list[float]) -> float:
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else float("nan")


def md_table(header: list[str], body: list[list]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def ratings_table(rows: list[dict]) -> str:
    body = []
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r["author"], r["round"], r["reviewer"])].append(r["rating"])
    for author in AUTHORS:
        keys = sorted(k for k in groups if k[0] == author)
        for key in keys + [(author, "all", "both")]:
            vals = groups[key] if key in groups else [v for k in keys for v in groups[k]]
            n = len(vals)
            dist = [sum(v == s for v in vals) for s in range(1, 6)]
            body.append(
                [
                    author,
                    key[1],
                    key[2],
                    n,
                    f"{sum(vals) / n:.2f}",
                    *dist,
                    f"{100 * (dist[0] + dist[1]) / n:.0f}%",
                    f"{100 * (dist[3] + dist[4]) / n:.0f}%",
                ]
            )
    return md_table(
        ["author", "round", "reviewer", "names", "mean", "1", "2", "3", "4", "5", "rated 1-2", "rated 4-5"], body
    )


def agreement_table(rows: list[dict], classes: dict) -> str:
    by = collections.defaultdict(dict)
    for r in rows:
        by[(r["author"], r["round"], r["number"])][r["reviewer"]] = r
    body = []
    for author in AUTHORS:
        rounds = sorted({k[1] for k in by if k[0] == author})
        for rnd in rounds + ["all"]:
            pairs = [v for k, v in by.items() if k[0] == author and (rnd == "all" or k[1] == rnd) and len(v) == 2]
            if not pairs:  # a round with one reviewer has no agreement to measure
                continue
            a = [p["r1"]["rating"] for p in pairs]
            b = [p["r2"]["rating"] for p in pairs]
            n = len(a)
            within = sum(abs(x - y) <= 1 for x, y in zip(a, b)) / n
            exact = sum(x == y for x, y in zip(a, b)) / n
            low_a = [x <= 2 for x in a]
            low_b = [y <= 2 for y in b]
            both_low = sum(x and y for x, y in zip(low_a, low_b))
            either_low = sum(x or y for x, y in zip(low_a, low_b))
            both_fail = [p for p in pairs if p["r1"]["rating"] <= 3 and p["r2"]["rating"] <= 3]
            faults = [
                (set(classes[_key(p["r1"])]) - {"no_fault"}, set(classes[_key(p["r2"])]) - {"no_fault"})
                for p in both_fail
            ]
            faults = [(x, y) for x, y in faults if x and y]
            shared = sum(bool(x & y) for x, y in faults) / len(faults) if faults else float("nan")
            body.append(
                [
                    author,
                    rnd,
                    n,
                    f"{pearson(a, b):.2f}",
                    f"{100 * exact:.0f}%",
                    f"{100 * within:.0f}%",
                    f"{100 * both_low / either_low:.0f}%" if either_low else "-",
                    f"{100 * shared:.0f}% of {len(faults)}",
                ]
            )
    return md_table(
        [
            "author",
            "round",
            "names",
            "Pearson r",
            "same rating",
            "within one point",
            "rated 1-2 by both, of those by either",
            "same fault class named (both rated it 1-3)",
        ],
        body,
    )


def _key(row: dict) -> tuple:
    return (row["round"], row["author"], row["reviewer"], row["number"])


def class_table(rows: list[dict], classes: dict) -> str:
    low = [r for r in rows if r["rating"] <= 3]
    cols = []
    for author in AUTHORS:
        ids = sorted({reviewer_id(r) for r in low if r["author"] == author})
        cols += [(author, i) for i in ids] + [(author, "all")]
    header = ["class"] + [f"{'JY' if a == 'jinyong' else 'GL'} {i}" for a, i in cols] + ["rated 1-2", "rated 3", "all"]
    counts = collections.Counter()
    totals = collections.Counter()
    for r in low:
        for c in classes[_key(r)]:
            counts[(c, r["author"], reviewer_id(r))] += 1
            counts[(c, r["author"], "all")] += 1
            counts[(c, "band", "12" if r["rating"] <= 2 else "3")] += 1
            counts[(c, "all", "all")] += 1
        totals[(r["author"], reviewer_id(r))] += 1
        totals[(r["author"], "all")] += 1
        totals[("band", "12" if r["rating"] <= 2 else "3")] += 1
        totals[("all", "all")] += 1
    body = []
    for c in ORDER:
        row = [c] + [counts[(c, a, i)] for a, i in cols]
        row += [counts[(c, "band", "12")], counts[(c, "band", "3")], counts[(c, "all", "all")]]
        body.append(row)
    body.append(
        ["reasons (ratings 1-3)"]
        + [totals[(a, i)] for a, i in cols]
        + [totals[("band", "12")], totals[("band", "3")], totals[("all", "all")]]
    )
    return md_table(header, body)


def share_table(rows: list[dict], classes: dict) -> str:
    """Per class: the share of reasons for a 1-2 that name it, per author, and the mean rating of those reasons."""
    body = []
    for c in ORDER:
        row = [c]
        for author in AUTHORS:
            low2 = [r for r in rows if r["author"] == author and r["rating"] <= 2]
            low3 = [r for r in rows if r["author"] == author and r["rating"] <= 3]
            k2 = sum(c in classes[_key(r)] for r in low2)
            k3 = [r["rating"] for r in low3 if c in classes[_key(r)]]
            row += [f"{100 * k2 / len(low2):.0f}%", f"{100 * len(k3) / len(low3):.0f}%"]
        named = [r for r in rows if r["rating"] <= 3 and c in classes[_key(r)]]
        row.append(f"{sum(r['rating'] for r in named) / len(named):.2f}" if named else "-")
        distinct = {(r["round"], r["author"], r["number"]): r["name"] for r in named}
        lengths = collections.Counter(min(len(n), 4) for n in distinct.values())
        row += [len(distinct), " / ".join(str(lengths[k]) for k in (2, 3, 4))]
        body.append(row)
    return md_table(
        [
            "class",
            "JY: of reasons for 1-2",
            "JY: of reasons for 1-3",
            "GL: of reasons for 1-2",
            "GL: of reasons for 1-3",
            "mean rating of those reasons",
            "names",
            "of 2 / 3 / 4+ characters",
        ],
        body,
    )


def examples(rows: list[dict], classes: dict, per_class: int = 5) -> str:
    """Per class: names both reviewers filed there (and there only) first, lowest mean rating first."""
    by_name = collections.defaultdict(list)
    for r in rows:
        by_name[(r["round"], r["author"], r["number"])].append(r)
    lines = []
    for c in ORDER:
        scored = []
        for key, rs in by_name.items():
            named = [r for r in rs if r["rating"] <= 3 and c in classes[_key(r)]]
            if not named:
                continue
            both = len(named) == len(rs)
            mean = sum(r["rating"] for r in rs) / len(rs)
            alone = all(classes[_key(r)] == [c] for r in named)
            scored.append((not both, not alone, mean, key[1], key[0], key[2], named[0]))
        picked, seen_author = [], collections.Counter()
        for item in sorted(scored, key=lambda s: s[:3] + s[4:6]):
            if seen_author[item[3]] >= (per_class + 1) // 2 + (1 if c in ("long", "other") else 0):
                continue
            picked.append(item)
            seen_author[item[3]] += 1
            if len(picked) == per_class:
                break
        if not picked:
            lines.append(f"- **{c}**: none")
            continue
        shown = "; ".join(
            f"{r['name']} ({'JY' if r['author'] == 'jinyong' else 'GL'}, {r['rating']}: {r['reason']})"
            for *_, r in picked
        )
        lines.append(f"- **{c}**: {shown}")
    return "\n".join(lines)


def praise_table(rows: list[dict]) -> str:
    high = [r for r in rows if r["rating"] >= 4]
    cols = []
    for author in AUTHORS:
        ids = sorted({reviewer_id(r) for r in high if r["author"] == author})
        cols += [(author, i) for i in ids] + [(author, "all")]
    counts, totals = collections.Counter(), collections.Counter()
    for r in high:
        for p in praise(r["reason"]):
            counts[(p, r["author"], reviewer_id(r))] += 1
            counts[(p, r["author"], "all")] += 1
        totals[(r["author"], reviewer_id(r))] += 1
        totals[(r["author"], "all")] += 1
    body = [[p] + [counts[(p, a, i)] for a, i in cols] for p in PRAISE_ORDER]
    body.append(["reasons (ratings 4-5)"] + [totals[(a, i)] for a, i in cols])
    return md_table(["praised for"] + [f"{'JY' if a == 'jinyong' else 'GL'} {i}" for a, i in cols], body)


def features_table(rows: list[dict], classes: dict) -> str:
    """The critic's lexicon evidence per class (needs src/xiaming/evidence and its lexicon)."""
    import numpy as np

    from xiaming.evidence.features import INDEX, name_features, split_name
    from xiaming.evidence.lexicon import shipped_lexicon

    lex = shipped_lexicon()
    index = lex.index
    top_surnames = {lex.chars[i] for i in np.argsort(-np.asarray(lex.arrays["surname"]))[:100]}
    groups: dict[str, set] = collections.defaultdict(set)
    for r in rows:
        if r["rating"] <= 3:
            for c in classes[_key(r)]:
                groups[c].add((r["round"], r["author"], r["number"], r["name"]))
    by_name = collections.defaultdict(list)
    for r in rows:
        by_name[(r["round"], r["author"], r["number"], r["name"])].append(r["rating"])
    groups["(both rated 4-5)"] = {k for k, v in by_name.items() if min(v) >= 4}
    groups["(both rated 1-2)"] = {k for k, v in by_name.items() if max(v) <= 2}
    body = []
    for c in ORDER + ["(both rated 1-2)", "(both rated 4-5)"]:
        names = [k[3] for k in sorted(groups.get(c, ()))]
        two = [n for n in names if len(split_name(lex, n)[1]) == 2]
        if not names:
            continue
        x = name_features(lex, names)
        x2 = name_features(lex, two) if two else np.zeros((0, len(INDEX)))

        def share(col, m=x2):
            return f"{100 * m[:, INDEX[col]].mean():.0f}%" if len(m) else "-"

        any_pair = (
            ((x2[:, INDEX["given_attested"]] > 0) | (x2[:, INDEX["word"]] > 0) | (x2[:, INDEX["verse_seen"]] > 0))
            if len(x2)
            else []
        )
        short = [n for n in names if len(n) == 2]
        whole_word = (
            (
                lex.pair_table(
                    "word_keys",
                    np.array([index.get(n[0], -1) for n in short]),
                    np.array([index.get(n[1], -1) for n in short]),
                )
                > 0
            )
            if short
            else np.zeros(0)
        )
        surname_inside = np.mean([any(ch in top_surnames for ch in split_name(lex, n)[1]) for n in names])
        body.append(
            [
                c,
                len(names),
                len(two),
                share("given_attested"),
                f"{100 * (x2[:, INDEX['word']] > 0).mean():.0f}%" if len(x2) else "-",
                share("verse_seen"),
                f"{100 * np.mean(any_pair):.0f}%" if len(x2) else "-",
                f"{x[:, INDEX['weakest']].mean():.2f}",
                f"{100 * x[:, INDEX['rare_surname']].mean():.0f}%",
                f"{100 * (x[:, INDEX['len4']] + x[:, INDEX['len5+']]).mean():.0f}%",
                f"{int(whole_word.sum())} of {len(short)}",
                f"{100 * surname_inside:.0f}%",
            ]
        )
    return md_table(
        [
            "class",
            "names",
            "with a 2-char given name",
            "of those: given name attested",
            "a dictionary word",
            "a verse bigram",
            "any of the three",
            "weakest given char (mean log count)",
            "rare surname",
            "4+ characters",
            "2-char names that are a dictionary word whole",
            "a top-100 surname inside the given name",
        ],
        body,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ratings", type=Path, default=ROOT / "critic" / "ratings")
    ap.add_argument(
        "--rounds",
        default="rate1,rate2",
        help="rating rounds to read (default rate1,rate2: the two-reviewer rounds docs/realism-failures.md counts)",
    )
    ap.add_argument("--overrides", type=Path, default=ROOT / "critic" / "failure-overrides.tsv")
    ap.add_argument("--show", metavar="CLASS", help="list each reason (ratings 1-3) filed under CLASS")
    ap.add_argument("--dump", action="store_true", help="every rating, TSV, with its classes")
    ap.add_argument("--examples", type=int, default=5, help="example names per class")
    ap.add_argument("--features", action="store_true", help="also the critic's lexicon evidence per class")
    args = ap.parse_args(argv)

    rows = load(args.ratings, tuple(args.rounds.split(",")))
    overrides = load_overrides(args.overrides)
    read = set(args.rounds.split(","))
    unused = {k for k in set(overrides) - {_key(r) for r in rows} if k[0] in read}
    if unused:
        raise SystemExit(f"{args.overrides}: no rating for {sorted(unused)[:3]}")
    classes = {}
    for r in rows:
        auto = classify(r["name"], r["reason"])
        classes[_key(r)] = overrides.get(_key(r), auto)
        r["auto"] = auto

    if args.dump:
        w = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
        w.writerow(["round", "author", "reviewer", "number", "name", "rating", "reason", "classes", "by"])
        for r in rows:
            by = "hand" if _key(r) in overrides else "map"
            w.writerow(
                [
                    r["round"],
                    r["author"],
                    r["reviewer"],
                    r["number"],
                    r["name"],
                    r["rating"],
                    r["reason"],
                    ",".join(classes[_key(r)]) if r["rating"] <= 3 else ",".join(praise(r["reason"])),
                    by,
                ]
            )
        return 0
    if args.show:
        if args.show not in ORDER:
            raise SystemExit(f"unknown class {args.show!r}; one of {', '.join(ORDER)}")
        for r in rows:
            if r["rating"] <= 3 and args.show in classes[_key(r)]:
                print(
                    r["round"],
                    r["author"],
                    r["reviewer"],
                    r["number"],
                    r["name"],
                    r["rating"],
                    r["reason"],
                    ",".join(classes[_key(r)]),
                    sep="\t",
                )
        return 0

    n_names = len({(r["round"], r["author"], r["number"]) for r in rows})
    low = [r for r in rows if r["rating"] <= 3]
    print(
        f"# {len(rows)} ratings of {n_names} names ({args.ratings}); "
        f"{len(overrides)} of {len(low)} reasons for 1-3 classed by hand ({args.overrides.name})\n"
    )
    print("## Ratings per author and reviewer\n")
    print(ratings_table(rows), "\n")
    print("## Agreement between the two reviewers of each list\n")
    print(agreement_table(rows, classes), "\n")
    print("## Classes of the reasons for ratings 1-3 (reasons naming each; a reason can name two)\n")
    print("Columns: JY/GL 1a = round rate1, reviewer r1; 1b = rate1 r2; 2a, 2b likewise for rate2.\n")
    print(class_table(rows, classes), "\n")
    print(share_table(rows, classes), "\n")
    for key in ORDER:
        print(f"- {key}: {LABEL[key]}")
    print(
        "\n## Examples (names both reviewers filed there and only there first, lowest rated first; one reviewer's reason shown)\n"
    )
    print(examples(rows, classes, args.examples), "\n")
    print("## What the reasons for ratings 4-5 praised\n")
    print(praise_table(rows), "\n")
    for key in PRAISE_ORDER:
        print(f"- {key}: {PRAISE_LABEL[key]}")
    if args.features:
        print("\n## The critic's lexicon evidence per class (names; src/xiaming/evidence)\n")
        print(features_table(rows, classes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
