"""Fit the realism critic to the blind reviewers' ratings and ship it beside the wuxia models.

    python scripts/build_critic.py                      # fit on critic/ratings/*, write the critics
    python scripts/build_critic.py --cv                 # also print the 5-fold cross-validated fit
    python scripts/build_critic.py --cv --flavours 0,0.5,1   # and what each flavour would keep (offline)
    python scripts/build_critic.py --panels --out DIR        # a candidate fitted on the panels too, beside copies

`--panels` adds the blind panels' ratings of generated names (`read_panel_ratings`); blind panel 32
rated that critic (v10) no better than the shipped one (benchmarks/critic_panel_fit.py, docs/realism-panels.md).

Reads the rating rounds under critic/ratings/ (see critic/README.md: the names, exactly what
the reviewers saw, and their answers), centres each reviewer, averages the reviewers of each name,
labels a name bad when that average is below BAD (a 1-2 mark), fits an L2 logistic regression of
bad on `xiaming.evidence.features` (`fit_critic`) and writes it as
src/xiaming/pretrained/<model>.critic.safetensors for each model in --models. Rerunnable.

Each model's critic also carries its length ratios (`length_ratios`): the list's share of personal
names of each length over that share among the model's own proposals (`--proposals` names of
`generate --critic off`), so the sampler keeps lengths in the list's proportions. `--lengths-only`
recomputes just those in the critics already shipped (after a model or its blend changed).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from dataclasses import replace  # noqa: E402

from xiaming import corpora  # noqa: E402
from xiaming.evidence.critic import (  # noqa: E402
    MAX_RATIO,
    Critic,
    critic_path,
    fit_critic,
    load_critic,
    save_critic,
)
from xiaming.evidence.steer import LONG, is_plain_long  # noqa: E402
from xiaming.generation.namer import Namer  # noqa: E402
from xiaming.pretrained import shipped_path  # noqa: E402

RATINGS = ROOT / "critic" / "ratings"
BAD = 2.5  # a name whose centred mean rating is below this was marked 1-2: the critic learns to spot it
GOOD = 3.5  # at least this: marked 4-5, what the appeal head learns
ROUNDS = (
    "rate1",
    "rate2",
    "rate3",
    "rate5",
    "rate6",
    "rate7",
    "rate8",
    "rate9",
    "rate10",
    "rate11",
    "rate12",
    "rate13",
)  # rate4 mixed real list names in: its real names are rated for fame
# (recognised characters get 5) that lexicon features cannot see, and fitting on it lowered the
# cross-validated fit on the other rounds' names from r 0.61 to 0.53 (see critic/README.md)


def answers_of(path: Path, names: dict[int, str]) -> list[tuple[str, int]]:
    """(name, rating) of a reviewer's file: lines 'number, tab, rating 1-5, ...' for numbers in `names`."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip().isdigit() and parts[1].strip().isdigit():
            number, rating = int(parts[0]), int(parts[1])
            if number in names and 1 <= rating <= 5:
                out.append((names[number], rating))
    return out


def centred_means(
    reviewers: Iterable[tuple[str, str, list[tuple[str, int]]]],
) -> tuple[list[str], np.ndarray, list[str], list[str]]:
    """(names, mean rating, author, source) from each reviewer's answers, given as (source, author,
    [(name, rating)]): each reviewer's ratings are centred on that reviewer's own mean, the reviewers
    of a name (in one source) averaged, and the result put at 3, the scale's middle."""
    scores: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for source, author, mine in reviewers:
        if mine:
            shift = np.mean([r for _, r in mine])
            for name, rating in mine:
                scores[(name, author, source)].append(rating - shift)
    keys = sorted(scores)
    y = np.array([np.mean(scores[k]) for k in keys]) + 3.0  # a reviewer's average name reads 3
    return [k[0] for k in keys], y, [k[1] for k in keys], [k[2] for k in keys]


