"""What limits transfer from the base to a small list? One cross-validation fold, taken apart.

    python benchmarks/transfer.py --corpus jinyong --base src/xiaming/pretrained/base.safetensors
    python benchmarks/transfer.py --corpus gulong --base ... --variants     # also four fine-tuning recipes

On one fold of `benchmarks/compare.py`'s 5-fold split (same seed, same settings, same budget) it
trains the best list-only kind (the Transformer) and the LSTM fine-tuned from `--base`, then
scores the fold's held-out names and prints, for each model and for the base alone:

- held-out bits per character, split by what is predicted: characters the fold's training list
  holds, characters it lacks that the model's vocabulary knows (from the base), characters no
  vocabulary knows (priced as unknown), and the end of the name;
- two ways of keeping more of the base in the fine-tuned model: mixing a share of the base's
  distribution into every step, and giving the fine-tuned model's unknown-character probability to
  the base's choice among the characters the list lacks;
- with `--variants`, the fine-tuned model again with a third of its learning rate, dropout 0.5,
  no weight decay, and no unknown-character noise.

README ("Pretraining and fine-tuning") reports what it printed for jinyong and gulong.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from xiaming.checkpoint import load_checkpoint
from xiaming.data.vocab import UNKNOWN
from xiaming.engine import as_engine
from xiaming.generation.score import UnknownShares, encode_batch, score_names
from xiaming.models import spec

LN2 = math.log(2)
sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402  (benchmarks/compare.py: the same folds, settings and training)


def train_fold(kind: str, data, test: list[str], args, work: Path, setting) -> str:
    """Train one model on the fold as compare.py does, with `setting` (a `compare.Setting`); its path."""
    run_dir = work / f"run{len(list(work.iterdir()))}"  # a folder per run: compare.py's files keep their names
    run_dir.mkdir()
    plan = compare.plan_steps(kind, data, setting, args, run_dir)
    run = compare.run_one(kind, "fold", data, test, setting, plan, args, run_dir)
    print(
        f"  trained {kind}{' from ' + Path(setting.init).name if setting.init else ''}: {run.steps} steps, "
        f"{run.stopped}, {run.test_bits:.3f} bits/char",
        file=sys.stderr,
    )
    return str(run_dir / f"{kind}-fold.safetensors")


def breakdown(path: str, test: list[str], listed: set[str]) -> tuple[float, dict[str, list[float]]]:
    """Held-out bits/char and the bits of each predicted character by class."""
    ck = load_checkpoint(path)
    scores = score_names(as_engine(ck.model, ck.vocab.size), ck.vocab, test)
    groups: dict[str, list[float]] = {"in the list": [], "new, in the vocabulary": [], "unknown": [], "end": []}
    for name, s in zip(test, scores):
        for j, lp in enumerate(s.char_log_probs):
            c = name[j] if j < len(name) else None
            group = (
                "end"
                if c is None
                else "in the list"
                if c in listed
                else "new, in the vocabulary"
                if c in ck.vocab
                else "unknown"
            )
            groups[group].append(-lp / LN2)
    total = sum(sum(v) for v in groups.values())
    return total / sum(len(v) for v in groups.values()), groups


def probabilities(path: str, names: list[str], vocab) -> np.ndarray:
    """(N, T, V) next-character probabilities of `names` under the model at `path`, over `vocab`'s ids."""
    ck = load_checkpoint(path)
    x, _ = encode_batch(ck.vocab, names)
    logits = np.array(as_engine(ck.model, ck.vocab.size).logits(x), dtype=np.float64)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    if ck.vocab == vocab:
        return p
    out = np.zeros(p.shape[:2] + (vocab.size,))
    out[..., : UNKNOWN + 1] = p[..., : UNKNOWN + 1]
    ids = [vocab.encode(c)[0] for c in ck.vocab.chars]
    out[..., ids] = p[..., UNKNOWN + 1 :]
    return out


