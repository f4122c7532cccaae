"""The training loop: validation, early stopping, best checkpoint, resume, clean interruption."""

import math

import pytest
import torch

from xiaming import TrainConfig, train
from xiaming.checkpoint import load_checkpoint, read_tensors, state_path
from xiaming.data.corpus import NameList
from xiaming.errors import CheckpointError, ConfigError, DataError, XiamingWarning
from xiaming.training.trainer import lr_at

QUIET = {"log": lambda _m: None, "progress_bar": False}


def _weights(path):
    tensors, _ = read_tensors(state_path(path), expected_format="xiaming-train-state")
    return {k: v for k, v in tensors.items() if k.startswith(("model.", "best.", "trainer."))}


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_resume_ends_with_the_same_weights_as_an_uninterrupted_run(kind, tiny_names, tmp_path):
    data = NameList(tiny_names, "made-up")
    config = TrainConfig(max_steps=60, eval_interval=20, batch_size=16, seed=5)
    straight = tmp_path / "straight.safetensors"
    train(data, kind, straight, config, size="tiny", **QUIET)
    cut = tmp_path / "cut.safetensors"
    first = train(data, kind, cut, config, size="tiny", should_stop=lambda step: step == 27, **QUIET)
    assert first.stopped == "interrupted" and first.step == 27
    resumed = train(data, kind, cut, config, resume=True, **QUIET)
    assert resumed.step == 60
    a, b = _weights(straight), _weights(cut)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert load_checkpoint(straight).train["best_val_loss"] == load_checkpoint(cut).train["best_val_loss"]


def test_the_checkpoint_holds_the_best_validation_model(tiny_lstm):
    path, result = tiny_lstm
    ckpt = load_checkpoint(path)
    best_val = min(h[3] for h in result.history)
    assert ckpt.train["best_val_loss"] == pytest.approx(best_val)
    assert ckpt.train["step"] == result.best_step
    assert ckpt.train["data"]["names"] == 300 and ckpt.train["data"]["val_names"] == 30


def test_early_stopping_stops_when_validation_stalls(tiny_names, tmp_path):
    # A huge learning rate makes validation bounce; patience 2 must end the run long before max_steps.
    config = TrainConfig(max_steps=5000, eval_interval=5, patience=2, lr=5.0, warmup_steps=0, seed=0)
    result = train(NameList(tiny_names, "made-up"), "rnn", tmp_path / "m.safetensors", config, size="tiny", **QUIET)
    assert result.stopped == "early_stop" and result.step < 5000
    assert result.best_val == min(h[3] for h in result.history)


def test_max_time_stops_and_still_saves_a_model(tiny_names, tmp_path):
    config = TrainConfig(max_steps=10**6, max_time=0.5, eval_interval=10**5)
    result = train(NameList(tiny_names, "made-up"), "gru", tmp_path / "m.safetensors", config, size="tiny", **QUIET)
    assert result.stopped == "max_time" and result.step < 10**6
    assert load_checkpoint(tmp_path / "m.safetensors").train["step"] == result.step


def test_resume_needs_a_state_and_the_same_names(tiny_names, tmp_path):
    out = tmp_path / "m.safetensors"
    with pytest.raises(CheckpointError, match="no training state"):
        train(NameList(tiny_names, "x"), "lstm", out, resume=True, **QUIET)
    train(NameList(tiny_names, "x"), "lstm", out, TrainConfig(max_steps=2, eval_interval=1), size="tiny", **QUIET)
    with pytest.raises(DataError, match="differ"):
        train(
            NameList(["zzz", "qqq", "xxx"], "y"),
            "lstm",
            out,
            TrainConfig(max_steps=4, eval_interval=1),
            resume=True,
            **QUIET,
        )


def test_schedule_warms_up_then_decays_to_the_floor():
    config = TrainConfig(max_steps=1000, warmup_steps=100, min_lr_ratio=0.1)
    assert lr_at(0, 1.0, config) == pytest.approx(0.01)
    assert lr_at(99, 1.0, config) == pytest.approx(1.0)
    assert lr_at(550, 1.0, config) == pytest.approx(0.55)
    assert lr_at(1000, 1.0, config) == pytest.approx(0.1)