def read_ratings(
    folder: Path = RATINGS, rounds: tuple[str, ...] = ROUNDS
) -> tuple[list[str], np.ndarray, list[str], list[str]]:
    """(names, mean rating, author, round) over the rating `rounds` under `folder`.

    Reviewers use the scale differently (one rates most names 3, another spreads them), so each
    reviewer's answers are centred on that reviewer's mean and put at 3, the scale's middle, before
    averaging the reviewers of a name (`centred_means`): the critic learns which names a reviewer
    rates above their own average. A name rated in two rounds counts once per round.
    """

    def reviewers() -> Iterator[tuple[str, str, list[tuple[str, int]]]]:
        for names_file in sorted(folder.glob("*/*-names.txt")):
            if names_file.parent.name not in rounds:
                continue
            author = names_file.name.removesuffix("-names.txt")
            numbered = dict(enumerate(names_file.read_text(encoding="utf-8").split(), 1))
            for reviewer in sorted(names_file.parent.glob(f"{author}-r*.tsv")):
                yield names_file.parent.name, author, answers_of(reviewer, numbered)

    return centred_means(reviewers())


PANELS = ROOT / "panels" / "critic"
NOT_GENERATED = ("real", "llm")  # panel groups that are no model's output: the books' names and a chat model's


def panel_key(path: Path) -> dict[int, tuple[str, str]]:
    """A panel key's rows (AUTHOR-key.tsv: number, group, name) as {number: (group, name)}."""
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0].isdigit():
            rows[int(parts[0])] = (parts[1], parts[2])
    return rows


def read_panel_ratings(folder: Path = PANELS) -> tuple[list[str], np.ndarray, list[str], list[str]]:
    """(names, mean rating, author, panel) of the generated names of the blind panels under `folder`
    (panel*/AUTHOR-key.tsv and AUTHOR-A.tsv, AUTHOR-B.tsv): what readers said of the models' names with
    the books' own and a chat model's beside them. Each reviewer is centred on their mean over the
    generated names they rated, as `read_ratings` centres a round's reviewer; the real and chat-model
    names are left out (real ones are rated for fame; invented ones are no model's proposals)."""

    def reviewers() -> Iterator[tuple[str, str, list[tuple[str, int]]]]:
        for key in sorted(folder.glob("panel*/*-key.tsv")):
            author = key.name.removesuffix("-key.tsv")
            numbered = {k: name for k, (group, name) in panel_key(key).items() if group not in NOT_GENERATED}
            for reviewer in sorted(key.parent.glob(f"{author}-[AB].tsv")):
                yield key.parent.name, author, answers_of(reviewer, numbered)

    return centred_means(reviewers())


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve of `score` for `positive` (the rank-sum form; ties count half)."""
    order = np.argsort(score, kind="stable")
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    for value in np.unique(score):  # average the ranks of ties
        tie = score == value
        ranks[tie] = ranks[tie].mean()
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def cross_fit(
    names: list[str], bad: np.ndarray, good: np.ndarray, folds: int = 5, seed: int = 0, **settings
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out (P(passable), P(4-5)) of every name from `folds` critics, none of which saw it."""
    fold = np.random.default_rng(seed).integers(0, folds, len(names))
    passable, appeal = np.zeros(len(names)), np.zeros(len(names))
    for k in range(folds):
        train = fold != k
        critic = fit_critic([n for n, t in zip(names, train) if t], bad[train], good[train], **settings)
        held = [n for n, t in zip(names, train) if not t]
        passable[~train], appeal[~train] = critic.rate(held), critic.appeal_of(held)
    return passable, appeal


