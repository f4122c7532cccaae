"""`xiaming generate`: its flags, the output (stdout or a file written through a temporary one) and the call
of `Namer.generate`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..atomic import replace, temp_beside
from .args import MODEL_HELP, add_sampling, as_typed, counted, integer, load_namer, positive_int
from .style import style_namer


def add_generate(sub) -> None:
    p = sub.add_parser("generate", help="generate new names with a trained or shipped model",
                       description="Print N distinct names that are not in the model's training list, each as soon "
                                   "as it is found. Every constraint is applied inside the sampler; when fewer names "
                                   "exist than asked for, those found are printed with the reason. Exit status: 0 "
                                   "when all or some names were found (a note on stderr says how many), 1 when none "
                                   "were or a value is bad, 130 when interrupted (what was printed or written stays).")
    p.add_argument("model", nargs="?", default=None, help=MODEL_HELP + " (default jinyong; same as --model)")
    p.add_argument("--model", dest="model_flag", default=None, metavar="MODEL", help="the same as the positional MODEL")
    p.add_argument("--style", default=None, metavar="MODEL=W,...",
                   help="mix models' styles, e.g. jinyong=0.7,gulong=0.3 (weights are normalised; novelty is "
                        "checked against every list involved; instead of MODEL; default: none)")
    p.add_argument("-n", type=positive_int, default=20, help="how many names, at least 1 (default 20)")
    add_sampling(p)
    p.add_argument("--prefix", dest="prefix", default=None,
                   help="every name starts with this; the model continues it (default none)")
    p.add_argument("--surname", dest="surname", default=None,
                   help="the same as --prefix, for a surname such as 令狐 (default none)")
    p.add_argument("--min-len", type=integer, default=1, help="shortest name in characters, prefix included, 1 to 64 (default 1)")
    p.add_argument("--max-len", type=integer, default=None,
                   help="longest name in characters, prefix included, 1 to 64 (default: the longest training name)")
    p.add_argument("--include", default="", help="at least one of these characters appears (default: no such rule)")
    p.add_argument("--exclude", default="", help="none of these characters appears after the prefix (default none)")
    p.add_argument("--charset", default=None,
                   help="UTF-8 file of the only characters allowed after the prefix (default: every character)")
    p.add_argument("--novelty", choices=("exact", "strict", "off"), default=None,
                   help="which names count as new: exact (not a training name), strict (also not part of, "
                        "containing, glued from, a surname swap of, or one edit from a training name) or off; "
                        "default strict for models of the built-in corpora, else exact")
    p.add_argument("--best", type=positive_int, default=None, metavar="N",
                   help="the N most likely new names under the constraints, by search, N >= 1 (deterministic; "
                        "ignores -n, --seed, --temperature, --top-k, --top-p, --min-p; default off)")
    p.add_argument("--critic", choices=("on", "off"), default=None,
                   help="the realism critic: keep, of several proposals per name, those it rates as reading more "
                        "like real names, in proportion (default on for models that carry one: the shipped wuxia "
                        "models; off elsewhere)")
    p.add_argument("--critic-strength", type=float, default=None, metavar="S",
                   help="how strongly the critic reweights proposals, 0 (off) to 10 (default: the critic's own, 2)")
    p.add_argument("--gender", default=None, metavar="female|male",
                   help="names of women or of men: keep, of 16 proposals per name, those whose given-name characters "
                        "lean that way in modern names, in proportion (any model; default: no preference)")
    p.add_argument("--gender-strength", type=float, default=None, metavar="S",
                   help="how strongly --gender reweights proposals, 0 (off) to 10 (default 4)")
    p.add_argument("--rank", action="store_true", help="print the names from most to least likely (at the end)")
    p.add_argument("--pinyin", action="store_true", help="show each Chinese name's pinyin with tone marks")
    p.add_argument("--seed", type=integer, default=None, help="seed for reproducible output (default: random)")
    p.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="write the names to FILE instead of stdout: written to a temporary file as they are found "
                        "and renamed onto FILE at the end, or on Ctrl-C with the names found so far (default stdout)")
    p.add_argument("--device", default="auto",
                   help="auto or cpu: the numpy engine on the CPU, no torch needed (default auto); cuda or mps: "
                        "torch on that device")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object at the end: each name with its pinyin, score and novelty verdict, "
                        "the rejected candidates with the rule and training name that rejected them, whether fewer "
                        "names were found than asked for and why (every field: README, 'JSON output')")
    p.add_argument("--verbose", action="store_true",
                   help="print the sampling settings used and each rejected candidate, with its rule and training "
                        "name, to stderr")
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
                raise ConfigError(f"-o {output}: is a directory")
            try:
                self.tmp = temp_beside(self.path)
            except OSError as exc:
                raise ConfigError(f"-o {output}: cannot write there ({exc.strerror or exc})") from None
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



def _cmd_generate(args) -> int:
    from ..errors import ConfigError
    from ..evidence.gender import lean_of
    from ..novelty import RULES
    from ..pinyin import name_pinyin
    from ..pretrained import label

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
        from ..constraints import SampleOptions

        SampleOptions(**{k: v for k, v in settings.items() if v is not None}).validate_ranges()
        namer = (style_namer(args.style, args.model or args.model_flag, args.device) if args.style else
                 load_namer(args.model if args.model is not None else args.model_flag, args.device))
        options = namer.options(kind=args.kind, **settings)
        options.validate_ranges()  # the model's defaults and the flags together
        namer.compile(options)
        steering = namer.steering(None if args.critic is None else args.critic == "on", args.critic_strength,
                                  gender=args.gender, gender_strength=args.gender_strength)
        if args.best is None:
            namer.novelty_rule(options, args.novelty)
    except ConfigError as exc:
        as_typed(exc, {"--prefix": prefix_flag})
    if args.verbose:
        print(namer.describe_sampling(options), file=sys.stderr)
        print(steering.describe(), file=sys.stderr)
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
            result = namer.best(args.best, options, args.novelty, steering=steering)
            stream(result.items)
        else:
            result = namer.generate(args.n, options, args.novelty, args.seed, on_names=stream, steering=steering)
    except KeyboardInterrupt:
        sink.close()
        if sink.path is not None:
            print(f"xiaming: interrupted; kept {counted(sink.count, 'name')} in {sink.path}", file=sys.stderr)
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
        print(f"novelty {result.novelty}: {counted(len(result.rejected), 'candidate')} rejected"
              + (f" ({detail})" if detail else ""), file=sys.stderr)
    if args.json:
        # the fields are documented in the README ("JSON output"); the web API's answers use the same names
        sink.write([json.dumps({
            "model": label(namer.path), "novelty": result.novelty, "requested": result.requested, "found": len(items),
            "exhausted": result.exhausted, "searched_all": result.complete, "reason": result.reason,
            "drawn": result.drawn, "searched": result.searched,
            "sampling": None if args.best else options.sampling(), "steering": _steering_json(result.steering),
            "names": [{"name": it.name, "pinyin": name_pinyin(it.name), "log_prob": round(it.log_prob, 4),
                       "bits_per_char": round(it.bits_per_char, 4), "critic": it.critic,
                       "gender": lean_of(it.name).to_dict(), "novelty": "new"}
                      for it in items],
            "rejected": [{"name": name, "rule": why.rule, "training_name": why.training_name}
                         for name, why in result.rejected],
        }, ensure_ascii=False)])
    elif at_end:
        sink.write([line(item) for item in items])
    sink.close()
    if sink.path is not None:
        print(f"xiaming: wrote {counted(len(items), 'name')} to {sink.path}", file=sys.stderr)
    if args.gender and items and not any(lean_of(it.name).known for it in items):
        print(f"xiaming: --gender {args.gender}: the gender table knows none of these names' given-name characters "
              "(it holds Chinese characters), so it could not steer them", file=sys.stderr)
    if not items:
        print(f"xiaming generate: error: found no new names: {result.reason}", file=sys.stderr)
        return 1
    if result.exhausted:
        print(f"xiaming: found only {len(items)} of {result.requested} new names: {result.reason}", file=sys.stderr)
    return 0


def _steering_json(steering) -> dict:
    """The evidence that reweighted the proposals, for --json: {label: strength} and the pool size."""
    return {"evidence": {label: strength for label, _, strength in steering.evidence}, "pool": steering.pool}
