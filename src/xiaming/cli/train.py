"""`xiaming train`: its flags, and the call of `xiaming.train`."""

from __future__ import annotations

import json
import sys
from typing import Callable

from .args import add_device, integer, number, positive_int, seed_int

# Flags that map one-to-one onto TrainConfig fields (their defaults live there, shown in the help).
_TRAIN_FLAGS = (
    "max_steps",
    "max_time",
    "batch_size",
    "lr",
    "weight_decay",
    "grad_clip",
    "warmup_steps",
    "eval_interval",
    "patience",
    "val_fraction",
    "unk_rate",
    "seed",
)


def add_train(sub) -> None:
    from ..data.corpus import MAX_NAME_LEN
    from ..models import MODELS, SIZES
    from ..training.config import (
        EVAL_INTERVAL_MAX,
        EVAL_INTERVAL_MIN,
        FINE_TUNE_DROPOUT,
        PATIENCE_MAX,
        PATIENCE_MIN,
        TrainConfig,
    )

    d = TrainConfig()
    p = sub.add_parser(
        "train",
        help="train a model on a names file or a built-in corpus",
        description="Train a character-level model; the best checkpoint (by validation loss) is kept "
        "at --output, the resumable state beside it. An existing output is replaced only "
        "with --force or continued with --resume; one run at a time per output.",
    )
    p.add_argument("names", help="a text file with one name per line, or a built-in corpus (jinyong, gulong, poets)")
    p.add_argument(
        "--model", default=None, help=f"model kind: {', '.join(MODELS)} (default lstm, or the kind of --init)"
    )
    p.add_argument("-o", "--output", required=True, help="checkpoint to write (.safetensors); required")
    p.add_argument("--force", action="store_true", help="replace an existing --output and its training state")
    p.add_argument("--size", choices=SIZES, default=None, help="size preset of the model shape (default small)")
    g = p.add_argument_group("model shape (override the preset)")
    g.add_argument("--n-layer", type=integer, help="stacked layers (default: from --size)")
    g.add_argument("--n-embd", type=integer, help="character embedding width (default: from --size)")
    g.add_argument("--n-hidden", type=integer, help="recurrent state width, rnn, lstm, gru (default: from --size)")
    g.add_argument("--n-head", type=integer, help="attention heads, transformer (default: from --size)")
    g.add_argument("--order", type=integer, help="n-gram order: characters of context + 1, ngram (default 4)")
    g.add_argument(
        "--dropout", type=number, help=f"dropout rate in [0, 1) (default: from --size; {FINE_TUNE_DROPOUT} with --init)"
    )
    t = p.add_argument_group("training")
    t.add_argument("--max-steps", type=integer, help=f"updates at most (default {d.max_steps})")
    t.add_argument("--max-time", type=number, help="stop after this many seconds (default: no limit)")
    t.add_argument("--batch-size", type=integer, help=f"names per step (default {d.batch_size})")
    t.add_argument("--lr", type=number, help="peak learning rate (default: per model kind, a third of it with --init)")
    t.add_argument("--weight-decay", type=number, help=f"AdamW weight decay (default {d.weight_decay})")
    t.add_argument("--grad-clip", type=number, help=f"gradient norm clip (default {d.grad_clip})")
    t.add_argument("--warmup-steps", type=integer, help=f"linear warmup steps (default {d.warmup_steps})")
    t.add_argument(
        "--eval-interval",
        type=integer,
        help="steps between validations (default: about one pass over the training names, "
        f"{EVAL_INTERVAL_MIN} to {EVAL_INTERVAL_MAX} steps: {EVAL_INTERVAL_MIN} for a short list, "
        f"{EVAL_INTERVAL_MAX} for {EVAL_INTERVAL_MAX * d.batch_size:,} names and more)",
    )
    t.add_argument(
        "--patience",
        type=integer,
        help="validations without improvement before stopping (default: with the interval, "
        f"{PATIENCE_MIN} for a short list to {PATIENCE_MAX} for a long one)",
    )
    t.add_argument(
        "--val-fraction",
        type=number,
        help=f"share of names held out for validation, in (0, 1) (default {d.val_fraction})",
    )
    t.add_argument(
        "--unk-rate",
        type=number,
        help=f"chance that a character seen once is shown as unknown while training, in [0, 1) (default {d.unk_rate})",
    )
    t.add_argument("--seed", type=seed_int, help=f"seeds the split, the weights and the batches (default {d.seed})")
    t.add_argument(
        "--resume",
        action="store_true",
        help="continue the run saved beside --output with its saved settings; only --max-steps, "
        "--max-time and --patience may change (others that differ are refused unless --force)",
    )
    t.add_argument(
        "--init",
        default=None,
        help="fine-tune this pretrained checkpoint (path, or the shipped model 'base') instead of "
        "starting fresh (default: none)",
    )
    p.add_argument(
        "--max-name-len",
        type=positive_int,
        default=MAX_NAME_LEN,
        help=f"skip (with a warning naming their lines) names longer than this many characters "
        f"(default {MAX_NAME_LEN})",
    )
    add_device(p)
    p.add_argument("--encoding", default="utf-8", help="encoding of the names file, e.g. gbk (default utf-8)")
    p.add_argument(
        "--stream",
        action="store_true",
        help="read the names file in bounded memory, for lists of millions of names: batches come from "
        "a packed copy in a temporary folder; the run is the same as without (default: off)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or report")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=_cmd_train)


