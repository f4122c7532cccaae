"""The JSON API through FastAPI's test client: answers that agree with the library, and every bad
request answered with a 4xx carrying a one-line message, never a 500."""

from __future__ import annotations

import json
import math
import re
import shutil
import socket

import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi, uvicorn) is not installed")
pytest.importorskip("httpx", reason="FastAPI's test client needs httpx")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from xiaming.cli import main  # noqa: E402
from xiaming.errors import ConfigError, DataError  # noqa: E402
from xiaming.web.app import create_app  # noqa: E402
from xiaming.web.backend import Backend, folder_checkpoints  # noqa: E402
from xiaming.web.schemas import MAX_BEST, MAX_BODY, MAX_GENERATE, MAX_NAME_CHARS, MAX_SCORE  # noqa: E402


@pytest.fixture(scope="module")
def backend() -> Backend:
    return Backend.load(shipped=["jinyong", "gulong", "liangyusheng", "base"])


@pytest.fixture(scope="module")
def client(backend) -> TestClient:
    with TestClient(create_app(backend)) as c:
        yield c


def _error(response, status: int) -> str:
    """The one-line message of an error response, after checking its status and shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"detail", "field", "value", "reason", "refs"} and isinstance(body["detail"], str)
    assert body["detail"] and "\n" not in body["detail"]
    assert set(body) == {"detail"} or {"field", "reason", "refs"} <= set(body)  # a field comes with its reason
    return body["detail"]


# --- answers ------------------------------------------------------------------------------------


def test_models_lists_what_was_loaded_and_the_limits(client):
    body = client.get("/api/models").json()
    assert body["default"] == "jinyong"
    assert [m["name"] for m in body["models"]] == ["jinyong", "gulong", "liangyusheng", "base"]
    jinyong = body["models"][0]
    assert jinyong["novelty"] == "strict" and jinyong["training_names"] > 1000
    assert body["models"][3]["novelty"] == "exact" and body["models"][3]["training_names"] == 0
    assert body["styles"] == ["jinyong", "gulong", "liangyusheng"]  # who's and the game's default
    assert body["limits"]["generate"] == MAX_GENERATE
    assert set(body["features"]) == {"generate", "best", "score", "explain", "verse", "style", "who", "quiz"}


def test_generate_obeys_surname_lengths_and_novelty(client, backend):
    body = client.post("/api/generate", json={"n": 12, "prefix": "令狐", "min_len": 4, "max_len": 4, "seed": 5}).json()
    names = [row["name"] for row in body["names"]]
    assert body["found"] == len(names) == 12 and not body["exhausted"] and body["novelty"] == "strict"
    assert len(set(names)) == 12
    assert all(name.startswith("令狐") and len(name) == 4 for name in names)
    training = set(backend.get("jinyong").namer.names)
    assert not training.intersection(names)
    assert all(
        row["pinyin"] is None or row["pinyin"].startswith("Línghú ") for row in body["names"]
    )  # None: a rare character


def test_generate_takes_the_word_lean_as_the_cli_does(client, capsys):
    for extra, flags in (
        ({}, []),
        ({"word_lean": 1}, ["--word-lean", "1"]),
        ({"word_lean": 20}, ["--word-lean", "20"]),
    ):
        body = client.post("/api/generate", json={"model": "gulong", "n": 12, "seed": 1, **extra}).json()
        capsys.readouterr()
        assert main(["generate", "gulong", "-n", "12", "--seed", "1", *flags]) == 0
        assert [row["name"] for row in body["names"]] == capsys.readouterr().out.split()
    plain = client.post("/api/generate", json={"model": "gulong", "n": 12, "seed": 1, "word_lean": 1}).json()
    strong = client.post("/api/generate", json={"model": "gulong", "n": 12, "seed": 1, "word_lean": 20}).json()
    assert plain["names"] != strong["names"]  # the field reaches the sampler


def test_generate_is_reproducible_with_a_seed(client):
    ask = {"n": 8, "seed": 11}
    first = client.post("/api/generate", json=ask).json()["names"]
    again = client.post("/api/generate", json=ask).json()["names"]
    other = client.post("/api/generate", json={**ask, "seed": 12}).json()["names"]
    assert first == again
    assert [r["name"] for r in first] != [r["name"] for r in other]


def test_generate_scores_agree_with_the_library(client, backend):
    body = client.post("/api/generate", json={"n": 6, "seed": 2, "model": "base", "novelty": "off"}).json()
    assert body["model"] == "base" and body["novelty"] == "off"
    namer = backend.get("base").namer
    for row, s in zip(body["names"], namer.score([r["name"] for r in body["names"]])):
        assert row["log_prob"] == pytest.approx(s.log_prob, abs=1e-3)
        assert row["bits_per_char"] == pytest.approx(s.bits_per_char, abs=1e-3)
        assert row["percentile"] is None  # base has no training names to compare with


def test_answers_say_how_long_they_queued_and_worked(client):
    timing = client.post("/api/score", json={"names": ["郭靖"]}).headers["server-timing"]
    parts = dict(part.strip().split(";dur=") for part in timing.split(","))
    assert set(parts) == {"queue", "work"} and all(float(v) >= 0 for v in parts.values())


def test_rank_puts_the_likeliest_first(client):
    rows = client.post("/api/generate", json={"n": 10, "seed": 3, "rank": True}).json()["names"]
    assert [r["log_prob"] for r in rows] == sorted((r["log_prob"] for r in rows), reverse=True)


def test_best_is_the_library_search(client, backend):
    body = client.post("/api/best", json={"n": 5, "prefix": "张", "max_len": 3}).json()
    namer = backend.get("jinyong").namer
    expected = namer.best(5, namer.options(prefix="张", max_len=3))
    assert [r["name"] for r in body["names"]] == expected.names
    assert [r["log_prob"] for r in body["names"]] == pytest.approx(expected.log_probs, abs=1e-3)


def test_score_gives_each_characters_probability(client, backend):
    body = client.post("/api/score", json={"names": ["令狐冲", " 郭靖 ", "张无忌"]}).json()
    namer = backend.get("jinyong").namer
    expected = namer.score(["令狐冲", "郭靖", "张无忌"])
    assert [r["name"] for r in body["names"]] == ["令狐冲", "郭靖", "张无忌"]
    for row, s in zip(body["names"], expected):
        assert [c["char"] for c in row["chars"]] == list(s.name)
        probs = [c["p"] for c in row["chars"]] + [row["end_p"]]
        assert probs == pytest.approx([math.exp(lp) for lp in s.char_log_probs], rel=1e-6)
        assert row["log_prob"] == pytest.approx(sum(math.log(p) for p in probs), abs=1e-3)
        assert 0 <= row["percentile"] <= 100
        assert all(c["known"] for c in row["chars"])
    assert body["reference_names"] > 1000


def test_score_marks_a_character_the_model_never_saw(client):
    row = client.post("/api/score", json={"names": ["李ж"]}).json()["names"][0]
    assert [c["known"] for c in row["chars"]] == [True, False]


def test_a_shortfall_is_an_answer_with_its_reason(client):
    body = client.post(
        "/api/generate", json={"n": 30, "prefix": "郭", "charset": "靖", "max_len": 3, "novelty": "off"}
    ).json()
    assert body["exhausted"] and body["found"] < 30 and body["reason"]
    assert all(set(r["name"][1:]) <= {"靖"} for r in body["names"])


def test_page_static_files_and_docs_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/static/app.js" in page.text and 'name="viewport"' in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/api/generate", "/api/best", "/api/score", "/api/models"} <= set(schema["paths"])


@pytest.mark.parametrize(
    "path, needs",
    [
        ("/docs", {"swagger-ui-bundle.js": "SwaggerUIBundle", "swagger-ui.css": ".swagger-ui"}),
        ("/redoc", {"redoc.standalone.js": "Redoc"}),
    ],
)
def test_api_docs_load_everything_from_the_app_itself(client, path, needs):
    """/docs and /redoc work offline: every script, style and icon they reference is a local path the app
    serves, and no URL of another site appears in the page."""
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text and "//cdn" not in page.text
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs and all(ref.startswith("/") and not ref.startswith("//") for ref in refs)
    assert {ref.rsplit("/", 1)[-1] for ref in refs} >= set(needs)
    for ref in refs:
        asset = client.get(ref)
        assert asset.status_code == 200 and len(asset.content) > 0, ref
        marker = needs.get(ref.rsplit("/", 1)[-1])
        if marker is not None:  # the real Swagger UI / ReDoc file, not an empty stand-in
            assert len(asset.content) > 100_000 and marker in asset.text, ref
    assert "/openapi.json" in page.text


def test_a_style_mixture_is_the_librarys_mixture(client, backend):
    from xiaming.style.mix import mixed_namer

    body = client.post(
        "/api/generate", json={"style": {"jinyong": 0.7, "gulong": 0.3}, "n": 6, "seed": 4, "prefix": "萧"}
    ).json()
    namer = mixed_namer({"gulong": 0.3, "jinyong": 0.7}, {m: backend.get(m).namer for m in ("jinyong", "gulong")})
    expected = namer.generate(6, namer.options(prefix="萧"), None, 4, max_tries=5000, search_budget=10_000)
    assert [r["name"] for r in body["names"]] == expected.names
    assert body["model"] == "gulong=0.3,jinyong=0.7" and body["novelty"] == "strict"
    assert all(r["percentile"] is None for r in body["names"])  # no one list to compare a mixture with
    scored = client.post("/api/score", json={"style": {"jinyong": 0.7, "gulong": 0.3}, "names": ["萧峰"]}).json()
    assert scored["names"][0]["log_prob"] == pytest.approx(namer.score(["萧峰"])[0].log_prob, abs=1e-3)


def test_epithets_are_the_librarys_composed_epithets(client, backend):
    """`kind` epithet gives the epithets `generate --kind epithet` gives: composed from the wuxia lists'
    parts (`composed` is no field of the API, so the names are compared); a bad kind is a 422 naming it."""
    from xiaming import corpora

    namer = backend.get("gulong").namer
    body = client.post("/api/generate", json={"model": "gulong", "n": 6, "seed": 3, "kind": "epithet"}).json()
    expected = namer.generate(6, namer.options(kind="epithet"), seed=3)
    assert expected.composed and [r["name"] for r in body["names"]] == expected.names
    listed = {name for corpus in corpora.names() for name in corpora.load(corpus)}
    assert not {r["name"] for r in body["names"]} & listed
    names = client.post("/api/generate", json={"model": "gulong", "n": 6, "seed": 3}).json()["names"]
    assert [r["name"] for r in names] == namer.generate(6, seed=3).names  # kind name is the default
    answer = client.post("/api/generate", json={"kind": "nickname"})
    assert _error(answer, 422).startswith("kind") and answer.json()["field"] == "kind"


def test_a_blend_weight_is_the_librarys_blend(client, backend):
    """`blend` draws, scores and explains under `Namer.blended(weight)`, as `--blend` does; 0 is the model alone."""
    from xiaming.generation.namer import Namer

    alone = Namer.load("jinyong", blend=0)
    body = client.post("/api/generate", json={"n": 6, "seed": 4, "blend": 0}).json()
    assert [r["name"] for r in body["names"]] == alone.generate(6, seed=4).names
    shipped = client.post("/api/generate", json={"n": 6, "seed": 4}).json()
    assert [r["name"] for r in shipped["names"]] == backend.get("jinyong").namer.generate(6, seed=4).names
    assert [r["name"] for r in shipped["names"]] != [r["name"] for r in body["names"]]
    half = Namer.load("jinyong", blend=0.5)
    scored = client.post("/api/score", json={"names": ["郭靖", "张无忌"], "blend": 0.5}).json()["names"]
    for row, s in zip(scored, half.score(["郭靖", "张无忌"])):
        assert row["log_prob"] == pytest.approx(s.log_prob, abs=1e-3)
    best = client.post("/api/best", json={"n": 3, "blend": 0}).json()["names"]
    assert [r["name"] for r in best] == alone.best(3).names
    step = client.post("/api/explain", json={"name": "郭靖", "blend": 0.5}).json()
    assert step["log_prob"] == pytest.approx(half.score(["郭靖"])[0].log_prob, abs=1e-3)
    refused = client.post("/api/generate", json={"style": {"jinyong": 1, "gulong": 1}, "blend": 0.3})
    assert _error(refused, 400).startswith("blend 0.3: applies to one model") and refused.json()["field"] == "blend"
    for bad in (1.0, -0.1, "0.3"):
        answer = client.post("/api/generate", json={"blend": bad})
        assert _error(answer, 422).startswith("blend") and answer.json()["field"] == "blend"


def test_explain_is_the_librarys_look_inside(client, backend):
    from xiaming.generation.explain import explain

    body = client.post("/api/explain", json={"name": "令狐冲", "top": 3}).json()
    e = explain(backend.get("jinyong").namer, "令狐冲", top=3)
    assert body["model"] == "jinyong" and body["kind"] == "lstm" and body["inputs"] == ["^", "令", "狐", "冲"]
    steps = e.to_dict()["steps"]  # the end of the name as "(end)", as explain --json writes it
    assert [(s["char"], s["rank"]) for s in body["steps"]] == [(s["char"], s["rank"]) for s in steps]
    assert body["steps"][-1]["char"] == "(end)"
    assert [s["p"] for s in body["steps"]] == pytest.approx([s.p for s in e.steps], rel=1e-9)
    assert [[a["char"] for a in s["top"]] for s in body["steps"]] == [[a["char"] for a in s["top"]] for s in steps]
    for gate, rows in e.gates.items():
        got = [v for row in body["gates"][gate] for v in row]
        assert got == pytest.approx([v for row in rows for v in row], abs=6e-4)  # rounded to 3 decimals for the wire
    assert [(u["feature"], u["state"], u["unit"]) for u in body["units"]] == [
        (u.feature, u.state, u.unit) for u in e.units
    ]
    assert "/" not in json.dumps(body)  # no file path leaks out: the model is named as loaded
    assert body["critic"]["passable"] == e.critic.passable and body["critic"]["appeal"] == e.critic.appeal
    assert [(x["feature"], x["effect"]) for x in body["critic"]["evidence"]] == [tuple(x) for x in e.critic.evidence]
    assert body["critic"]["by"] == "critic"
    base = client.post("/api/explain", json={"name": "令狐冲", "model": "base"}).json()
    assert base["critic"] is None  # a model without a critic
    epithet = client.post("/api/explain", json={"name": "冷面老人"}).json()["critic"]  # read by the epithet judge
    assert epithet["by"] == "epithet judge" and epithet["appeal"] is None
    assert any(x["feature"] == "role 老人" for x in epithet["evidence"])


def test_epithets_of_a_gender_or_a_mixture_are_composed(client):
    from xiaming.generation.epithets import FEMALE_ROLES, composed_form

    women = client.post("/api/generate", json={"n": 6, "kind": "epithet", "gender": "female", "seed": 3}).json()
    assert len(women["names"]) == 6 and all(x["name"][-2:] in FEMALE_ROLES for x in women["names"])
    style = {"jinyong": 0.5, "gulong": 0.5}
    mixed = client.post("/api/generate", json={"n": 6, "kind": "epithet", "style": style, "seed": 3}).json()
    assert len(mixed["names"]) == 6 and all(composed_form(x["name"]) for x in mixed["names"])


def test_who_is_the_librarys_attribution(client):
    from xiaming.style.attribution import who

    body = client.post("/api/who", json={"names": ["韦小宝", "西门吹雪", "练霓裳"]}).json()
    expected = who(["韦小宝", "西门吹雪", "练霓裳"])
    assert body["styles"] == ["jinyong", "gulong", "liangyusheng"]
    for row, a in zip(body["names"], expected):
        assert row["name"] == a.name and row["best"] == a.best
        assert row["probs"] == pytest.approx(a.probs, abs=1e-4)
        assert [e["char"] for e in row["evidence"]] == [*a.name, "(end)"]  # as who --json writes the end
    assert [row["best"] for row in body["names"]] == ["jinyong", "gulong", "liangyusheng"]


def test_quiz_rounds_are_the_librarys_and_carry_their_answers(client, backend):
    from xiaming.style.quiz import make_rounds, real_names

    body = client.post("/api/quiz", json={"mode": "author", "rounds": 3, "size": 2, "seed": 9}).json()
    styles = ["jinyong", "gulong", "liangyusheng"]
    namers = {m: backend.get(m).namer for m in styles}
    expected = make_rounds("author", 3, 9, styles, 2, namers)
    assert [(r["names"], r["choices"], r["answer"]) for r in body["rounds"]] == [
        (list(e.names), list(e.choices), e.answer) for e in expected
    ]
    assert all(r["choices"] == styles for r in body["rounds"])
    pair = client.post(
        "/api/quiz", json={"mode": "author", "rounds": 2, "seed": 9, "models": ["gulong", "liangyusheng"]}
    ).json()["rounds"]
    assert all(r["choices"] == ["gulong", "liangyusheng"] for r in pair)
    real = client.post("/api/quiz", json={"mode": "real", "rounds": 4, "seed": 1}).json()["rounds"]
    for r in real:
        training = set(real_names(namers[r["style"]]))
        assert len(r["names"]) == 2 and r["names"] == r["choices"]
        assert r["names"][r["answer"]] in training and r["names"][1 - r["answer"]] not in training


def test_verse_is_the_librarys_result(client, backend):
    from xiaming.verse import verse_names

    ask = {"model": "base", "surname": "李", "books": ["shijing", "chuci"], "gender": "female", "n": 8, "seed": 3}
    body = client.post("/api/verse", json=ask).json()
    expected = verse_names(backend.get("base").namer, 8, "李", ["shijing", "chuci"], "female", 3).to_dict()
    assert body["names"] == expected["names"] and len(body["names"]) == body["found"] == 8
    assert (body["model"], body["surname"], body["books"], body["gender"]) == (
        "base",
        "李",
        ["shijing", "chuci"],
        "female",
    )
    assert client.post("/api/verse", json={**ask, "seed": 4}).json()["names"] != body["names"]
    jinyong = client.post(
        "/api/verse", json={"n": 5, "seed": 1, "books": ["诗经"]}
    ).json()  # the default model, its critic
    assert jinyong["model"] == "jinyong" and all(0 <= row["critic"] <= 1 for row in jinyong["names"])


@pytest.mark.parametrize("book", ["shijing", "chuci", "tangshi300", "songci300", "lunyu"])
def test_every_verse_line_shown_contains_its_characters(client, book):
    body = client.post("/api/verse", json={"model": "base", "books": [book], "n": 20, "seed": 7}).json()
    assert body["names"] and body["books"] == [book]
    for row in body["names"]:
        assert row["name"] == row["surname"] + row["given"] and row["pinyin"]
        assert re.search(".*".join(re.escape(c) for c in row["given"]), row["line"]), row  # in order
        assert row["marked"].replace("【", "").replace("】", "") == row["line"]
        assert "".join(re.findall("【(.*?)】", row["marked"])) == row["given"]


def test_who_and_quiz_need_two_models_with_lists(tiny_lstm):
    with TestClient(create_app(Backend.load(shipped=["jinyong", "base"]))) as c:
        assert "who" not in c.get("/api/models").json()["features"]
        assert _error(c.post("/api/who", json={"names": ["郭靖"]}), 404)
        assert _error(c.post("/api/quiz", json={}), 404)


# --- bad requests ------------------------------------------------------------------------------

BAD = [
    # (path, JSON body, status, a fragment of the message)
    ("/api/generate", {"n": 0}, 422, "n:"),
    ("/api/generate", {"n": MAX_GENERATE + 1}, 422, "n:"),
    ("/api/generate", {"n": "5"}, 422, "n:"),
    ("/api/generate", {"n": True}, 422, "n:"),
    ("/api/generate", {"n": 2.5}, 422, "n:"),
    ("/api/generate", {"n": None}, 422, "n:"),
    ("/api/generate", {"temperature": -1}, 422, "temperature:"),
    ("/api/generate", {"temperature": 101}, 422, "temperature:"),
    ("/api/generate", {"temperature": 0.001}, 400, "temperature 0.001: must be 0 (greedy)"),
    ("/api/generate", {"top_k": 0}, 422, "top_k:"),
    ("/api/generate", {"top_p": 0}, 422, "top_p:"),
    ("/api/generate", {"top_p": 1.5}, 422, "top_p:"),
    ("/api/generate", {"min_p": -0.1}, 422, "min_p:"),
    ("/api/generate", {"word_lean": 0.5}, 422, "word_lean:"),
    ("/api/generate", {"word_lean": 101}, 422, "word_lean:"),
    ("/api/generate", {"seed": -1}, 422, "seed:"),
    ("/api/generate", {"seed": 2**64}, 422, "seed:"),
    ("/api/generate", {"min_len": 0}, 422, "min_len:"),
    ("/api/generate", {"min_len": 33}, 422, "min_len:"),
    ("/api/generate", {"max_len": 0}, 422, "max_len:"),
    ("/api/generate", {"min_len": 5, "max_len": 3}, 400, "min_len 5: is above max_len 3"),
    ("/api/generate", {"prefix": "欧阳", "max_len": 1}, 400, "prefix '欧阳': is longer than"),
    ("/api/generate", {"prefix": "x" * 17}, 422, "prefix:"),
    ("/api/generate", {"prefix": "ж"}, 400, "never seen"),
    ("/api/generate", {"prefix": 3}, 422, "prefix:"),
    ("/api/generate", {"include": "ж"}, 400, "include 'ж': none of these"),
    ("/api/generate", {"include": "x" * 201}, 422, "include:"),
    ("/api/generate", {"exclude": ["a"]}, 422, "exclude:"),
    ("/api/generate", {"charset": ""}, 422, "charset:"),
    ("/api/generate", {"novelty": "loose"}, 422, "novelty:"),
    ("/api/generate", {"model": "nope"}, 400, "not loaded"),
    ("/api/generate", {"model": "../../etc/passwd"}, 422, "model:"),
    ("/api/generate", {"model": "/tmp/x.safetensors"}, 422, "model:"),
    ("/api/generate", {"model": "jinyong.safetensors"}, 422, "model:"),
    ("/api/generate", {"model": ""}, 422, "model:"),
    ("/api/generate", {"nn": 5}, 422, "nn:"),
    ("/api/generate", [1, 2], 422, "JSON object"),
    ("/api/generate", "generate", 422, "JSON object"),
    ("/api/best", {"n": MAX_BEST + 1}, 422, "n:"),
    ("/api/best", {"temperature": 0.5}, 422, "temperature:"),
    ("/api/best", {"word_lean": 3}, 422, "word_lean:"),
    ("/api/best", {"min_len": 4, "max_len": 2}, 400, "min_len 4: is above max_len 2"),
    ("/api/score", {}, 422, "names:"),
    ("/api/score", {"names": []}, 422, "names:"),
    ("/api/score", {"names": "令狐冲"}, 422, "names:"),
    ("/api/score", {"names": [""]}, 422, "names.0:"),
    ("/api/score", {"names": ["   "]}, 422, "names.0:"),
    ("/api/score", {"names": ["令" * (MAX_NAME_CHARS + 1)]}, 422, "names.0:"),
    ("/api/score", {"names": ["令狐冲"] * (MAX_SCORE + 1)}, 422, "names:"),
    ("/api/score", {"names": [1]}, 422, "names.0:"),
    ("/api/score", {"names": ["郭靖"], "model": "poets"}, 400, "not loaded"),
    ("/api/score", {"names": ["郭靖"], "style": {"jinyong": 1, "poets": 1}}, 400, "not loaded"),
    ("/api/generate", {"style": {"jinyong": 0, "gulong": 0}}, 400, "not all 0"),
    ("/api/generate", {"style": {"jinyong": -1}}, 422, "style.jinyong:"),
    ("/api/generate", {"style": {}}, 422, "style:"),
    ("/api/generate", {"style": {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}}, 422, "style:"),
    ("/api/generate", {"style": {"../x": 1}}, 422, "style"),
    ("/api/generate", {"style": {"jinyong": 1}, "model": "gulong"}, 400, "style: give style or model, not both"),
    ("/api/explain", {}, 422, "name:"),
    ("/api/explain", {"name": ""}, 422, "name:"),
    ("/api/explain", {"name": "令" * (MAX_NAME_CHARS + 1)}, 422, "name:"),
    ("/api/explain", {"name": "令狐冲", "top": 0}, 422, "top:"),
    ("/api/explain", {"name": "令狐冲", "model": "poets"}, 400, "not loaded"),
    ("/api/explain", {"names": ["令狐冲"]}, 422, "name"),
    ("/api/who", {"names": []}, 422, "names:"),
    ("/api/who", {"names": ["郭靖"] * 21}, 422, "names:"),
    ("/api/who", {"names": ["郭靖"], "models": ["jinyong"]}, 422, "models:"),
    ("/api/who", {"names": ["郭靖"], "models": ["jinyong", "jinyong"]}, 400, "named twice"),
    ("/api/who", {"names": ["郭靖"], "models": ["jinyong", "poets"]}, 400, "not loaded"),
    ("/api/who", {"names": ["郭靖"], "model": "jinyong"}, 422, "model:"),
    ("/api/quiz", {"mode": "both"}, 422, "mode:"),
    ("/api/quiz", {"rounds": 0}, 422, "rounds:"),
    ("/api/quiz", {"rounds": 21}, 422, "rounds:"),
    ("/api/quiz", {"size": 6}, 422, "size:"),
    ("/api/quiz", {"mode": "real", "models": ["base", "jinyong"], "seed": 0, "rounds": 6}, 400, "no training list"),
    ("/api/verse", {"books": ["shijing", "odes"]}, 400, "books 'odes': no such book; choose from shijing"),
    ("/api/verse", {"books": "shijing"}, 422, "books:"),
    ("/api/verse", {"gender": "other"}, 422, "gender:"),
    ("/api/verse", {"surname": "ж"}, 400, "surname 'ж': give a surname"),
    ("/api/verse", {"surname": "张无忌"}, 422, "surname:"),
    ("/api/verse", {"n": 51}, 422, "n:"),
    ("/api/verse", {"given_len": 3}, 422, "given_len:"),
    ("/api/verse", {"model": "poets"}, 400, "not loaded"),
]


@pytest.mark.parametrize("path, body, status, fragment", BAD, ids=[f"{p}:{json.dumps(b)[:40]}" for p, b, _, _ in BAD])
def test_a_bad_request_gets_a_4xx_with_a_message(client, path, body, status, fragment):
    assert fragment in _error(client.post(path, json=body), status)


REFUSED_FIELDS = [  # a value the library refuses: the JSON body names the request field, as the CLI names its flag
    ("/api/generate", {"temperature": 0.001}, "temperature", "0.001"),
    ("/api/generate", {"prefix": "欧阳", "max_len": 1}, "prefix", "'欧阳'"),
    ("/api/generate", {"min_len": 5, "max_len": 3}, "min_len", "5"),
    ("/api/generate", {"prefix": "ж"}, "prefix", "'ж'"),
    ("/api/generate", {"model": "nope"}, "model", "'nope'"),
    ("/api/best", {"include": "ж"}, "include", "'ж'"),
    ("/api/verse", {"books": ["odes"]}, "books", "'odes'"),
    ("/api/verse", {"surname": "ж"}, "surname", "'ж'"),
]


@pytest.mark.parametrize(
    "path, body, field, value", REFUSED_FIELDS, ids=[f"{p}:{json.dumps(b)[:40]}" for p, b, _, _ in REFUSED_FIELDS]
)
def test_a_refused_value_names_its_request_field(client, path, body, field, value):
    answer = client.post(path, json=body)
    detail = _error(answer, 400)
    got = answer.json()
    assert got["field"] == field and got["value"] == value
    assert detail.startswith(f"{field} {value}: ") and "--" not in detail  # the request's words, not the CLI's flags
    reason = got["reason"]
    for ref in got["refs"]:
        reason = reason.replace("{" + ref + "}", ref)
    assert detail.endswith(reason)


@pytest.mark.parametrize(
    "body, field",
    [({"max_len": 40}, "max_len"), ({"n": 0}, "n"), ({"nn": 5}, "nn"), ({"style": {"jinyong": -1}}, "style")],
)
def test_a_field_out_of_bounds_is_named_for_the_page_too(client, body, field):
    answer = client.post("/api/generate", json=body)
    assert _error(answer, 422).startswith(f"{field}") and answer.json()["field"] == field


def test_a_body_that_is_not_an_object_names_no_field(client):
    for raw in (b"[1, 2]", b"{bad json", b""):
        answer = client.post("/api/generate", content=raw, headers={"content-type": "application/json"})
        assert "field" not in answer.json() and _error(answer, 422)


def test_a_refusal_mentioning_another_field_lists_it():
    from xiaming.errors import ConfigError
    from xiaming.web.errors import error_body

    body = error_body(
        ConfigError("lengths", [3], "choose 1, 2 or both, not {lengths} above {n}", refs=("lengths", "n"))
    )
    assert body == {
        "detail": "given_len 3: choose 1, 2 or both, not given_len above n",
        "field": "given_len",
        "value": "3",
        "reason": "choose 1, 2 or both, not {given_len} above {n}",
        "refs": ["given_len", "n"],
    }


@pytest.mark.parametrize(
    "raw, fragment",
    [
        (b"{bad json", "not valid JSON"),
        (b"", "body is required"),
        (b"null", "JSON object"),
        (b'{"n": NaN}', "n:"),
        (b'{"temperature": Infinity}', "temperature: Input should be a finite"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(client, raw, fragment):
    response = client.post("/api/generate", content=raw, headers={"content-type": "application/json"})
    assert fragment in _error(response, 422)


def test_a_body_sent_as_text_is_refused(client):
    response = client.post("/api/generate", content=b'{"n": 2}', headers={"content-type": "text/plain"})
    assert "JSON object" in _error(response, 422)


def test_a_large_body_is_refused_declared_or_streamed(client):
    big = json.dumps({"names": ["令狐冲"], "pad": "x" * MAX_BODY}).encode()
    assert "bytes" in _error(client.post("/api/score", content=big, headers={"content-type": "application/json"}), 413)

    def chunks():  # no Content-Length: the server counts as it reads
        for i in range(0, len(big), 4096):
            yield big[i : i + 4096]

    assert "bytes" in _error(
        client.post("/api/score", content=chunks(), headers={"content-type": "application/json"}), 413
    )


def test_unknown_paths_and_methods_answer_json(client):
    assert _error(client.get("/api/nothing"), 404)
    assert _error(client.get("/api/generate"), 405)
    assert _error(client.get("/static/../pyproject.toml"), 404)


def test_a_local_server_answers_only_to_local_host_names(backend):
    from xiaming.web.app import LOOPBACK_HOSTS

    with TestClient(create_app(backend, hosts=LOOPBACK_HOSTS), base_url="http://127.0.0.1:8000") as local:
        assert local.get("/api/models").status_code == 200
        assert local.get("/api/models", headers={"host": "localhost:8000"}).status_code == 200
        assert local.get("/api/models", headers={"host": "[::1]:8000"}).status_code == 200
        # a page elsewhere whose name was pointed at 127.0.0.1 (DNS rebinding) is refused
        assert "not served here" in _error(
            local.post("/api/generate", json={"n": 1}, headers={"host": "evil.example:8000"}), 400
        )


def test_a_full_server_refuses_at_once_with_retry_after(backend):
    """A request that could not finish within the time limit is refused before it waits (503, Retry-After)."""
    with TestClient(create_app(backend, timeout=1e-6)) as full:
        response = full.post("/api/generate", json={"n": 50})
        message = _error(response, 503)
    assert "could not start" in message and "try again in" in message
    assert response.headers["retry-after"].isdigit() and int(response.headers["retry-after"]) >= 1


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "n": st.one_of(st.integers(-3, 8), st.text(max_size=3), st.none()),
            "prefix": st.one_of(st.text(max_size=4), st.sampled_from(["令狐", "张", "欧阳", "x"])),
            "min_len": st.integers(-2, 8),
            "max_len": st.one_of(st.none(), st.integers(-2, 8)),
            "temperature": st.one_of(st.floats(-1, 3, allow_nan=False), st.just(0)),
            "top_k": st.one_of(st.none(), st.integers(-1, 50)),
            "top_p": st.one_of(st.none(), st.floats(-0.5, 1.5)),
            "include": st.text(max_size=3),
            "exclude": st.text(max_size=3),
            "novelty": st.sampled_from(["exact", "strict", "off", "x", None]),
            "seed": st.one_of(st.none(), st.integers(-2, 2**64)),
            "model": st.sampled_from(["jinyong", "base", "x", "../a"]),
            "blend": st.one_of(st.none(), st.floats(-0.5, 1.5), st.sampled_from([0, 0.35, "0.3"])),
        },
    )
)
def test_no_request_gets_a_500(client, body):
    """Any mix of values: an answer, or a 4xx naming what is wrong (503 only if the machine is too busy)."""
    response = client.post("/api/generate", json=body)
    assert response.status_code in (200, 400, 422, 503), response.text
    if response.status_code == 200:
        got = response.json()
        assert all(row["name"].startswith(body.get("prefix", "")) for row in got["names"])
    else:
        _error(response, response.status_code)


# --- models from a folder, and the command ----------------------------------------------------


def test_a_folder_of_checkpoints_is_served_by_file_name(tmp_path, tiny_lstm, tiny_names):
    shutil.copy(tiny_lstm[0], tmp_path / "made-up.safetensors")
    (tmp_path / "made-up.state.safetensors").write_bytes(b"not a checkpoint")  # a resume state is skipped
    with TestClient(create_app(Backend.load(tmp_path, shipped=[]))) as c:
        models = c.get("/api/models").json()
        assert models["default"] == "made-up" and [m["name"] for m in models["models"]] == ["made-up"]
        body = c.post("/api/generate", json={"model": "made-up", "n": 5, "seed": 0}).json()
        assert body["found"] == 5 and body["novelty"] == "exact"
        assert not set(tiny_names).intersection(r["name"] for r in body["names"])
        assert "not loaded" in _error(c.post("/api/generate", json={"model": "jinyong"}), 400)


def test_unusable_model_folders_are_refused(tmp_path, tiny_lstm):
    with pytest.raises(DataError, match="no such folder"):
        folder_checkpoints(tmp_path / "missing")
    with pytest.raises(DataError, match="no .safetensors"):
        folder_checkpoints(tmp_path)
    shutil.copy(tiny_lstm[0], tmp_path / "jinyong.safetensors")
    with pytest.raises(ConfigError, match="shipped model"):
        folder_checkpoints(tmp_path)
    (tmp_path / "jinyong.safetensors").rename(tmp_path / "my model.safetensors")
    with pytest.raises(ConfigError, match="letters, digits"):
        folder_checkpoints(tmp_path)


def test_serve_refuses_bad_flags_in_one_line(tmp_path, capsys):
    assert main(["serve", "--port", "70000"]) == 1
    assert "--port 70000" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_code:
        main(["serve", "--port", "0x"])
    assert exit_code.value.code == 2 and "--port" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["serve", "--port", str(busy.getsockname()[1])]) == 1
    err = capsys.readouterr().err
    assert "cannot listen there" in err and len(err.strip().splitlines()) == 1
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert main(["serve", "--port", str(port), "--models", str(tmp_path / "missing")]) == 1
    assert "--models" in capsys.readouterr().err
    assert main(["serve", "--port", str(port), "--workers", "-1"]) == 1
    assert "--workers -1: must be between 0 and 64" in capsys.readouterr().err
    assert main(["serve", "--port", str(port), "--budget", "0"]) == 1
    assert "--budget 0.0: must be above 0" in capsys.readouterr().err


# --- worker processes -------------------------------------------------------------------------

WORKER_REQUESTS = [
    ("/api/generate", {"n": 8, "seed": 21, "prefix": "令狐"}),
    ("/api/generate", {"style": {"jinyong": 0.6, "gulong": 0.4}, "n": 5, "seed": 3, "rank": True}),
    ("/api/best", {"n": 4, "model": "gulong"}),
    ("/api/score", {"names": ["令狐冲", "x郭靖"]}),  # an unknown character too
    ("/api/explain", {"name": "郭靖"}),
    ("/api/who", {"names": ["令狐冲", "楚留香"]}),
    ("/api/quiz", {"mode": "author", "rounds": 2, "size": 2, "seed": 4}),
    ("/api/verse", {"n": 5, "seed": 2, "gender": "male"}),
    ("/api/generate", {"min_len": 5, "max_len": 3}),  # refused by the library: 400
    ("/api/generate", {"model": "nowhere"}),
]


def test_worker_processes_answer_as_the_server_itself(backend, client):
    """The same requests, answered in worker processes, give the same JSON (errors included)."""
    from xiaming.web.workers import Workers

    processes = Workers(backend, 2)
    try:
        with TestClient(create_app(backend, processes=processes)) as remote:
            for path, body in WORKER_REQUESTS:
                here, there = client.post(path, json=body), remote.post(path, json=body)
                assert there.status_code == here.status_code, (path, body, there.text)
                assert there.json() == here.json(), (path, body)
                assert here.status_code != 200 or "work;dur=" in there.headers["server-timing"]
            assert processes.count == 2 and len(processes.pids) == 2
    finally:
        processes.close()
    assert processes.pids == []


def test_a_worker_that_dies_leaves_its_calls_to_the_server(backend):
    import os
    import signal

    from xiaming.web.workers import Workers

    processes = Workers(backend, 1)
    try:
        os.kill(processes.pids[0], signal.SIGKILL)
        with TestClient(create_app(backend, processes=processes)) as remote:
            for seed in (1, 2):  # the first finds the worker gone, the second has none to ask
                body = remote.post("/api/generate", json={"n": 3, "seed": seed}).json()
                assert body["found"] == 3
    finally:
        processes.close()


def test_worker_messages_are_json_and_errors_keep_their_kind(backend):
    from xiaming.errors import XiamingError
    from xiaming.web.workers import WorkerBug, answer, result_of

    ok = json.loads(answer(backend, json.dumps({"call": "score", "args": [None, ["郭靖"], None]}).encode()))
    assert ok["ok"]["names"][0]["name"] == "郭靖"
    refused = answer(backend, json.dumps({"call": "score", "args": ["nowhere", ["郭靖"], None]}).encode())
    with pytest.raises(XiamingError, match="model 'nowhere': is not loaded") as refusal:
        result_of(refused)
    assert refusal.value.body["field"] == "model"  # the field at fault survives the trip from the worker
    for message in (b'{"call": "__init__", "args": []}', b'{"call": "score", "args": [1, 2, 3, 4, 5]}', b"[1"):
        with pytest.raises(WorkerBug, match="in a worker"):
            result_of(answer(backend, message))


def test_serve_with_workers_stops_them_on_ctrl_c(tmp_path):
    """`xiaming serve --workers 2` answers, and Ctrl-C stops the server and its workers (exit code 0)."""
    import glob
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "xiaming", "serve", "--port", str(port), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        deadline, answered = time.monotonic() + 120, None
        while answered is None and time.monotonic() < deadline and server.poll() is None:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/generate",
                    method="POST",
                    data=b'{"n": 4, "seed": 1}',
                    headers={"Content-Type": "application/json"},
                )
                answered = json.loads(urllib.request.urlopen(request, timeout=30).read())
            except OSError:
                time.sleep(0.3)
        assert answered is not None and answered["found"] == 4, server.stderr.read1().decode()
        workers = [
            int(p) for path in glob.glob(f"/proc/{server.pid}/task/*/children") for p in open(path).read().split()
        ]
        assert len(workers) == 2
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
        assert "server stopped" in server.stderr.read().decode()
        for pid in workers:  # reaped: gone from the process table
            assert not os.path.exists(f"/proc/{pid}")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_generate_carries_the_critics_judgement(client, backend):
    body = client.post("/api/generate", json={"model": "jinyong", "n": 5, "seed": 3}).json()
    names = [row["name"] for row in body["names"]]
    assert names == backend.models["jinyong"].namer.generate(5, seed=3).names  # the critic steered, as the CLI's
    assert all(0 <= row["critic"] <= 1 for row in body["names"])
    plain = client.post("/api/generate", json={"model": "base", "n": 3, "seed": 3}).json()
    assert all(row["critic"] is None for row in plain["names"])  # the base model carries no critic


# --- the cost of a request: time budget, fair queue, refusal when full --------------------------


def test_an_expensive_request_answers_with_what_it_found_when_its_budget_runs_out(backend):
    """A generate whose names are rare (鼐 in three characters) stops when its time budget is spent and
    answers with the names found by then and the library's reason, `searched_all` false."""
    import time

    tight = Backend(list(backend.models.values()), budget=0.3)
    with TestClient(create_app(tight)) as c:
        assert c.get("/api/models").json()["limits"]["budget_s"] == 0.3  # what a client may expect
        began = time.monotonic()
        body = c.post("/api/generate", json={"n": 50, "min_len": 3, "max_len": 3, "include": "鼐"}).json()
        took = time.monotonic() - began
    assert body["exhausted"] and not body["searched_all"] and body["found"] < 50
    assert body["reason"].startswith("no more turned up in ") and "0.3 s of work" in body["reason"]
    assert took < 8  # generous: with no time budget the draws and the search take about 10 s here


