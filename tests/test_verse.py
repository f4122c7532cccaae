"""Names from verse: the shipped table, the candidates, the ranking and its variety, and `xiaming verse`."""

import json
import re

import numpy as np
import pytest
from conftest import run_cli as run

from xiaming.data.pinyin import is_han
from xiaming.errors import CheckpointError, ConfigError
from xiaming.generation.namer import Namer
from xiaming.verse import (
    AVOID_CHARS,
    load_table,
    propose,
    rank,
    shipped_table,
    verse_names,
)
from xiaming.verse.rank import AVOID_WORDS, NEGATIONS, score
from xiaming.verse.table import VERSE_PATH, candidates, save_table

BOOKS = ("shijing", "chuci", "tangshi300", "songci300", "lunyu")


@pytest.fixture(scope="module")
def base():
    return Namer.load("base")


def in_order(chars: str, line: str) -> bool:
    """Whether `chars` occur in `line` in this order (a subsequence)."""
    rest = iter(line)
    return all(c in rest for c in chars)


def tiny_table(tmp_path, lines, title="测试", author="无名"):
    """A verse table of one poem of `lines`, written and read back through the loader."""
    han, pos, start = [], [], [0]
    for line in lines:
        for i, c in enumerate(line):
            if is_han(c):
                han.append(ord(c))
                pos.append(i)
        start.append(len(han))
    codes, han_char = np.unique(np.array(han, dtype=np.uint32), return_inverse=True)
    arrays = {
        "line_poem": np.zeros(len(lines), np.uint16),
        "line_start": np.array(start, np.uint32),
        "chars": codes,
        "han_char": han_char.astype(np.uint16),
        "han_pos": np.array(pos, np.uint16),
        "han_reading": np.zeros(len(han), np.uint16),
    }
    path = tmp_path / "verse.safetensors"
    save_table(
        path,
        [{"key": "test", "name": "测试集", "poems": 1, "lines": len(lines)}],
        [[0, title, author, ""]],
        list(lines),
        ["ā"],
        {},
        arrays,
        {},
        "李王",
    )
    return load_table(path)


# --- the table ------------------------------------------------------------------------------------


def test_the_shipped_table_holds_the_five_books_and_is_small():
    table = shipped_table()
    assert [b.key for b in table.books] == list(BOOKS)
    assert [b.name for b in table.books] == ["诗经", "楚辞", "唐诗三百首", "宋词三百首", "论语"]
    assert [b.poems for b in table.books] == [305, 65, 366, 280, 20]
    assert VERSE_PATH.stat().st_size < 5 << 20
    assert table.lines[0] == "关关雎鸠，在河之洲。" and table.poem_of(0).title == "关雎"
    assert "李" in table.surnames and "释" not in table.surnames


def test_every_candidate_of_every_book_is_in_its_line_in_order():
    table = shipped_table()
    found = candidates(table, list(range(len(table.books))))
    assert len(found) > 500_000
    line_of = np.repeat(np.arange(len(table.lines)), np.diff(table.line_start))
    assert (line_of[found.first] == found.line).all()
    two = found.second >= 0
    assert (line_of[found.second[two]] == found.line[two]).all()
    assert (table.han_pos[found.second[two]] > table.han_pos[found.first[two]]).all()
    # each stored position holds its character, and only CJK characters are candidates
    for i in range(0, len(table.han), 997):
        line = table.lines[line_of[i]]
        assert line[table.han_pos[i]] == chr(table.han[i]) and is_han(chr(table.han[i]))
    # every character of every line that is CJK is a candidate, and nothing else
    for line in range(0, len(table.lines), 101):
        text = table.lines[line]
        assert "".join(map(chr, table.line_chars(line))) == "".join(c for c in text if is_han(c))