def _cmd_train(args) -> int:
    from ..data.corpus import load_names
    from ..training.loop import train
    from ..training.parallel import is_main_process
    from ..training.plan import TrainConfig, resume_config

    given = {name: getattr(args, name) for name in _TRAIN_FLAGS if getattr(args, name) is not None}
    config = (resume_config(args.output, given) if args.resume else None) or TrainConfig(**given)
    config.validate()
    if args.stream:
        from ..training.stream import StreamedNames

        data = StreamedNames(args.names, encoding=args.encoding, max_len=args.max_name_len)
    else:
        data = load_names(args.names, encoding=args.encoding, max_len=args.max_name_len)
    overrides = {
        "n_layer": args.n_layer,
        "n_embd": args.n_embd,
        "n_hidden": args.n_hidden,
        "n_head": args.n_head,
        "dropout": args.dropout,
        "order": args.order,
    }
    quiet = args.quiet or args.json
    log: Callable[[str], None] = (lambda _msg: None) if quiet else (lambda msg: print(msg, file=sys.stderr))
    result = train(
        data,
        args.model,
        args.output,
        config,
        size=args.size,
        model_overrides=overrides,
        resume=args.resume,
        device=args.device,
        log=log,
        progress_bar=not quiet,
        init=args.init,
        force=args.force,
    )
    if not is_main_process():  # under torchrun, rank 0 alone reports
        return 130 if result.stopped == "interrupted" else 0
    if args.json:
        print(
            json.dumps(
                {
                    "path": result.path,
                    "steps": result.step,
                    "best_step": result.best_step,
                    "best_val_nats": result.best_val,
                    "best_val_bits": result.best_val_bits,
                    "stopped": result.stopped,
                    "reason": result.reason,
                    "seconds": round(result.elapsed, 2),
                    "chars_per_sec": round(result.chars_per_sec),
                    "parameters": result.parameters,
                }
            )
        )
    elif not args.quiet:
        print(
            f"{result.reason} at step {result.step}: best validation {result.best_val:.4f} nats/char "
            f"({result.best_val_bits:.4f} bits) at step {result.best_step}, {result.chars_per_sec:,.0f} chars/s; "
            f"saved {result.path}",
            file=sys.stderr,
        )
    return 130 if result.stopped == "interrupted" else 0
