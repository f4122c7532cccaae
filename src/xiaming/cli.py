"""The `xiaming` command line: flags only. Each subcommand parses its flags, calls the library and
prints. One exit-code rule for every command: 0 success; 1 bad input or failure (library errors,
`XiamingError`, and flag values that parse but are out of range, each a one-line message naming
the flag as typed or the file); 2 a malformed command line (unknown flag, missing argument, a value
that does not parse); 130 interrupted (a `train` stopped by Ctrl-C with its state saved included).
No traceback reaches the user for anything they can fix.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from pathlib import Path
from typing import Callable, Sequence

from .errors import ConfigError, XiamingError, XiamingWarning
from .pretrained import SHIPPED


class BadFlagValue(ConfigError):
    """A flag's value parsed but is out of range: bad input (exit 1), not a malformed command line."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


class _OutOfRange(Exception):
    """Raised by the type helpers for a value that parses but is not allowed; `_Parser` names the flag.

    Not a ValueError on purpose: argparse turns those into usage errors (exit 2)."""


class _Parser(argparse.ArgumentParser):
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
        except _OutOfRange as exc:
            raise BadFlagValue(self.prog, f"{self._typed_flag(action, arg_string)} {arg_string}: {exc}") from None

    def _check_value(self, action, value):  # type: ignore[override]
        if action.option_strings and action.choices is not None and value not in action.choices:
            choices = ", ".join(map(str, action.choices))
            raise BadFlagValue(self.prog, f"{self._typed_flag(action, str(value))} {value!r}: choose one of {choices}")
        super()._check_value(action, value)


_MODEL_HELP = "checkpoint path or shipped model: " + ", ".join(SHIPPED)


