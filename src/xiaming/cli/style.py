"""Jin Yong, Gu Long or Liang Yusheng: `xiaming who` and the guessing game, `xiaming quiz`."""

from __future__ import annotations

import json
import sys

from ..errors import NO_VALUE, ConfigError
from ..style.attribution import DEFAULT_STYLES
from .args import load_namer, positive_int, seed_int


def style_namer(style: str, model: str | None, device: str):
    """The Namer of `generate --style`: the models' weighted per-step mixture (see `xiaming.style.mix`)."""
    from ..style.attribution import parse_weights
    from ..style.mix import mixed_namer

    if model is not None:
        raise ConfigError(
            "style", NO_VALUE, "give {style} or MODEL, not both ({style} names its models)", refs=("style",)
        )
    weights = parse_weights(style)
    return mixed_namer(weights, {m: load_namer(m, device) for m in weights})


def _models_list(text: str) -> list[str]:
    """`jinyong,gulong` -> ["jinyong", "gulong"] (shipped names or checkpoint paths)."""
    models = [m.strip() for m in text.split(",") if m.strip()]
    if len(models) < 2:
        raise ConfigError("models", text, "give at least two models, separated by commas")
    return models


def add_who(sub) -> None:
    p = sub.add_parser(
        "who",
        help="whose style is a name: the probability of each style model",
        description="For each name, the probability that it is in the style of each model (by "
        "default Jin Yong's, Gu Long's and Liang Yusheng's; any two or more), and "
        "the characters that pull it towards each style (in nats of the calibrated "
        "score). The models' log-probabilities "
        "and their lists' character counts are weighed by a calibration fitted on names "
        "the models never saw (scripts/build_style.py).",
    )
    p.add_argument("names", nargs="+", metavar="NAME", help="names to attribute")
    p.add_argument(
        "--models",
        default=",".join(DEFAULT_STYLES),
        help="comma-separated styles to choose among, two or more: shipped models or checkpoint paths "
        f"(default {','.join(DEFAULT_STYLES)})",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_cmd_who)


def _cmd_who(args) -> int:
    from ..data.pinyin import name_pinyin
    from ..data.vocab import END_TEXT
    from ..style.attribution import StyleJudge

    judge = StyleJudge.load(_models_list(args.models))
    found = judge.who(args.names)
    if args.json:
        print(
            json.dumps(
                {
                    "styles": judge.styles,
                    "calibration": {
                        "neural": judge.calibration.neural,
                        "ngram": judge.calibration.ngram,
                        "bias": judge.calibration.bias,
                    },
                    "names": [
                        {
                            "name": a.name,
                            "pinyin": name_pinyin(a.name),
                            "best": a.best,
                            "probs": {s: round(p, 4) for s, p in a.probs.items()},
                            "in_lists": judge.listed(a.name),
                            "evidence": [
                                {"char": c or END_TEXT, "pull": {s: round(v, 3) for s, v in pull.items()}}
                                for c, pull in a.evidence
                            ],
                        }
                        for a in found
                    ],
                },
                ensure_ascii=False,
            )
        )
        return 0
    for a in found:
        probs = "  ".join(f"{s} {p:.0%}" for s, p in sorted(a.probs.items(), key=lambda t: -t[1]))
        print(f"{a.name}  {probs}")
        pulls = [
            f"towards {s}: " + " ".join(f"{c} +{v:.1f}" for c, v in chars) for s, chars in a.pulls().items() if chars
        ]
        if pulls:
            print("    " + "   ".join(pulls))
        listed = judge.listed(a.name)
        if listed:
            print(f"    a character of the {' and '.join(listed)} list (the guess above judges the writing only)")
    return 0


def add_quiz(sub) -> None:
    from ..style.quiz import MODES

    p = sub.add_parser(
        "quiz",
        help="the guessing game: whose style, or which name is real",
        description="Rounds of names to judge, answered on standard input (so it can be played "
        "through a pipe). Mode author: a few names invented by one model; say whose "
        "style (a number, the model's name, or 金庸/古龙/梁羽生). Mode real: two names, one from "
        "the built-in list and one invented; say which is real (1 or 2). An answer that "
        "is not a choice is asked again (3 tries, then counted wrong); end of input "
        "stops the game with the score so far.",
    )
    p.add_argument("--mode", choices=MODES, default="author", help="author (default) or real")
    p.add_argument("--rounds", type=positive_int, default=10, help="how many rounds (default 10)")
    p.add_argument(
        "--seed", type=seed_int, default=None, help="seed: the same seed gives the same game (default: random)"
    )
    p.add_argument("--size", type=positive_int, default=3, help="names shown per round in mode author (default 3)")
    p.add_argument(
        "--models",
        default=",".join(DEFAULT_STYLES),
        help="comma-separated styles to play with: shipped models or checkpoint paths "
        f"(default {','.join(DEFAULT_STYLES)}; any two of them for a game of two)",
    )
    p.set_defaults(run=_cmd_quiz)


def _cmd_quiz(args) -> int:
    from ..style.attribution import StyleJudge, style_name
    from ..style.quiz import load_namers, make_rounds, play

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.mode == "author":
        models = _models_list(args.models)
    namers = load_namers(models)
    rounds = make_rounds(args.mode, args.rounds, args.seed, models, args.size, namers)
    comment = _who_comment(StyleJudge({style_name(m): n for m, n in namers.items()})) if args.mode == "author" else None
    play(rounds, args.mode, sys.stdin, sys.stdout, comment)
    return 0


def _who_comment(judge):
    """What `xiaming who` says of a round's names, shown after each answer of the author game."""

    def comment(rnd) -> str:
        found = judge.who(list(rnd.names))
        mean = {s: sum(a.probs[s] for a in found) / len(found) for s in judge.styles}
        return "xiaming who: " + "  ".join(f"{s} {p:.0%}" for s, p in sorted(mean.items(), key=lambda t: -t[1]))

    return comment
