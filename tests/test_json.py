"""One JSON vocabulary: each command's `--json` and its web API answer use the same field names, the
same `model`, the same token for the end of a name, and exactly the fields the README's "JSON
output" tables list for each."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi, uvicorn) is not installed")
pytest.importorskip("httpx", reason="FastAPI's test client needs httpx")

from fastapi.testclient import TestClient  # noqa: E402

from xiaming.cli import main  # noqa: E402
from xiaming.web.app import create_app  # noqa: E402
from xiaming.web.backend import Backend  # noqa: E402

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(Backend.load(shipped=["jinyong", "gulong", "liangyusheng"]), workers=0)) as c:
        yield c


def _cli(capsys, *argv) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def documented() -> dict[str, dict[str, set[str]]]:
    """The README's JSON tables: {first command: {"CLI": fields, "API": fields}}, nested fields as `names[].x`."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n### JSON output\n", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, dict[str, set[str]]] = {}
    current = None
    for line in section.split("\n"):
        opened = re.match(r"`(\w+)[ `]", line)
        if opened and not line.startswith("|"):
            current = tables.setdefault(opened.group(1), {"CLI": set(), "API": set()})
        elif line.startswith("| `") and current is not None:
            cells = [c.strip() for c in line.strip("|").split("|")]
            fields = set(re.findall(r"`([\w\[\].]+)`", cells[0]))
            for side, cell in (("CLI", cells[1]), ("API", cells[2])):
                if cell == "✓":
                    current[side] |= fields
    return tables


def keys(answer: dict) -> set[str]:
    """The fields of a JSON answer, a list of objects under `names` included as `names[].x`."""
    found = set(answer)
    for row in answer.get("names", []):
        found |= {f"names[].{k}" for k in row}
    return found


def test_the_readme_tables_are_read():
    tables = documented()
    assert set(tables) >= {"generate", "score", "explain", "who"}
    assert {"searched_all", "names[].gender"} <= tables["generate"]["CLI"] & tables["generate"]["API"]
    assert "sampling" in tables["generate"]["CLI"] - tables["generate"]["API"]


def test_generate_and_best_speak_as_the_api_does(capsys, client):
    docs = documented()["generate"]
    for argv, path, body in (
        (
            ["generate", "-n", "2", "--surname", "欧阳", "--seed", "1", "--json"],
            "/api/generate",
            {"n": 2, "prefix": "欧阳", "seed": 1},
        ),
        (["generate", "--best", "3", "--surname", "欧阳", "--json"], "/api/best", {"n": 3, "prefix": "欧阳"}),
    ):
        cli = _cli(capsys, *argv)
        api = client.post(path, json=body).json()
        assert keys(cli) == docs["CLI"] and keys(api) == docs["API"]
        assert cli["model"] == api["model"] == "jinyong"  # the shipped name, not the file's path
        for field in ("novelty", "requested", "found", "exhausted", "searched_all", "reason"):
            assert cli[field] == api[field], field
        for a, b in zip(cli["names"], api["names"], strict=True):
            for field in ("name", "pinyin", "log_prob", "bits_per_char", "gender"):
                assert a[field] == b[field], field
        # every name asked for was found: nothing says otherwise
        assert cli["found"] == cli["requested"] and not cli["exhausted"] and cli["reason"] == ""
    assert cli["sampling"] is None and cli["drawn"] == 0  # --best samples nothing and says so


def test_searched_all_says_when_no_more_names_exist(capsys, client, tmp_path):
    charset = tmp_path / "charset.txt"
    charset.write_text("冲虚", encoding="utf-8")  # 令狐冲 is a training name: 令狐虚 is the one new name left
    cli = _cli(
        capsys,
        "generate",
        "-n",
        "5",
        "--prefix",
        "令狐",
        "--max-len",
        "3",
        "--charset",
        str(charset),
        "--novelty",
        "exact",
        "--seed",
        "1",
        "--json",
    )
    api = client.post(
        "/api/generate", json={"n": 5, "prefix": "令狐", "max_len": 3, "charset": "冲虚", "novelty": "exact", "seed": 1}
    ).json()
    for answer in (cli, api):
        assert [n["name"] for n in answer["names"]] == ["令狐虚"]
        assert answer["exhausted"] and answer["searched_all"] and answer["reason"]