def _positive_int(text: str) -> int:
    """A whole number of at least 1 (an unparseable value exits 2, a value below 1 exits 1)."""
    value = _int(text)
    if value < 1:
        raise _OutOfRange("must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    """A whole number of at least 0."""
    value = _int(text)
    if value < 0:
        raise _OutOfRange("must be 0 or more")
    return value


def _int(text: str) -> int:
    """Any whole number; anything else is a malformed command line (exit 2)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _float(text: str) -> float:
    """Any number; anything else is a malformed command line (exit 2)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _positive_float(text: str) -> float:
    """A finite number above 0."""
    value = _float(text)
    if not (value > 0 and math.isfinite(value)):
        raise _OutOfRange("must be a positive number")
    return value


_DEVICE_HELP = "where to run: auto (cuda, then mps, then cpu), cpu, cuda or mps (default auto)"


def _add_device(parser: argparse.ArgumentParser) -> None:
    """The one --device flag every command shares, with the one default (auto)."""
    parser.add_argument("--device", default="auto", help=_DEVICE_HELP)


# Flags that map one-to-one onto TrainConfig fields (their defaults live there, shown in the help).
_TRAIN_FLAGS = ("max_steps", "max_time", "batch_size", "lr", "weight_decay", "grad_clip", "warmup_steps",
                "eval_interval", "patience", "val_fraction", "unk_rate", "seed")


def _add_train(sub) -> None:
    from .corpus import MAX_NAME_LEN
    from .models import MODELS, SIZES
    from .train_config import FINE_TUNE_DROPOUT, TrainConfig

    d = TrainConfig()
    p = sub.add_parser("train", help="train a model on a names file or a built-in corpus",
                       description="Train a character-level model; the best checkpoint (by validation loss) is kept "
                                   "at --output, the resumable state beside it. An existing output is replaced only "
                                   "with --force or continued with --resume; one run at a time per output.")
    p.add_argument("names", help="a text file with one name per line, or a built-in corpus (jinyong, gulong, poets)")
    p.add_argument("--model", default=None,
                   help=f"model kind: {', '.join(MODELS)} (default lstm, or the kind of --init)")
    p.add_argument("-o", "--output", required=True, help="checkpoint to write (.safetensors); required")
    p.add_argument("--force", action="store_true", help="replace an existing --output and its training state")
    p.add_argument("--size", choices=SIZES, default=None, help="size preset of the model shape (default small)")
    g = p.add_argument_group("model shape (override the preset)")
    g.add_argument("--n-layer", type=_int, help="stacked layers (default: from --size)")
    g.add_argument("--n-embd", type=_int, help="character embedding width (default: from --size)")
    g.add_argument("--n-hidden", type=_int, help="recurrent state width, rnn, lstm, gru (default: from --size)")
    g.add_argument("--n-head", type=_int, help="attention heads, transformer (default: from --size)")
    g.add_argument("--order", type=_int, help="n-gram order: characters of context + 1, ngram (default 4)")
    g.add_argument("--dropout", type=_float,
                   help=f"dropout rate in [0, 1) (default: from --size; {FINE_TUNE_DROPOUT} with --init)")
    t = p.add_argument_group("training")
    t.add_argument("--max-steps", type=_int, help=f"updates at most (default {d.max_steps})")
    t.add_argument("--max-time", type=_float, help="stop after this many seconds (default: no limit)")
    t.add_argument("--batch-size", type=_int, help=f"names per step (default {d.batch_size})")
    t.add_argument("--lr", type=_float, help="peak learning rate (default: per model kind, a third of it with --init)")
    t.add_argument("--weight-decay", type=_float, help=f"AdamW weight decay (default {d.weight_decay})")
    t.add_argument("--grad-clip", type=_float, help=f"gradient norm clip (default {d.grad_clip})")
    t.add_argument("--warmup-steps", type=_int, help=f"linear warmup steps (default {d.warmup_steps})")
    t.add_argument("--eval-interval", type=_int, help=f"steps between validations (default {d.eval_interval})")
    t.add_argument("--patience", type=_int,
                   help=f"validations without improvement before stopping (default {d.patience})")
    t.add_argument("--val-fraction", type=_float,
                   help=f"share of names held out for validation, in (0, 1) (default {d.val_fraction})")
    t.add_argument("--unk-rate", type=_float,
                   help=f"chance that a character seen once is shown as unknown while training, in [0, 1) "
                        f"(default {d.unk_rate})")
    t.add_argument("--seed", type=_int, help=f"seeds the split, the weights and the batches (default {d.seed})")
    t.add_argument("--resume", action="store_true",
                   help="continue the run saved beside --output with its saved settings; only --max-steps, "
                        "--max-time and --patience may change (others that differ are refused unless --force)")
    t.add_argument("--init", default=None,
                   help="fine-tune this pretrained checkpoint (path, or the shipped model 'base') instead of "
                        "starting fresh (default: none)")
    p.add_argument("--max-name-len", type=_positive_int, default=MAX_NAME_LEN,
                   help=f"skip (with a warning naming their lines) names longer than this many characters "
                        f"(default {MAX_NAME_LEN})")
    _add_device(p)
    p.add_argument("--encoding", default="utf-8", help="encoding of the names file, e.g. gbk (default utf-8)")
    p.add_argument("--stream", action="store_true",
                   help="read the names file in bounded memory, for lists of millions of names: batches come from "
                        "a packed copy in a temporary folder; the run is the same as without (default: off)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or report")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=_cmd_train)


def _cmd_train(args) -> int:
    from .corpus import load_names
    from .train import TrainConfig, resume_config, train

    given = {name: getattr(args, name) for name in _TRAIN_FLAGS if getattr(args, name) is not None}
    config = (resume_config(args.output, given) if args.resume else None) or TrainConfig(**given)
    config.validate()
    if args.stream:
        from .stream import StreamedNames

        data = StreamedNames(args.names, encoding=args.encoding, max_len=args.max_name_len)
    else:
        data = load_names(args.names, encoding=args.encoding, max_len=args.max_name_len)
    overrides = {"n_layer": args.n_layer, "n_embd": args.n_embd, "n_hidden": args.n_hidden,
                 "n_head": args.n_head, "dropout": args.dropout, "order": args.order}
    quiet = args.quiet or args.json
    log: Callable[[str], None] = (lambda _msg: None) if quiet else (lambda msg: print(msg, file=sys.stderr))
    result = train(data, args.model, args.output, config, size=args.size, model_overrides=overrides,
                   resume=args.resume, device=args.device, log=log, progress_bar=not quiet, init=args.init,
                   force=args.force)
    from .distributed import is_main_process

    if not is_main_process():  # under torchrun, rank 0 alone reports
        return 130 if result.stopped == "interrupted" else 0
    if args.json:
        print(json.dumps({
            "path": result.path, "steps": result.step, "best_step": result.best_step,
            "best_val_nats": result.best_val, "best_val_bits": result.best_val_bits, "stopped": result.stopped,
            "seconds": round(result.elapsed, 2), "chars_per_sec": round(result.chars_per_sec), "parameters": result.parameters,
        }))
    elif not args.quiet:
        why = {"max_steps": "reached --max-steps", "max_time": "reached --max-time",
               "early_stop": "validation stopped improving", "interrupted": "interrupted; continue with --resume",
               "finished": "training complete (nothing left to learn)"}[result.stopped]
        print(
            f"{why} at step {result.step}: best validation {result.best_val:.4f} nats/char "
            f"({result.best_val_bits:.4f} bits) at step {result.best_step}, {result.chars_per_sec:,.0f} chars/s; "
            f"saved {result.path}",
            file=sys.stderr,
        )
    return 130 if result.stopped == "interrupted" else 0


def _add_sampling(p) -> None:
    """The sampling flags of generate and eval (None: the model's own default applies)."""
    p.add_argument("--temperature", type=_float, default=None,
                   help="0 is greedy, else 0.01 to 100; higher is wilder (default 1, or the model's own default)")
    p.add_argument("--top-k", type=_positive_int, default=None,
                   help="sample among the K likeliest characters, K >= 1 (default off)")
    p.add_argument("--top-p", type=_float, default=None,
                   help="sample among the likeliest characters holding this mass, in (0, 1] (default off, or the "
                        "model's own default)")
    p.add_argument("--kind", choices=("name", "epithet", "any"), default=None,
                   help="personal names (default), epithets such as 南海鳄神, or any, as the list mixes them "
                        "(models trained with name kinds: the shipped wuxia and poets models)")
    p.add_argument("--min-p", type=_float, default=None,
                   help="drop characters less likely than this times the likeliest one, in [0, 1] (default off)")


def _add_generate(sub) -> None:
    p = sub.add_parser("generate", help="generate new names with a trained or shipped model",
                       description="Print N distinct names that are not in the model's training list, each as soon "
                                   "as it is found. Every constraint is applied inside the sampler; when fewer names "
                                   "exist than asked for, those found are printed with the reason. Exit status: 0 "
                                   "when all or some names were found (a note on stderr says how many), 1 when none "
                                   "were or a value is bad, 130 when interrupted (what was printed or written stays).")
    p.add_argument("model", nargs="?", default=None, help=_MODEL_HELP + " (default jinyong; same as --model)")
    p.add_argument("--model", dest="model_flag", default=None, metavar="MODEL", help="the same as the positional MODEL")
    p.add_argument("--style", default=None, metavar="MODEL=W,...",
                   help="mix models' styles, e.g. jinyong=0.7,gulong=0.3 (weights are normalised; novelty is "
                        "checked against every list involved; instead of MODEL; default: none)")
    p.add_argument("-n", type=_positive_int, default=20, help="how many names, at least 1 (default 20)")
    _add_sampling(p)
    p.add_argument("--prefix", dest="prefix", default=None,
                   help="every name starts with this; the model continues it (default none)")
    p.add_argument("--surname", dest="surname", default=None,
                   help="the same as --prefix, for a surname such as 令狐 (default none)")
    p.add_argument("--min-len", type=_int, default=1, help="shortest name in characters, prefix included, 1 to 64 (default 1)")
    p.add_argument("--max-len", type=_int, default=None,
                   help="longest name in characters, prefix included, 1 to 64 (default: the longest training name)")
    p.add_argument("--include", default="", help="at least one of these characters appears (default: no such rule)")
    p.add_argument("--exclude", default="", help="none of these characters appears after the prefix (default none)")
    p.add_argument("--charset", default=None,
                   help="UTF-8 file of the only characters allowed after the prefix (default: every character)")
    p.add_argument("--novelty", choices=("exact", "strict", "off"), default=None,
                   help="which names count as new: exact (not a training name), strict (also not part of, "
                        "containing, glued from, a surname swap of, or one edit from a training name) or off; "
                        "default strict for models of the built-in corpora, else exact")
    p.add_argument("--best", type=_positive_int, default=None, metavar="N",
                   help="the N most likely new names under the constraints, by search, N >= 1 (deterministic; "
                        "ignores -n, --seed, --temperature, --top-k, --top-p, --min-p; default off)")
    p.add_argument("--rank", action="store_true", help="print the names from most to least likely (at the end)")
    p.add_argument("--pinyin", action="store_true", help="show each Chinese name's pinyin with tone marks")
    p.add_argument("--seed", type=_int, default=None, help="seed for reproducible output (default: random)")
    p.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="write the names to FILE instead of stdout: written to a temporary file as they are found "
                        "and renamed onto FILE at the end, or on Ctrl-C with the names found so far (default stdout)")
    p.add_argument("--device", default="auto",
                   help="auto or cpu: the numpy engine on the CPU, no torch needed (default auto); cuda or mps: "
                        "torch on that device")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object at the end: each name with its pinyin, score and novelty verdict, "
                        "the rejected candidates with the rule and training name that rejected them, and exhausted")
    p.add_argument("--verbose", action="store_true",
                   help="print the sampling settings used and each rejected candidate, with its rule and training "
                        "name, to stderr")
    p.set_defaults(run=_cmd_generate)