def test_a_time_budget_changes_nothing_it_does_not_cut(backend):
    from xiaming.generation.deadline import time_budget

    namer = backend.get("jinyong").namer
    plain = namer.generate(8, seed=4)
    with time_budget(60) as budget:
        timed = namer.generate(8, seed=4)
    assert timed.names == plain.names and not budget.spent


class Gated:
    """A backend whose calls chosen by `held(name, args)` wait until the test opens `gate`: requests
    that hold a thread for as long as the test wants, with no timing involved. `calls` lists the
    calls that reached the library, in order."""

    def __init__(self, backend: Backend, held) -> None:
        import threading

        self.backend, self.held = backend, held
        self.gate, self.entered, self.calls = threading.Event(), threading.Semaphore(0), []

    def __getattr__(self, name):
        call = getattr(self.backend, name)
        if name not in ("generate", "best", "score"):
            return call

        def gated(*args):
            self.calls.append((name, args))
            if self.held(name, args):
                self.entered.release()
                assert self.gate.wait(60), "the test never opened the gate"
            return call(*args)

        return gated


def _post(base: str, body: dict) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of a generate request to a running server."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{base}/api/generate",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)


EXPENSIVE = {"n": 100, "min_len": 4, "max_len": 4, "include": "龙"}  # the issue's: seconds of sampling