def keep_the_base(tuned: str, base: str, test: list[str], listed: set[str]) -> dict[str, float]:
    """Held-out bits/char of the fine-tuned model with more of the base kept, two ways."""
    vocab = load_checkpoint(tuned).vocab
    pt, pb = probabilities(tuned, test, vocab), probabilities(base, test, vocab)
    _, y = encode_batch(vocab, test)
    shares = UnknownShares(vocab)
    lacking = np.array([i for i, c in enumerate(vocab.chars, UNKNOWN + 1) if c not in listed])
    q = pb[..., lacking] / pb[..., lacking].sum(-1, keepdims=True)  # the base's choice among them

    def bits(p: np.ndarray, unknown_share: float) -> float:
        total, count = 0.0, 0
        for i, name in enumerate(test):
            for j in range(len(name) + 1):
                if j < len(name) and name[j] not in vocab:
                    lp = math.log(max(1e-300, p[i, j, UNKNOWN] * unknown_share)) + shares.log_share(name[j])
                else:
                    lp = math.log(p[i, j, y[i, j]])
                total, count = total - lp, count + 1
        return total / count / LN2

    out = {"fine-tuned as it is": bits(pt, 1.0)}
    for share in (0.1, 0.2, 0.3):
        out[f"mixed with {share:.0%} of the base"] = bits((1 - share) * pt + share * pb, 1.0)
    backed = pt.copy()
    backed[..., lacking] += 0.8 * pt[..., UNKNOWN : UNKNOWN + 1] * q
    out["unknown mass to the base's choice (80%)"] = bits(backed, 0.2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="jinyong", help="built-in list or names file (default jinyong)")
    parser.add_argument(
        "--base", required=True, help="the base checkpoint (e.g. src/xiaming/pretrained/base.safetensors)"
    )
    parser.add_argument("--fold", type=int, default=1, help="which of compare.py's 5 folds (default 1)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per model, as compare.py (default 60)")
    parser.add_argument("--variants", action="store_true", help="also four fine-tuning recipes")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cargs = compare.parse_args(
        [
            "--corpus",
            args.corpus,
            "--budget",
            str(args.budget),
            "--threads",
            "1",
            "--no-realism",
            "--no-curve",
            "--samples",
            "10",
        ]
    )
    _, splits = compare.load_splits(cargs)
    _, data, test = splits[args.fold - 1]
    listed = {c for n in data.names for c in n}
    with tempfile.TemporaryDirectory(prefix="xiaming-transfer-") as tmp:
        work = Path(tmp)
        scratch = compare.settings(cargs, ["transformer"], sum(len(n) for n in data.names))["transformer"]
        models = {
            "list only (transformer)": train_fold("transformer", data, test, cargs, work, scratch),
            "fine-tuned from the base": train_fold("lstm", data, test, cargs, work, compare.Setting(init=args.base)),
            "the base alone": args.base,
        }
        print(
            f"{args.corpus}, fold {args.fold} of 5: {len(test)} held-out names, "
            f"{sum(c not in listed for n in test for c in n)} of {sum(map(len, test))} characters not in the list"
        )
        print("| model | bits/char | in the list | new, in the vocabulary | unknown | end |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for label, path in models.items():
            mean, groups = breakdown(path, test, listed)
            cells = [f"{statistics.fmean(v):.2f} x {len(v)}" if v else "-" for v in groups.values()]
            print(f"| {label} | {mean:.3f} | " + " | ".join(cells) + " |")
        print("\nkeeping more of the base (bits/char):")
        for label, value in keep_the_base(models["fine-tuned from the base"], args.base, test, listed).items():
            print(f"  {label}: {value:.3f}")
        if args.variants:
            print("\nfine-tuning recipes (bits/char):")
            rate = spec("lstm").lr / 3  # train()'s fine-tuning rate
            for label, setting in (
                ("a third of the fine-tuning rate", compare.Setting(init=args.base, lr=rate / 3)),
                ("dropout 0.5", compare.Setting(init=args.base, shape={"dropout": 0.5})),
                ("no weight decay", compare.Setting(init=args.base, train={"weight_decay": 0.0})),
                ("no unknown noise", compare.Setting(init=args.base, train={"unk_rate": 0.0})),
            ):
                path = train_fold("lstm", data, test, cargs, work, setting)
                print(f"  {label}: {breakdown(path, test, listed)[0]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
