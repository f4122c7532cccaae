"""The guessing game of the tutorial xiaming grew from, in the terminal: `xiaming quiz`.

Two modes:

- `author`: each round shows a few names invented by one of the style models (by default Jin
  Yong's, Gu Long's and Liang Yusheng's; `models` any two or more); the player says whose style
  they are in. After each answer the game shows what `xiaming who` thinks of the same names.
- `real`: each round shows two names in one style, a personal name from the built-in list and
  one invented by the model (new under the strict novelty rule, and not in the list as it is
  now); the player says which is real.

A seed fixes every round (`make_rounds`), so a test can build the rounds itself and play the game
through a pipe with the right answers. Answers are read line by line from any text stream; an
answer that is not one of the choices is asked again, up to `TRIES` times, then counted wrong;
the end of input stops the game at once with the score so far.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Sequence, TextIO

from ..errors import NO_VALUE, ConfigError
from ..limits import check_seed
from .attribution import DEFAULT_STYLES

MODES = ("author", "real")
TRIES = 3  # answers asked for per round before an unusable one counts as wrong
LABELS = {
    "jinyong": "Jin Yong (金庸)",
    "gulong": "Gu Long (古龙)",
    "liangyusheng": "Liang Yusheng (梁羽生)",
    "poets": "Tang-Song poets (唐宋诗人)",
}


@dataclass(frozen=True)
class Round:
    """One question: the names shown, the choices, and the index of the right one."""

    names: tuple[str, ...]
    choices: tuple[str, ...]  # what the player picks among: styles (author) or the names themselves (real)
    answer: int  # index into `choices`
    style: str  # the style the names are in


@dataclass
class Score:
    """How the game went."""

    right: int = 0
    answered: int = 0  # rounds answered (an unusable answer counts as answered wrong)
    rounds: int = 0  # rounds planned
    ended_early: bool = False  # the input ended before the last round


def load_namers(models: Sequence[str]) -> dict:
    """A `Namer` per model (shipped name or checkpoint path); a missing one is an error naming --models."""
    from ..errors import CheckpointError
    from ..generation.namer import Namer

    out = {}
    for m in models:
        try:
            out[m] = Namer.load(m)
        except CheckpointError as exc:
            raise CheckpointError(f"--models: {exc}") from None
    return out


def make_rounds(
    mode: str,
    rounds: int,
    seed: int | None = None,
    models: Sequence[str] = DEFAULT_STYLES,
    size: int = 3,
    namers: dict | None = None,
) -> list[Round]:
    """The rounds of a game; the same arguments always give the same rounds (`seed` None: new ones)."""
    if mode not in MODES:
        raise ConfigError("mode", mode, f"choose one of {', '.join(MODES)}")
    if rounds < 1:
        raise ConfigError("rounds", rounds, "must be at least 1")
    check_seed(seed)
    if size < 1:
        raise ConfigError("size", size, "must be at least 1")
    models = list(models)
    if len(models) < (2 if mode == "author" else 1):
        raise ConfigError("models", NO_VALUE, "the author game needs at least two models")
    rng = random.Random(seed)
    namers = {**load_namers([m for m in models if m not in (namers or {})]), **(namers or {})}
    styles = [rng.randrange(len(models)) for _ in range(rounds)]
    per_round = size if mode == "author" else 1
    # The game's real names are personal names, like the invented ones (generation's default kind).
    real_lists = {k: real_names(namers[models[k]], kinds=["name"]) for k in set(styles)}
    invented: dict[int, list[str]] = {}
    for k in sorted(set(styles)):
        need = styles.count(k) * per_round
        result = namers[models[k]].generate(need + 10, seed=rng.randrange(2**31))
        listed = set(real_names(namers[models[k]]))  # the list may have grown since the model was trained
        invented[k] = [n for n in result.names if n not in listed][:need]
        if len(invented[k]) < need:
            raise ConfigError(
                "rounds", rounds, f"model {models[k]} gave only {len(invented[k])} new names; fewer rounds"
            )
    out = []
    for k in styles:
        names = tuple(invented[k][:per_round])
        invented[k] = invented[k][per_round:]
        if mode == "author":
            out.append(Round(names, tuple(models), k, models[k]))
            continue
        if not real_lists[k]:
            raise ConfigError("models", models[k], "this model has no training list to take real names from")
        real = rng.choice(real_lists[k])
        pair = [real, names[0]]
        rng.shuffle(pair)
        out.append(Round(tuple(pair), tuple(pair), pair.index(real), models[k]))
    return out


def real_names(namer, kinds: Sequence[str] | None = None) -> list[str]:
    """The real names of a model's style: its built-in corpus as it is now for a model of one (of
    `kinds` only, when given), else the training list inside the checkpoint."""
    from .. import corpora

    corpus = namer.train.builtin_corpus
    return corpora.load(corpus, kinds=kinds) if corpora.is_builtin(corpus) else list(namer.names)


def parse_answer(text: str, choices: Sequence[str]) -> int | None:
    """The choice an answer means: its number (1-based), the choice itself, a unique start of it, or a
    Chinese label (金庸, 古龙, 梁羽生); None when it means none or several."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        i = int(text) - 1
        return i if 0 <= i < len(choices) else None
    key = "".join(text.lower().split())
    exact = [i for i, c in enumerate(choices) if key in _aliases(c)]
    if len(exact) == 1:
        return exact[0]
    starts = [i for i, c in enumerate(choices) if c.lower().startswith(key)]
    return starts[0] if len(starts) == 1 else None