def offline_keep(
    y: np.ndarray,
    passable: np.ndarray,
    appeal: np.ndarray,
    plain: np.ndarray,
    strength: float,
    flavour: float,
    pool: int,
    repeats: int = 200,
    seed: int = 0,
) -> tuple[float, float, float]:
    """What sampling would keep, estimated on rated proposals without drawing anything. The names of
    the `plain` rounds (plain `--critic off` output: a sample of the proposals) are cut at random into
    groups of `pool`, and each group keeps one name with probability proportional to the sampler's
    importance weight exp(strength * (log P(passable) + flavour * log P(4-5))) (held-out predictions),
    as the sampler keeps one name per `pool` proposals. Returns the expected mean rating, share rated
    1-2 and share rated 4-5 of the kept names, averaged over `repeats` random cuts."""
    log_w = strength * (np.log(np.maximum(passable, 1e-6)) + flavour * np.log(np.maximum(appeal, 1e-6)))
    idx = np.flatnonzero(plain)
    rng = np.random.default_rng(seed)
    totals = np.zeros(3)
    for _ in range(repeats):
        groups = rng.permutation(idx)[: len(idx) // pool * pool].reshape(-1, pool)
        w = np.exp(log_w[groups] - log_w[groups].max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        yg = y[groups]
        totals += [(w * yg).sum(1).mean(), (w * (yg < BAD)).sum(1).mean(), (w * (yg >= GOOD)).sum(1).mean()]
    m, b, g = totals / repeats
    return float(m), float(b), float(g)


LONGEST = 6  # the length table's last entry stands for names of this many characters or more
MIN_COUNT = 5  # proposals of a length needed before its ratio is trusted


def length_ratios(
    model: str, proposals: int, critic: Critic, seed: int = 0, corpus: str | None = None
) -> tuple[tuple[float, ...], float]:
    """The strata's weights for the sampler's quotas: per name length 1..LONGEST (the last: that many
    or more), and one for the long names without a compound surname (`steer.is_plain_long`, a stratum
    of their own). `model` is a shipped model's name or a checkpoint's path; `corpus` names its
    built-in list when it is a path.

    A stratum's ratio is the share of the list's personal names in it over the share among
    `proposals` personal names the shipped model generates with the critic off (its defaults, blend
    included), the list's count plus one half, within [1/MAX_RATIO, MAX_RATIO]; 1 for a stratum the
    proposals hold fewer than MIN_COUNT names of (too few to say, e.g. one-character names). The
    plain long stratum's ratio is then scaled by how often `critic` expects its proposals to pass
    against all proposals (its mean P(passable) over theirs): the lists' long names of that kind are
    monks and foreigners, the model's mostly glued (readers marked 73-86% of them 1-2, and the critic
    gives them 0.28-0.36 against 0.80-0.86), so the quota holds as many as a reader would pass."""
    namer = Namer.load(model)
    drawn = namer.generate(proposals, seed=seed, steering=namer.steering(critic=False)).names
    listed = corpora.load(corpus or model, kinds=["name"])

    def counts(names: list[str]) -> np.ndarray:
        """Names per stratum: lengths 1..LONGEST, then the plain long names."""
        strata = [LONGEST if is_plain_long(n) else min(len(n), LONGEST) - 1 for n in names]
        return np.bincount(strata, minlength=LONGEST + 1)[: LONGEST + 1]

    have, make = counts(listed), counts(drawn)
    ratio = ((have + 0.5) / len(listed)) / np.maximum(make / len(drawn), 1e-12)  # half a name: none is not never
    ratio = np.where(make < MIN_COUNT, 1.0, np.clip(ratio, 1 / MAX_RATIO, MAX_RATIO))
    passable = critic.rate(drawn)
    plain = np.array([is_plain_long(n) for n in drawn])
    expect = float(passable[plain].mean() / passable.mean()) if plain.sum() >= MIN_COUNT else 1.0
    plain_long = float(np.clip(ratio[LONGEST] * expect, 1 / MAX_RATIO, MAX_RATIO))
    print(
        f"{model}: list {have.tolist()}, proposals {make.tolist()} (lengths 1..{LONGEST}+, then {LONG}+ without "
        f"a compound surname: ratio {ratio[LONGEST]:.3f} x expected passing {expect:.3f})"
    )
    return tuple(round(float(r), 4) for r in ratio[:LONGEST]), round(plain_long, 4)


def write_lengths(models: list[str], proposals: int) -> None:
    """Recompute the strata's weights of the critics already beside `models` and write them back."""
    for model in models:
        path = critic_path(shipped_path(model))
        critic = load_critic(path)
        lengths, plain_long = length_ratios(model, proposals, critic)
        save_critic(replace(critic, lengths=lengths, plain_long=plain_long), path)
        print(f"wrote {path}: length ratios {lengths}, long names without a compound surname {plain_long}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        default="jinyong,gulong,liangyusheng",
        help="shipped models to write a critic beside (those present; default jinyong,gulong,liangyusheng)",
    )
    parser.add_argument("--ridge", type=float, default=10.0, help="L2 penalty on standardised features (default 10)")
    parser.add_argument("--char-ridge", type=float, default=1.0, help="L2 penalty on character weights (default 1)")
    parser.add_argument(
        "--min-count", type=int, default=3, help="names a character must be in to get a weight (default 3)"
    )
    parser.add_argument("--strength", type=float, default=4.0, help="default sampling strength stored (default 4)")
    parser.add_argument("--flavour", type=float, default=1.0, help="weight of the appeal head stored (default 1)")
    parser.add_argument("--pool", type=int, default=4, help="candidates drawn per name kept when sampling (default 4)")
    parser.add_argument("--cv", action="store_true", help="print the 5-fold cross-validated AUC of both heads")
    parser.add_argument("--flavours", default="", help="with --cv: flavours to compare offline on the plain rounds")
    parser.add_argument("--plain", default="rate6,rate7", help="rounds of plain --critic off output (for --flavours)")
    parser.add_argument(
        "--rounds", default=",".join(ROUNDS), help=f"rating rounds to fit on (default {','.join(ROUNDS)})"
    )
    parser.add_argument(
        "--panels",
        action="store_true",
        help="also fit on the blind panels' ratings of generated names (panels/critic; read_panel_ratings)",
    )
    parser.add_argument(
        "--out", default=None, help="folder to write the critics to (default: beside the shipped models)"
    )
    parser.add_argument(
        "--proposals", type=int, default=4000, help="names generated per model for its length ratios (default 4000)"
    )
    parser.add_argument(
        "--lengths-only",
        action="store_true",
        help="only recompute the length ratios of the critics already shipped (nothing is refitted)",
    )
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write the critics beside the models (default on; --no-write only measures)",
    )
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if shipped_path(m.strip()).is_file()]
    if args.lengths_only:
        write_lengths(models, args.proposals)
        return 0

    names, y, authors, rounds = read_ratings(rounds=tuple(args.rounds.split(",")))
    if args.panels:
        more = read_panel_ratings()
        names, y, authors, rounds = names + more[0], np.concatenate([y, more[1]]), authors + more[2], rounds + more[3]
    print(
        f"{len(names)} rated names ({', '.join(f'{a} {authors.count(a)}' for a in sorted(set(authors)))}); "
        f"mean rating {y.mean():.2f}"
    )
    bad, good = y < BAD, y >= GOOD
    print(f"bad (centred mean rating below {BAD}): {bad.mean():.1%}; good (at least {GOOD}): {good.mean():.1%}")
    settings = dict(ridge=args.ridge, char_ridge=args.char_ridge, min_count=args.min_count)
    if args.cv:
        passable, appeal = cross_fit(names, bad, good, **settings)
        print(
            f"5-fold cross-validated AUC: P(passable) passable against bad {auc(passable, ~bad):.3f}; "
            f"P(4-5) good against the rest {auc(appeal, good):.3f}"
        )
        plain = np.isin(np.array(rounds), args.plain.split(","))
        if args.flavours and plain.any():
            print(f"\nOffline, on the {plain.sum()} names of the plain rounds ({args.plain}), held-out predictions:")
            print("| pool | strength | flavour | mean rating | rated 1-2 | rated 4-5 |")
            print("| ---: | ---: | ---: | ---: | ---: | ---: |")
            for pool in sorted({args.pool, 2 * args.pool}):
                for strength in (0.0, args.strength):
                    for flavour in [0.0] if strength == 0 else [float(f) for f in args.flavours.split(",")]:
                        m, b, g = offline_keep(y, passable, appeal, plain, strength, flavour, pool)
                        print(f"| {pool} | {strength:g} | {flavour:g} | {m:.2f} | {b:.1%} | {g:.1%} |")
    if not args.write:
        return 0
    about = (
        f"two logistic regressions ('rated 1-2', 'rated 4-5') of {len(names)} names' blind ratings "
        f"(critic/ratings{' and the blind panels' if args.panels else ''}) on lexicon features and given-name "
        f"characters; strength {args.strength:g}, "
        f"flavour {args.flavour:g}, pool {args.pool}"
    )
    critic = fit_critic(
        names, bad, good, strength=args.strength, flavour=args.flavour, pool=args.pool, about=about, **settings
    )
    for model in models:
        path = critic_path(shipped_path(model))
        lengths, plain_long = length_ratios(model, args.proposals, critic)
        if args.out:  # a candidate: the critic beside a copy of the shipped model, to try before shipping
            Path(args.out).mkdir(parents=True, exist_ok=True)
            shutil.copy(shipped_path(model), Path(args.out) / shipped_path(model).name)
            path = critic_path(Path(args.out) / shipped_path(model).name)
        save_critic(replace(critic, lengths=lengths, plain_long=plain_long), path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