def test_a_cheap_request_is_answered_while_expensive_ones_hold_the_threads(backend):
    """Two threads, three expensive requests held: only one of them takes a thread (expensive requests
    may hold all threads but one), and a cheap request sent after them is answered at once."""
    from concurrent.futures import ThreadPoolExecutor

    from xiaming.web.server import running

    quick = Backend(list(backend.models.values()), budget=0.2)  # the expensive ones, once let go, end soon
    gated = Gated(quick, lambda name, args: bool(args[2].get("include")))
    with running(create_app(gated, workers=2)) as base, ThreadPoolExecutor(3) as clients:
        expensive = [clients.submit(_post, base, {**EXPENSIVE, "seed": i}) for i in range(3)]
        assert gated.entered.acquire(timeout=30)
        status, body, _ = _post(base, {"n": 3, "seed": 1})
        assert status == 200 and body["found"] == 3
        assert not gated.entered.acquire(timeout=0.5)  # still one expensive request in the library
        assert not any(f.done() for f in expensive)
        gated.gate.set()
        assert [f.result()[0] for f in expensive] == [200, 200, 200]
    assert sorted(args[4] for name, args in gated.calls if args[2].get("include")) == [0, 1, 2]


def test_a_request_over_the_time_limit_gets_503_with_retry_after(backend):
    gated = Gated(backend, lambda name, args: True)
    with TestClient(create_app(gated, timeout=0.3)) as c:
        response = c.post("/api/generate", json={"n": 2})
        gated.gate.set()
        message = _error(response, 503)
    assert "longer than 0.3 s" in message and response.headers["retry-after"].isdigit()


