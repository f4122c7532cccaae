"""The one generation object: a model with everything needed to use it, behind every front end.

    from xiaming.generation.namer import Namer
    namer = Namer.load("jinyong")                    # a shipped name or a checkpoint path
    result = namer.generate(10, namer.options(prefix="令狐"), seed=1)
    for item in result.items:
        print(item.name, item.log_prob, item.bits_per_char)
    namer.best(5)                                    # the 5 likeliest new names, by search
    namer.score(["令狐冲"])                           # per-character log-probabilities

A `Namer` owns the inference engine (numpy by default, torch on request), the vocabulary, the
training names, the novelty rule that applies by default, and the sampling defaults stored in
the checkpoint (its "sampling" metadata; `options()` applies them under the caller's own
settings). `generate` and `best` return one type, `NameResult`: the names with their
log-probabilities and bits per character, whether fewer were found than asked (`exhausted`) and
why (`reason`), and the candidates the novelty rule rejected. The CLI, the Python API and the
web server call this object and hold no generation logic of their own.

Generation never hangs and never fails silently: sampling stops after a bounded number of
candidates (or as soon as a batch brings nothing new), then a bounded search either finds the
missing names or proves that no more exist (`complete`). A prefix that is itself a training name
under the strict novelty rule is refused at once, since every name starting with it would be
rejected.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from ..card import Blend, TrainingRecord
from ..data.vocab import Vocab
from ..engine.protocol import Engine
from ..errors import NO_VALUE, ConfigError
from ..evidence.critic import Critic, check_strength
from ..evidence.steer import OFF, Steering, resample
from ..limits import check_seed
from .constraints import (
    OPTION_FIELDS,
    SAMPLING_FIELDS,
    Constraints,
    SampleOptions,
    compile_constraints,
    shortfall_reason,
)
from .kinds import PersonalFilter
from .novelty import Contains, NoveltyFilter, default_mode, novelty_filter
from .results import LIBRARY_BUDGET, Budget, NameResult, Prepared, ScoredName
from .sample import Draw, draw_new, read_prefix, sample_batch
from .score import NameScore, reference_bits, score_names
from .search import search_names

if TYPE_CHECKING:
    from .epithets import Parts
    from .surnameless import Surnameless

DEFAULT_POOL = 4  # proposals per name kept when evidence steers and none asks for more
STEER_ROUND = 100  # names kept per round of steered sampling (a large request streams round by round)


@lru_cache(maxsize=1)
def _builtin_names() -> tuple[str, ...]:
    """Every name of every built-in corpus (the `known` novelty rule of models of the built-in corpora)."""
    from .. import corpora

    return tuple(sorted({name for corpus in corpora.names() for name in corpora.load(corpus)}))


def check_blend_weight(value: float) -> float:
    """`value` as a blend weight, in [0, 1); ConfigError naming `blend` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 <= value < 1):
        raise ConfigError("blend", value, "must be at least 0 and below 1 (0: the model alone)")
    return float(value)


def _critic_of(path: str | Path) -> Critic | None:
    """The critic stored beside the checkpoint at `path`, validated; None when there is none."""
    from ..evidence.critic import critic_path, load_critic

    beside = critic_path(path)
    return load_critic(beside) if beside.is_file() else None


def name_list(names: Sequence[str]) -> list[str]:
    """`names` as a list; one string is refused (a ConfigError naming `names`), since iterating it would
    read each of its characters as a name of its own (score("张三") scoring 张 and 三)."""
    if isinstance(names, str):
        raise ConfigError(
            "names", names, "give a list of names, such as [name]; one string would be read a character at a time"
        )
    return list(names)


