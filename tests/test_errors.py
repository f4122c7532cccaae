"""Errors that know their field: the library raises `ConfigError(field, value, reason)` in its Python
names, the CLI writes the field as its flag, the web API as its request field; nobody reads a message
to find out which field it is about."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import pytest
from conftest import run_cli

from xiaming.errors import NO_VALUE, ConfigError

SRC = Path(__file__).resolve().parent.parent / "src" / "xiaming"
# fields a library function takes that no command sets (the Python API's own arguments)
LIBRARY_ONLY = {"engine", "folds", "works", "kinds", "corpus", "names"}


def test_a_config_error_is_one_line_in_python_names():
    exc = ConfigError("min_len", 5, "is above {max_len} 3", refs=("max_len",))
    assert str(exc) == "min_len 5: is above max_len 3"
    assert (exc.field, exc.value, exc.reason) == ("min_len", 5, "is above {max_len} 3")
    assert exc.render(lambda f: f.upper()) == "MIN_LEN 5: is above MAX_LEN 3"
    assert str(ConfigError("prefix", "令狐", "x")) == "prefix '令狐': x"  # a string is quoted
    assert str(ConfigError("charset", NO_VALUE, "no characters given")) == "charset: no characters given"


def test_the_one_argument_form_is_an_error_about_no_field():
    exc = ConfigError("something is wrong")
    assert str(exc) == "something is wrong" and exc.field is None
    with pytest.raises(TypeError):
        ConfigError("max_len", 3)  # a field and a value without a reason


def test_a_config_error_keeps_its_field_when_copied():
    # copy.deepcopy rebuilds it by the protocol pickle uses (the exception's args, then its attributes),
    # without loading pickled bytes
    exc = copy.deepcopy(ConfigError("top_k", 0, "must be at least 1"))
    assert (exc.field, exc.value, str(exc)) == ("top_k", 0, "top_k 0: must be at least 1")


def test_the_library_names_the_field_it_refuses():
    from xiaming.generation.constraints import SampleOptions

    for options, field, value in (
        (SampleOptions(max_len=99), "max_len", 99),
        (SampleOptions(top_k=0), "top_k", 0),
        (SampleOptions(temperature=500), "temperature", 500),
        (SampleOptions(prefix="张三", max_len=1), "prefix", "张三"),
    ):
        with pytest.raises(ConfigError) as refused:
            options.validate_ranges()
        assert (refused.value.field, refused.value.value) == (field, value)
        assert "--" not in str(refused.value)  # the Python API speaks in its own names, not the CLI's


def test_the_cli_writes_the_field_as_the_flag_typed(capsys):
    code, _, err = run_cli(capsys, "generate", "--surname", "令狐", "--max-len", "1")
    assert code == 1 and "error: --surname '令狐': is longer than --max-len 1" in err
    code, _, err = run_cli(capsys, "generate", "--prefix", "令狐", "--max-len", "1")
    assert code == 1 and "error: --prefix '令狐': is longer than --max-len 1" in err
    code, _, err = run_cli(
        capsys, "generate", "--surn=令狐", "--max-len", "1"
    )  # a start of the flag, as argparse allows
    assert code == 1 and "error: --surname '令狐': is longer than --max-len 1" in err
    code, _, err = run_cli(capsys, "generate", "--top-k=0")
    assert code == 1 and "--top-k 0: must be at least 1" in err


def test_the_cli_and_the_api_name_the_same_bad_value_in_their_own_words(capsys):
    pytest.importorskip("fastapi", reason="the web extra (fastapi, uvicorn) is not installed")
    pytest.importorskip("httpx", reason="FastAPI's test client needs httpx")
    from fastapi.testclient import TestClient

    from xiaming.web.app import create_app
    from xiaming.web.backend import Backend

    code, _, err = run_cli(capsys, "generate", "--min-len", "5", "--max-len", "3")
    assert code == 1 and err.strip() == "xiaming generate: error: --min-len 5: is above --max-len 3"
    with TestClient(create_app(Backend.load(shipped=["jinyong"]), workers=0)) as client:
        answer = client.post("/api/generate", json={"min_len": 5, "max_len": 3})
    assert answer.status_code == 400
    assert answer.json() == {
        "detail": "min_len 5: is above max_len 3",
        "field": "min_len",
        "value": "5",
        "reason": "is above {max_len} 3",
        "refs": ["max_len"],
    }


def _raised_fields() -> dict[str, str]:
    """Every field named by a literal `ConfigError("field", ...)` (or in its refs) in the package: {field: file}."""
    found: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ConfigError"):
                continue
            if len(node.args) >= 2 and isinstance(node.args[0], ast.Constant):
                found.setdefault(node.args[0].value, str(path.relative_to(SRC)))
            for kw in node.keywords:
                if kw.arg == "refs" and isinstance(kw.value, ast.Tuple):
                    found.update(
                        {e.value: str(path.relative_to(SRC)) for e in kw.value.elts if isinstance(e, ast.Constant)}
                    )
    return found


def test_every_field_the_library_names_is_a_flag_of_the_cli():
    from xiaming.cli import build_parser
    from xiaming.cli.args import flag_of

    parser = build_parser()
    flags = {"MODEL", "NAME"} | {field for field in _raised_fields() if field.isupper()}  # environment variables
    for sub in parser._subparsers._group_actions[0].choices.values():  # every command's options
        for action in sub._actions:
            flags.update(action.option_strings)
    fields = _raised_fields()
    assert {"max_len", "prefix", "top_k", "temperature", "lengths", "n"} <= set(fields)  # the scan finds them
    missing = {
        field: where for field, where in fields.items() if field not in LIBRARY_ONLY and flag_of(field) not in flags
    }
    assert not missing, f"fields the CLI cannot write as a flag (add them to cli/args.py FLAGS): {missing}"


SEEDED = (  # every command that takes --seed, with what else it needs to run
    ("generate", "-n", "2"),
    ("verse", "-n", "2"),
    ("quiz", "--rounds", "1"),
    ("eval", "jinyong"),
    ("train", "jinyong", "-o", "unwritten.safetensors"),
)


@pytest.mark.parametrize("bad", ["-1", str(2**63)])
@pytest.mark.parametrize("command", SEEDED, ids=[c[0] for c in SEEDED])
def test_a_seed_numpy_cannot_take_is_one_line_naming_the_flag(capsys, command, bad, tmp_path, monkeypatch):
    # before, `generate --seed -5` ended in numpy's traceback ("expected non-negative integer")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, *command, f"--seed={bad}")
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        f"xiaming {command[0]}: error: --seed {bad}: must be a whole number from 0 to {2**63 - 1}"
    ]
    assert not (tmp_path / "unwritten.safetensors").exists()


def test_the_library_refuses_a_bad_seed_by_its_field_before_any_work():
    from xiaming import Namer
    from xiaming.style.quiz import make_rounds
    from xiaming.training.config import TrainConfig
    from xiaming.verse.rank import verse_names

    namer = Namer.load("jinyong")
    for call in (
        lambda: namer.generate(3, seed=-1),
        lambda: namer.sample(3, seed=2**63),
        lambda: verse_names(namer, 3, seed=-7),
        lambda: make_rounds("author", 1, seed=-1),
        lambda: TrainConfig(seed=-1).validate(),
        lambda: namer.generate(3, seed=1.5),  # not a whole number
    ):
        with pytest.raises(ConfigError) as refused:
            call()
        assert refused.value.field == "seed"
    assert len(namer.generate(3, seed=2**63 - 1).names) == 3  # the largest seed is taken


def test_the_library_refuses_one_string_where_it_takes_a_list_of_names():
    # before, score("张三") scored 张 and 三 as two names, and rate(["张三", ""]) ended in an IndexError
    from xiaming import Namer

    namer = Namer.load("jinyong")
    for call, value in (
        (lambda: namer.score("张三"), "张三"),
        (lambda: namer.rate("张三"), "张三"),
        (lambda: namer.rate(["张三", ""]), ""),
    ):
        with pytest.raises(ConfigError) as refused:
            call()
        assert (refused.value.field, refused.value.value) == ("names", value)
    assert [s.name for s in namer.score(("张三", "李四"))] == ["张三", "李四"]  # any sequence of names is taken
    assert 0 < namer.rate(["张三"])[0] < 1