def test_a_damaged_table_is_refused_in_one_line(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00not json")
    with pytest.raises(CheckpointError, match="verse table"):
        load_table(bad)
    table = tiny_table(tmp_path, ["明月松间照。"])
    assert table.lines == ("明月松间照。",)


def test_a_position_that_does_not_hold_its_character_is_refused(tmp_path):
    table = tiny_table(tmp_path, ["明月松间照。"])
    arrays = {
        "line_poem": np.zeros(1, np.uint16),
        "line_start": table.line_start.astype(np.uint32),
        "chars": table.chars,
        "han_char": table.han_char.astype(np.uint16),
        "han_pos": (table.han_pos + 1).astype(np.uint16),
        "han_reading": table.han_reading,
    }
    path = tmp_path / "shifted.safetensors"
    save_table(
        path,
        [{"key": "test", "name": "测试集", "poems": 1, "lines": 1}],
        [[0, "t", "a", ""]],
        list(table.lines),
        ["ā"],
        {},
        arrays,
        {},
        "李",
    )
    with pytest.raises(CheckpointError, match="han_pos"):
        load_table(path)


# --- what is shown --------------------------------------------------------------------------------


@pytest.mark.parametrize("book", BOOKS)
def test_each_shown_line_really_contains_the_name_in_order(base, book):
    for seed in range(3):
        result = verse_names(base, n=20, surname="李", books=book, seed=seed)
        assert len(result.items) == 20
        for item in result.items:
            assert item.name == "李" + item.given and 1 <= len(item.given) <= 2
            assert in_order(item.given, item.line)
            assert item.marked.replace("【", "").replace("】", "") == item.line
            marked = "".join(re.findall(r"【([^】]*)】", item.marked))
            assert marked == item.given
            assert item.book == shipped_table().books[BOOKS.index(book)].name
            assert any(item.line in source for source in shipped_table().lines)
            assert item.pinyin.startswith("Lǐ ")


def test_no_name_holds_a_character_or_word_a_namer_avoids(base):
    for seed in range(4):
        for item in verse_names(base, n=30, seed=seed).items:
            assert not set(item.given) & AVOID_CHARS and item.given not in AVOID_WORDS
            positions = [m.start() for m in re.finditer("【", item.marked)]
            # no character is taken right after a negation in its line
            plain = item.marked
            for i, c in enumerate(plain):
                if c == "【" and i > 0:
                    assert plain[i - 1] not in NEGATIONS
            assert positions


# --- ranking --------------------------------------------------------------------------------------


def test_ranking_prefers_names_that_read_as_names_over_random_pairs(base, tmp_path):
    # one line of the 诗经 each, about 25 ordered pairs: the best is the pair that reads as a given
    # name, never an anchor of particles such as 于昭 or 之宜; and the ranking is by score
    for line, best in (("文王在上，于昭于天。", "文昭"), ("之子于归，宜其室家。", "子宜")):
        table = tiny_table(tmp_path, [line])
        proposal = propose(base, surname="王", lengths=(2,), rng=np.random.default_rng(0), table=table)
        top = rank(base, proposal, n=1, pool=1, rng=np.random.default_rng(0))
        assert top.items[0].given == best
        scored = score(base, proposal, wanted=len(proposal))
        scores = {name[1:]: s for name, s in zip(scored.names, scored.score)}
        assert len(scores) == len({proposal.given(k) for k in range(len(proposal))})
        assert scores[best] == max(scores.values())
        particles = [g for g in scores if set(g) & set("于之其")]
        assert particles and scores[best] > max(scores[g] for g in particles)
        assert np.median([scores[g] for g in particles]) < scores[best] - 3  # nats: 20 times less likely


def test_xiamings_names_beat_random_anchors_by_the_models_own_judge_and_by_history(base):
    """Over the 诗经: the chosen names are far likelier under the model than anchors (two characters of
    one line in order, at random), and far more often given names people actually bore."""
    from xiaming.evidence.lexicon import shipped_lexicon

    lex = shipped_lexicon()
    table = shipped_table()
    rng = np.random.default_rng(0)
    chosen = verse_names(base, n=40, surname="王", books="shijing", seed=0, lengths=(2,)).names
    found = candidates(table, [0], (2,))
    picks = rng.choice(len(found), 40, replace=False)
    anchors = ["王" + chr(table.han[found.first[k]]) + chr(table.han[found.second[k]]) for k in picks]

    def attested(names):
        ids = np.array([lex.ids(n[1:]) for n in names])
        return float((lex.pair_table("given_pair_keys", ids[:, 0], ids[:, 1]) > 0).mean())

    mine = np.mean([s.log_prob for s in base.score(chosen)])
    theirs = np.mean([s.log_prob for s in base.score(anchors)])
    assert mine > theirs + 5  # nats
    assert attested(chosen) > attested(anchors) + 0.3


def test_variety_no_line_twice_and_few_per_character(base):
    for seed in range(3):
        result = verse_names(base, n=40, seed=seed)
        lines = [(item.title, item.line) for item in result.items]
        assert len(set(lines)) == len(lines)
        counts = {}
        for item in result.items:
            for c in item.given:
                counts[c] = counts.get(c, 0) + 1
        assert max(counts.values()) <= 1 + 40 // 20
        assert len(set(result.names)) == len(result.names)


def test_no_name_is_a_well_known_persons(base, monkeypatch):
    """张汉卿 (a general's courtesy name) and 陈道明 (an actor) come out of verse too: never chosen."""
    import sys

    from xiaming.evidence.famous import famous_names

    famous = famous_names()
    assert not [n for n in verse_names(base, n=300, surname="张", seed=3).names if n in famous]
    monkeypatch.setattr(sys.modules["xiaming.verse.rank"], "famous_names", lambda: frozenset())
    assert [n for n in verse_names(base, n=300, surname="张", seed=3).names if n in famous]  # without the table


def test_seeds_reproduce_and_differ(base):
    a = verse_names(base, n=10, surname="张", seed=7).names
    assert verse_names(base, n=10, surname="张", seed=7).names == a
    assert verse_names(base, n=10, surname="张", seed=8).names != a


def test_the_default_surname_is_one_of_the_models_usual_ones(base):
    from xiaming.verse import usual_surnames

    chars, p = usual_surnames(base)
    assert "李" in chars[:10] and "王" in chars[:10] and abs(p.sum() - 1) < 1e-9
    surnames = {verse_names(base, n=1, books="chuci", seed=s).surname for s in range(6)}
    assert surnames <= set(chars) and len(surnames) > 1


def test_a_gender_moves_the_lean(base):
    from xiaming.evidence.gender import lean_of

    female = verse_names(base, n=20, surname="李", seed=1, gender="female")
    male = verse_names(base, n=20, surname="李", seed=1, gender="male")
    assert np.mean([lean_of(n).lean > 0 for n in female.names]) >= 0.9
    assert np.mean([lean_of(n).lean < 0 for n in male.names]) >= 0.9
    assert all(item.gender_lean is not None for item in female.items)


def test_a_model_with_a_critic_rates_its_names():
    result = verse_names(Namer.load("jinyong"), n=5, surname="张", seed=0)
    assert all(0 <= item.critic <= 1 for item in result.items)
    assert "critic" in result.steering


def test_a_compound_surname_reads_as_one(base):
    result = verse_names(base, n=5, surname="欧阳", seed=0)
    assert all(item.pinyin.startswith("Ōuyáng ") for item in result.items)


# --- bad input ------------------------------------------------------------------------------------


def test_bad_values_are_config_errors(base):
    with pytest.raises(ConfigError, match="no such book; choose from shijing"):
        verse_names(base, books="tang")
    with pytest.raises(ConfigError, match="never saw"):
        verse_names(Namer.load("jinyong"), surname=_unseen(Namer.load("jinyong")))
    with pytest.raises(ConfigError, match="^gender "):
        verse_names(base, gender="other")
    with pytest.raises(ConfigError, match="^n 0: must be at least 1"):
        verse_names(base, n=0)


def _unseen(namer) -> str:
    return next(chr(cp) for cp in range(0x4E00, 0x9FFF) if chr(cp) not in namer.vocab)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--book", "tang"], "--book 'tang': no such book; choose from shijing (诗经), chuci (楚辞)"),
        (["--book", "shijing,songci"], "--book 'songci': no such book"),
        (["--gender", "other"], "--gender 'other': choose one of female, male"),
        (["--surname", "ab"], "--surname 'ab': give a surname of one or two Chinese characters"),
        (["-n", "0"], "-n 0: must be at least 1"),
    ],
)
def test_bad_input_gets_one_line_and_exit_1(capsys, argv, message):
    code, out, err = run(capsys, "verse", *argv)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_a_surname_the_model_never_saw_says_so(capsys):
    char = _unseen(Namer.load("gulong"))
    code, _, err = run(capsys, "verse", "--model", "gulong", "--surname", char)
    assert code == 1 and err.count("\n") == 1
    assert f"--surname '{char}': this model never saw {char}" in err