@pytest.mark.parametrize(
    "field, value, flag",
    [
        ("max_steps", 0, "--max-steps"),
        ("val_fraction", 1.5, "--val-fraction"),
        ("lr", -1.0, "--lr"),
        ("batch_size", 0, "--batch-size"),
    ],
)
def test_bad_training_values_name_their_field(field, value, flag):
    with pytest.raises(ConfigError) as err:
        TrainConfig(**{field: value}).validate()
    assert (err.value.field, err.value.value) == (field, value)
    assert err.value.render(lambda name: "--" + name.replace("_", "-")).startswith(f"{flag} {value}: must be")


def test_fine_tuning_keeps_known_rows_and_grows_the_vocabulary(tiny_lstm, tmp_path):
    from xiaming.data.vocab import N_SPECIAL

    base = load_checkpoint(tiny_lstm[0])
    new_list = ["bazu", "kezu", "muzo", "zuzi", "tizu", "zolu", "pazi", "zeka"]  # 'z' is new
    out = tmp_path / "ft.safetensors"
    result = train(
        NameList(new_list, "new"),
        None,
        out,
        TrainConfig(max_steps=1, eval_interval=1, lr=1e-9),
        init=tiny_lstm[0],
        **QUIET,
    )
    tuned = load_checkpoint(out)
    assert tuned.kind == base.kind and tuned.config.n_hidden == base.config.n_hidden
    assert tuned.vocab.chars == tuple(sorted(set(base.vocab.chars) | {"z"}))
    assert tuned.train["init"] == tiny_lstm[0] and tuned.names == new_list
    old, new = base.model.wte.weight, tuned.model.wte.weight
    for c in base.vocab.chars:  # a near-zero learning rate leaves transferred rows where they were
        assert torch.allclose(old[base.vocab.id(c)], new[tuned.vocab.id(c)], atol=1e-5)
    assert torch.allclose(new[tuned.vocab.id("z")], old[N_SPECIAL:].mean(dim=0), atol=1e-5)
    assert result.step == 1


def test_fine_tuning_rejects_a_different_kind_or_shape(tiny_lstm, tiny_names, tmp_path):
    data = NameList(tiny_names, "x")
    with pytest.raises(ConfigError, match="does not match"):
        train(data, "gru", tmp_path / "a.safetensors", init=tiny_lstm[0], **QUIET)
    with pytest.raises(ConfigError, match="only dropout"):
        train(data, None, tmp_path / "b.safetensors", init=tiny_lstm[0], model_overrides={"n_hidden": 7}, **QUIET)


def test_resume_lists_every_flag_it_cannot_honour_and_force_keeps_the_saved_ones(tiny_names, tmp_path):
    data = NameList(tiny_names, "x")
    out = tmp_path / "m.safetensors"
    saved = TrainConfig(max_steps=4, eval_interval=2, batch_size=16, lr=1e-2, seed=3)
    train(data, "lstm", out, saved, size="tiny", **QUIET)
    changed = TrainConfig(max_steps=8, eval_interval=2, batch_size=32, lr=0.1, seed=3, unk_rate=0.2)
    with pytest.raises(ConfigError) as info:
        train(data, "gru", out, changed, model_overrides={"n_hidden": 99}, resume=True, **QUIET)
    message = info.value.render(lambda name: "--" + name.replace("_", "-"))  # as the CLI shows it
    for expected in (
        "--model gru (saved lstm)",
        "--batch-size 32 (saved 16)",
        "--lr 0.1 (saved 0.01)",
        "--unk-rate 0.2 (saved 0.5)",
        "--n-hidden 99 (saved 32)",
        "--force",
    ):
        assert expected in message, message
    assert "--max-steps" not in message  # changeable: applied, not refused
    notes: list[str] = []
    with pytest.warns(XiamingWarning, match="--force: continuing with the saved values"):
        result = train(
            data,
            "gru",
            out,
            changed,
            model_overrides={"n_hidden": 99},
            resume=True,
            force=True,
            log=notes.append,
            progress_bar=False,
        )
    assert result.step == 8  # the new --max-steps is applied
    assert any("--max-steps 8 (was 4)" in n for n in notes)
    tuned = load_checkpoint(out)
    assert tuned.kind == "lstm" and tuned.config.n_hidden == 32
    assert tuned.train["train_config"]["batch_size"] == 16 and tuned.train["train_config"]["lr"] == 1e-2