def test_score_speaks_as_the_api_does(capsys, client):
    docs = documented()["score"]
    cli = _cli(capsys, "score", "令狐冲", "西门吹雪", "--json")
    api = client.post("/api/score", json={"names": ["令狐冲", "西门吹雪"]}).json()
    assert keys(cli) == docs["CLI"] and keys(api) == docs["API"]
    assert cli["model"] == api["model"] == "jinyong" and cli["reference_names"] == api["reference_names"]
    for a, b in zip(cli["names"], api["names"], strict=True):
        assert (a["name"], a["log_prob"], a["chars"]) == (b["name"], b["log_prob"], b["chars"])
        assert a["percentile"] == pytest.approx(b["percentile"], abs=0.05)  # the API rounds it to 0.1


def test_explain_speaks_as_the_api_does(capsys, client):
    docs = documented()["explain"]
    cli = _cli(capsys, "explain", "令狐冲", "--json")
    api = client.post("/api/explain", json={"name": "令狐冲"}).json()
    assert set(cli) == docs["CLI"] and set(api) == docs["API"]
    assert cli["model"] == api["model"] == "jinyong" and cli["pinyin"] == api["pinyin"]
    assert [s["char"] for s in cli["steps"]] == [s["char"] for s in api["steps"]] == ["令", "狐", "冲", "(end)"]
    assert [s["rank"] for s in cli["steps"]] == [s["rank"] for s in api["steps"]]
    assert any(a["char"] == "(end)" for s in api["steps"] for a in s["top"])  # alternatives too
    assert "" not in {a["char"] for s in cli["steps"] for a in s["top"]}
    assert cli["critic"] == api["critic"] and set(cli["critic"]["evidence"][0]) == {"feature", "effect"}


def test_who_speaks_as_the_api_does(capsys, client):
    docs = documented()["who"]
    cli = _cli(capsys, "who", "令狐冲", "西门吹雪", "--json")
    api = client.post("/api/who", json={"names": ["令狐冲", "西门吹雪"]}).json()
    assert keys(cli) == docs["CLI"] and keys(api) == docs["API"]
    assert cli["styles"] == api["styles"]
    for a, b in zip(cli["names"], api["names"], strict=True):
        assert (a["name"], a["pinyin"], a["best"]) == (b["name"], b["pinyin"], b["best"])
        assert [e["char"] for e in a["evidence"]] == [e["char"] for e in b["evidence"]] == [*a["name"], "(end)"]


def test_model_is_the_path_for_a_checkpoint_of_ones_own(capsys, tiny_lstm):
    path, _ = tiny_lstm
    for argv in (
        ["generate", "--model", str(path), "-n", "1", "--seed", "0", "--novelty", "off", "--json"],
        ["score", "ab", "--model", str(path), "--json"],
        ["explain", "ab", "--model", str(path), "--json"],
    ):
        assert _cli(capsys, *argv)["model"] == str(path)


def test_counts_are_in_the_right_number(capsys):
    assert main(["generate", "-n", "1", "--seed", "1", "--verbose", "--critic", "off"]) == 0
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("novelty "))
    count = int(re.search(r": (\d+) candidate", line).group(1))
    assert ("1 candidate rejected" in line) if count == 1 else (f"{count} candidates rejected" in line)
    from xiaming.cli.args import counted

    assert (counted(1, "candidate"), counted(0, "name"), counted(1234, "name")) == (
        "1 candidate",
        "0 names",
        "1,234 names",
    )