def test_a_request_whose_client_left_never_runs(backend):
    """One thread, held by a first request; a second request's client hangs up while it waits; the
    third is answered after the first, and the second never reached the library."""
    import time
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    from xiaming.web.server import running

    gated = Gated(backend, lambda name, args: args[4] == 1)
    app = create_app(gated, workers=1)
    with running(app) as base, ThreadPoolExecutor(2) as clients:
        first = clients.submit(_post, base, {"n": 2, "seed": 1})
        assert gated.entered.acquire(timeout=30)
        address = urlsplit(base)
        body = json.dumps({"n": 2, "seed": 2}).encode()
        with socket.create_connection((address.hostname, address.port)) as leaving:
            leaving.sendall(
                b"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            deadline = time.monotonic() + 30
            while app.state.admission.waiting("light") < 1 and time.monotonic() < deadline:
                time.sleep(0.02)
        while app.state.admission.waiting("light") > 0 and time.monotonic() < deadline:
            time.sleep(0.02)  # the server noticed the client leave
        third = clients.submit(_post, base, {"n": 2, "seed": 3})
        gated.gate.set()
        assert first.result()[0] == 200 and third.result()[0] == 200
    assert [args[4] for name, args in gated.calls] == [1, 3]


def test_the_queue_gives_expensive_requests_all_threads_but_one_and_their_share_of_the_work():
    import asyncio

    from xiaming.web.admission import HEAVY, LIGHT, Admission

    async def scenario() -> None:
        queue = Admission(slots=2, limit=100)
        heavy = [queue.admit(HEAVY, "h") for _ in range(3)]
        light = queue.admit(LIGHT, "l")
        assert [t.granted.done() for t in heavy] == [True, False, False] and light.granted.done()
        later = queue.admit(LIGHT, "l")
        assert not later.granted.done()  # both threads busy
        queue.release(heavy[0], 1.0)  # expensive requests did all the work lately: the cheap one goes first
        assert later.granted.done() and not heavy[1].granted.done()
        queue.release(light, 0.05)  # no cheap request waits: an expensive one takes the thread
        assert heavy[1].granted.done()
        queue.used[LIGHT] += 10.0  # cheap requests did most of the work lately
        last = queue.admit(LIGHT, "l")
        queue.release(heavy[1], 1.0)  # below their share, expensive requests are not starved: one goes first
        assert heavy[2].granted.done() and not last.granted.done()
        gone = queue.admit(HEAVY, "h")
        gone.leave()  # its client hung up
        queue.release(heavy[2], 1.0)
        assert last.granted.done() and not gone.granted.done() and queue.waiting(HEAVY) == 0
        assert queue.busy == {LIGHT: 2, HEAVY: 0}

    asyncio.run(scenario())


def test_a_request_is_heavy_by_rule_until_its_cost_is_known():
    import asyncio

    from xiaming.web.admission import HEAVY, LIGHT, Admission

    async def scenario() -> None:
        queue = Admission(slots=2, limit=10)
        assert queue.lane_of("generate", {"n": 20})[0] == LIGHT
        assert queue.lane_of("best", {"n": 5})[0] == HEAVY
        lane, shape = queue.lane_of("generate", {"n": 20, "include": "龙", "seed": 1})
        assert lane == HEAVY
        ticket = queue.admit(lane, shape)
        queue.release(ticket, 0.01)  # it turned out cheap: the same request, any seed, is light now
        assert queue.lane_of("generate", {"n": 20, "include": "龙", "seed": 2})[0] == LIGHT
        slow = queue.admit(*queue.lane_of("score", {"names": ["郭靖"]}))
        queue.release(slow, 3.0)
        assert queue.lane_of("score", {"names": ["郭靖"]})[0] == HEAVY
        queue.work[LIGHT] = 0.4  # a machine busy with other work: every request is slower
        cheap = queue.admit(*queue.lane_of("generate", {"n": 20}))
        queue.release(cheap, 0.6)
        assert queue.lane_of("generate", {"n": 20, "seed": 3})[0] == LIGHT  # slow, but no slower than the others

    asyncio.run(scenario())


def test_the_queue_refuses_what_it_could_not_start_in_time_and_says_when_to_come_back():
    import asyncio

    from xiaming.web.admission import HEAVY, LIGHT, Admission, Full

    async def scenario() -> None:
        queue = Admission(slots=2, limit=5)
        queue.work[HEAVY] = 2.0
        admitted = [queue.admit(HEAVY, "h") for _ in range(2)]  # one runs, one waits about 1 s
        with pytest.raises(Full) as refused:
            for _ in range(5):
                admitted.append(queue.admit(HEAVY, "h"))
        assert refused.value.lane == HEAVY and 1 <= refused.value.retry_after <= 60
        assert len(admitted) < 5
        assert queue.admit(LIGHT, "l").granted.done()  # cheap requests still have their thread

    asyncio.run(scenario())