def _read_charset(path: str) -> str:
    from .errors import DataError

    p = Path(path)
    if not p.is_file():
        raise DataError(f"--charset {path}: no such file")
    try:
        chars = "".join(dict.fromkeys(c for c in p.read_text(encoding="utf-8-sig") if not c.isspace()))
    except UnicodeDecodeError:
        raise DataError(f"--charset {path}: not UTF-8 text") from None
    if not chars:
        raise DataError(f"--charset {path}: the file holds no characters")
    return chars


def _load_namer(model: str | None, device: str):
    """The generation object: the numpy engine for --device auto or cpu, torch on any other device."""
    from .namer import Namer

    return Namer.load(model, device=device)


class _Sink:
    """Where generated names go: stdout line by line, or FILE through a temporary file renamed at the end.

    `close` renames the temporary file onto FILE (also after Ctrl-C, keeping the names found so
    far); `discard` removes it and leaves FILE as it was (after an error, before any name).
    """

    def __init__(self, output: str | None) -> None:
        self.path = Path(output) if output else None
        self.tmp: Path | None = None
        self.stream = sys.stdout
        self.count = 0
        if self.path is not None:
            import tempfile

            from .errors import ConfigError

            if self.path.is_dir():
                raise ConfigError(f"-o {output}: is a directory")
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent or ".")
            except OSError as exc:
                raise ConfigError(f"-o {output}: cannot write there ({exc.strerror or exc})") from None
            self.tmp = Path(tmp)
            self.stream = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, lines: list[str]) -> None:
        for line in lines:
            self.stream.write(line + "\n")
        self.count += len(lines)
        self.stream.flush()

    def close(self) -> None:
        if self.tmp is not None:
            self.stream.close()
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp, 0o666 & ~umask)
            os.replace(self.tmp, self.path)
            self.tmp = None

    def discard(self) -> None:
        if self.tmp is not None:
            self.stream.close()
            self.tmp.unlink(missing_ok=True)
            self.tmp = None


