"""A look inside a model, one name at a time: `xiaming explain NAME`.

For each character of the name (and the end): the probability the model gave it, given the
characters before, and the likeliest alternatives at that step. For an LSTM, also what its first
layer did at each step: the input, forget and output gates (the valves the LSTM papers and
tutorials draw: how much of the new candidate to write, how much of the old cell to keep, how much
of the cell to show) and the cell state, unit by unit, from the numpy engine.

And the hidden units that track something nameable. Over (an even spread of) the training names,
each unit's hidden and cell values at every step are correlated (Pearson) with three features of
what has been read so far: the position in the name (characters read), the surname boundary
(exactly the surname read, `pinyin.split_surname`), and being in the given name (the surname is
complete). The unit with the largest |r| for each feature is reported with its values along the
explained name. Correlation is not mechanism, but a unit at |r| 0.9 is plainly counting or
watching for the surname's end.

For a model with a realism critic (the shipped wuxia models), also what the critic read in the whole
name: the chance a reader finds it passable (not rated 1-2), the chance of a 4-5, and the evidence
that moved the first most (lexicon features and the given name's characters; `CriticView`).

Output as text (`format_text`), a JSON-ready dict (`Explanation.to_dict`), or a heatmap picture
(`plot`, needs matplotlib: pip install "xiaming[plot]").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..data.pinyin import is_chinese, split_surname
from ..data.vocab import BOUNDARY, END_TEXT, N_SPECIAL
from ..engine.protocol import log_softmax
from ..engine.rnn import RecurrentEngine
from ..errors import NO_VALUE, ConfigError
from ..pretrained import label
from .kinds import EPITHET_MARK

TOP = 5  # alternatives shown per step
UNIT_NAMES = 2000  # training names the unit correlations are computed over, at most
GATES = ("input_gate", "forget_gate", "output_gate", "cell")


@dataclass(frozen=True)
class Step:
    """One prediction: the character that came (or the end), its probability, and the likeliest alternatives."""

    char: str  # the character, or "" for the end of the name
    p: float  # its probability given what came before
    rank: int  # 1 = the likeliest at this step
    top: list[tuple[str, float]]  # the TOP likeliest (character, probability); "" is the end


@dataclass(frozen=True)
class Unit:
    """A hidden unit that tracks a nameable feature."""

    feature: str  # "position", "surname boundary" or "given name"
    state: str  # "hidden" or "cell"
    unit: int  # index in the first layer
    r: float  # Pearson correlation over the training names' steps
    values: list[float]  # its value after each input of the explained name (start token first)


@dataclass
class CriticView:
    """What the realism critic (`evidence.critic`), or for an epithet the epithet judge
    (`evidence.judge`), read in a whole name."""

    passable: float  # P(not rated 1-2)
    appeal: float | None  # P(rated 4-5); None when the critic has no appeal head (the judge has none)
    evidence: list[tuple[str, float]]  # (feature, "char X" or "role X", change in log-odds of passing), largest first
    by: str = "critic"  # who read it: "critic" or "epithet judge"


@dataclass
class Explanation:
    """What `explain` found for one name."""

    name: str
    model: str  # a shipped model's name, else the checkpoint path (`pretrained.label`)
    kind: str
    steps: list[Step]
    log_prob: float  # natural log p(name, end)
    bits_per_char: float
    inputs: list[str]  # what the model read at each step: "^" (the start), then the characters
    gates: dict[str, list[list[float]]] | None = None  # LSTM only: each (steps, units), see GATES
    units: list[Unit] = field(default_factory=list)  # LSTM only
    unit_names: int = 0  # training names the correlations used
    critic: CriticView | None = None  # what the model's realism critic read (None: the model has none)

    def to_dict(self) -> dict:
        """The JSON form (`xiaming explain --json`, the web API): the end of the name is `END_TEXT`."""
        out = asdict(self)
        out["steps"] = [
            {
                "char": s.char or END_TEXT,
                "p": s.p,
                "rank": s.rank,
                "top": [{"char": c or END_TEXT, "p": p} for c, p in s.top],
            }
            for s in self.steps
        ]
        if self.critic is not None:  # each piece of evidence as the web API gives it
            out["critic"]["evidence"] = [{"feature": f, "effect": x} for f, x in self.critic.evidence]
        return out


def _chars(vocab, ids: np.ndarray) -> list[str]:
    """Printable text of each id: "" for the end, "?" for unknown, "(epithet)" for the epithet
    marker (its probability at the start is the model's belief that an epithet begins)."""
    texts = vocab.texts
    return ["" if i == BOUNDARY else ("?" if i < N_SPECIAL else _MARKER_LABELS.get(texts[i], texts[i])) for i in ids]


_MARKER_LABELS = {EPITHET_MARK: "(epithet)"}


def explain(namer, name: str, context: str = "", top: int = TOP, unit_names: int = UNIT_NAMES) -> Explanation:
    """Explain `name` under a loaded `Namer` (see the module docstring); `context` is a hidden prefix read first."""
    name = name.strip()
    if not name:
        raise ConfigError("name", name, "an empty name cannot be explained")
    (score,) = namer.score([name], context=context)
    vocab, engine = namer.vocab, namer.engine
    ctx = vocab.encode(context)
    ids = np.array([[BOUNDARY] + ctx + vocab.encode(name)], dtype=np.int64)  # (1, T)
    logp = log_softmax(engine.logits(ids))[0, len(ctx) :]  # (len(name) + 1, V): one row per prediction
    steps = []
    for t, lp in enumerate(score.char_log_probs):
        order = np.argsort(-logp[t], kind="stable")
        order = order[order != 1][:top]  # the unknown id is no alternative a user can write
        target = vocab.id(name[t]) if t < len(name) else BOUNDARY
        rank = int((logp[t] > logp[t, target]).sum() - (logp[t, 1] > logp[t, target])) + 1  # the unknown id not counted
        steps.append(
            Step(
                name[t] if t < len(name) else "",
                math.exp(lp),
                rank,
                [(c, float(math.exp(logp[t, i]))) for c, i in zip(_chars(vocab, order), order)],
            )
        )
    result = Explanation(
        name, label(namer.path), namer.kind, steps, score.log_prob, score.bits_per_char, ["^"] + list(name)
    )
    if namer.shows_gates:  # the model registry says the kind's numpy engine traces its gates
        own = namer.unblended  # the gates are the model's own LSTM's, whatever it generates blended with
        own_ids = ids[0] if own is namer else np.array([BOUNDARY, *own.vocab.encode(context + name)], np.int64)
        trace = own.engine.lstm_trace(own_ids)
        keep = slice(len(ctx), None)  # the steps after the hidden prefix: the start token's state onward
        result.gates = {g: getattr(trace, g)[keep].tolist() for g in GATES}
        result.units, result.unit_names = _nameable_units(own, own.engine, trace, keep, context, unit_names)
    result.critic = reader_view(namer, name)
    return result


def reader_view(namer, name: str, top: int = 4) -> CriticView | None:
    """What the model's readers make of `name`: the epithet judge when the model composes epithets
    and `name` has their form (南海神尼; the personal-name critic would read 神尼 as a given name and
    fail it), else the model's critic; None when it has neither."""
    from ..evidence.judge import shipped_judge
    from .epithets import composed_form

    judge = shipped_judge()
    if judge is not None and composed_form(name) and namer.epithet_parts(namer.options(kind="epithet")) is not None:
        return CriticView(
            round(float(judge.passable([name])[0]), 3),
            None,
            [(c.feature, round(c.effect, 3)) for c in judge.explain(name, top=top)],
            "epithet judge",
        )
    return None if namer.critic is None else critic_view(namer.critic, name, top)


def critic_view(critic, name: str, top: int = 4) -> CriticView:
    """The critic's two chances for `name` and the `top` pieces of evidence that moved the first most."""
    appeal = critic.appeal_of([name])
    return CriticView(
        round(float(critic.rate([name])[0]), 3),
        None if appeal is None else round(float(appeal[0]), 3),
        [(c.feature, round(c.effect, 3)) for c in critic.explain(name, top=top)],
    )


def _features(names: list[str]) -> dict[str, list[np.ndarray]]:
    """Per name, the features after each input (start token first): position, surname boundary, given name."""
    out: dict[str, list[np.ndarray]] = {"position": [], "surname boundary": [], "given name": []}
    for n in names:
        read = np.arange(len(n) + 1, dtype=np.float64)  # characters read after each input
        surname = len(split_surname(n)[0]) if is_chinese(n) and len(n) >= 2 else -1
        out["position"].append(read)
        out["surname boundary"].append((read == surname).astype(np.float64))
        out["given name"].append((read >= surname).astype(np.float64) if surname > 0 else np.zeros_like(read))
    return out


def _nameable_units(
    namer, engine: RecurrentEngine, trace, keep: slice, context: str, limit: int
) -> tuple[list[Unit], int]:
    """The unit with the largest |r| for each feature, over an even spread of the training names."""
    names = [n for n in namer.names if n]
    if len(names) > limit:
        names = [names[i * len(names) // limit] for i in range(limit)]
    if len(names) < 5:
        return [], len(names)
    ctx = namer.vocab.encode(context)
    T = 1 + len(ctx) + max(len(n) for n in names)
    ids = np.zeros((len(names), T), dtype=np.int64)
    for row, n in enumerate(names):
        seq = [BOUNDARY] + ctx + namer.vocab.encode(n)
        ids[row, : len(seq)] = seq
    states = engine.lstm_trace(ids)  # each (N, T, H)
    feats = _features(names)
    rows = [(row, len(ctx) + t) for row, n in enumerate(names) for t in range(len(n) + 1)]
    r_idx = np.array([r for r, _ in rows])
    t_idx = np.array([t for _, t in rows])
    found = []
    for state_name, values in (("hidden", states.hidden), ("cell", states.cell)):
        x = values[r_idx, t_idx].astype(np.float64)  # (M, H)
        x = (x - x.mean(0)) / (x.std(0) + 1e-12)
        for feature, per_name in feats.items():
            y = np.concatenate(per_name)
            if y.std() == 0:
                continue
            r = (x * ((y - y.mean()) / y.std())[:, None]).mean(0)  # (H,)
            unit = int(np.argmax(np.abs(r)))
            found.append((feature, state_name, unit, float(r[unit])))
    units = []
    for feature in feats:
        cands = [f for f in found if f[0] == feature]
        if not cands:
            continue
        feature, state_name, unit, r = max(cands, key=lambda f: abs(f[3]))
        series = (trace.hidden if state_name == "hidden" else trace.cell)[keep][:, unit]
        units.append(Unit(feature, state_name, unit, r, series.tolist()))
    return units, len(names)


def format_text(e: Explanation) -> str:
    """The explanation as lines for a terminal."""
    lines = [f"{e.name}  log p {e.log_prob:.2f}  {e.bits_per_char:.2f} bits/char  ({e.kind}, {e.model})"]
    for read, s in zip(e.inputs, e.steps):
        what = s.char or END_TEXT
        alts = "  ".join(f"{c or END_TEXT} {p:.3f}" for c, p in s.top)
        lines.append(f"  after {read}: {what} p {s.p:.4f} (rank {s.rank})   likeliest: {alts}")
    if e.gates is not None:
        lines.append("LSTM first layer, mean over units at each step (input / forget / output gate, |cell|):")
        for t, read in enumerate(e.inputs):
            i, f, o = (float(np.mean(e.gates[g][t])) for g in GATES[:3])
            cell = float(np.mean(np.abs(e.gates["cell"][t])))
            lines.append(f"  {read}  i {i:.2f}  f {f:.2f}  o {o:.2f}  |c| {cell:.2f}")
    if e.units:
        lines.append(f"units that track something nameable (Pearson r over {e.unit_names} training names):")
        for u in e.units:
            trail = " ".join(f"{v:+.2f}" for v in u.values)
            lines.append(f"  {u.feature:<17} {u.state} unit {u.unit:>3}  r {u.r:+.2f}   along {e.name}: {trail}")
    if e.critic is not None:
        appeal = "" if e.critic.appeal is None else f", rated 4-5 {e.critic.appeal:.2f}"
        moved = ", ".join(f"{f} {x:+.2f}" for f, x in e.critic.evidence) or "nothing stands out"
        lines.append(f"{e.critic.by}: passable {e.critic.passable:.2f}{appeal}; log-odds of passing moved by: {moved}")
    return "\n".join(lines)


def _cjk_font():
    """A font with Chinese characters for matplotlib (None: none found; labels fall back to code points)."""
    from matplotlib import font_manager

    for entry in font_manager.fontManager.ttflist:
        if any(key in entry.name for key in ("CJK", "WenQuanYi", "SimHei", "PingFang", "YaHei")):
            return font_manager.FontProperties(fname=entry.fname)
    for folder in (
        "/usr/share/fonts",
        "/usr/local/share/fonts",
        str(Path.home() / ".fonts"),
        "/Library/Fonts",
        "C:/Windows/Fonts",
    ):
        for pattern in ("*CJK*Regular*", "*CJK*", "wqy*", "simhei*", "msyh*"):
            for path in sorted(Path(folder).rglob(pattern)) if Path(folder).is_dir() else []:
                if path.suffix.lower() in (".ttf", ".ttc", ".otf"):
                    return font_manager.FontProperties(fname=str(path))
    return None


def plot(e: Explanation, path: str | Path) -> Path:
    """A heatmap picture of the explanation (PNG): probabilities per step, and for an LSTM the gates,
    the cell state and the nameable units. Written through a temporary file, then renamed; a folder
    or a name that does not end in .png is refused before any drawing."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError("output", str(path), f"is a folder; give a file name such as {path / 'explain.png'}")
    if path.suffix.lower() != ".png":
        raise ConfigError("output", str(path), "the picture is a PNG: give a file name ending in .png")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:
        raise ConfigError("output", NO_VALUE, 'pictures need matplotlib; pip install "xiaming[plot]"') from None
    from ..atomic import atomic_path

    font = _cjk_font()
    label = lambda text: text if font is not None or text.isascii() else f"#{ord(text[0]):X}" if text else text  # noqa: E731
    inputs = [label(c) for c in e.inputs]
    panels = 1 + (4 if e.gates is not None else 0) + (1 if e.units else 0)
    fig, axes = plt.subplots(panels, 1, figsize=(max(6, 1.2 * len(inputs) + 3), 2.2 + 2.6 * panels), squeeze=False)
    axes = axes[:, 0]
    ax = axes[0]
    ax.bar(range(len(e.steps)), [s.p for s in e.steps], color="#4a7ab0")
    ax.set_xticks(range(len(e.steps)))
    ax.set_xticklabels([label(s.char) or "end" for s in e.steps], fontproperties=font)
    ax.set_ylim(0, 1)
    ax.set_ylabel("p")
    ax.set_title(
        f"{label(e.name) if font is None else e.name}: probability of each character, {e.bits_per_char:.2f} bits/char",
        fontproperties=font,
    )
    for t, s in enumerate(e.steps):
        alts = "\n".join(f"{label(c) or 'end'} {p:.2f}" for c, p in s.top[:3])
        ax.text(t, min(0.97, s.p + 0.02), alts, ha="center", va="bottom", fontsize=7, fontproperties=font)
    if e.gates is not None:
        titles = {
            "input_gate": "input gate",
            "forget_gate": "forget gate",
            "output_gate": "output gate",
            "cell": "cell state",
        }
        for ax, g in zip(axes[1:5], GATES):
            data = np.array(e.gates[g]).T  # (units, steps)
            lim = float(np.abs(data).max()) if g == "cell" else 1.0
            im = ax.imshow(
                data,
                aspect="auto",
                interpolation="nearest",
                cmap="RdBu_r" if g == "cell" else "viridis",
                vmin=-lim if g == "cell" else 0.0,
                vmax=lim,
            )
            ax.set_xticks(range(len(inputs)))
            ax.set_xticklabels([f"after {c}" for c in inputs], fontproperties=font)
            ax.set_ylabel("unit")
            ax.set_title(titles[g])
            fig.colorbar(im, ax=ax, fraction=0.03)
    if e.units:
        ax = axes[-1]
        for u in e.units:
            ax.plot(
                range(len(u.values)), u.values, marker="o", label=f"{u.feature}: {u.state} unit {u.unit} (r {u.r:+.2f})"
            )
        ax.set_xticks(range(len(inputs)))
        ax.set_xticklabels([f"after {c}" for c in inputs], fontproperties=font)
        ax.legend(fontsize=7)
        ax.set_title(f"units that track something nameable (over {e.unit_names} training names)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=110)
    finally:
        plt.close(fig)
    return path
