"""The `xiaming` command line: flags only. Each subcommand parses its flags, calls the library and
prints; library errors (`XiamingError`) become one-line messages with exit code 1, bad flags exit
with code 2, Ctrl-C with 130. No traceback reaches the user for anything they can fix.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

from .errors import XiamingError
from .pretrained import SHIPPED


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line instead of usage plus message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


_MODEL_HELP = "checkpoint path or shipped model: " + ", ".join(SHIPPED)


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _add_train(sub) -> None:
    from .models import MODELS, SIZES

    p = sub.add_parser("train", help="train a model on a names file or a built-in corpus",
                       description="Train a character-level model; the best checkpoint (by validation loss) is kept.")
    p.add_argument("names", help="a text file with one name per line, or a built-in corpus (jinyong, gulong, poets)")
    p.add_argument("--model", default=None, help=f"model kind: {', '.join(MODELS)} (default lstm, or the kind of --init)")
    p.add_argument("-o", "--output", required=True, help="checkpoint to write (.safetensors)")
    p.add_argument("--size", choices=SIZES, default=None, help="size preset (default small)")
    g = p.add_argument_group("model shape (override the preset)")
    g.add_argument("--n-layer", type=_positive_int)
    g.add_argument("--n-embd", type=_positive_int)
    g.add_argument("--n-hidden", type=_positive_int, help="recurrent state width (rnn, lstm, gru)")
    g.add_argument("--n-head", type=_positive_int, help="attention heads (transformer)")
    g.add_argument("--order", type=_positive_int, help="n-gram order: characters of context + 1 (ngram, default 4)")
    g.add_argument("--dropout", type=_float)
    t = p.add_argument_group("training")
    t.add_argument("--max-steps", type=_positive_int, default=5000)
    t.add_argument("--max-time", type=_float, default=None, help="stop after this many seconds")
    t.add_argument("--batch-size", type=_positive_int, default=64)
    t.add_argument("--lr", type=_float, default=None, help="peak learning rate (default: per model kind)")
    t.add_argument("--weight-decay", type=_float, default=0.01)
    t.add_argument("--grad-clip", type=_float, default=1.0)
    t.add_argument("--warmup-steps", type=_int, default=100)
    t.add_argument("--eval-interval", type=_positive_int, default=100)
    t.add_argument("--patience", type=_positive_int, default=10, help="validations without improvement before stopping")
    t.add_argument("--val-fraction", type=_float, default=0.1)
    t.add_argument("--unk-rate", type=_float, default=0.5,
                   help="chance that a character seen once is shown as unknown while training (default 0.5)")
    t.add_argument("--seed", type=_int, default=0)
    t.add_argument("--resume", action="store_true", help="continue the run saved beside --output")
    t.add_argument("--init", default=None,
                   help="fine-tune this pretrained checkpoint (path, or the shipped model 'base') instead of starting fresh")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--encoding", default="utf-8", help="encoding of the names file (e.g. gbk)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or report")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=_cmd_train)


def _cmd_train(args) -> int:
    from .corpus import load_names
    from .train import TrainConfig, train

    config = TrainConfig(
        max_steps=args.max_steps, max_time=args.max_time, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, grad_clip=args.grad_clip, warmup_steps=args.warmup_steps,
        eval_interval=args.eval_interval, patience=args.patience, val_fraction=args.val_fraction,
        unk_rate=args.unk_rate, seed=args.seed,
    )
    data = load_names(args.names, encoding=args.encoding)
    overrides = {"n_layer": args.n_layer, "n_embd": args.n_embd, "n_hidden": args.n_hidden,
                 "n_head": args.n_head, "dropout": args.dropout, "order": args.order}
    quiet = args.quiet or args.json
    log: Callable[[str], None] = (lambda _msg: None) if quiet else (lambda msg: print(msg, file=sys.stderr))
    result = train(data, args.model, args.output, config, size=args.size, model_overrides=overrides,
                   resume=args.resume, device=args.device, log=log, progress_bar=not quiet, init=args.init)
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
    return 0


def _add_generate(sub) -> None:
    p = sub.add_parser("generate", help="generate new names with a trained or shipped model",
                       description="Print N distinct names that are not in the model's training list, each as soon "
                                   "as it is found. Every constraint is applied inside the sampler; when fewer names "
                                   "exist than asked for, those found are printed with the reason. Exit status: 0 "
                                   "when all or some names were found (a note on stderr says how many), 1 when none "
                                   "were or a value is bad, 130 when interrupted (what was printed or written stays).")
    p.add_argument("model", nargs="?", default=None, help=_MODEL_HELP + " (default jinyong; same as --model)")
    p.add_argument("--model", dest="model_flag", default=None, metavar="MODEL", help="the same as the positional MODEL")
    p.add_argument("-n", type=_positive_int, default=20, help="how many names, at least 1 (default 20)")
    p.add_argument("--temperature", type=_float, default=None,
                   help="0 is greedy, else 0.01 to 100; higher is wilder (default 1, or the model's own default)")
    p.add_argument("--top-k", type=_positive_int, default=None,
                   help="sample among the K likeliest characters, K >= 1 (default off)")
    p.add_argument("--top-p", type=_float, default=None,
                   help="sample among the likeliest characters holding this mass, in (0, 1] (default off)")
    p.add_argument("--min-p", type=_float, default=None,
                   help="drop characters less likely than this times the likeliest one, in [0, 1] (default off)")
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
    p.add_argument("--device", default="cpu",
                   help="cpu (default: the numpy engine, no torch needed), cuda, mps or auto (torch)")
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
    """The generation object on the numpy engine for the CPU, on torch for any other device."""
    from .namer import Namer

    if device == "cpu":
        return Namer.load(model)
    from .devices import pick_device

    return Namer.load(model, engine="torch", device=str(pick_device(device)))


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
        namer = _load_namer(args.model if args.model is not None else args.model_flag, args.device)
        options = namer.options(**settings)
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
    p.add_argument("--model", default=None, help=_MODEL_HELP + " (default jinyong)")
    p.add_argument("--pinyin", action="store_true", help="show each Chinese name's pinyin with tone marks")
    p.add_argument("--device", default="cpu",
                   help="cpu (default: the numpy engine, no torch needed), cuda, mps or auto (torch)")
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

    names = _score_inputs(args)
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


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="held-out loss and sample statistics of a model",
                       description="Score held-out names (nats and bits per character, end token counted) and "
                                   "describe N unfiltered samples: novelty, uniqueness, fragments, glued names, "
                                   "length fit.")
    p.add_argument("model", help=_MODEL_HELP)
    p.add_argument("names", help="held-out names: a file (one per line, every non-blank line scored, repeats too) or a built-in corpus")
    p.add_argument("-n", "--samples", dest="samples", type=_int, default=1000,
                   help="names to draw for the sample statistics (default 1000; 0 skips them)")
    p.add_argument("--seed", type=_int, default=0, help="seed of the samples (default 0)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, mps or auto")
    p.add_argument("--encoding", default="utf-8", help="encoding of the names file (e.g. gbk)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_cmd_eval)


def _cmd_eval(args) -> int:
    from . import load_model
    from .devices import pick_device
    from .errors import ConfigError
    from .evaluate import evaluate, load_eval_names

    if args.samples < 0:
        raise ConfigError(f"-n {args.samples}: must be 0 or more")
    model = load_model(args.model, device=str(pick_device(args.device)))
    names = load_eval_names(args.names, encoding=args.encoding)
    result = evaluate(model, names, n_samples=args.samples, seed=args.seed)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    h, s = result.held_out, result.samples
    print(f"model    {result.model} ({result.kind}, {result.parameters:,} parameters)")
    print(f"held out {result.source}: {h.names} names, {h.chars} predictions (end tokens counted), "
          f"{h.unknown_chars} unknown characters, {h.in_training:.1%} also in the training list")
    print(f"         {h.nats_per_char:.4f} nats/char  {h.bits_per_char:.4f} bits/char")
    if s is not None:
        print(f"samples  {s.samples} drawn at temperature 1, no filter (seed {result.seed}), mean length {s.mean_length:.2f}")
        print(f"         novelty {s.novelty:.1%}  uniqueness {s.uniqueness:.1%}  fragments {s.fragments:.1%}  "
              f"glued {s.glued:.1%} (real held-out names: {h.glued:.1%})")
        print(f"         length TV {s.length_tv:.3f} to the training names, {s.names_length_tv:.3f} to the held-out names")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    """The full parser; exposed for tests and documentation."""
    from . import __version__

    parser = _Parser(prog="xiaming", description="侠名: a character-level neural name generator")
    parser.add_argument("--version", action="version", version=f"xiaming {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in (_add_generate, _add_score, _add_train, _add_eval, _add_corpora):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `xiaming` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except XiamingError as exc:
        print(f"xiaming {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("xiaming: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`xiaming generate | head`): stop quietly, and point stdout at
        # devnull so Python's final flush does not raise again (the recipe in Python's signal docs).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