def _as_typed(exc: Exception, typed: dict[str, str]) -> None:
    """Re-raise a ConfigError with flag names as the user typed them (e.g. --surname for --prefix)."""
    from .errors import ConfigError

    message = str(exc)
    for canonical, spelled in typed.items():
        if message.startswith(canonical + " ") or message.startswith(canonical + ":"):
            raise ConfigError(spelled + message[len(canonical):]) from None
    raise exc


def _cmd_generate(args) -> int:
    from .errors import ConfigError
    from .novelty import RULES
    from .pinyin import name_pinyin

    if args.prefix is not None and args.surname is not None:
        raise ConfigError("--prefix and --surname: give one of them")
    prefix_flag = "--surname" if args.surname is not None else "--prefix"
    if args.model is not None and args.model_flag is not None:
        raise ConfigError("MODEL and --model: give one of them")
    settings = dict(
        temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, min_p=args.min_p,
        prefix=args.surname if args.surname is not None else (args.prefix or ""),
        min_len=args.min_len, max_len=args.max_len, exclude=args.exclude, include=args.include,
        charset=_read_charset(args.charset) if args.charset else None,
    )
    try:
        from .constraints import SampleOptions

        SampleOptions(**{k: v for k, v in settings.items() if v is not None}).validate_ranges()
        namer = (_style_namer(args.style, args.model or args.model_flag, args.device) if args.style else
                 _load_namer(args.model if args.model is not None else args.model_flag, args.device))
        options = namer.options(kind=args.kind, **settings)
        options.validate_ranges()  # the model's defaults and the flags together
        namer.compile(options)
        if args.best is None:
            namer.novelty_rule(options, args.novelty)
    except ConfigError as exc:
        _as_typed(exc, {"--prefix": prefix_flag})
    if args.verbose:
        print(namer.describe_sampling(options), file=sys.stderr)
    at_end = args.json or args.rank  # these need every name before printing
    sink = _Sink(args.output)

    def line(item) -> str:
        reading = name_pinyin(item.name) if args.pinyin else None
        return f"{item.name}  {reading}" if reading else item.name

    def stream(items) -> None:
        if not at_end:
            sink.write([line(item) for item in items])

    try:
        if args.best:
            result = namer.best(args.best, options, args.novelty)
            stream(result.items)
        else:
            result = namer.generate(args.n, options, args.novelty, args.seed, on_names=stream)
    except KeyboardInterrupt:
        sink.close()
        if sink.path is not None:
            print(f"xiaming: interrupted; kept {sink.count} names in {sink.path}", file=sys.stderr)
        raise
    except BaseException:
        sink.discard()
        raise
    items = sorted(result.items, key=lambda item: -item.log_prob) if args.rank else result.items
    if args.verbose:
        for name, why in result.rejected:
            print(f"rejected {name}: {why.describe()} ({why.rule})", file=sys.stderr)
        counts = {rule: sum(1 for _, why in result.rejected if why.rule == rule) for rule in RULES}
        detail = ", ".join(f"{rule} {count}" for rule, count in counts.items() if count)
        print(f"novelty {result.novelty}: {len(result.rejected)} candidates rejected" + (f" ({detail})" if detail else ""),
              file=sys.stderr)
    if args.json:
        work = {"searched": result.searched} if args.best else {"drawn": result.drawn, "searched": result.searched}
        sink.write([json.dumps({
            "model": namer.path, "novelty": result.novelty, "requested": result.requested, "found": len(items),
            **work, "exhausted": result.exhausted, "complete": result.complete, "reason": result.reason,
            "sampling": options.sampling(),
            "names": [{"name": it.name, "pinyin": name_pinyin(it.name), "log_prob": round(it.log_prob, 4),
                       "bits_per_char": round(it.bits_per_char, 4), "novelty": "new"} for it in items],
            "rejected": [{"name": name, "rule": why.rule, "training_name": why.training_name}
                         for name, why in result.rejected],
        }, ensure_ascii=False)])
    elif at_end:
        sink.write([line(item) for item in items])
    sink.close()
    if sink.path is not None:
        print(f"xiaming: wrote {len(items)} names to {sink.path}", file=sys.stderr)
    if not items:
        print(f"xiaming generate: error: found no new names: {result.reason}", file=sys.stderr)
        return 1
    if result.exhausted:
        print(f"xiaming: found only {len(items)} of {result.requested} new names: {result.reason}", file=sys.stderr)
    return 0


