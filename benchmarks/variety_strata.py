"""Benchmark: does the critic narrow the names by surname and by character rarity, and what does undoing that cost?

    python benchmarks/variety_strata.py jinyong                    # the table: variety and the critic's view
    python benchmarks/variety_strata.py jinyong --write neutral -n 60 --seed 5 > FILE   # a panel group

The critic keeps one name of four proposals in proportion to (P(passable) x P(4-5))^4. Two of the
things it rewards are typicality rather than how a name reads: a common surname (its `surname`
feature is how many historical names start with it, so 王 rose from 3.0% of Jin Yong's critic-off
names to 4.9%; his list has 2.1%) and common given-name characters (names whose rarest given-name
character appears in fewer than 100 historical given names fell from 37% of the proposals to 16%;
the list has 41%). Both narrow the characters (Jin Yong's character entropy on 114 names: 7.47
with the critic, 7.75 without; real 7.79) and make generated names easier to tell from real ones.

The variants, each the shipped steering with one change:

- `neutral`: the critic judges a name whose one-character surname is a real one (at least 50
  historical names start with it) as if its surname were 李, so the surnames follow the model's
  proposals (the list's surnames) and the critic still marks a first character that is no surname;
- `rarity`: each name's stratum is its length and whether its rarest given-name character is rare
  (below 100 historical given names), so the sampler keeps the proposals' share of rare-character
  names as it keeps their lengths, and the critic chooses within each stratum;
- `variety`: both.

For each variant: character entropy of 114 names (mean over seeds 7-10, docs/realism-panels.md's measure), of
1,000 names, the critic's mean P(passable) and P(4-5) of 1,000 names (judged with their real
surnames), the share of rare-character names, the share of the ten commonest surnames and, with
`--general ../shared/data/ancient_names.txt`, detectability (the classifier of
`benchmarks/realism.py` telling the 1,000 names from the model's held-out personal names, mean of
classifier seeds 0-9; 50% is chance).

Blind, neither correction read better (panels 19 and 20, `python benchmarks/critic_panels.py
panel19 panel20`; docs/realism-panels.md has the tables): the rarity strata lost 0.02-0.14 in all six reviewer
rows, and the surname-neutral critic, +0.15 for Jin Yong in panel 19, lost 0.13-0.15 to the
shipped names on 80 names a group in panel 20. Neither is shipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import Counter
from typing import Sequence

import numpy as np

from xiaming.evidence.features import split_name
from xiaming.evidence.lexicon import shipped_lexicon
from xiaming.evidence.steer import Steering

RARE = 100.0  # a given-name character is rare below this many historical given names
REAL_SURNAME = 50.0  # a first character is a real surname from this many historical names on
NEUTRAL = "李"
VARIANTS = ("shipped", "off", "neutral", "rarity", "variety")


def given_counts(lexicon) -> np.ndarray:
    """How many historical given names hold each character of the lexicon (first, second or single)."""
    return sum(np.expm1(lexicon.arrays[t].astype(np.float64)) for t in ("given1", "given2", "single"))


class Measures:
    """The lexicon look-ups the variants need: rarity of a name's given name, and its neutral form."""

    def __init__(self):
        self.lexicon = shipped_lexicon()
        self.given = given_counts(self.lexicon)
        self.surname = np.expm1(self.lexicon.arrays["surname"].astype(np.float64))

    def _count(self, table: np.ndarray, char: str) -> float:
        i = self.lexicon.index.get(char, -1)
        return 0.0 if i < 0 else float(table[i])

    def is_rare(self, name: str) -> bool:
        """Whether the rarest character of `name`'s given name is in fewer than RARE historical given names."""
        given = split_name(self.lexicon, name)[1]
        return bool(given) and min(self._count(self.given, c) for c in given) < RARE

    def neutral(self, name: str) -> str:
        """`name` with a real one-character surname replaced by NEUTRAL (else as it is)."""
        surname, given = split_name(self.lexicon, name)
        real = len(surname) == 1 and self._count(self.surname, surname) >= REAL_SURNAME
        return NEUTRAL + given if real else name


class NeutralSurname:
    """Evidence that judges each name as if its real one-character surname were NEUTRAL."""

    def __init__(self, evidence, measures: Measures):
        self.evidence, self.measures = evidence, measures

    def log_weights(self, names: Sequence[str]) -> np.ndarray:
        return self.evidence.log_weights([self.measures.neutral(n) for n in names])


