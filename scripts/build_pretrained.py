"""Rebuild the models shipped in src/xiaming/pretrained/ from the built-in corpora.

    python scripts/build_pretrained.py --ancient ../shared/data/ancient_names.txt

With `--ancient` (the 253,589 historical names of shared/data, see README), it first pretrains the
`base` model on that corpus, then fine-tunes it on each built-in list (`--init`); without it,
each list gets an LSTM trained on the list alone. Training runs in `--work` (checkpoints and
resumable states); the shipped copies are written in float16, which halves their size. The
base model ships without its 250k-name training list (it would triple the package size).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from xiaming import corpora
from xiaming.checkpoint import load_checkpoint, save_checkpoint
from xiaming.corpus import load_names
from xiaming.train import TrainConfig, train

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "xiaming" / "pretrained"
BASE_SHAPE = {"n_embd": 96, "n_hidden": 256, "n_layer": 1, "dropout": 0.1, "tie_weights": True}


def ship(trained: Path, name: str, keep_names: bool = True) -> Path:
    """Copy a trained checkpoint into the package in float16."""
    ckpt = load_checkpoint(trained)
    out = PACKAGE / f"{name}.safetensors"
    info = dict(ckpt.train, shipped_names=keep_names)
    # Record where the data and the base came from by name, not by this machine's paths.
    if not str(info.get("source", "")).startswith("builtin:"):
        info["source"] = Path(info["source"]).name
    if info.get("init"):
        info["init"] = "base"
    save_checkpoint(out, ckpt.model, ckpt.kind, ckpt.vocab, info, ckpt.names if keep_names else [],
                    dtype=torch.float16)
    print(f"shipped {out} ({out.stat().st_size / 1e6:.2f} MB), best validation {ckpt.train['best_val_bits']:.3f} bits/char")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ancient", help="path of ancient_names.txt: pretrain a base and fine-tune on it")
    parser.add_argument("--base", help="an already trained base checkpoint to fine-tune (skips pretraining)")
    parser.add_argument("--work", default="runs/pretrained", help="folder for training runs")
    parser.add_argument("--base-minutes", type=float, default=25.0, help="wall-clock budget of the base model")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    work = Path(args.work)
    base = Path(args.base) if args.base else None
    if args.ancient and not base:
        base = work / "base.safetensors"
        config = TrainConfig(max_steps=14_000, max_time=args.base_minutes * 60, batch_size=128, lr=3e-3,
                             eval_interval=500, patience=6, val_fraction=0.02, seed=args.seed)
        train(load_names(args.ancient), "lstm", base, config, model_overrides=BASE_SHAPE, force=True)
        ship(base, "base", keep_names=False)
    for corpus in corpora.names():
        out = work / f"{corpus}.safetensors"
        config = TrainConfig(max_steps=5000, eval_interval=25, patience=10, seed=args.seed)
        train(load_names(corpus), "lstm", out, config, init=base, force=True)
        ship(out, corpus)


if __name__ == "__main__":
    main()