def _add_score(sub) -> None:
    p = sub.add_parser("score", help="how likely a model finds given names",
                       description="For each name: total log-probability, bits per character, the probability "
                                   "of each character given the ones before it (and of the end), and its "
                                   "percentile among the training names (share of them it scores better than, "
                                   "per character). Names come from the command line, from a file (--file), or "
                                   "from standard input (a NAME of -), one per line, blank lines skipped.")
    p.add_argument("names", nargs="*", metavar="NAME", help="names to score; - reads names from standard input")
    p.add_argument("--file", "-f", default=None, metavar="FILE",
                   help="read names from this UTF-8 file, one per line (default: none)")
    p.add_argument("--max-name-len", type=_positive_int, default=32,
                   help="skip (with a warning) names longer than this many characters (default 32)")
    p.add_argument("--model", default=None, help=_MODEL_HELP + " (default jinyong)")
    p.add_argument("--pinyin", action="store_true", help="show each Chinese name's pinyin with tone marks")
    p.add_argument("--device", default="auto",
                   help="auto or cpu: the numpy engine on the CPU, no torch needed (default auto); cuda or mps: "
                        "torch on that device")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_cmd_score)


def _score_inputs(args) -> list[str]:
    """The names to score, in order: arguments, standard input for each -, then --file; ConfigError/DataError when none."""
    from .errors import ConfigError, DataError

    names: list[str] = []
    for arg in args.names:
        if arg == "-":
            names.extend(line.strip() for line in sys.stdin.read().splitlines() if line.strip())
            continue
        if not arg.strip():
            raise ConfigError("NAME: an empty name cannot be scored")
        names.append(arg.strip())
    if args.file is not None:
        path = Path(args.file)
        if not path.is_file():
            raise DataError(f"--file {args.file}: no such file")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise DataError(f"--file {args.file}: not UTF-8 text") from None
        names.extend(line.strip() for line in text.splitlines() if line.strip())
    if not names:
        raise ConfigError("NAME: no names to score (give names, - for standard input, or --file)")
    return names


def _cmd_score(args) -> int:
    from .pinyin import name_pinyin
    from .score import percentile

    from .corpus import drop_long

    names = drop_long(_score_inputs(args), args.max_name_len, "NAME")
    if not names:
        raise ConfigError(f"NAME: every name is longer than --max-name-len {args.max_name_len}")
    namer = _load_namer(args.model, args.device)
    reference = namer.reference()
    rows = []
    for s in namer.score(names):
        probs = [math.exp(lp) for lp in s.char_log_probs]
        rows.append({
            "name": s.name, "pinyin": name_pinyin(s.name), "log_prob": round(s.log_prob, 4),
            "bits_per_char": round(s.bits_per_char, 4),
            "chars": [{"char": c, "p": p, "known": c in namer.vocab} for c, p in zip(s.name, probs)],
            "end_p": probs[-1], "percentile": percentile(s.bits_per_char, reference),
        })
    if args.json:
        print(json.dumps({"model": namer.path, "reference_names": len(reference), "names": rows}, ensure_ascii=False))
        return 0
    for row in rows:
        reading = f"  {row['pinyin']}" if args.pinyin and row["pinyin"] else ""
        where = "" if row["percentile"] is None else f"  percentile {row['percentile']:.0f}"
        print(f"{row['name']}{reading}  log p {row['log_prob']:.2f}  {row['bits_per_char']:.2f} bits/char{where}")
        chars = "  ".join(f"{c['char']} {c['p']:.3g}" + ("" if c["known"] else " (unknown)") for c in row["chars"])
        print(f"    {chars}  (end) {row['end_p']:.3g}")
    print(f"percentile: share of {len(reference):,} training names with more bits per character", file=sys.stderr)
    return 0


