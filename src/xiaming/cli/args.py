"""What every command shares: the parser with the exit-code rule, flag types, --device, the sampling
flags, loading the generation object, and `FLAGS`: the library's field names as the CLI writes them.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ..errors import ConfigError
from ..limits import check_seed
from ..pretrained import SHIPPED


class BadFlagValue(ConfigError):
    """A flag's value parsed but is out of range: bad input (exit 1), not a malformed command line."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


class OutOfRange(Exception):
    """Raised by the type helpers for a value that parses but is not allowed; `Parser` names the flag.

    Not a ValueError on purpose: argparse turns those into usage errors (exit 2)."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line instead of usage plus message.

    The exit-code rule: a command line that cannot be parsed (unknown flag, missing argument,
    `-n abc`) exits 2; a value that parses but is out of range (`-n 0`, `--size huge`) is bad
    input, raised as `BadFlagValue` naming the flag as the user typed it, and exits 1 like every
    other bad value the library finds.
    """

    _argv: list[str] = []

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")

    def _typed_flag(self, action: argparse.Action, value: str) -> str:
        """The spelling of `action`'s flag that the user typed before `value` (e.g. -n or --samples)."""
        for i, token in enumerate(self._argv):
            name, eq, attached = token.partition("=")
            for option in action.option_strings:
                if name.startswith("-") and len(name) > 1 and option.startswith(name):  # argparse accepts prefixes
                    if (eq and attached == value) or (not eq and self._argv[i + 1 : i + 2] == [value]):
                        return name
                if not option.startswith("--") and token == option + value:  # -n0
                    return option
        return action.option_strings[0] if action.option_strings else (action.metavar or action.dest.upper())

    def _get_value(self, action, arg_string):  # type: ignore[override]
        try:
            return super()._get_value(action, arg_string)
        except OutOfRange as exc:
            raise BadFlagValue(self.prog, f"{self._typed_flag(action, arg_string)} {arg_string}: {exc}") from None

    def _check_value(self, action, value):  # type: ignore[override]
        if action.option_strings and action.choices is not None and value not in action.choices:
            choices = ", ".join(map(str, action.choices))
            raise BadFlagValue(self.prog, f"{self._typed_flag(action, str(value))} {value!r}: choose one of {choices}")
        super()._check_value(action, value)


MODEL_HELP = "checkpoint path or shipped model: " + ", ".join(SHIPPED)


def positive_int(text: str) -> int:
    """A whole number of at least 1 (an unparseable value exits 2, a value below 1 exits 1)."""
    value = integer(text)
    if value < 1:
        raise OutOfRange("must be at least 1")
    return value


def non_negative_int(text: str) -> int:
    """A whole number of at least 0."""
    value = integer(text)
    if value < 0:
        raise OutOfRange("must be 0 or more")
    return value


def seed_int(text: str) -> int:
    """A seed, by the library's one rule (`limits.check_seed`: 0 to MAX_SEED, what numpy and torch both
    take), checked while the command line is read, before any model is loaded."""
    value = integer(text)
    try:
        return check_seed(value)
    except ConfigError as exc:
        raise OutOfRange(exc.reason) from None


def integer(text: str) -> int:
    """Any whole number; anything else is a malformed command line (exit 2)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def number(text: str) -> float:
    """Any number; anything else is a malformed command line (exit 2)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


DEVICE_HELP = {  # what --device means to a command that runs the numpy engine, and to one that runs torch
    "numpy": "auto or cpu: the numpy engine on the CPU, no torch needed (default auto); cuda or mps: torch on that device",
    "torch": "where to run: auto (cuda, then mps, then cpu), cpu, cuda or mps (default auto)",
}


def add_device(parser: argparse.ArgumentParser, engine: str = "torch") -> None:
    """The one --device flag every command shares, with the one default (auto); `engine` says which help
    applies: "numpy" for the generation commands (auto means the numpy engine), "torch" for train and eval."""
    parser.add_argument("--device", default="auto", help=DEVICE_HELP[engine])


