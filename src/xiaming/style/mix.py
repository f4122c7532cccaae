"""Style mixing: several models as one, mixing their next-character distributions step by step.

    from xiaming.style.mix import mixed_namer
    namer = mixed_namer({"jinyong": 0.7, "gulong": 0.3})
    namer.generate(10, namer.options(prefix="令狐"), seed=1)

The mixture is `generation.mixture.MixtureEngine`: at every step the weighted average of the
models' next-character distributions, over the union of their vocabularies (its docstring says how
characters one model lacks are scored). Mixing per step, rather than picking one model per name,
blends the styles inside each name.

`mixed_namer` wraps the mixture in a `Namer` whose training list is the union of every list
involved (weight 0 included), so novelty is checked against all of them.
"""

from __future__ import annotations

from ..errors import NO_VALUE, ConfigError
from ..generation.kinds import METADATA_KEY, markers
from ..generation.mixture import MixtureEngine

__all__ = ["MixtureEngine", "mixed_namer"]


def mixed_namer(weights: dict[str, float], namers: dict | None = None):
    """A `Namer` sampling the weighted mixture of the models named in `weights` (shipped names or
    checkpoint paths; `namers` may supply them already loaded)."""
    from ..generation.namer import Namer

    if not weights:
        raise ConfigError("style", NO_VALUE, "name at least one model")
    namers = dict(namers or {})
    for model in weights:
        if model not in namers:
            namers[model] = Namer.load(model)
    models = [namers[m] for m in weights]
    marks: dict[str, str] = {}
    for n in models:  # name kinds (kinds.py): the mixture knows every marker any of its models knows
        marks.update(markers(n.train))
    engine = MixtureEngine(
        [n.engine for n in models],
        [n.vocab for n in models],
        list(weights.values()),
        first_only="".join(marks.values()),
    )
    sources = [n.train.source for n in models]
    builtin = all(s.startswith("builtin:") for s in sources)
    train = {
        "source": ("builtin:" if builtin else "mixture:") + "+".join(s.split(":", 1)[-1] for s in sources),
        "max_name_len": max(n.train.max_name_len for n in models),
        "mixture": {m: w for m, w in weights.items()},
    }
    if marks:
        train[METADATA_KEY] = marks
    held = list(dict.fromkeys(name for n in models for name in n.train.panel_holdout))
    if held:  # no part of a composed epithet comes from a name the panels show (generation/epithets.py)
        train["panel_holdout"] = {"names": held}
    names = list(dict.fromkeys(name for n in models for name in n.names))
    shared = {k: v for k, v in models[0].sampling.items() if all(n.sampling.get(k) == v for n in models)}
    spec = ",".join(f"{m}={w:g}" for m, w in weights.items())
    critic = next((n.critic for n in models if n.critic is not None), None)  # the critic judges names, not styles
    return Namer(engine, engine.vocab, names, train, "mixture", spec, shared, critic)