def _add_explain(sub) -> None:
    p = sub.add_parser("explain", help="a look inside the model, one name at a time",
                       description="Step by step: the probability of each character of NAME (and of the end) and "
                                   "the likeliest alternatives; for LSTM models also the input, forget and output "
                                   "gates and the cell state at each step, and the hidden units that track the "
                                   "position in the name or the surname boundary (Pearson r over the training "
                                   "names). As text, as JSON, or as a heatmap picture with -o FILE.png.")
    p.add_argument("name", metavar="NAME", help="the name to explain")
    p.add_argument("--model", default=None, help=_MODEL_HELP + " (default jinyong)")
    p.add_argument("--top", type=_positive_int, default=5, help="alternatives shown per step, at least 1 (default 5)")
    p.add_argument("-o", "--output", default=None, metavar="FILE.png",
                   help='also draw the explanation as a PNG heatmap (needs matplotlib: pip install "xiaming[plot]"; '
                        "default: no picture)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(run=_cmd_explain)


def _cmd_explain(args) -> int:
    from .explain import format_text, plot
    from .namer import Namer

    namer = Namer.load(args.model)
    result = namer.explain(args.name, top=args.top)
    if args.output:
        plot(result, args.output)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        print(format_text(result))
    if args.output:
        print(f"xiaming: wrote {args.output}", file=sys.stderr)
    return 0


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="held-out loss and sample statistics of a model",
                       description="Score held-out names (nats and bits per character, end token counted) and "
                                   "describe N unfiltered samples: novelty, uniqueness, fragments, glued names, "
                                   "length fit. With --realism: how well a classifier tells the names generate "
                                   "would print from the held-out names (which should be real names the model never "
                                   "saw; 50% = it cannot), the features that give them away, and their variety.")
    p.add_argument("model", help=_MODEL_HELP)
    p.add_argument("names", help="held-out names: a file (one per line, every non-blank line scored, repeats too) or a built-in corpus")
    p.add_argument("-n", "--samples", dest="samples", type=_non_negative_int, default=1000,
                   help="names to draw for the sample statistics (default 1000; 0 skips them)")
    p.add_argument("--seed", type=_int, default=0, help="seed of the samples (default 0)")
    g = p.add_argument_group("sampling of the samples (default: the model's own defaults, as generate uses them)")
    _add_sampling(g)
    r = p.add_argument_group("realism (needs scikit-learn: pip install 'xiaming[eval]')")
    r.add_argument("--realism", action="store_true",
                   help="compare N names as generate prints them with the held-out names: classifier accuracy "
                        "(detectability, mean ± sd over 5 folds) and variety")
    r.add_argument("--classifier", choices=("logistic", "bayes", "forest"), default="logistic",
                   help="classifier family for --realism (default logistic regression)")
    _add_device(p)  # one --device default (auto) for every command
    p.add_argument("--encoding", default="utf-8", help="encoding of the names file (e.g. gbk)")
    p.add_argument("--max-name-len", type=_positive_int, default=32,
                   help="skip (with a warning naming their lines) names longer than this many characters (default 32)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_cmd_eval)


def _cmd_eval(args) -> int:
    from . import load_model
    from .errors import ConfigError
    from .evaluate import evaluate, load_eval_names

    if args.samples < 0:
        raise ConfigError(f"-n {args.samples}: must be 0 or more")
    model = load_model(args.model, device=args.device)
    names = load_eval_names(args.names, encoding=args.encoding, max_len=args.max_name_len)
    options = model.options(kind=args.kind, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                            min_p=args.min_p)
    options.validate_ranges()
    result = evaluate(model, names, n_samples=args.samples, seed=args.seed, options=options, realism=args.realism,
                      classifier=args.classifier)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    h, s = result.held_out, result.samples
    print(f"model    {result.model} ({result.kind}, {result.parameters:,} parameters)")
    print(f"held out {result.source}: {h.names} names, {h.chars} predictions (end tokens counted), "
          f"{h.unknown_chars} unknown characters, {h.in_training:.1%} also in the training list")
    print(f"         {h.nats_per_char:.4f} nats/char  {h.bits_per_char:.4f} bits/char")
    if s is not None:
        print(f"samples  {s.samples} drawn, no filter (seed {result.seed}), mean length {s.mean_length:.2f}; {result.sampling}")
        print(f"         novelty {s.novelty:.1%}  uniqueness {s.uniqueness:.1%}  fragments {s.fragments:.1%}  "
              f"glued {s.glued:.1%} (real held-out names: {h.glued:.1%})")
        print(f"         length TV {s.length_tv:.3f} to the training names, {s.names_length_tv:.3f} to the held-out names")
    if result.realism is not None:
        _print_realism(result.realism)
    return 0


def _print_realism(r) -> None:
    """The realism figures of `xiaming eval --realism`, in a few lines."""
    from .realism import describe_telltales

    d, v = r.detectability, r.variety
    print(f"realism  {r.generated} names as generate prints them against {r.real} held-out names: a {d.classifier} "
          f"classifier tells them apart {d.accuracy:.1%} ± {d.sd:.1%} of the time ({d.folds}-fold; 50% = not at all)")
    print(f"         samples give themselves away by: {describe_telltales(d.telltales, 'samples') or 'nothing'}")
    print(f"         real names by: {describe_telltales(d.telltales, 'real') or 'nothing'}")
    new = f" (held-out names: {v.real_foreign:.1%})" if v.real_foreign is not None else ""
    print(f"         variety: {v.distinct:.1%} distinct, character entropy {v.char_entropy:.2f} bits "
          f"(held-out names: {v.real_char_entropy:.2f}), {v.foreign:.1%} hold a character the training list never "
          f"uses{new}, length TV {v.length_tv:.3f}")
    print(f"         e.g. {' '.join(r.examples)}")


def _add_corpora(sub) -> None:
    p = sub.add_parser("corpora", help="list the built-in name corpora")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_cmd_corpora)


def _cmd_corpora(args) -> int:
    from . import corpora

    rows = corpora.listing()
    if args.json:
        print(json.dumps([{"name": r.name, "description": r.description, "names": r.names, "rows": r.rows,
                           "works": list(r.works)} for r in rows], ensure_ascii=False))
        return 0
    for r in rows:
        print(f"{r.name:<8} {r.names:>5} names from {len(r.works):>2} works  {r.description}")
    return 0


def _add_models(sub) -> None:
    p = sub.add_parser("models", help="list the shipped models and given checkpoints with what each was trained on",
                       description="One line per model: name or path, kind, parameters, training names, the data "
                                   "it was trained on and the base it was fine-tuned from. Reads metadata only.")
    p.add_argument("checkpoints", nargs="*", metavar="CHECKPOINT", help="checkpoint files to describe as well")
    p.add_argument("--json", action="store_true", help="print one JSON list")
    p.set_defaults(run=_cmd_models)