def test_resume_with_a_damaged_state_names_the_file(tiny_names, tmp_path):
    from xiaming.checkpoint import atomic_write_tensors

    out = tmp_path / "m.safetensors"
    atomic_write_tensors(
        state_path(out),
        {"x": torch.zeros(1)},
        {"format": "xiaming-train-state", "format_version": "1", "run": '{"kind": "bogus"}'},
    )
    with pytest.raises(CheckpointError, match=r"m\.state\.safetensors: damaged run\.kind"):
        train(NameList(tiny_names, "x"), None, out, resume=True, **QUIET)


def test_fine_tuning_checks_dropout_like_every_other_value(tiny_lstm, tiny_names, tmp_path):
    with pytest.raises(ConfigError, match=r"dropout 1\.5: must be in \[0, 1\)"):
        train(
            NameList(tiny_names, "x"),
            None,
            tmp_path / "ft.safetensors",
            init=tiny_lstm[0],
            model_overrides={"dropout": 1.5},
            **QUIET,
        )
    assert not (tmp_path / "ft.safetensors").exists()


def test_the_steps_of_train_work_alone(tiny_lstm, tiny_names, tmp_path):
    from xiaming.training.loop import Progress, TrainingLoop, build_trainer
    from xiaming.training.parallel import SOLO
    from xiaming.training.plan import prepare_run

    data = NameList(tiny_names, "x")
    out = tmp_path / "m.safetensors"
    fresh = prepare_run(data, out, "gru", TrainConfig(max_steps=3, eval_interval=3, seed=2), size="tiny")
    assert fresh.kind == "gru" and not fresh.resume and fresh.base is None
    assert len(fresh.train_names) + len(fresh.val_names) == len(tiny_names)
    tuned = prepare_run(data, out, None, TrainConfig(), init=tiny_lstm[0])
    assert tuned.kind == "lstm" and tuned.model_config.dropout == 0.3 and tuned.base is not None
    assert tuned.peak_lr == pytest.approx(3e-3 / 3)
    session = build_trainer(fresh, data, SOLO)
    loss, chars = session.trainer.step(0)
    assert math.isfinite(loss) and chars > 0
    loop = TrainingLoop(fresh, session, data, out, Progress(), {}, SOLO)

    class Never:
        requested = False

    assert loop.run(Never(), progress_bar=False) == "max_steps"
    result = loop.finish("max_steps")
    assert result.step == 3 and load_checkpoint(out).kind == "gru"
    resumed = prepare_run(data, out, None, None, resume=True)
    assert resumed.resume and resumed.kind == "gru" and resumed.config.max_steps == 3


def test_a_diverging_run_stops_and_keeps_the_last_good_files(tiny_names, tmp_path, monkeypatch, capsys):
    """Weights turned NaN at step 7 make the loss NaN: the run stops naming the step, and neither the
    checkpoint nor the resumable state is overwritten with the broken weights."""
    from xiaming.errors import TrainingDiverged
    from xiaming.training import trainer as training

    original = training.GradientTrainer.step

    def poisoned(self, step):
        if step == 6:  # the 7th step
            with torch.no_grad():
                next(self.model.parameters()).fill_(math.nan)
        return original(self, step)

    monkeypatch.setattr(training.GradientTrainer, "step", poisoned)
    out = tmp_path / "m.safetensors"
    config = TrainConfig(max_steps=20, eval_interval=5, batch_size=16, seed=1)
    with pytest.raises(
        TrainingDiverged,
        match=r"^step 7: the training loss is nan, so the run stopped .*"
        r"m\.safetensors keeps the best model so far, from step 5",
    ):
        train(NameList(tiny_names, "x"), "gru", out, config, size="tiny", **QUIET)
    kept = load_checkpoint(out)  # loads, so every weight is finite (validate refuses NaN)
    assert kept.train["step"] == 5
    _, metadata = read_tensors(state_path(out), expected_format="xiaming-train-state")
    assert '"step": 5' in metadata["progress"]
    with pytest.raises(TrainingDiverged, match="no model was saved"):  # before the first validation
        train(
            NameList(tiny_names, "x"),
            "gru",
            tmp_path / "early.safetensors",
            TrainConfig(max_steps=20, eval_interval=10, batch_size=16),
            size="tiny",
            **QUIET,
        )
    assert not (tmp_path / "early.safetensors").exists()


