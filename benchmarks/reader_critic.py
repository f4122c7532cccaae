"""A critic that reads names better: does a truer ranking of the proposals give better names?

    python benchmarks/reader_critic.py --cv                   # how well each critic ranks names it never saw
    python benchmarks/reader_critic.py --groups --out DIR     # blind panel 37's two groups per author

The shipped critic (v9, `evidence/critic.py`) ranks the names of the blind panels, which it never saw,
at Pearson r 0.25-0.35 with the readers' centred mean rating, where one reader agrees with another at
0.64-0.70 (`critic_ceiling.py`). This asks whether a better reader of names is possible from the same
ratings and, if so, whether choosing with it gives better names.

`--cv`: every rating round (critic/ratings) and every panel's generated names (the ratings
`scripts/build_critic.py` reads), each reviewer centred on their own mean; six folds that keep each round
or panel whole. It prints, per author, r on all held-out names and on the panels' alone, for v9 (fitted
on the rounds, so its "all" is partly in-sample) and for fits on: the critic's 39 lexicon features and
given-name characters (`lex`, `chars`), the base LSTM's hidden state at the name's end and its mean over
the name's characters (`base_h`: what 253,589 historical names taught it, 512 numbers), the author
model's (`auth_h`), the author as three indicators; ridge regressions and a small MLP (one hidden layer
of 64, GELU, dropout; two seeds averaged). Measured: v9 0.35 / 0.33 / 0.25 on the panels (Jin Yong, Gu
Long, Liang Yusheng), ridge on everything 0.50 / 0.47 / 0.48, the MLP on `lex`, `chars` and `base_h`
0.57 / 0.53 / 0.56.

`--groups`: that MLP (three seeds averaged), fitted on every rating, becomes the sampler's evidence in
v9's place (log weight `--beta` times its predicted rating; v9's pool of four, length strata and every
rule as shipped), and each author's 150 names of `--seed` with each chooser are compared: the names one
output has and the other lacks are written as DIR/AUTHOR-v9only.txt and DIR/AUTHOR-readeronly.txt,
the two groups of blind panel 37 (`python benchmarks/critic_panels.py panel37`). The readers rated the
reader's names +0.02 / +0.08 (Jin Yong), +0.08 / -0.02 (Gu Long) and +0.15 / +0.07 (Liang Yusheng)
above v9's on the half of the names where the two choose differently, so a whole output would move by
about +0.03: not shipped (docs/realism-panels.md, panel 37).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Sequence

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

import numpy as np  # noqa: E402

from xiaming.data.vocab import BOUNDARY  # noqa: E402
from xiaming.evidence.critic import char_indicators, char_table, load_critic  # noqa: E402
from xiaming.evidence.features import name_features  # noqa: E402
from xiaming.evidence.lexicon import shipped_lexicon  # noqa: E402
from xiaming.generation.namer import Namer  # noqa: E402

AUTHORS = ("jinyong", "gulong", "liangyusheng")
FOLDS = 6
LAST_PANEL = 36  # the panels the figures above were fitted and measured on (37 rated this script's groups)


@lru_cache(maxsize=4)
def _alone(model: str) -> Namer:
    """A model alone (no blend), loaded once: the sampler asks the reader for every batch of proposals."""
    return Namer._load_alone(model, "auto", None)


def hidden_states(model: str, names: Sequence[str], batch: int = 512) -> np.ndarray:
    """(N, 2H): a model's top-layer output after the name's last character, and its mean over the name's
    characters, reading boundary + name (the LSTM alone, no blend)."""
    engine, vocab = _alone(model).engine, _alone(model).vocab
    out = np.zeros((len(names), 2 * engine.n_hidden), dtype=np.float32)
    for start in range(0, len(names), batch):
        chunk = list(names[start : start + batch])
        lengths = np.array([len(n) for n in chunk])
        ids = np.full((len(chunk), lengths.max() + 1), BOUNDARY, dtype=np.int64)
        for row, name in enumerate(chunk):
            ids[row, 1 : len(name) + 1] = vocab.encode(name)
        state, steps = engine.initial_state(len(chunk)), []
        for t in range(ids.shape[1]):
            top, state = engine._advance(ids[:, t], state)
            steps.append(top)
        seen = np.stack(steps, axis=1)[:, 1:]  # (B, T, H): after each character of the name
        rows = np.arange(len(chunk))
        means = np.cumsum(seen, axis=1)[rows, lengths - 1] / lengths[:, None]
        out[start : start + len(chunk)] = np.hstack([seen[rows, lengths - 1], means])
    return out


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z, mean, scale) with constant columns left at scale 1."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    return (x - mean) / scale, mean, scale


def ratings() -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(names, centred mean rating, author, source) of every rating round and the generated names of
    panels 1 to `LAST_PANEL`."""
    import build_critic as bc

    n1, y1, a1, s1 = bc.read_ratings()
    n2, y2, a2, s2 = bc.read_panel_ratings()
    keep = [not (s[5:].isdigit() and int(s[5:]) > LAST_PANEL) for s in s2]
    n2, y2, a2, s2 = ([v for v, k in zip(col, keep) if k] for col in (n2, y2, a2, s2))
    return n1 + n2, np.concatenate([y1, np.asarray(y2)]), np.array(a1 + a2), np.array(s1 + s2)