def _model_row(name: str, path: Path) -> dict:
    """What a checkpoint's metadata says about it; CheckpointError naming the file if it cannot say."""
    from safetensors import safe_open

    from .errors import CheckpointError

    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
    except Exception:
        raise CheckpointError(f"{path}: not a xiaming checkpoint (unreadable or truncated safetensors file)") from None
    if meta.get("format") != "xiaming-checkpoint":
        raise CheckpointError(f"{path}: not a xiaming checkpoint")
    from .models import MODELS

    if meta.get("kind") not in MODELS:
        raise CheckpointError(f"{path}: damaged checkpoint metadata (unknown model kind {meta.get('kind')!r})")
    try:
        train = json.loads(meta.get("train", "{}"))
        data = train.get("data", {})
        return {"name": name, "path": str(path), "kind": meta["kind"], "parameters": train.get("parameters"),
                "names": data.get("names"), "data": train.get("source"), "base": train.get("init"),
                "best_val_bits": train.get("best_val_bits")}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path}: damaged checkpoint metadata ({exc})") from None


def _cmd_models(args) -> int:
    from .pretrained import available, shipped_path

    from .pretrained import resolve

    rows = [_model_row(name, shipped_path(name)) for name in available()]
    rows += [_model_row(path, resolve(path)) for path in args.checkpoints]  # a path, or a shipped name
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    width = max(len(r["name"]) for r in rows) if rows else 0
    for r in rows:
        params = f"{r['parameters']:,}" if isinstance(r["parameters"], int) else "?"
        names = f"{r['names']:,} names" if isinstance(r["names"], int) else "? names"
        base = f", fine-tuned from {r['base']}" if r["base"] else ""
        print(f"{r['name']:<{width}}  {r['kind']:<11} {params:>9} parameters  trained on {r['data']} "
              f"({names}){base}")
    return 0


def _add_serve(sub) -> None:
    p = sub.add_parser("serve", help="the web page and its JSON API, on this machine",
                       description="Serve the page (generate, mix styles, score, whose style, the guessing game, "
                                   "a look inside the model) and its JSON API, documented at /docs, with every "
                                   "shipped model loaded once at start. Needs the web extra: pip install "
                                   '"xiaming[web]". Ctrl-C stops it.')
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it to the network)")
    p.add_argument("--port", type=_int, default=8000, help="port (default 8000)")
    p.add_argument("--models", default=None, metavar="DIR",
                   help="also serve every checkpoint in DIR, each under its file name (my.safetensors as 'my')")
    p.add_argument("--workers", type=_int, default=None, metavar="N",
                   help="processes making the library calls, so they use more than one core "
                        "(default: one per core, none on a 1-core machine; 0: in the server process)")
    p.set_defaults(run=_cmd_serve)


def _cmd_serve(args) -> int:
    import socket

    if not 1 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port}: must be between 1 and 65535")
    if args.workers is not None and not 0 <= args.workers <= 64:
        raise ConfigError(f"--workers {args.workers}: must be between 0 and 64")
    if args.workers and not hasattr(os, "fork"):
        raise ConfigError(f"--workers {args.workers}: worker processes need os.fork (Linux, macOS); use --workers 0")
    try:
        from .web.server import serve
    except ModuleNotFoundError as exc:
        raise ConfigError(f'serve needs the web extra ({exc.name} is missing): pip install "xiaming[web]"') from None
    from .web.backend import Backend

    try:  # refuse a busy or foreign address in one line, before loading anything
        with socket.create_server((args.host, args.port)):
            pass
    except (OSError, OverflowError) as exc:
        why = os.strerror(exc.errno) if getattr(exc, "errno", None) else str(exc)
        raise ConfigError(f"--host {args.host} --port {args.port}: cannot listen there ({why})") from None
    backend = Backend.load(args.models)
    url = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}/"
    print(f"xiaming: serving {', '.join(backend.models)} at {url} (API at {url}docs); Ctrl-C stops", file=sys.stderr)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"xiaming: note: {args.host} is reachable from other machines, and the server has no login",
              file=sys.stderr)
    cores = (os.cpu_count() or 1) if hasattr(os, "fork") else 1  # worker processes are forked
    serve(backend, args.host, args.port, (cores if cores > 1 else 0) if args.workers is None else args.workers)
    print("xiaming: server stopped", file=sys.stderr)  # a clean stop on Ctrl-C or SIGTERM, exit code 0
    return 0


def _style_namer(style: str, model: str | None, device: str):
    """The Namer of `generate --style`: the models' weighted per-step mixture (see `xiaming.mix`)."""
    from .mix import mixed_namer
    from .style import parse_weights

    if model is not None:
        raise ConfigError("--style and MODEL: give one of them (--style names its models)")
    weights = parse_weights(style)
    return mixed_namer(weights, {m: _load_namer(m, device) for m in weights})