def test_validation_batches_follow_the_names_lengths_not_the_longest(tiny_names):
    """One long name among short ones costs its own row: a single padded tensor made every row as
    long as the longest (8.9 GB for one 50 MB line under a raised --max-name-len)."""
    from xiaming import models
    from xiaming.data.batches import encode_names, length_batches
    from xiaming.data.vocab import Vocab
    from xiaming.training.trainer import batches_nll

    names = tiny_names[:200] + ["ab" * 2500]
    vocab = Vocab.from_names(names)
    batches = length_batches(vocab, names, logits=1 << 16)
    cells = sum(x.numel() for x, _ in batches)
    assert cells <= sum(len(n) + 1 for n in names) * 2 < len(names) * 5001 // 50
    assert sum(len(x) for x, _ in batches) == len(names) and len(batches[-1][0]) == 1  # the long one alone
    assert all(len(x) * x.shape[1] * vocab.size <= 1 << 16 for x, _ in batches if len(x) > 1)
    torch.manual_seed(0)
    model = models.build_model("gru", models.make_config("gru", {"vocab_size": vocab.size}, "tiny")).eval()
    x, y = encode_names(vocab, names)
    with torch.no_grad():
        logits, _ = model(x, y)
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab.size), y.reshape(-1), ignore_index=-1)
    assert batches_nll(model, batches) == pytest.approx(float(nll), rel=1e-5)


def test_max_name_len_has_a_ceiling_that_every_checkpoint_can_load(tiny_names, tmp_path):
    from xiaming.data.corpus import LONGEST_NAME, load_names
    from xiaming.validate import MAX_STORED_NAME_LEN

    assert MAX_STORED_NAME_LEN == LONGEST_NAME
    names = tmp_path / "n.txt"
    names.write_text("\n".join(tiny_names), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^max_name_len 100000000: at most {LONGEST_NAME}"):
        load_names(names, max_len=100_000_000)
    with pytest.raises(DataError, match=r"a name of 65,537 characters"):  # the API reads with no limit
        train(
            NameList(tiny_names + ["a" * (LONGEST_NAME + 1)], "x"),
            "gru",
            tmp_path / "m.safetensors",
            TrainConfig(max_steps=1),
            size="tiny",
            **QUIET,
        )


def test_validation_cadence_is_scaled_to_the_list_unless_given():
    from xiaming.training.config import cadence

    assert cadence(47, 64) == (10, 5)  # a short list: checked every 10 steps, stopped after 5 checks without gain
    assert cadence(6400, 64) == cadence(300_000, 64) == (100, 10)  # long lists: as before issue 25
    intervals = [cadence(n, 64) for n in range(1, 8000, 50)]
    assert intervals == sorted(intervals)  # never checked less often, or given less patience, on a shorter list
    assert TrainConfig(eval_interval=7).resolved(47) == TrainConfig(eval_interval=7, patience=5)
    assert TrainConfig(patience=3).resolved(10**5) == TrainConfig(eval_interval=100, patience=3)


def test_a_short_list_stops_soon_and_saves_its_cadence_and_why(tmp_path):
    names = NameList(
        [
            n + s
            for n in ("anna", "bob", "carl", "dora", "emil", "fred", "gina", "hugo", "ida", "jan")
            for s in ("", "o")
        ],
        "short",
    )  # 20 names: 18 to train on
    out = tmp_path / "m.safetensors"
    result = train(names, "lstm", out, TrainConfig(lr=0.05, warmup_steps=0, seed=1), size="tiny", **QUIET)
    saved = load_checkpoint(out).train["train_config"]
    assert (saved["eval_interval"], saved["patience"]) == (10, 5)
    assert [h[0] for h in result.history][:3] == [10, 20, 30]
    assert result.stopped == "early_stop" and result.step == result.best_step + 50
    assert result.reason == (
        "stopped early: no better validation loss in 5 validations (--patience), one every 10 steps (--eval-interval)"
    )
    # resuming with the defaults keeps the saved cadence, with no difference to refuse
    again = train(
        names,
        "lstm",
        out,
        TrainConfig(lr=0.05, warmup_steps=0, seed=1, max_steps=result.step + 10),
        size="tiny",
        resume=True,
        **QUIET,
    )
    assert again.step == result.step + 10  # one more validation, and it is patience's sixth: stop
    assert load_checkpoint(out).train["train_config"]["eval_interval"] == 10
