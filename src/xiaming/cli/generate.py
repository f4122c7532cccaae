"""`xiaming generate`: its flags, the output (stdout or a file written through a temporary one) and the call
of `Namer.generate`.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path

from ..atomic import replace, temp_beside
from .args import (
    MODEL_HELP,
    add_blend,
    add_device,
    add_sampling,
    counted,
    integer,
    load_namer,
    positive_int,
    sampling_settings,
    seed_int,
)
from .style import style_namer


def add_generate(sub) -> None:
    p = sub.add_parser(
        "generate",
        help="generate new names with a trained or shipped model",
        description="Print N distinct names that are not in the model's training list, each as soon "
        "as it is found. Every constraint is applied inside the sampler; when fewer names "
        "exist than asked for, those found are printed with the reason. Exit status: 0 "
        "when all or some names were found (a note on stderr says how many), 1 when none "
        "were or a value is bad, 130 when interrupted (what was printed or written stays).",
    )
    p.add_argument("model", nargs="?", default=None, help=MODEL_HELP + " (default jinyong; same as --model)")
    p.add_argument("--model", dest="model_flag", default=None, metavar="MODEL", help="the same as the positional MODEL")
    p.add_argument(
        "--style",
        default=None,
        metavar="MODEL=W,...",
        help="mix models' styles, e.g. jinyong=0.7,gulong=0.3 (weights are normalised; novelty is "
        "checked against every list involved; instead of MODEL; default: none)",
    )
    p.add_argument("-n", type=positive_int, default=20, help="how many names, at least 1 (default 20)")
    add_sampling(p)
    p.add_argument(
        "--prefix",
        dest="prefix",
        default=None,
        help="every name starts with this; the model continues it (default none)",
    )
    p.add_argument(
        "--surname",
        dest="surname",
        default=None,
        help="the same as --prefix, for a surname such as 令狐 (default none)",
    )
    p.add_argument(
        "--min-len", type=integer, default=1, help="shortest name in characters, prefix included, 1 to 64 (default 1)"
    )
    p.add_argument(
        "--max-len",
        type=integer,
        default=None,
        help="longest name in characters, prefix included, 1 to 64 (default: the longest training name)",
    )
    p.add_argument("--include", default="", help="at least one of these characters appears (default: no such rule)")
    p.add_argument("--exclude", default="", help="none of these characters appears after the prefix (default none)")
    p.add_argument(
        "--charset",
        default=None,
        help="UTF-8 file of the only characters allowed after the prefix (default: every character)",
    )
    p.add_argument(
        "--novelty",
        choices=("exact", "strict", "off"),
        default=None,
        help="which names count as new: exact (not a training name), strict (also not part of, "
        "containing, glued from, a surname swap of, or one edit from a training name) or off; "
        "default strict for models of the built-in corpora, else exact",
    )
    p.add_argument(
        "--best",
        type=positive_int,
        default=None,
        metavar="N",
        help="the N most likely new names under the constraints, by search, N >= 1 (deterministic; "
        "ignores -n, --seed, --temperature, --top-k, --top-p, --min-p, --word-lean; default off)",
    )
    p.add_argument(
        "--critic",
        choices=("on", "off"),
        default=None,
        help="the realism critic: keep, of several proposals per name, those it rates as reading more "
        "like real names, in proportion (default on for models that carry one: the shipped wuxia "
        "models; off elsewhere)",
    )
    p.add_argument(
        "--critic-strength",
        type=float,
        default=None,
        metavar="S",
        help="how strongly the critic reweights proposals, 0 (off) to 10 (default: the critic's own, 2)",
    )
    p.add_argument(
        "--gender",
        default=None,
        metavar="female|male",
        help="names of women or of men: keep, of 32 proposals per name, those whose given-name characters "
        "lean that way in modern names, in proportion (any model; default: no preference)",
    )
    p.add_argument(
        "--gender-strength",
        type=float,
        default=None,
        metavar="S",
        help="how strongly --gender reweights proposals, 0 (off) to 10 (default 6)",
    )
    p.add_argument(
        "--epithets",
        choices=("composed", "model"),
        default=None,
        help="with --kind epithet: composed from the wuxia lists' own parts (a modifier or a surname, then "
        "a role word: 冷面 + 剑客), one of 4 kept by a judge fitted to readers' ratings, or drawn by the model "
        "character by character (default composed for the models of the built-in wuxia lists; sampling "
        "settings and the critic apply to the model's own draws only; --best gives those; with --gender, a "
        "woman's composed epithet ends in a woman's title: 仙子, 夫人, 婆婆)",
    )
    p.add_argument(
        "--without-surname",
        dest="surnameless",
        choices=("on", "off"),
        default=None,
        help="personal names without a surname in the list's share, monks' and nuns' names of a generation "
        "and pet names (玄慈, 仪琳, 阿朱), drawn by the model among the characters the genre's such names "
        "have (default on for the models of the built-in wuxia lists when no prefix, included characters or "
        "charset is asked; with --gender, only that gender's: nuns' 仪, 定, 静 and pet names for women; off: "
        "every name as the model and its critic give it)",
    )
    p.add_argument("--rank", action="store_true", help="print the names from most to least likely (at the end)")
    p.add_argument("--pinyin", action="store_true", help="show each Chinese name's pinyin with tone marks")
    p.add_argument("--seed", type=seed_int, default=None, help="seed for reproducible output (default: random)")
    p.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE",
        help="write the names to FILE instead of stdout: written to a temporary file as they are found "
        "and renamed onto FILE at the end, or on Ctrl-C with the names found so far (default stdout)",
    )
    add_device(p, "numpy")
    add_blend(p)
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object at the end: each name with its pinyin, score and novelty verdict, "
        "the rejected candidates with the rule and training name that rejected them, whether fewer "
        "names were found than asked for and why (every field: README, 'JSON output')",
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="print the sampling settings used and each rejected candidate, with its rule and training name, to stderr",
    )
    p.set_defaults(run=_cmd_generate)


def _read_charset(path: str) -> str:
    from ..errors import DataError

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
            from ..errors import ConfigError

            if self.path.is_dir():
                raise ConfigError("output", output, "is a directory")
            try:
                self.tmp = temp_beside(self.path)
            except OSError as exc:
                raise ConfigError("output", output, f"cannot write there ({exc.strerror or exc})") from None
            self.stream = open(self.tmp, "w", encoding="utf-8")

    def write(self, lines: list[str]) -> None:
        for line in lines:
            self.stream.write(line + "\n")
        self.count += len(lines)
        self.stream.flush()

    def close(self) -> None:
        if self.tmp is not None:
            self.stream.close()
            replace(self.tmp, self.path)
            self.tmp = None

    def discard(self) -> None:
        if self.tmp is not None:
            self.stream.close()
            self.tmp.unlink(missing_ok=True)
            self.tmp = None

    @contextmanager
    def kept_on_interrupt(self):
        """Ctrl-C keeps the names written so far (renamed onto FILE, with a note); any other error discards them."""
        try:
            yield self
        except KeyboardInterrupt:
            self.close()
            if self.path is not None:
                print(f"xiaming: interrupted; kept {counted(self.count, 'name')} in {self.path}", file=sys.stderr)
            raise
        except BaseException:
            self.discard()
            raise


def _cmd_generate(args) -> int:
    from ..pretrained import label

    namer, request = _prepare(args)
    if args.verbose:
        print(_describe(namer, request, args.best is not None), file=sys.stderr)
    sink = _Sink(args.output)
    write = lambda items: sink.write([_line(item, args.pinyin) for item in items])  # noqa: E731
    with sink.kept_on_interrupt():
        result = _draw(args, namer, request, None if args.json or args.rank else write)
    if args.verbose:
        _print_rejected(result)
    if args.json:
        sink.write([json.dumps(result.to_dict(label(namer.path), args.rank), ensure_ascii=False)])
    elif args.rank or args.best:
        write(result.ranked() if args.rank else result.items)
    sink.close()
    return _report(args, sink, result)


def _prepare(args):
    """The model and the checked request of the flags (a bad value fails before the model loads)."""
    from ..errors import ConfigError
    from ..generation.constraints import check_settings

    settings = _settings(args)
    check_settings(**settings)
    if args.style and args.blend is not None:
        raise ConfigError(
            "blend", args.blend, "applies to one model; with {style} give base a weight instead", refs=("style",)
        )
    if args.style:
        namer = style_namer(args.style, _model(args), args.device)
    else:
        namer = load_namer(_model(args), args.device, args.blend)
    critic = None if args.critic is None else args.critic == "on"
    request = namer.prepare(
        args.kind,
        args.novelty,
        critic,
        args.critic_strength,
        args.gender,
        args.gender_strength,
        search=args.best is not None,
        compose=None if args.epithets is None else args.epithets == "composed",
        surnameless=None if args.surnameless is None else args.surnameless == "on",
        **settings,
    )
    return namer, request


def _describe(namer, request, search: bool) -> str:
    """--verbose: how the names are made: the sampling settings and the steering, or the composition."""
    if not search and namer.epithet_parts(request.options, request.compose, request.steering):
        from ..evidence.judge import shipped_judge
        from ..generation.epithets import POOL

        judge = "the epithet judge" if shipped_judge() is not None else "the model's probability"
        return f"epithets: composed from the wuxia lists' parts, one of {POOL} kept by {judge}"
    lines = [namer.describe_sampling(request.options), request.steering.describe()]
    table = (
        None
        if search or request.surnameless is False
        else namer.personal_surnameless(request.options, request.steering)
    )
    if table is not None:
        lines.append(
            f"surnameless: {table.share:.1%} of names without a surname ({', '.join(h for h, _ in table.heads)})"
        )
    return "\n".join(lines)


def _draw(args, namer, request, on_names):
    """The names of --best (by search) or of sampling; sampled names go to `on_names` as they are found
    (None: --json or --rank needs them all first)."""
    if args.best:
        return namer.best(args.best, request.options, request.novelty, steering=request.steering)
    return namer.generate(
        args.n,
        request.options,
        request.novelty,
        args.seed,
        steering=request.steering,
        on_names=on_names,
        compose=request.compose,
        surnameless=request.surnameless,
    )


def _settings(args) -> dict:
    """The sampling settings of the flags, by SampleOptions field (None: the model's default)."""
    from ..errors import NO_VALUE, ConfigError

    if args.prefix is not None and args.surname is not None:
        raise ConfigError("prefix", NO_VALUE, "give {prefix} or {surname}, not both", refs=("prefix", "surname"))
    return dict(
        **sampling_settings(args),
        prefix=args.surname if args.surname is not None else (args.prefix or ""),
        min_len=args.min_len,
        max_len=args.max_len,
        exclude=args.exclude,
        include=args.include,
        charset=_read_charset(args.charset) if args.charset else None,
    )


def _model(args) -> str | None:
    """The model named by the positional MODEL or by --model (not both)."""
    from ..errors import NO_VALUE, ConfigError

    if args.model is not None and args.model_flag is not None:
        raise ConfigError("model", NO_VALUE, "give MODEL or --model, not both")
    return args.model if args.model is not None else args.model_flag


def _line(item, pinyin: bool) -> str:
    """One name as plain output prints it, with its pinyin when asked."""
    from ..data.pinyin import name_pinyin

    reading = name_pinyin(item.name) if pinyin else None
    return f"{item.name}  {reading}" if reading else item.name


def _print_rejected(result) -> None:
    """--verbose: each candidate the novelty rule rejected, and the count by rule."""
    from ..generation.novelty import RULES

    for name, why in result.rejected:
        print(f"rejected {name}: {why.describe()} ({why.rule})", file=sys.stderr)
    counts = {rule: sum(1 for _, why in result.rejected if why.rule == rule) for rule in RULES}
    detail = ", ".join(f"{rule} {count}" for rule, count in counts.items() if count)
    print(
        f"novelty {result.novelty}: {counted(len(result.rejected), 'candidate')} rejected"
        + (f" ({detail})" if detail else ""),
        file=sys.stderr,
    )


def _report(args, sink, result) -> int:
    """The notes on stderr after the names, and the exit status: 1 when no name was found."""
    from ..evidence.gender import lean_of

    items = result.items
    if sink.path is not None:
        print(f"xiaming: wrote {counted(len(items), 'name')} to {sink.path}", file=sys.stderr)
    if args.gender and items and not any(lean_of(it.name).known for it in items):
        print(
            f"xiaming: --gender {args.gender}: the gender table knows none of these names' given-name characters "
            "(it holds Chinese characters), so it could not steer them",
            file=sys.stderr,
        )
    if not items:
        print(f"xiaming generate: error: found no new names: {result.reason}", file=sys.stderr)
        return 1
    if result.exhausted:
        print(f"xiaming: found only {len(items)} of {result.requested} new names: {result.reason}", file=sys.stderr)
    return 0