# --- the command ----------------------------------------------------------------------------------


def test_the_command_prints_name_pinyin_line_and_source(capsys):
    code, out, err = run(capsys, "verse", "--surname", "李", "--book", "shijing", "-n", "5", "--seed", "1")
    assert code == 0 and err == ""
    rows = out.splitlines()
    assert len(rows) == 5
    for row in rows:
        name, pinyin, marked, *source = row.split("  ")
        assert name.startswith("李") and pinyin.startswith("Lǐ ") and "【" in marked
        assert "诗经" in source[-1] and "《" in source[-1]


def test_json_gives_every_field(capsys):
    code, out, _ = run(
        capsys,
        "verse",
        "--surname",
        "王",
        "--book",
        "chuci,lunyu",
        "-n",
        "4",
        "--seed",
        "2",
        "--gender",
        "female",
        "--json",
    )
    data = json.loads(out)
    assert code == 0 and data["surname"] == "王" and data["books"] == ["chuci", "lunyu"]
    assert data["gender"] == "female" and len(data["names"]) == 4
    for item in data["names"]:
        assert set(item) >= {
            "name",
            "pinyin",
            "line",
            "marked",
            "title",
            "author",
            "book",
            "log_prob",
            "critic",
            "gender_lean",
            "score",
        }
        assert item["book"] in ("楚辞", "论语") and in_order(item["given"], item["line"])


def test_the_python_api_is_exported():
    import xiaming

    result = xiaming.verse_names(xiaming.load_model("poets"), n=3, seed=0)
    assert len(result.items) == 3 and isinstance(result.items[0], xiaming.VerseName)
    assert result.to_dict()["names"][0]["name"] == result.items[0].name