def _models_list(text: str) -> list[str]:
    """`jinyong,gulong` -> ["jinyong", "gulong"] (shipped names or checkpoint paths)."""
    models = [m.strip() for m in text.split(",") if m.strip()]
    if len(models) < 2:
        raise ConfigError(f"--models {text!r}: give at least two models, separated by commas")
    return models


def _add_who(sub) -> None:
    p = sub.add_parser("who", help="whose style is a name: the probability of each style model",
                       description="For each name, the probability that it is in the style of each model (by "
                                   "default Jin Yong's and Gu Long's), and the characters that pull it towards "
                                   "each style (in nats of the calibrated score). The models' log-probabilities "
                                   "and their lists' character counts are weighed by a calibration fitted on names "
                                   "the models never saw (scripts/build_style.py).")
    p.add_argument("names", nargs="+", metavar="NAME", help="names to attribute")
    p.add_argument("--models", default="jinyong,gulong",
                   help="comma-separated styles to choose among: shipped models or checkpoint paths (default jinyong,gulong)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_cmd_who)


def _cmd_who(args) -> int:
    from .style import StyleJudge

    judge = StyleJudge.load(_models_list(args.models))
    found = judge.who(args.names)
    if args.json:
        print(json.dumps({"models": judge.styles, "calibration": {"neural": judge.calibration.neural,
                                                                  "ngram": judge.calibration.ngram,
                                                                  "bias": judge.calibration.bias},
                          "names": [{"name": a.name, "best": a.best, "probs": {s: round(p, 4) for s, p in a.probs.items()},
                                     "in_lists": judge.listed(a.name),
                                     "evidence": [{"char": c or "(end)", "pull": {s: round(v, 3) for s, v in pull.items()}}
                                                  for c, pull in a.evidence]} for a in found]}, ensure_ascii=False))
        return 0
    for a in found:
        probs = "  ".join(f"{s} {p:.0%}" for s, p in sorted(a.probs.items(), key=lambda t: -t[1]))
        print(f"{a.name}  {probs}")
        pulls = [f"towards {s}: " + " ".join(f"{c} +{v:.1f}" for c, v in chars) for s, chars in a.pulls().items() if chars]
        if pulls:
            print("    " + "   ".join(pulls))
        listed = judge.listed(a.name)
        if listed:
            print(f"    a character of the {' and '.join(listed)} list (the guess above judges the writing only)")
    return 0


def _add_quiz(sub) -> None:
    from .quiz import MODES

    p = sub.add_parser("quiz", help="the guessing game: whose style, or which name is real",
                       description="Rounds of names to judge, answered on standard input (so it can be played "
                                   "through a pipe). Mode author: a few names invented by one model; say whose "
                                   "style (a number, the model's name, or 金庸/古龙). Mode real: two names, one from "
                                   "the built-in list and one invented; say which is real (1 or 2). An answer that "
                                   "is not a choice is asked again (3 tries, then counted wrong); end of input "
                                   "stops the game with the score so far.")
    p.add_argument("--mode", choices=MODES, default="author", help="author (default) or real")
    p.add_argument("--rounds", type=_positive_int, default=10, help="how many rounds (default 10)")
    p.add_argument("--seed", type=_int, default=None, help="seed: the same seed gives the same game (default: random)")
    p.add_argument("--size", type=_positive_int, default=3, help="names shown per round in mode author (default 3)")
    p.add_argument("--models", default="jinyong,gulong",
                   help="comma-separated styles to play with: shipped models or checkpoint paths (default jinyong,gulong)")
    p.set_defaults(run=_cmd_quiz)


def _cmd_quiz(args) -> int:
    from .quiz import load_namers, make_rounds, play
    from .style import StyleJudge, style_name

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.mode == "author":
        models = _models_list(args.models)
    namers = load_namers(models)
    rounds = make_rounds(args.mode, args.rounds, args.seed, models, args.size, namers)
    comment = None
    if args.mode == "author":
        judge = StyleJudge({style_name(m): n for m, n in namers.items()})

        def comment(rnd) -> str:
            found = judge.who(list(rnd.names))
            mean = {s: sum(a.probs[s] for a in found) / len(found) for s in judge.styles}
            return "xiaming who: " + "  ".join(f"{s} {p:.0%}" for s, p in sorted(mean.items(), key=lambda t: -t[1]))

    play(rounds, args.mode, sys.stdin, sys.stdout, comment)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The full parser; exposed for tests and documentation."""
    from . import __version__

    parser = _Parser(prog="xiaming", description="侠名: a character-level neural name generator")
    parser.add_argument("--version", action="version", version=f"xiaming {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in (_add_generate, _add_score, _add_explain, _add_train, _add_eval, _add_corpora, _add_serve, _add_who, _add_quiz):
        add(sub)
    _add_models(sub)
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
            print(f"xiaming {command}: error: {exc}", file=sys.stderr)
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
            print(f"xiaming {command}: error: this command needs PyTorch; install it with "
                  f"pip install \"xiaming[train]\"", file=sys.stderr)
            return EXIT_BAD_INPUT
        except OSError as exc:  # a disk that fills up, a file that vanishes: a failure, in one line
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"xiaming {command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
