"""Commands that read a model or a list without generating: score, explain, eval, corpora, models."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from ..errors import NO_VALUE, ConfigError
from .args import (
    MODEL_HELP,
    add_blend,
    add_device,
    add_sampling,
    load_namer,
    non_negative_int,
    positive_int,
    sampling_settings,
    seed_int,
)


def add_score(sub) -> None:
    p = sub.add_parser(
        "score",
        help="how likely a model finds given names",
        description="For each name: total log-probability, bits per character, the probability "
        "of each character given the ones before it (and of the end), and its "
        "percentile among the training names (share of them it scores better than, "
        "per character). Names come from the command line, from a file (--file), or "
        "from standard input (a NAME of -), one per line, blank lines skipped.",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="names to score; - reads names from standard input")
    p.add_argument(
        "--file",
        "-f",
        default=None,
        metavar="FILE",
        help="read names from this UTF-8 file, one per line (default: none)",
    )
    p.add_argument(
        "--max-name-len",
        type=positive_int,
        default=32,
        help="skip (with a warning) names longer than this many characters (default 32)",
    )
    p.add_argument("--model", default=None, help=MODEL_HELP + " (default jinyong)")
    p.add_argument("--pinyin", action="store_true", help="show each Chinese name's pinyin with tone marks")
    add_device(p, "numpy")
    add_blend(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_cmd_score)


def _score_inputs(args) -> list[str]:
    """The names to score, in order: arguments, standard input for each -, then --file; ConfigError/DataError when none."""

    names: list[str] = []
    for arg in args.names:
        if arg == "-":
            names.extend(line.strip() for line in sys.stdin.read().splitlines() if line.strip())
            continue
        if not arg.strip():
            raise ConfigError("names", arg, "an empty name cannot be scored")
        names.append(arg.strip())
    if args.file is not None:
        from ..data.corpus import TooLong, check_names_file, iter_lines, no_names

        # read line by line: a line over --max-name-len is skipped, with its line number, without being held
        path = check_names_file(args.file, f"--file {args.file}")  # not a directory, device or socket
        too_long = TooLong(f"--file {args.file}", args.max_name_len)
        for line, name in iter_lines(path, max_len=args.max_name_len, hint="save it as UTF-8"):
            if name is None:
                too_long.add(line)
            elif name:
                names.append(name)
        too_long.warn()
    if not names and args.file is not None and too_long.count:
        raise no_names(f"--file {args.file}", too_long)
    if not names:
        raise ConfigError(
            "names", NO_VALUE, "no names to score (give names, - for standard input, or {file})", refs=("file",)
        )
    return names


def _cmd_score(args) -> int:
    from ..data.corpus import drop_long
    from ..data.pinyin import name_pinyin
    from ..data.vocab import END_TEXT
    from ..evidence.gender import lean_of
    from ..generation.score import percentile
    from ..pretrained import label

    names = drop_long(_score_inputs(args), args.max_name_len, "NAME")
    if not names:
        raise ConfigError(
            "names", NO_VALUE, f"every name is longer than {{max_name_len}} {args.max_name_len}", refs=("max_name_len",)
        )
    namer = load_namer(args.model, args.device, args.blend)
    reference = namer.reference()
    rows = []
    for s, rating in zip(namer.score(names), namer.rate(names)):
        probs = [math.exp(lp) for lp in s.char_log_probs]
        rows.append(
            {
                "name": s.name,
                "pinyin": name_pinyin(s.name),
                "log_prob": round(s.log_prob, 4),
                "bits_per_char": round(s.bits_per_char, 4),
                "chars": [{"char": c, "p": p, "known": c in namer.vocab} for c, p in zip(s.name, probs)],
                "end_p": probs[-1],
                "percentile": percentile(s.bits_per_char, reference),
                "gender": lean_of(s.name).to_dict(),
                "critic": rating,
            }
        )
    if args.json:
        print(
            json.dumps(
                {"model": label(namer.path), "reference_names": len(reference), "names": rows}, ensure_ascii=False
            )
        )
        return 0
    for row in rows:
        reading = f"  {row['pinyin']}" if args.pinyin and row["pinyin"] else ""
        where = "" if row["percentile"] is None else f"  percentile {row['percentile']:.0f}"
        print(f"{row['name']}{reading}  log p {row['log_prob']:.2f}  {row['bits_per_char']:.2f} bits/char{where}")
        chars = "  ".join(f"{c['char']} {c['p']:.3g}" + ("" if c["known"] else " (unknown)") for c in row["chars"])
        print(f"    {chars}  {END_TEXT} {row['end_p']:.3g}")
        if row["gender"]["verdict"] != "unknown":
            print(f"    gender lean: {lean_of(row['name']).describe()}")
    print(f"percentile: share of {len(reference):,} training names with more bits per character", file=sys.stderr)
    if any(row["gender"]["verdict"] != "unknown" for row in rows):
        print(
            "gender lean: mean log-odds, women's vs men's given names today, of the given name's characters "
            "(> 0 female; the surname does not count)",
            file=sys.stderr,
        )
    return 0


def add_explain(sub) -> None:
    p = sub.add_parser(
        "explain",
        help="a look inside the model, one name at a time",
        description="Step by step: the probability of each character of NAME (and of the end) and "
        "the likeliest alternatives; for LSTM models also the input, forget and output "
        "gates and the cell state at each step, and the hidden units that track the "
        "position in the name or the surname boundary (Pearson r over the training "
        "names). As text, as JSON, or as a heatmap picture with -o FILE.png.",
    )
    p.add_argument("name", metavar="NAME", help="the name to explain")
    p.add_argument("--model", default=None, help=MODEL_HELP + " (default jinyong)")
    p.add_argument("--top", type=positive_int, default=5, help="alternatives shown per step, at least 1 (default 5)")
    p.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE.png",
        help='also draw the explanation as a PNG heatmap (needs matplotlib: pip install "xiaming[plot]"; '
        "default: no picture)",
    )
    add_blend(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(run=_cmd_explain)


def _cmd_explain(args) -> int:
    from ..data.pinyin import name_pinyin
    from ..generation.explain import format_text, plot
    from ..generation.namer import Namer

    namer = Namer.load(args.model, blend=args.blend)
    result = namer.explain(args.name, top=args.top)
    if args.output:
        plot(result, args.output)
    if args.json:
        print(json.dumps({**result.to_dict(), "pinyin": name_pinyin(result.name)}, ensure_ascii=False))
    else:
        print(format_text(result))
    if args.output:
        print(f"xiaming: wrote {args.output}", file=sys.stderr)
    return 0


def add_eval(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="held-out loss and sample statistics of a model",
        description="Score held-out names (nats and bits per character, end token counted) and "
        "describe N unfiltered samples: novelty, uniqueness, fragments, glued names, "
        "length fit. With --realism: how well a classifier tells the names generate "
        "would print from the held-out names (which should be real names the model never "
        "saw; 50% = it cannot), the features that give them away, and their variety.",
    )
    p.add_argument("model", help=MODEL_HELP)
    p.add_argument(
        "names",
        help="held-out names: a file (one per line, every non-blank line scored, repeats too) or a built-in corpus",
    )
    p.add_argument(
        "-n",
        "--samples",
        dest="samples",
        type=non_negative_int,
        default=1000,
        help="names to draw for the sample statistics (default 1000; 0 skips them)",
    )
    p.add_argument("--seed", type=seed_int, default=0, help="seed of the samples (default 0)")
    g = p.add_argument_group("sampling of the samples (default: the model's own defaults, as generate uses them)")
    add_sampling(g)
    r = p.add_argument_group("realism (needs scikit-learn: pip install 'xiaming[eval]')")
    r.add_argument(
        "--realism",
        action="store_true",
        help="compare N names as generate prints them with the held-out names: classifier accuracy "
        "(detectability, mean ± sd over 5 folds) and variety",
    )
    r.add_argument(
        "--classifier",
        choices=("logistic", "bayes", "forest"),
        default="logistic",
        help="classifier family for --realism (default logistic regression)",
    )
    add_device(p)  # one --device default (auto) for every command
    p.add_argument("--encoding", default="utf-8", help="encoding of the names file (e.g. gbk)")
    p.add_argument(
        "--max-name-len",
        type=positive_int,
        default=32,
        help="skip (with a warning naming their lines) names longer than this many characters (default 32)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_cmd_eval)


def _cmd_eval(args) -> int:
    from .. import load_model
    from ..errors import ConfigError
    from ..generation.evaluate import evaluate, load_eval_names

    if args.samples < 0:
        raise ConfigError("samples", args.samples, "must be 0 or more")
    model = load_model(args.model, device=args.device)
    names = load_eval_names(args.names, encoding=args.encoding, max_len=args.max_name_len)
    options = model.options(kind=args.kind, **sampling_settings(args))
    options.validate_ranges()
    result = evaluate(
        model,
        names,
        n_samples=args.samples,
        seed=args.seed,
        options=options,
        realism=args.realism,
        classifier=args.classifier,
    )
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    h, s = result.held_out, result.samples
    print(f"model    {result.model} ({result.kind}, {result.parameters:,} parameters)")
    print(
        f"held out {result.source}: {h.names} names, {h.chars} predictions (end tokens counted), "
        f"{h.unknown_chars} unknown characters, {h.in_training:.1%} also in the training list"
    )
    print(f"         {h.nats_per_char:.4f} nats/char  {h.bits_per_char:.4f} bits/char")
    if s is not None:
        print(
            f"samples  {s.samples} drawn, no filter (seed {result.seed}), mean length {s.mean_length:.2f}; {result.sampling}"
        )
        print(
            f"         novelty {s.novelty:.1%}  uniqueness {s.uniqueness:.1%}  fragments {s.fragments:.1%}  "
            f"glued {s.glued:.1%} (real held-out names: {h.glued:.1%})"
        )
        print(
            f"         length TV {s.length_tv:.3f} to the training names, {s.names_length_tv:.3f} to the held-out names"
        )
    if result.realism is not None:
        _print_realism(result.realism)
    return 0


def _print_realism(r) -> None:
    """The realism figures of `xiaming eval --realism`, in a few lines."""
    from ..generation.realism import describe_telltales

    d, v = r.detectability, r.variety
    print(
        f"realism  {r.generated} names as generate prints them against {r.real} held-out names: a {d.classifier} "
        f"classifier tells them apart {d.accuracy:.1%} ± {d.sd:.1%} of the time ({d.folds}-fold; 50% = not at all)"
    )
    print(f"         samples give themselves away by: {describe_telltales(d.telltales, 'samples') or 'nothing'}")
    print(f"         real names by: {describe_telltales(d.telltales, 'real') or 'nothing'}")
    new = f" (held-out names: {v.real_foreign:.1%})" if v.real_foreign is not None else ""
    print(
        f"         variety: {v.distinct:.1%} distinct, character entropy {v.char_entropy:.2f} bits "
        f"(held-out names: {v.real_char_entropy:.2f}), {v.foreign:.1%} hold a character the training list never "
        f"uses{new}, length TV {v.length_tv:.3f}"
    )
    print(f"         e.g. {' '.join(r.examples)}")


def add_corpora(sub) -> None:
    p = sub.add_parser("corpora", help="list the built-in name corpora")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_cmd_corpora)


def _cmd_corpora(args) -> int:
    from .. import corpora

    rows = corpora.listing()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": r.name,
                        "description": r.description,
                        "names": r.names,
                        "rows": r.rows,
                        "works": list(r.works),
                    }
                    for r in rows
                ],
                ensure_ascii=False,
            )
        )
        return 0
    width = max(len(r.name) for r in rows)
    for r in rows:
        print(f"{r.name:<{width}} {r.names:>5} names from {len(r.works):>2} works  {r.description}")
    return 0


def add_models(sub) -> None:
    p = sub.add_parser(
        "models",
        help="list the shipped models and given checkpoints with what each was trained on",
        description="One line per model: name or path, kind, parameters, training names, the data "
        "it was trained on, the base it was fine-tuned from and the model it generates blended with, if any. "
        "A checkpoint given by path is read whole and checked as a load checks it, so a damaged file is "
        "named here rather than when it is first used; the shipped models' metadata only.",
    )
    p.add_argument("checkpoints", nargs="*", metavar="CHECKPOINT", help="checkpoint files to describe as well")
    p.add_argument("--json", action="store_true", help="print one JSON list")
    p.set_defaults(run=_cmd_models)


def _model_row(name: str, path: Path, whole: bool = False) -> dict:
    """What a checkpoint's metadata says about it, checked as a load checks it; `whole` reads and checks
    its tensors too (a user's file: flipped bytes in the weights or the name list are found now).
    CheckpointError naming the file and the field if it cannot say."""
    from ..checkpoint import FORMAT, read_checkpoint
    from ..validate import check_card, read_metadata

    # whole: every field, tensor and value, read once (a StoredModel); else the card alone. Both carry
    # the kind, the training record and the blend
    read = read_checkpoint(path) if whole else check_card(read_metadata(path, FORMAT))
    train = read.train
    return {
        "name": name,
        "path": str(path),
        "kind": read.kind,
        "parameters": train.parameters,
        "names": train.names,
        "data": train.source,
        "base": train.init,
        "blend": read.blend.to_dict() if read.blend else None,
        "best_val_bits": train.best_val_bits,
    }


def _cmd_models(args) -> int:
    from ..pretrained import available, resolve, shipped_path

    rows = [_model_row(name, shipped_path(name)) for name in available()]
    rows += [_model_row(path, resolve(path), whole=True) for path in args.checkpoints]  # a path, or a shipped name
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    width = max(len(r["name"]) for r in rows) if rows else 0
    for r in rows:
        params = f"{r['parameters']:,}" if isinstance(r["parameters"], int) else "?"
        names = f"{r['names']:,} names" if isinstance(r["names"], int) else "? names"
        base = f", fine-tuned from {r['base']}" if r["base"] else ""
        blend = f"; generates blended with {r['blend']['model']} ({r['blend']['weight']:g})" if r["blend"] else ""
        print(
            f"{r['name']:<{width}}  {r['kind']:<11} {params:>9} parameters  trained on {r['data']} ({names}){base}{blend}"
        )
    return 0