@dataclasses.dataclass(frozen=True)
class RarityStrata(Steering):
    """Strata by length and by whether the given name holds a rare character (label: length + 100)."""

    measures: Measures | None = None

    def stratum(self, name: str) -> int:
        return Steering.stratum(self, name) + 100 * int(self.measures.is_rare(name))

    def length_weight(self, length: int) -> float:
        return Steering.length_weight(self, int(length) % 100)


def steering_for(namer, variant: str, measures: Measures) -> Steering:
    """The namer's shipped steering with `variant`'s change (see the module docstring)."""
    shipped = namer.steering()
    if variant == "shipped":
        return shipped
    if variant == "off":
        return Steering()
    steering = shipped
    if variant in ("neutral", "variety"):
        evidence = tuple(
            (label, NeutralSurname(e, measures) if label == "critic" else e, s) for label, e, s in shipped.evidence
        )
        steering = dataclasses.replace(steering, evidence=evidence)
    if variant in ("rarity", "variety"):
        fields = {f.name: getattr(steering, f.name) for f in dataclasses.fields(Steering)}
        steering = RarityStrata(**fields, measures=measures)
    return steering


def detect(namer, corpus: str, names: list[str], general: Counter | None, seeds: int = 10) -> float | None:
    """Mean detectability of `names` against the model's held-out personal names (None without `general`)."""
    if general is None:
        return None
    from xiaming import corpora
    from xiaming.generation.realism import detectability

    personal = set(corpora.load(corpus, kinds=["name"]))
    real = [n for n in (namer.train.get("panel_holdout") or {}).get("names") or [] if n in personal]
    runs = [detectability(names, real, reference=namer.names, seed=s, general=general).accuracy for s in range(seeds)]
    return float(np.mean(runs))


def measure(namer, corpus: str, variant: str, measures: Measures, general: Counter | None = None) -> dict:
    """The module docstring's figures for one variant."""
    from xiaming.generation.realism import char_entropy

    steering = steering_for(namer, variant, measures)
    small = [char_entropy(namer.generate(114, seed=s, steering=steering).names) for s in range(7, 11)]
    big = namer.generate(1000, seed=1, steering=steering).names
    surnames = Counter(n[0] for n in big)
    return {
        "variant": variant,
        "entropy114": float(np.mean(small)),
        "entropy1000": char_entropy(big),
        "passable": float(np.mean(namer.rate(big))),
        "appeal": float(np.mean(namer.critic.appeal_of(big))),
        "rare": sum(map(measures.is_rare, big)) / len(big),
        "top10_surnames": sum(k for _, k in surnames.most_common(10)) / len(big),
        "detect": detect(namer, corpus, big, general),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="shipped model (jinyong, gulong, liangyusheng)")
    p.add_argument("--write", choices=VARIANTS, help="print N names of this variant, one per line, and stop")
    p.add_argument("-n", type=int, default=40)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--general", help="a large list of real names, one per line (../shared/data/ancient_names.txt)")
    args = p.parse_args(argv)
    from xiaming import corpora
    from xiaming.generation.namer import Namer

    namer = Namer.load(args.model)
    measures = Measures()
    if args.write:
        names = namer.generate(args.n, seed=args.seed, steering=steering_for(namer, args.write, measures)).names
        sys.stdout.write("".join(n + "\n" for n in names))
        return 0
    general = None
    if args.general:
        from xiaming.data.corpus import read_names
        from xiaming.generation.realism import char_counts

        general = char_counts(read_names(args.general))
    listed = corpora.load(args.model, kinds=["name"])
    top = sum(k for _, k in Counter(n[0] for n in listed).most_common(10)) / len(listed)
    rare = sum(map(measures.is_rare, listed)) / len(listed)
    print(f"{args.model}: the list's personal names: rare-character names {rare:.1%}, ten commonest surnames {top:.1%}")
    print(
        "| variant | entropy, 114 names (seeds 7-10) | entropy, 1,000 | P(passable) | P(4-5) | rare-character names | ten commonest surnames | detectability |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for variant in ("off", "shipped", "neutral", "rarity", "variety"):
        r = measure(namer, args.model, variant, measures, general)
        shown = "-" if r["detect"] is None else f"{r['detect']:.1%}"
        print(
            f"| {variant} | {r['entropy114']:.2f} | {r['entropy1000']:.2f} | {r['passable']:.3f} | "
            f"{r['appeal']:.3f} | {r['rare']:.1%} | {r['top10_surnames']:.1%} | {shown} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