def fit_mlp(x: np.ndarray, y: np.ndarray, seed: int, hidden: int = 64, epochs: int = 30) -> list[np.ndarray]:
    """One hidden layer of `hidden` (GELU, tanh form), squared error, AdamW; the weights as numpy arrays."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Dropout(0.1),
        nn.Linear(x.shape[1], hidden),
        nn.GELU(approximate="tanh"),
        nn.Dropout(0.3),
        nn.Linear(hidden, 1),
    )
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(xt))
        for i in range(0, len(xt), 256):
            b = order[i : i + 256]
            opt.zero_grad()
            ((net(xt[b]).squeeze(1) - yt[b]) ** 2).mean().backward()
            opt.step()
    first, last = net[1], net[4]
    return [t.detach().numpy().copy() for t in (first.weight.T, first.bias, last.weight.T, last.bias)]


def mlp_predict(nets: list[list[np.ndarray]], x: np.ndarray) -> np.ndarray:
    """The mean over `nets` of their predictions (numpy, as the sampler would run it)."""
    out = []
    for w1, b1, w2, b2 in nets:
        z = x @ w1 + b1
        z = 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z**3)))
        out.append((z @ w2 + b2)[:, 0])
    return np.mean(out, axis=0)


def ridge_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, lam: float) -> np.ndarray:
    """Ridge regression (the intercept unpenalised)."""
    a = np.hstack([x_train, np.ones((len(x_train), 1))])
    penalty = np.eye(a.shape[1]) * lam
    penalty[-1, -1] = 0.0
    w = np.linalg.solve(a.T @ a + penalty, a.T @ y_train)
    return np.hstack([x_test, np.ones((len(x_test), 1))]) @ w


def cross_validate() -> None:
    """Print the r table of the module docstring."""
    names, y, author, source = ratings()
    lex = shipped_lexicon()
    blocks = {
        "lex": standardise(name_features(lex, names))[0],
        "chars": char_indicators(lex, names, char_table(lex, names, 3)),
        "base_h": standardise(hidden_states("base", names))[0],
        "author": np.stack([(author == a).astype(float) for a in AUTHORS], axis=1),
    }
    own = np.zeros((len(names), blocks["base_h"].shape[1]))
    for a in AUTHORS:
        own[author == a] = hidden_states(a, [n for n, x in zip(names, author) if x == a])
    blocks["auth_h"] = standardise(own)[0]
    sources = sorted(set(source))
    order = np.random.default_rng(0).permutation(len(sources))
    fold = np.array([dict(zip(sources, order % FOLDS))[s] for s in source])
    panel = np.char.startswith(source.astype(str), "panel")

    def row(label: str, pred: np.ndarray) -> None:
        cells = []
        for a in AUTHORS:
            m = author == a
            cells.append(
                f"{np.corrcoef(pred[m], y[m])[0, 1]:.3f} / {np.corrcoef(pred[m & panel], y[m & panel])[0, 1]:.3f}"
            )
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)

    def held_out(fit) -> np.ndarray:
        pred = np.zeros(len(y))
        for f in range(FOLDS):
            test = fold == f
            pred[test] = fit(~test, test)
        return pred

    print("| r with the readers (all held out / panels) | " + " | ".join(AUTHORS) + " |")
    print("| --- | ---: | ---: | ---: |")
    shipped = np.zeros(len(y))
    for a in AUTHORS:
        m = author == a
        shipped[m] = load_critic(ROOT / "src/xiaming/pretrained" / f"{a}.critic.safetensors").log_weights(
            [n for n, keep in zip(names, m) if keep]
        )
    row("v9, shipped (fitted on the rounds)", shipped)
    for keys in (("lex", "chars"), ("base_h",), ("lex", "chars", "base_h"), ("lex", "chars", "base_h", "auth_h")):
        x = np.hstack([blocks[k] for k in (*keys, "author")])
        row(f"ridge: {' + '.join(keys)}", held_out(lambda tr, te: ridge_predict(x[tr], y[tr], x[te], 10.0)))
    x = np.hstack([blocks[k] for k in ("lex", "base_h", "author", "chars")]).astype(np.float32)
    row(
        "MLP: lex + chars + base_h",
        held_out(lambda tr, te: mlp_predict([fit_mlp(x[tr], y[tr], s) for s in (0, 1)], x[te])),
    )


class Reader:
    """The MLP as sampler evidence for one author: log weight `beta` times the predicted centred rating."""

    def __init__(self, author: str, beta: float, seeds: Sequence[int] = (0, 1, 2)) -> None:
        names, y, authors, _ = ratings()
        self.lexicon, self.author, self.beta = shipped_lexicon(), author, beta
        x_lex, self.lex_mean, self.lex_scale = standardise(name_features(self.lexicon, names))
        x_h, self.h_mean, self.h_scale = standardise(hidden_states("base", names))
        self.chars = char_table(self.lexicon, names, 3)
        onehot = np.stack([(authors == a).astype(float) for a in AUTHORS], axis=1)
        x = np.hstack([x_lex, x_h, onehot, char_indicators(self.lexicon, names, self.chars)]).astype(np.float32)
        self.nets = [fit_mlp(x, y.astype(np.float32), s) for s in seeds]

    def predict(self, names: Sequence[str]) -> np.ndarray:
        names = list(names)
        x_lex = (name_features(self.lexicon, names) - self.lex_mean) / self.lex_scale
        x_h = (hidden_states("base", names) - self.h_mean) / self.h_scale
        onehot = np.tile([float(a == self.author) for a in AUTHORS], (len(names), 1))
        x = np.hstack([x_lex, x_h, onehot, char_indicators(self.lexicon, names, self.chars)]).astype(np.float32)
        return mlp_predict(self.nets, x)

    def log_weights(self, names: Sequence[str]) -> np.ndarray:
        return self.beta * self.predict(names)


def write_groups(out: Path, seed: int, n: int, beta: float) -> None:
    """Panel 37's groups: per author, the names of `n` drawn with v9 and with the reader that the other lacks."""
    out.mkdir(parents=True, exist_ok=True)
    for author in AUTHORS:
        namer = Namer.load(author)
        shipped = namer.steering()
        reader = replace(shipped, evidence=(("reader", Reader(author, beta), 1.0),))
        v9 = list(namer.generate(n, seed=seed).names)
        read = list(namer.generate(n, seed=seed, steering=reader).names)
        only_v9 = [x for x in v9 if x not in set(read)]
        only_read = [x for x in read if x not in set(v9)]
        (out / f"{author}-v9only.txt").write_text("\n".join(only_v9) + "\n", encoding="utf-8")
        (out / f"{author}-readeronly.txt").write_text("\n".join(only_read) + "\n", encoding="utf-8")
        print(
            f"{author}: {len(only_v9)} of {n} names differ; v9 {' '.join(only_v9[:12])} | reader {' '.join(only_read[:12])}"
        )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cv", action="store_true", help="print the cross-validated r of each critic")
    p.add_argument("--groups", action="store_true", help="write panel 37's groups")
    p.add_argument("--out", default="runs/reader", help="folder for the groups (default runs/reader)")
    p.add_argument("--seed", type=int, default=3701, help="generation seed of the groups (default 3701)")
    p.add_argument("-n", type=int, default=150, help="names drawn with each chooser (default 150)")
    p.add_argument("--beta", type=float, default=8.0, help="log weight per point of predicted rating (default 8)")
    args = p.parse_args()
    if not (args.cv or args.groups):
        p.error("give --cv, --groups or both")
    if args.cv:
        cross_validate()
    if args.groups:
        write_groups(Path(args.out), args.seed, args.n, args.beta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