def _aliases(choice: str) -> set[str]:
    """Ways to write a choice, lower case without spaces: jinyong, 金庸, jinyong(金庸)."""
    label = LABELS.get(choice, "")
    words = {choice, label}
    if "(" in label:
        words |= {label.split("(")[0], label.split("(")[1].rstrip(")")}
    return {"".join(w.lower().split()) for w in words if w}


def _interactive(stream: TextIO) -> bool:
    """Whether answers come from a terminal (where the player's typing already shows)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _label(choice: str) -> str:
    return LABELS.get(choice, choice)


def play(
    rounds: Sequence[Round], mode: str, read: TextIO, write: TextIO, comment: Callable[[Round], str] | None = None
) -> Score:
    """Ask every round on `write`, read answers from `read`, and report the score; stops cleanly at end of input.

    `comment(round)` may add a line after each answer (the game uses `xiaming who`'s view).
    """
    score = Score(rounds=len(rounds))
    for n, rnd in enumerate(rounds, start=1):
        if mode == "author":
            print(f"\nround {n}/{len(rounds)}: whose style are these names?  {'  '.join(rnd.names)}", file=write)
        else:
            print(f"\nround {n}/{len(rounds)}: which of these {_label(rnd.style)} names is real?", file=write)
        options = "  ".join(f"{i}) {_label(c) if mode == 'author' else c}" for i, c in enumerate(rnd.choices, start=1))
        print(f"  {options}", file=write)
        picked = None
        for attempt in range(1, TRIES + 1):
            print("  your answer: ", end="", file=write, flush=True)
            line = read.readline()
            if not line:
                score.ended_early = True
                print(f"\n(end of input) score so far: {score.right}/{score.answered}", file=write)
                return score
            if not _interactive(read):
                print(line.rstrip("\n"), file=write)  # echo piped answers, so the transcript reads like a game
            picked = parse_answer(line, rnd.choices)
            if picked is not None:
                break
            left = TRIES - attempt
            hint = f"answer with a number from 1 to {len(rnd.choices)}" + (" or a name" if mode == "author" else "")
            print(
                f"  {line.strip()!r} is not one of the choices; {hint}"
                + (f" ({left} {'try' if left == 1 else 'tries'} left)" if left else "; counted wrong"),
                file=write,
            )
        score.answered += 1
        right_choice = rnd.choices[rnd.answer]
        if picked == rnd.answer:
            score.right += 1
            verdict = "right"
        else:
            verdict = "wrong"
        shown = _label(right_choice) if mode == "author" else f"{right_choice} is the real one"
        invented = "" if mode == "author" else f" ({rnd.names[1 - rnd.answer]} was invented)"
        print(f"  {verdict}: {shown}{invented}", file=write)
        if comment is not None:
            line = comment(rnd)
            if line:
                print(f"  {line}", file=write)
    print(f"\nscore: {score.right}/{score.rounds}", file=write)
    return score
