"""The model card (card.py) and the registry's capabilities (models.ModelSpec): what a checkpoint says is
typed and checked once, with one default per field; what a model kind can do is asked of the registry."""

from __future__ import annotations

import json

import pytest
from safetensors_bytes import with_json_field
from torch_leg import import_torch

from xiaming import models
from xiaming.card import DEFAULT_MAX_NAME_LEN, ModelCard, TrainingRecord
from xiaming.checkpoint import read_checkpoint
from xiaming.data.vocab import Vocab
from xiaming.errors import CheckpointError
from xiaming.generation.constraints import SampleOptions, compile_constraints, default_max_len
from xiaming.generation.namer import Namer
from xiaming.pretrained import shipped_path
from xiaming.validate import check_card, read_metadata


def test_a_shipped_checkpoint_reads_as_a_typed_card():
    path = shipped_path("jinyong")
    card = check_card(read_metadata(path, "xiaming-checkpoint"))
    assert isinstance(card, ModelCard) and isinstance(card.train, TrainingRecord)
    record = read_checkpoint(path).train
    assert record == card.train and record.source == "builtin:jinyong" and record.builtin_corpus == "jinyong"
    assert isinstance(record.max_name_len, int) and 4 <= record.max_name_len <= 32
    assert record.kinds == {"epithet": record.kinds["epithet"]} and record.panel_holdout  # markers, holdout names
    assert record.names == record["data"]["names"] > 1000  # data.names, typed; the stored record kept whole
    namer = Namer.load("jinyong")
    assert namer.train == record and namer.parameters == record.parameters > 0


def test_a_record_that_does_not_say_has_one_default_per_field():
    empty = TrainingRecord.from_dict(None)
    assert empty == TrainingRecord.from_dict({}) == TrainingRecord()
    assert (empty.max_name_len, empty.source, empty.kinds, empty.init) == (DEFAULT_MAX_NAME_LEN, "", {}, None)
    # the length cap of generation reads that one default, whether given a record or a stored dict
    assert default_max_len(None, None, SampleOptions()) == DEFAULT_MAX_NAME_LEN
    assert default_max_len(None, {"max_name_len": 5}, SampleOptions()) == 5
    vocab = Vocab.from_names(["abc"])
    assert compile_constraints(vocab, SampleOptions(), None, TrainingRecord()).max_len == DEFAULT_MAX_NAME_LEN


def test_the_record_keeps_every_stored_key_for_writing_back():
    stored = {"source": "x.txt", "max_name_len": 4, "stage": "wuxia", "data": {"names": 9, "val_names": 1}}
    record = TrainingRecord.from_dict(stored)
    assert dict(record) == record.to_dict() == stored and {**record, "bridge": []}["stage"] == "wuxia"
    assert json.loads(json.dumps(dict(record))) == stored


@pytest.mark.parametrize(
    "field, value",
    [
        ("max_name_len", 0),
        ("max_name_len", "12"),
        ("source", 3),
        ("step", -1),
        ("kinds", {"epithet": "ab"}),
        ("data", {"names": True}),
        ("panel_holdout", {"names": [1]}),
    ],
)
def test_a_checkpoint_with_a_bad_card_field_is_refused_naming_the_field(tmp_path, field, value):
    bad = with_json_field(shipped_path("poets"), tmp_path / "bad.safetensors", "train", field, value)
    with pytest.raises(CheckpointError, match=rf"damaged train\.{field}") as refused:
        read_checkpoint(bad)
    assert refused.value.field == f"train.{field}"
    with pytest.raises(CheckpointError, match=rf"train\.{field}"):
        Namer.load(bad)


def test_a_marker_outside_the_vocabulary_is_refused():
    with pytest.raises(CheckpointError, match="train.kinds.epithet"):
        TrainingRecord.from_dict({"kinds": {"epithet": "ж"}}, "m.safetensors", Vocab.from_names(["abc"]))


# --- the registry says what each kind can do --------------------------------------------------------


def test_every_kind_names_its_numpy_engine_in_the_one_registry():
    from xiaming.engine import ENGINES

    assert set(ENGINES) == set(models.MODELS) and all(ENGINES[k] is s.engine for k, s in models.MODELS.items())


def test_the_registry_says_which_kinds_train_by_gradient():
    torch = import_torch()
    from safetensors_bytes import small_checkpoint  # noqa: F401  (the helper asks the registry too)

    assert {k for k, s in models.MODELS.items() if not s.gradient} == {"minchar", "ngram"}
    for kind, spec in models.MODELS.items():
        size = "tiny" if spec.presets else None
        model = models.build_model(kind, models.make_config(kind, {"vocab_size": 9, "block_size": 8}, size))
        # what the spec says is what the model is: a torch module to optimise, or an algorithm of its own
        assert isinstance(model, torch.nn.Module) == spec.gradient
        assert hasattr(model, "make_trainer") == (not spec.gradient)


def test_explain_shows_gates_where_the_registry_says_the_engine_traces_them():
    assert {k for k, s in models.MODELS.items() if s.gates} == {"lstm"}
    lstm = Namer.load("jinyong")
    assert lstm.kind == "lstm" and lstm.shows_gates and lstm.explain("令狐冲").gates
    import_torch()
    on_torch = Namer.load("jinyong", engine="torch")
    assert not on_torch.shows_gates and on_torch.explain("令狐冲").gates is None  # the torch engine traces none