def add_sampling(p) -> None:
    """The sampling flags of generate and eval (None: the model's own default applies)."""
    p.add_argument(
        "--temperature",
        type=number,
        default=None,
        help="0 is greedy, else 0.01 to 100; higher is wilder (default 1, or the model's own default)",
    )
    p.add_argument(
        "--top-k", type=positive_int, default=None, help="sample among the K likeliest characters, K >= 1 (default off)"
    )
    p.add_argument(
        "--top-p",
        type=number,
        default=None,
        help="sample among the likeliest characters holding this mass, in (0, 1] (default off, or the "
        "model's own default)",
    )
    p.add_argument(
        "--kind",
        choices=("name", "epithet", "any"),
        default=None,
        help="personal names (default), epithets such as 南海鳄神, or any, as the list mixes them "
        "(models trained with name kinds: the shipped wuxia and poets models)",
    )
    p.add_argument(
        "--min-p",
        type=number,
        default=None,
        help="drop characters less likely than this times the likeliest one, in [0, 1] (default off)",
    )
    p.add_argument(
        "--word-lean",
        type=number,
        default=None,
        metavar="A",
        help="a given name's second character A times as likely where it makes the given name a word no "
        "person bore as a name (寻欢, 吹雪), in [1, 100], 1 off; sampling only, lengths and scores unchanged "
        "(default: the model's own, 3 for Gu Long, else off)",
    )


def sampling_settings(args) -> dict:
    """The flags of `add_sampling` that shape the distribution, by SampleOptions field (None: the model's
    default): the flags are named as the fields, so a new sampling field needs no edit here."""
    from ..generation.constraints import SAMPLING_FIELDS

    return {name: getattr(args, name) for name in SAMPLING_FIELDS}


def add_blend(parser: argparse.ArgumentParser) -> None:
    """The one --blend flag of the commands that generate or score with one model."""
    parser.add_argument(
        "--blend",
        type=float,
        default=None,
        metavar="W",
        help="the base model's share, in [0, 1), of every next-character distribution (0: the model alone; "
        "default: the model's own, 0.35 for the shipped Jin Yong and Liang Yusheng models, else 0)",
    )


def load_namer(model: str | None, device: str, blend: float | None = None):
    """The generation object: the numpy engine for --device auto or cpu, torch on any other device;
    `blend` the base's share (None: the model's own blend, see `Namer.load`)."""
    from ..generation.namer import Namer

    return Namer.load(model, device=device, blend=blend)


# The library's field names (ConfigError.field: SampleOptions fields, model config fields, function
# arguments) and the flag each is set with. A field not listed is its own flag (`n_layer` is
# `--n-layer`, convention 2); one listed here differs from that rule or has several spellings, the
# first the usual one and the others aliases (shown when the user typed them).
FLAGS: dict[str, tuple[str, ...]] = {
    "n": ("-n",),
    "samples": ("-n",),
    "prefix": ("--prefix", "--surname"),
    "hidden_prefix": ("--kind",),
    "lengths": ("--given-len",),
    "books": ("--book",),
    "out": ("-o", "--output"),
    "output": ("-o", "--output"),
    "name": ("NAME",),
    "names": ("NAME",),
    "model": ("--model", "MODEL"),
    "blend": ("--blend",),
    "file": ("--file", "-f"),
    "surnameless": ("--without-surname",),
}


def flag_of(field: str, argv: Sequence[str] = ()) -> str:
    """The flag that sets `field`: the spelling of it the user typed in `argv`, else its usual one (an
    environment variable, XIAMING_DIST_TIMEOUT, is written as it is)."""
    if field.isupper():
        return field
    spellings = FLAGS.get(field) or ("--" + field.replace("_", "-"),)
    for flag in spellings:
        for token in argv:
            name = token.partition("=")[0]
            if name == flag or (name.startswith("--") and len(name) > 2 and flag.startswith(name)):  # argparse
                return flag  # accepts a unique start of a flag (--surn); the message writes the flag whole
    return spellings[0]


def render_error(exc: Exception, argv: Sequence[str] = ()) -> str:
    """A library error's one-line message in the CLI's words: each field it names written as its flag."""
    if isinstance(exc, ConfigError) and exc.field is not None:
        return exc.render(lambda field: flag_of(field, argv))
    return str(exc)


def counted(n: int, noun: str) -> str:
    """`1 name`, `2 names`: a count with its noun in the right number (nouns that take an s)."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
