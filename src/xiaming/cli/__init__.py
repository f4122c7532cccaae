"""The `xiaming` command line: flags only. Each subcommand parses its flags, calls the library and
prints. One exit-code rule for every command: 0 success; 1 bad input or failure (library errors,
`XiamingError`, and flag values that parse but are out of range, each a one-line message naming
the flag as typed or the file); 2 a malformed command line (unknown flag, missing argument, a value
that does not parse); 130 interrupted (a `train` stopped by Ctrl-C with its state saved included).
No traceback reaches the user for anything they can fix.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Sequence

from ..errors import XiamingError, XiamingWarning
from .args import BadFlagValue, Parser, render_error
from .generate import add_generate
from .inspect import add_corpora, add_eval, add_explain, add_models, add_score
from .serve import add_serve
from .style import add_quiz, add_who
from .train import add_train
from .verse import add_verse


def build_parser() -> argparse.ArgumentParser:
    """The full parser; exposed for tests and documentation."""
    from .. import __version__

    parser = Parser(prog="xiaming", description="侠名: a character-level neural name generator")
    parser.add_argument("--version", action="version", version=f"xiaming {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for add in (
        add_generate,
        add_score,
        add_explain,
        add_train,
        add_eval,
        add_corpora,
        add_serve,
        add_who,
        add_quiz,
        add_verse,
    ):
        add(sub)
    add_models(sub)
    return parser


# The exit-code rule of every command (README, "Exit codes").
EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _show_warning(command: str):
    """A `warnings.showwarning` that prints xiaming's own warnings as one line each."""
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, XiamingWarning):
            print(f"xiaming {command}: warning: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `xiaming` console script: 0 success, 1 bad input or failure, 2 a malformed
    command line, 130 interrupted (a `train` stopped by Ctrl-C with its state saved included)."""
    parser = build_parser()
    command = "?"
    typed = list(sys.argv[1:] if argv is None else argv)  # the flags as the user spelt them, for error messages
    with warnings.catch_warnings():
        warnings.simplefilter("always", XiamingWarning)
        try:
            args = parser.parse_args(argv)
            command = args.command
            if command is None:
                parser.print_help(sys.stderr)
                return EXIT_USAGE
            warnings.showwarning = _show_warning(command)
            return args.run(args)
        except BadFlagValue as exc:
            print(f"{exc.prog}: error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except XiamingError as exc:
            print(f"xiaming {command}: error: {render_error(exc, typed)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            print(f"xiaming {command}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # The reader went away (`xiaming generate | head`): stop quietly, and point stdout at
            # devnull so Python's final flush does not raise again (the recipe in Python's signal docs).
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_OK
        except ModuleNotFoundError as exc:
            if exc.name != "torch":
                raise
            print(
                f'xiaming {command}: error: this command needs PyTorch; install it with pip install "xiaming[train]"',
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        except OSError as exc:  # a disk that fills up, a file that vanishes: a failure, in one line
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"xiaming {command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
