"""Benchmark: does fitting the critic on the blind panels' ratings too predict the panels' readers better?

    python benchmarks/critic_panel_fit.py

The critic is fitted on the rating rounds (critic/ratings), where a reader sees one generated name
after another. The panels (panels/critic) show generated names beside the books' names and a chat
model's, which is the judgement the product is held to. Whole panels are dealt into five groups;
each group's generated names are predicted by a critic fitted on the rounds alone (as shipped) and
by one fitted on the rounds plus the other four groups' panels (`build_critic.py --panels`), and the
table gives the AUC of each head against those panels' centred ratings (failure: rated below 2.5;
appeal: at least 3.5), overall and per author. Then, as `build_critic.py --cv --flavours` does for
the rounds, the mean rating, share rated 1-2 and share rated 4-5 that sampling (strength 4, flavour
1, pool 4 and 8) would keep from the plain `--critic off` groups of panels 1-6, by raw rating.
Panel 32 put the critic fitted on everything beside the shipped one, blind (docs/realism-panels.md has it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from build_critic import (  # noqa: E402
    BAD,
    GOOD,
    PANELS,
    answers_of,
    auc,
    offline_keep,
    panel_key,
    read_panel_ratings,
    read_ratings,
)

from xiaming.evidence.critic import fit_critic  # noqa: E402

SETTINGS = dict(ridge=10.0, char_ridge=1.0, min_count=3)  # build_critic.py's defaults
GROUPS = 5


def raw_means(keys: list[tuple[str, str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """(each key's mean raw rating over its readers, whether it was in a `critic-off` group), keys
    being (panel, author, name) as `read_panel_ratings` gives them."""
    ratings: dict[tuple[str, str, str], list[int]] = {}
    plain: set[tuple[str, str, str]] = set()
    for key in sorted(PANELS.glob("panel*/*-key.tsv")):
        author = key.name.removesuffix("-key.tsv")
        rows = panel_key(key)
        numbered = {k: name for k, (_, name) in rows.items()}
        plain |= {(key.parent.name, author, name) for group, name in rows.values() if group == "critic-off"}
        for reviewer in sorted(key.parent.glob(f"{author}-[AB].tsv")):
            for name, rating in answers_of(reviewer, numbered):
                ratings.setdefault((key.parent.name, author, name), []).append(rating)
    return np.array([np.mean(ratings[k]) for k in keys]), np.array([k in plain for k in keys])


def main() -> int:
    names, y, _, _ = read_ratings()
    pnames, py, pauthors, ppanels = read_panel_ratings()
    keys = list(zip(ppanels, pauthors, pnames))
    raw, plain = raw_means(keys)
    panels = sorted(set(ppanels))
    group = dict(zip(np.random.default_rng(0).permutation(panels), np.arange(len(panels)) % GROUPS))
    fold = np.array([group[p] for p in ppanels])
    bad, good = py < BAD, py >= GOOD
    authors = np.array(pauthors)
    print(f"{len(names)} round ratings; {len(pnames)} generated names of {len(panels)} panels")
    print("| fitted on | AUC failure | AUC appeal | Jin Yong | Gu Long | Liang Yusheng | kept, pool 4 | kept, pool 8 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, with_panels in (("rounds (shipped)", False), ("rounds + other panels", True)):
        passable, appeal = np.zeros(len(pnames)), np.zeros(len(pnames))
        for k in range(GROUPS):
            train = fold != k
            fit_names = names + ([n for n, t in zip(pnames, train) if t] if with_panels else [])
            fit_bad = np.concatenate([y < BAD] + ([bad[train]] if with_panels else []))
            fit_good = np.concatenate([y >= GOOD] + ([good[train]] if with_panels else []))
            critic = fit_critic(fit_names, fit_bad, fit_good, **SETTINGS)
            held = [n for n, t in zip(pnames, train) if not t]
            passable[~train], appeal[~train] = critic.rate(held), critic.appeal_of(held)
        per_author = [
            f"{auc(passable[authors == a], ~bad[authors == a]):.3f} / {auc(appeal[authors == a], good[authors == a]):.3f}"
            for a in ("jinyong", "gulong", "liangyusheng")
        ]
        kept = [offline_keep(raw, passable, appeal, plain, 4.0, 1.0, pool) for pool in (4, 8)]
        print(
            f"| {label} | {auc(passable, ~bad):.3f} | {auc(appeal, good):.3f} | "
            + " | ".join(per_author)
            + " | "
            + " | ".join(f"{m:.2f} ({b:.0%} / {g:.0%})" for m, b, g in kept)
            + " |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