class Namer:
    """A model, its vocabulary, training names, novelty rule and sampling defaults (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        vocab: Vocab,
        names: list[str] | tuple[str, ...] = (),
        train: TrainingRecord | dict | None = None,
        kind: str = "",
        path: str = "",
        sampling: dict | None = None,
        critic: Critic | None = None,
        engine_kind: str = "numpy",
    ) -> None:
        self.engine = engine
        self.vocab = vocab
        self.names = list(names)  # the training list
        self.train = TrainingRecord.from_dict(train)  # the training record: source, max_name_len, parameters, ...
        self.kind = kind
        self.path = path
        self.sampling = dict(sampling or {})  # sampling defaults from the checkpoint
        self.critic = critic  # the realism critic stored beside the checkpoint, if any
        self.engine_kind = engine_kind  # "numpy" (the engine the model registry names for `kind`) or "torch"
        self.card_blend: Blend | None = None  # the blend its checkpoint's card names, if any
        self.blend: Blend | None = None  # the blend in use: the model it generates blended with, and its weight
        self.unblended = self  # the model alone (its own engine and vocabulary: explain's gates read it)
        self._reference: list[float] | None = None

    # --- building -------------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        model: str | Path | None = None,
        device: str = "auto",
        engine: str | None = None,
        blend: float | None = None,
    ) -> "Namer":
        """From a shipped model name (None: the default) or a checkpoint path.

        The numpy engine computes on the CPU without torch; it serves `device` "cpu" and "auto"
        (for names, the numpy engine on one CPU thread outruns torch). Any other device ("cuda",
        "mps", "cuda:1") or `engine="torch"` builds the torch model there.

        A checkpoint whose card names a blend (`card.Blend`; the shipped Jin Yong and Liang Yusheng
        models) is blended with that model at its weight; `blend` sets another weight (0: the model
        alone), and blends a checkpoint that names none with `base`.
        """
        if blend is not None:
            check_blend_weight(blend)  # before anything is read
        own = cls._load_alone(model, device, engine)
        return own.blended(blend, device, engine)

    @classmethod
    def _load_alone(cls, model: str | Path | None, device: str, engine: str | None) -> "Namer":
        """The checkpoint's model alone, its card's blend kept aside for `blended`."""
        from ..checkpoint import read_checkpoint
        from ..pretrained import resolve

        if engine not in (None, "numpy", "torch"):
            raise ConfigError("engine", engine, "choose numpy or torch")
        path = resolve(model)
        if engine == "torch" or (engine is None and device not in ("cpu", "auto")):
            from ..checkpoint import load_checkpoint
            from ..devices import pick_device
            from ..engine.torch_engine import TorchEngine
            from ..models import spec

            ckpt = load_checkpoint(path, device=pick_device(device))
            eng = TorchEngine(ckpt.model, ckpt.vocab.size, spec(ckpt.kind).window(ckpt.config))
            namer = cls(
                eng,
                ckpt.vocab,
                ckpt.names,
                ckpt.train,
                ckpt.kind,
                ckpt.path,
                ckpt.sampling,
                _critic_of(path),
                engine_kind="torch",
            )
            namer.card_blend = ckpt.blend
            return namer
        if device not in ("cpu", "auto"):
            raise ConfigError("device", device, "the numpy engine runs on the CPU only (use the torch engine)")
        from ..engine import build_engine

        stored = read_checkpoint(path)
        namer = cls(
            build_engine(stored),
            stored.vocab,
            stored.names,
            stored.train,
            stored.kind,
            stored.path,
            stored.sampling,
            _critic_of(path),
        )
        namer.card_blend = stored.blend
        return namer

    def blended(self, weight: float | None = None, device: str = "auto", engine: str | None = None) -> "Namer":
        """This model blended as its card says (`weight` None: the card's weight; 0: not at all; another
        weight: with the card's model, or `base` when the card names none): a `Namer` of the same list,
        training record, sampling defaults and critic whose engine mixes, at every step, (1 - weight)
        times this model's next-character distribution with weight times the other's
        (`mixture.MixtureEngine`). Names are scored, searched and explained under the blend too, so
        every figure a user sees describes the distribution the names come from."""
        own, card = self.unblended, self.card_blend
        if weight is not None:
            weight = check_blend_weight(weight)
        if weight == 0 or (weight is None and card is None):
            return own
        partner = card.model if card is not None else "base"
        share = card.weight if weight is None else weight
        from ..pretrained import resolve

        if Path(resolve(partner)).resolve() == Path(own.path).resolve():
            raise ConfigError("blend", share, f"{partner} cannot be blended with itself; give 0 or leave it out")
        from .kinds import markers
        from .mixture import MixtureEngine

        other = Namer._load_alone(partner, device, engine)
        mixed = MixtureEngine(
            [own.engine, other.engine],
            [own.vocab, other.vocab],
            [1.0 - share, share],
            first_only="".join(markers(own.train).values()),
        )
        namer = Namer(
            mixed, mixed.vocab, own.names, own.train, own.kind, own.path, own.sampling, own.critic, own.engine_kind
        )
        namer.card_blend, namer.blend, namer.unblended = card, Blend(partner, share), own
        return namer

    @classmethod
    def from_model(
        cls,
        model,
        vocab: Vocab,
        names: list[str] | tuple[str, ...] = (),
        train: dict | None = None,
        window: int | None = None,
        kind: str = "",
    ) -> "Namer":
        """Around a torch model in memory (tests, training code); `window` is its block size, if any."""
        from ..engine.torch_engine import TorchEngine

        return cls(TorchEngine(model, vocab.size, window), vocab, names, train, kind, engine_kind="torch")

    # --- what applies by default ----------------------------------------------------------------

    @property
    def default_novelty(self) -> str:
        """strict for models of the built-in corpora, exact otherwise."""
        return default_mode(self.train)

    @property
    def shows_gates(self) -> bool:
        """Whether `explain` can show the model's gates: the registry says its kind's numpy engine traces
        them (an LSTM), and that engine is the one in use."""
        from ..models import MODELS

        spec = MODELS.get(self.kind)
        return self.engine_kind == "numpy" and spec is not None and spec.gates

    @property
    def parameters(self) -> int:
        """The model's parameter count as recorded at training."""
        return self.train.parameters

    def options(self, kind: str | None = None, **settings) -> SampleOptions:
        """SampleOptions from the model's sampling defaults, then `settings` (None values ignored);
        `kind` (name, epithet or any; None: name) asks a model trained with name kinds for one
        (see `kinds.py`: a hidden prefix or a first-character ban; nothing for other models)."""
        from .kinds import kind_settings

        unknown = set(settings) - set(OPTION_FIELDS)
        if unknown:
            raise ConfigError(
                sorted(unknown)[0],
                settings[sorted(unknown)[0]],
                f"not a sampling option (options: {', '.join(OPTION_FIELDS)})",
            )
        chosen = {k: v for k, v in settings.items() if v is not None}
        defaults = dict(self.sampling)
        if kind == "epithet":  # the word lean is for given names: an epithet (南海鳄神) has none
            defaults.pop("word_lean", None)
        return SampleOptions(**{**defaults, **kind_settings(kind, self.train), **chosen})

    def prepare(
        self,
        kind: str | None = None,
        novelty: str | None = None,
        critic: bool | None = None,
        critic_strength: float | None = None,
        gender: str | None = None,
        gender_strength: float | None = None,
        search: bool = False,
        compose: bool | None = None,
        surnameless: bool | None = None,
        **settings,
    ) -> Prepared:
        """Every check of a request that can fail before any name is drawn, so a front end refuses a bad
        one before it opens its output: the `settings` (SampleOptions fields, None: the model's default)
        under the model's defaults and `kind` (see `options`), compiled against the model; the steering
        (see `steering`); and, for sampling (`search` False), the prefix against the novelty rule."""
        options = self.options(kind=kind, **settings)
        options.validate_ranges()  # the model's defaults and the caller's settings together
        self.compile(options)
        steering = self.steering(critic, critic_strength, gender=gender, gender_strength=gender_strength)
        if search and compose:
            raise ConfigError("epithets", "composed", "epithets are composed by drawing, not by {best}", refs=("best",))
        if not search:
            self.novelty_rule(options, novelty, steering)
            self.epithet_parts(options, compose, steering)  # refuses --epithets composed where none can be
        if surnameless and (search or self.personal_surnameless(options, steering) is None):
            raise ConfigError(
                "surnameless",
                "on",
                "only personal names that the models of the built-in wuxia lists draw without a prefix, "
                "included characters or a charset have names without a surname mixed in",
            )
        return Prepared(options, steering, novelty, compose, surnameless)

    def personal_surnameless(self, options: SampleOptions, steering: Steering) -> "Surnameless | None":
        """`surnameless_table` of the personal names `options` ask for (those of `kind any` too)."""
        from .kinds import kind_settings

        if self._kind(options) == "kind any":
            options = replace(options, **kind_settings("name", self.train))
        return self.surnameless_table(options, steering)

    def describe_sampling(self, options: SampleOptions) -> str:
        """One line saying which sampling settings were used and which came from the model."""
        parts = []
        for name in SAMPLING_FIELDS:
            value = getattr(options, name)
            origin = " (model default)" if name in self.sampling and self.sampling[name] == value else ""
            parts.append(f"{name.replace('_', '-')} {'off' if value is None else value}{origin}")
        kind = self._kind(options)
        mixed = []
        blend = self._drawer(options).blend  # None when names of this kind come from the model alone
        if blend is not None:
            origin = " (model default)" if blend == self.card_blend else ""
            mixed.append(f"blended with {blend.model} {blend.weight:g}{origin}")
        return "sampling: " + ", ".join(parts + ([kind] if kind else []) + mixed)

    def compile(self, options: SampleOptions) -> Constraints:
        """The options checked against this model and compiled into masks (ConfigError names what cannot work)."""
        return compile_constraints(self.vocab, options, self.engine.window, self.train)

    def novelty_rule(
        self, options: SampleOptions, novelty: str | None, steering: Steering | None = None
    ) -> tuple[str, NoveltyFilter | PersonalFilter]:
        """The novelty mode (None: the model's default) and its filter; ConfigError at once when the
        prefix itself breaks the strict rule, since every name starting with it would be rejected.
        A shipped model's filter (`base` and those of the built-in lists), in any mode but off, also
        turns away the names of well-known people (`evidence.famous`: 刘德华, 毛文龙).
        Under kind name the filter also turns away names ending in an epithet's title (花孝先生) and,
        for a model of a built-in wuxia list under a gender lean in `steering`, two-character names
        starting like the other gender's monks or nuns (`surnameless.other_heads`: 玄慧 for a woman)."""
        mode = novelty or self.default_novelty
        builtin = mode == "strict" and self.default_novelty == "strict"  # a model of a built-in list
        famous = mode != "off" and (self.default_novelty == "strict" or self._shipped())  # base too
        filt = novelty_filter(self.names, mode, _builtin_names() if builtin else (), famous=famous)
        if mode == "strict" and len(options.prefix) >= 2:
            inside = Contains(self.names, extra=0).check(options.prefix)
            if inside is not None:
                what = "is itself" if inside == options.prefix else "contains"
                raise ConfigError(
                    "prefix",
                    options.prefix,
                    f"{what} the training name {inside}: under the strict "
                    "novelty rule every name starting with it is rejected (use {novelty} exact)",
                    refs=("novelty",),
                )
        if self._titled(options):
            filt = PersonalFilter(filt, self._other_heads(steering))
        return mode, filt

    def _shipped(self) -> bool:
        """Whether this model's file is one the package ships (`base` and the built-in lists' models)."""
        from ..pretrained import SHIPPED, label

        return self.path is not None and label(self.path) in SHIPPED

    def _other_heads(self, steering: Steering | None) -> str:
        """`surnameless.other_heads` of the gender `steering` leans to, for a model of a built-in wuxia
        list or a style mixture of them; "" otherwise."""
        from ..evidence.gender import GenderLean
        from .surnameless import WUXIA, other_heads

        genders = {e.gender for _, e, _ in (steering.evidence if steering else ()) if isinstance(e, GenderLean)}
        corpora = self._mixture_weights() or {self.train.builtin_corpus: 1.0}
        if len(genders) != 1 or not all(c in WUXIA for c in corpora):
            return ""
        return other_heads(genders.pop())

    def _kind(self, options: SampleOptions) -> str:
        """Which kind `options` ask this model for: "kind name", "kind epithet", "kind any", or "" for a
        model trained without name kinds (`kinds.describe`)."""
        from .kinds import describe

        return describe(options.hidden_prefix, options.ban_first, self.train)

    def _titled(self, options: SampleOptions) -> bool:
        """Whether names ending in an epithet's title (kinds.title_endings) are turned away: when a
        model trained with name kinds is asked for personal names."""
        return self._kind(options) == "kind name"

    def steering(
        self,
        critic: bool | None = None,
        critic_strength: float | None = None,
        extra: tuple[tuple[str, object, float], ...] = (),
        gender: str | None = None,
        gender_strength: float | None = None,
    ) -> Steering:
        """The evidence that reweights sampling: the model's critic (`critic` None: on when the model
        carries one; True without one is a ConfigError) at `critic_strength` (None: the critic's own
        default; 0 turns it off), `gender` ("female" or "male"; evidence/gender.py) at `gender_strength`
        (None: its default), and `extra` (label, evidence, strength) of any other kind. The pool is the
        largest any of them asks for."""
        items: list[tuple[str, object, float]] = []
        judged = self._critic_in_use(critic, critic_strength) and self.critic is not None
        pools = [self.critic.pool if judged else DEFAULT_POOL]  # the critic's own pool replaces the default
        gendered = False
        if gender is not None or gender_strength is not None:
            from ..evidence.gender import POOL, check_gender, gender_evidence

            if check_gender(gender) is None:
                raise ConfigError("gender_strength", NO_VALUE, "give {gender} female or male too", refs=("gender",))
            item = gender_evidence(gender, gender_strength)
            gendered = item[2] > 0
            items += [item] if gendered else []
            pools.append(POOL)
        if judged:
            strength = self.critic.strength if critic_strength is None else critic_strength
            # the appeal head learned the genre's flavour from mostly men's names (寒, 鹤, 霄): beside a
            # gender lean only the failure head counts (with it, women's names fell from 95% to 78%)
            judge = replace(self.critic, flavour=0.0) if gendered else self.critic
            items.insert(0, ("critic", judge, strength))
        items += [item for item in extra if item[2] > 0]
        # the critic's length ratios (the list's share of each name length over the model's proposals')
        # move the kept names' lengths towards the list's. A gender lean keeps them too: a name leans as
        # its least fitting given-name character does, so without strata one-character given names
        # (李萃, 宋小) won 72-90% of the names asked for a gender, against 7-40% of two-character names
        # among the novels' best-known women and men (王语嫣, 林仙儿; benchmarks/gender_labels.tsv)
        lengths = self.critic.lengths if judged and self.critic.lengths is not None else ()
        plain_long = self.critic.plain_long if lengths else None
        return Steering(
            tuple(items),
            max(pools) if items else 1,
            length_weights=tuple(lengths),
            plain_long_weight=plain_long,
        )

    def _critic_in_use(self, critic: bool | None, critic_strength: float | None) -> bool:
        """Whether the critic steers: `critic` True demands one, False turns it off, None uses it when
        present; a strength is checked whatever the case, and 0 turns it off."""
        if critic_strength is not None:
            check_strength(critic_strength)
        if critic and self.critic is None:
            raise ConfigError(
                "critic",
                NO_VALUE,
                "this model carries no critic (only models with a NAME.critic.safetensors "
                "beside them do; the shipped wuxia models have one)",
            )
        return self.critic is not None and critic is not False and (critic_strength is None or critic_strength > 0)

    def rate(self, names: list[str]) -> list[float | None]:
        """The critic's chance that a reader finds each name passable, P(not rated 1-2), 0-1 (None for
        each when the model has no critic). An empty name has nothing to rate: a ConfigError."""
        names = name_list(names)
        if "" in names:
            raise ConfigError("names", "", "an empty name cannot be rated")
        if self.critic is None:
            return [None] * len(names)
        return [round(float(r), 3) for r in self.critic.rate(names)]

    def _drawer(self, options: SampleOptions) -> "Namer":
        """Who draws names of `options`' kind: a blend serves personal names only, so epithets (and a
        mix of both kinds) come from the model alone; the base never saw an epithet, and blended
        with it the model's epithets read as plain personal names (文毅, 马野)."""
        return self if self.blend is None or self._personal(options) else self.unblended

    def _personal(self, options: SampleOptions) -> bool:
        """Whether `options` ask for personal names only: always for a model trained without name kinds
        (its list is what it is), else when they ask for kind name."""
        from .kinds import markers

        return not markers(self.train) or self._kind(options) == "kind name"

    # --- generation -----------------------------------------------------------------------------

    def generate(
        self,
        n: int = 20,
        options: SampleOptions | None = None,
        novelty: str | None = None,
        seed: int | None = None,
        max_tries: int | None = None,
        search_budget: int | None = None,
        on_names: Callable[[list[ScoredName]], None] | None = None,
        steering: Steering | None = None,
        budget: Budget = LIBRARY_BUDGET,
        compose: bool | None = None,
        surnameless: bool | None = None,
    ) -> NameResult:
        """Up to `n` distinct names meeting every option that are new under `novelty`; always ends.

        `options` None uses `self.options()` (the model's defaults); `novelty` None the model's
        default rule. `max_tries` bounds the candidates sampled, `search_budget` the model rows of
        the closing search (None: those of `budget`, see `Budget`). `on_names` is called with each batch of names as soon as they are
        found (streaming), before the closing search adds any.

        `steering` None applies the model's default (its critic, when it carries one; see
        `steering()`): `pool` candidates are drawn per name wanted; those that meet the options and
        the novelty rule (most of them; more are drawn when fewer than `n` do) are the proposals,
        and `n` of them are kept in proportion to the evidence's weights.

        Epithets of the models of the built-in wuxia lists are composed from the genre's parts and
        kept by the epithet judge (`epithet_parts`, `epithets.py`) unless `compose` is False; asked for
        either kind (`kind any`), such a model gives personal names and composed epithets in its list's
        proportions (`_generate_mixed`). Their personal names include the list's share of names without
        a surname (玄慈, 阿朱; `surnameless.py`) unless `surnameless` is False or the request concerns a
        name's start or shape (`surnameless_table`).
        """
        if n < 1:
            raise ConfigError("n", n, "must be at least 1")
        check_seed(seed)
        options = self.options() if options is None else options
        share = self._epithet_share(options, compose, steering)
        if share is not None:
            return self._generate_mixed(share, n, options, novelty, seed, on_names, steering, budget, surnameless)
        if self._drawer(options) is not self:
            return self.unblended.generate(
                n, options, novelty, seed, max_tries, search_budget, on_names, steering, budget, compose
            )
        steering = self.steering() if steering is None else steering
        table = self.surnameless_table(options, steering, surnameless)
        if table is not None:
            return self._generate_surnameless(
                table, n, options, novelty, seed, max_tries, search_budget, on_names, steering, budget
            )
        parts = self.epithet_parts(options, compose, steering)
        if parts is not None:
            return self._generate_composed(parts, n, options, novelty, seed, on_names, steering, budget)
        lengths_kept = steering.length_weights or steering.plain_long_weight is not None
        if lengths_kept and not self._personal(options):  # the ratios are personal names' lengths
            steering = replace(steering, length_weights=(), plain_long_weight=None)
        c = self.compile(options)
        mode, filt = self.novelty_rule(options, novelty, steering)
        greedy = options.temperature == 0
        pooled = steering.active and not greedy
        max_tries = 1 if greedy else (max_tries or budget.tries_for(n))
        search_budget = budget.search if search_budget is None else search_budget
        rng = np.random.default_rng(seed)
        stream = None if pooled else on_names
        emit = None if stream is None else (lambda found: stream(self._rated(dict(found))))
        if pooled:
            drawn, found = self._draw_steered(n, c, options, filt, rng, max_tries, steering, on_names)
        else:
            drawn = draw_new(self.engine, self.vocab, n, c, options, filt, rng, max_tries, emit)
            found = dict(drawn.found)
        result = NameResult(
            [], n, mode, options, rejected=drawn.rejected, drawn=drawn.drawn, steering=steering if pooled else OFF
        )
        if len(found) < n and greedy:
            why = f", {drawn.rejected[0][0]}, which {drawn.rejected[0][1].describe()}" if drawn.rejected else ""
            result.reason = f"greedy decoding (--temperature 0) gives one name{why}; use --best N for the N most likely"
        elif len(found) < n:
            more = search_names(
                self.engine,
                self.vocab,
                n - len(found),
                c,
                options,
                filt,
                skip=drawn.seen,
                max_nodes=search_budget,
                sampling_support=True,
            )
            prefix_logp = read_prefix(self.engine, c, 1)[2]
            extra = self._rated({nm: lp + prefix_logp for nm, lp in zip(more.names, more.log_probs)})
            for item in extra:
                found[item.name] = item.log_prob
            if on_names is not None and extra:
                on_names(extra)
            result.rejected.extend(more.rejected)
            result.complete = more.complete
            result.searched = more.expanded
            result.reason = shortfall_reason(
                c,
                more.complete,
                mode,
                len(result.rejected),
                f"{drawn.drawn} draws and a search of {more.expanded:,} paths",
            )
        result.items = self._rated(found)
        result.exhausted = len(found) < n
        if not result.exhausted:
            result.reason = ""
        return result

    def epithet_parts(
        self, options: SampleOptions, compose: bool | None = None, steering: Steering | None = None
    ) -> "Parts | None":
        """The parts that epithets are composed of (`epithets.py`) when `options` ask this model for
        epithets and it was trained on a built-in wuxia list (or mixes models that were, `--style`);
        None when the model draws them itself: another model, another kind, `compose` False, or
        evidence other than the critic and a gender lean steering. A gender lean keeps the role words
        of that gender (`epithets.gendered_parts`: 仙子 and 夫人 for women). Sampling settings do not
        turn composing off: they apply to the model's own draws. `compose` True where no parts can
        be is a ConfigError naming `epithets`."""
        asked = self._kind(options) == "kind epithet"
        parts = self._composed_parts() if asked else None
        if compose and parts is None:
            raise ConfigError(
                "epithets",
                "composed",
                "only epithets ({kind} epithet) of the models of the built-in wuxia lists are composed",
                refs=("kind",),
            )
        if compose is False or parts is None:
            return None
        from ..evidence.gender import GenderLean
        from .epithets import gendered_parts

        others = [] if steering is None else [e for label, e, _ in steering.evidence if label != "critic"]
        if any(not isinstance(e, GenderLean) for e in others):
            return None  # evidence the parts know nothing of reweights the model's own draws
        for lean in others:  # a gender: women's epithets end in a woman's title, men's in none
            parts = gendered_parts(parts, lean.gender)
            if parts is None:
                return None
        return parts

    def _composed_parts(self) -> "Parts | None":
        """The parts of the built-in wuxia list the model was trained on, or of the lists of a style
        mixture of such models, by weight (`epithets.parts_for`, `epithets.mixed_parts`), without the
        panel holdout; None for any other model."""
        from .epithets import mixed_parts, parts_for

        held = frozenset(self.train.panel_holdout)
        weights = self._mixture_weights()
        if weights is None:
            return parts_for(self.train.builtin_corpus, held)
        return mixed_parts(weights, held) if weights else None

    def _mixture_weights(self) -> dict[str, float] | None:
        """{built-in list: weight} of a style mixture (`--style`), summed where a list comes twice; None
        for a model that is no mixture, {} for a mixture whose lists cannot be told apart."""
        mixture = self.train.stored.get("mixture")
        if not isinstance(mixture, dict):
            return None
        corpus = self.train.builtin_corpus
        lists = corpus.split("+") if corpus else []
        if len(lists) != len(mixture):
            return {}
        weights: dict[str, float] = {}
        for name, w in zip(lists, mixture.values()):
            weights[name] = weights.get(name, 0.0) + float(w)
        return weights

    def _epithet_share(self, options: SampleOptions, compose: bool | None, steering: Steering | None) -> float | None:
        """The list's share of epithets when `options` ask for either kind (`kind any`) of a model whose
        epithets are composed (see `epithet_parts`); None otherwise: the model draws either kind itself."""
        from .kinds import kind_settings

        if self._kind(options) != "kind any":
            return None
        parts = self.epithet_parts(replace(options, **kind_settings("epithet", self.train)), compose, steering)
        return None if parts is None else parts.share

    def _generate_mixed(
        self,
        share: float,
        n: int,
        options: SampleOptions,
        novelty: str | None,
        seed: int | None,
        on_names: Callable[[list[ScoredName]], None] | None,
        steering: Steering | None,
        budget: Budget,
        surnameless: bool | None = None,
    ) -> NameResult:
        """`n` names of either kind: each is an epithet with probability `share` (the list's mix),
        composed; the rest are personal names as `kind name` gives them (blend and critic included);
        the two are shuffled together, then handed to `on_names` at once."""
        from .kinds import kind_settings

        rng = np.random.default_rng(seed)
        k = int(rng.binomial(n, share))
        parts = []
        for kind, count in (("name", n - k), ("epithet", k)):
            if count:
                asked = replace(options, **kind_settings(kind, self.train))
                parts.append(
                    self.generate(
                        count, asked, novelty, seed, steering=steering, budget=budget, surnameless=surnameless
                    )
                )
        items = list({item.name: item for part in parts for item in part.items}.values())  # distinct
        items = [items[i] for i in rng.permutation(len(items))]
        result = NameResult(
            items,
            n,
            parts[0].novelty,
            options,
            rejected=[r for part in parts for r in part.rejected],
            drawn=sum(part.drawn for part in parts),
            searched=sum(part.searched for part in parts),
            steering=parts[0].steering,
            reason="; ".join(part.reason for part in parts if part.reason),
        )
        result.exhausted = len(items) < n
        if on_names is not None and items:
            on_names(items)
        return result

    def surnameless_table(
        self, options: SampleOptions, steering: Steering, surnameless: bool | None = None
    ) -> "Surnameless | None":
        """How names without a surname are drawn (`surnameless.py`) when `options` ask a model of a built-in
        wuxia list for personal names and nothing in the request concerns a name's start or shape: no
        prefix, no included characters or charset, lengths that allow two characters, greedy decoding
        off, and no evidence but the critic and a gender lean (then only that gender's heads). None
        otherwise, or when `surnameless` is False: every name then comes as the model draws it."""
        from ..evidence.gender import GenderLean
        from .surnameless import LENGTH, surnameless_for, surnameless_mixed

        leans = [e for label, e, _ in steering.evidence if isinstance(e, GenderLean)]
        plain = (
            not options.prefix
            and not options.include
            and options.charset is None
            and options.min_len <= LENGTH
            and (options.max_len is None or options.max_len >= LENGTH)
            and options.temperature > 0
            and all(label == "critic" or isinstance(e, GenderLean) for label, e, _ in steering.evidence)
        )
        if surnameless is False or not plain or self._kind(options) != "kind name":
            return None
        held = frozenset(self.train.panel_holdout)
        weights = self._mixture_weights()  # a style mixture: its authors' tables by weight
        table = (
            surnameless_for(self.train.builtin_corpus, held) if weights is None else surnameless_mixed(weights, held)
        )
        for lean in leans:
            table = None if table is None else table.for_gender(lean.gender)
        if table is None:
            return None
        heads = [(h, k) for h, k in table.heads if h not in options.exclude and table.charset(h, options.exclude)]
        return replace(table, heads=tuple(heads)) if heads else None

    def _generate_surnameless(
        self,
        table: "Surnameless",
        n: int,
        options: SampleOptions,
        novelty: str | None,
        seed: int | None,
        max_tries: int | None,
        search_budget: int | None,
        on_names: Callable[[list[ScoredName]], None] | None,
        steering: Steering,
        budget: Budget,
    ) -> NameResult:
        """`n` personal names of which about the list's share (`table.share`) have no surname: those are
        drawn first, a head at a time (the author model's own draw among the characters the genre's names
        of the head's family have, as `surnameless.py` says), then the other names as the model and its
        critic give them; the first are spread through the second as these come (`Interleave`)."""
        from .surnameless import Interleave

        rng = np.random.default_rng(seed)
        k = int(rng.binomial(n, table.share))
        found, drawn, rejected = self.draw_surnameless(table, k, options, novelty, steering, rng, budget)
        spread = Interleave(list(found.values()), n - len(found), rng)
        shown: list[ScoredName] = []  # every name in the order handed out

        def emit(batch: list[ScoredName], last: bool = False) -> None:
            merged = spread.batch(batch, last)
            shown.extend(merged)
            if on_names is not None and merged:
                on_names(merged)

        rest = table.leave_room(steering)  # the list's two-character share holds these names too
        if len(found) < n:
            result = self.generate(
                n - len(found), options, novelty, seed, max_tries, search_budget, emit, rest, budget, surnameless=False
            )
        else:  # every name asked for has no surname (a request of one or two names, now and then)
            result = NameResult([], n, self.novelty_rule(options, novelty)[0], options, steering=rest)
        emit([], last=True)
        result.items = shown
        result.requested = n
        result.drawn += drawn
        result.rejected = rejected + result.rejected
        result.exhausted = len(result.items) < n
        return result

    def draw_surnameless(
        self,
        table: "Surnameless",
        k: int,
        options: SampleOptions,
        novelty: str | None,
        steering: Steering,
        rng: np.random.Generator,
        budget: Budget = LIBRARY_BUDGET,
    ) -> tuple[dict[str, ScoredName], int, list]:
        """Up to `k` names without a surname as `surnameless.py` draws them (`table`, from
        `surnameless_table`): heads by the author's use, then the model's own draw among the characters
        the genre's names of each head's family have; under a gender lean in `steering`, the lean
        chooses among them (the critic does not: it reads the head as a surname). Returns the names
        found, the candidates drawn and the novelty rejections."""
        from .surnameless import LENGTH

        leaned = tuple(item for item in steering.evidence if item[0] != "critic")
        own = Steering(leaned, max(steering.pool, 1)) if leaned else OFF
        found: dict[str, ScoredName] = {}
        drawn, rejected = 0, []
        for head, count in sorted(table.draw_heads(k, rng).items()):
            asked = replace(
                options, prefix=head, min_len=LENGTH, max_len=LENGTH, charset=table.charset(head, options.exclude)
            )
            part = self.generate(count, asked, novelty, int(rng.integers(2**31)), steering=own, budget=budget)
            found.update((item.name, item) for item in part.items)
            drawn += part.drawn
            rejected += part.rejected
        return found, drawn, rejected

    def _generate_composed(
        self,
        parts: "Parts",
        n: int,
        options: SampleOptions,
        novelty: str | None,
        seed: int | None,
        on_names: Callable[[list[ScoredName]], None] | None,
        steering: Steering,
        budget: Budget,
    ) -> NameResult:
        """`n` composed epithets (`epithets.draw_composed`) that meet `options` and are new under
        `novelty`; when the constraints admit too few compositions, the model draws the rest."""
        from ..evidence.judge import shipped_judge
        from .epithets import draw_composed

        c = self.compile(options)
        mode, filt = self.novelty_rule(options, novelty)
        rng = np.random.default_rng(seed)
        judge = shipped_judge()

        def log_probs(names: list[str]) -> np.ndarray:
            return np.array([sum(s.char_log_probs) for s in self.score(names, options.hidden_prefix)])

        weights = None if judge is None else (lambda names: judge.strength * judge.log_weights(names))
        admits = lambda name: c.admits(self.vocab.encode(name))  # noqa: E731
        drawn = draw_composed(parts, n, admits, filt.check, log_probs, rng, weights)
        # an epithet's `critic` is the judge's P(passable): the critic reads personal names
        rated = [None] * len(drawn.found) if judge is None else judge.passable(list(drawn.found)).round(3).tolist()
        kept = [ScoredName(name, lp, r) for (name, lp), r in zip(drawn.found.items(), rated)]
        result = NameResult(kept, n, mode, options, rejected=drawn.rejected, drawn=drawn.drawn, composed=True)
        if on_names is not None and result.items:
            on_names(result.items)
        if len(result.items) < n:
            rest = self.generate(n, options, novelty, seed, steering=steering, budget=budget, compose=False)
            extra = [item for item in rest.items if item.name not in drawn.found][: n - len(result.items)]
            if on_names is not None and extra:
                on_names(extra)
            result.items += extra
            result.rejected += rest.rejected
            result.drawn += rest.drawn
            result.searched, result.complete, result.reason = rest.searched, rest.complete, rest.reason
        result.exhausted = len(result.items) < n
        if not result.exhausted:
            result.reason = ""
        return result

    def best(
        self,
        n: int = 20,
        options: SampleOptions | None = None,
        novelty: str | None = None,
        max_nodes: int | None = None,
        steering: Steering | None = None,
        budget: Budget = LIBRARY_BUDGET,
    ) -> NameResult:
        """The `n` most likely names under `options` that are new under `novelty`, likeliest first
        (deterministic; temperature, top-k, top-p and min-p do not apply). With steering (None: the
        model's default, see `steering()`), the `pool * n` likeliest are ranked by log p plus the
        evidence's log weights and the best `n` kept. `max_nodes` bounds the search's model rows (None:
        `budget.best`)."""
        if n < 1:
            raise ConfigError("best", n, "must be at least 1")
        options = self.options() if options is None else options
        if self._drawer(options) is not self:
            return self.unblended.best(n, options, novelty, max_nodes, steering, budget)
        steering = self.steering() if steering is None else steering
        c = self.compile(options)
        mode, filt = self.novelty_rule(options, novelty, steering)
        want = n * steering.pool if steering.active else n
        max_nodes = budget.best if max_nodes is None else max_nodes
        found = search_names(self.engine, self.vocab, want, c, options, filt, max_nodes=max_nodes)
        prefix_logp = read_prefix(self.engine, c, 1)[2]
        pairs = [(nm, lp + prefix_logp) for nm, lp in zip(found.names, found.log_probs)]
        if steering.active and pairs:
            weights = steering.log_weights([nm for nm, _ in pairs])
            order = np.argsort(-(np.array([lp for _, lp in pairs]) + weights), kind="stable")[:n]
            pairs = [pairs[i] for i in order]
        result = NameResult(
            self._rated(dict(pairs[:n])),
            n,
            mode,
            options,
            complete=found.complete,
            rejected=found.rejected,
            searched=found.expanded,
            steering=steering if steering.active else OFF,
            searched_only=True,
        )
        result.exhausted = len(result.items) < n
        if result.exhausted:
            result.reason = shortfall_reason(
                c, found.complete, mode, len(found.rejected), f"a search of {found.expanded:,} paths"
            )
        return result

    def _draw_steered(
        self,
        n: int,
        c: Constraints,
        options: SampleOptions,
        filt: NoveltyFilter | PersonalFilter,
        rng: np.random.Generator,
        max_tries: int,
        steering: Steering,
        on_names: Callable[[list[ScoredName]], None] | None,
    ) -> tuple[Draw, dict[str, float]]:
        """Steered sampling in rounds of at most STEER_ROUND names: each round draws one batch of
        `pool` candidates per name (more only when too few of them pass the options and the novelty
        rule), keeps its names in proportion to the evidence and hands them to `on_names`, so a large
        request streams and a candidate is never proposed twice. Returns what was drawn and the names kept."""
        total = Draw()
        found: dict[str, float] = {}
        while len(found) < n and total.drawn < max_tries:
            k = min(STEER_ROUND, n - len(found))
            budget = max_tries - total.drawn
            round_ = draw_new(
                self.engine,
                self.vocab,
                k * steering.pool,
                c,
                options,
                filt,
                rng,
                min(budget, k * steering.pool),
                into=Draw(seen=total.seen),
            )
            if len(round_.found) < k:
                round_ = draw_new(self.engine, self.vocab, k, c, options, filt, rng, budget, into=round_)
            total.rejected += round_.rejected
            total.drawn += round_.drawn
            kept = self._keep(round_.found, k, steering, rng)
            found.update(kept)
            if on_names is not None and kept:
                on_names(self._rated(kept))
            if len(round_.found) < k:  # the constraints leave no more: the closing search takes over
                break
        total.found = found
        return total, found

    def _keep(self, found: dict[str, float], n: int, steering: Steering, rng: np.random.Generator) -> dict[str, float]:
        """`n` of the proposals `found`, drawn in proportion to the evidence's weights (all of them when few),
        in the order they were proposed: the draw's own order would put the evidence's favourites first
        and its weakest stratum (two-character names) last in every batch a reader sees."""
        if len(found) <= n:
            return found
        names = list(found)
        strata = np.array([steering.stratum(nm) for nm in names])
        keep = resample(steering.log_weights(names), n, rng, strata=strata, stratum_weight=steering.length_weight)
        return {names[i]: found[names[i]] for i in sorted(keep)}

    def _rated(self, found: dict[str, float]) -> list[ScoredName]:
        """The found names as ScoredName, with the critic's P(passable) when the model has a critic (one
        batched call of the critic, not one per name)."""
        ratings = self.rate(list(found))
        return [ScoredName(nm, lp, r) for (nm, lp), r in zip(found.items(), ratings)]

    def sample(
        self, n: int, seed: int | None = 0, options: SampleOptions | None = None, batch: int = 1000
    ) -> list[str]:
        """`n` names drawn with no novelty filter, repeats kept (what `eval` describes); plain
        temperature-1 sampling unless `options` say otherwise."""
        check_seed(seed)
        options = SampleOptions() if options is None else options
        if self._drawer(options) is not self:
            return self.unblended.sample(n, seed, options, batch)
        c = self.compile(options)
        rng = np.random.default_rng(seed)
        out: list[str] = []
        for _ in range(n):  # each batch adds at least one name in practice; the bound keeps it finite
            if len(out) >= n:
                break
            out.extend(sample_batch(self.engine, self.vocab, min(batch, n - len(out)), c, options, rng)[0])
        return out[:n]

    # --- scoring --------------------------------------------------------------------------------

    def score(self, names: list[str], context: str = "") -> list[NameScore]:
        """Per-character log-probabilities of each name (the end token counted), after `context`."""
        return score_names(self.engine, self.vocab, name_list(names), context=context)

    def explain(self, name: str, top: int = 5):
        """Step-by-step probabilities of `name`, and for LSTM models its gates and nameable units
        (`explain.Explanation`); read under the model's default hidden prefix (see `kinds.py`)."""
        from .explain import explain

        return explain(self, name, context=self.options().hidden_prefix, top=top)

    def reference(self) -> list[float]:
        """Sorted bits per character of (a spread of) the training names, for percentiles; computed once."""
        if self._reference is None:
            self._reference = reference_bits(self.engine, self.vocab, self.names)
        return self._reference
