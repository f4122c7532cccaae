import pytest

from xiaming.corpus import describe, load_names, read_names, split
from xiaming.errors import ConfigError, DataError


def test_strips_blanks_duplicates_bom_and_crlf(tmp_path):
    p = tmp_path / "n.txt"
    p.write_bytes("\ufeff张三\r\n  李四 \r\n\r\n张三\r\n王五".encode("utf-8"))
    assert read_names(p) == ["张三", "李四", "王五"]


def test_other_encodings_with_flag(tmp_path):
    p = tmp_path / "gbk.txt"
    p.write_bytes("欧阳锋\n黄药师\n".encode("gbk"))
    with pytest.raises(DataError, match=r"line 1: .*--encoding"):
        read_names(p)
    assert read_names(p, encoding="gbk") == ["欧阳锋", "黄药师"]


def test_bad_bytes_report_their_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"anna\nbob\n\xff\xfeoops\n")
    with pytest.raises(DataError, match="line 3"):
        read_names(p)


def test_unknown_encoding_is_a_config_error(tmp_path):
    p = tmp_path / "n.txt"
    p.write_text("a\nb\n")
    with pytest.raises(ConfigError, match="--encoding"):
        read_names(p, encoding="no-such-codec")


@pytest.mark.parametrize("content, message", [("", "no names"), ("\n  \n", "no names"), ("solo\n", "only 1")])
def test_unusable_lists(tmp_path, content, message):
    p = tmp_path / "n.txt"
    p.write_text(content)
    with pytest.raises(DataError, match=message):
        load_names(p)


def test_missing_file_mentions_builtin_corpora(tmp_path):
    with pytest.raises(DataError, match="no such file.*jinyong"):
        load_names(tmp_path / "nope.txt")


def test_split_is_seeded_disjoint_and_keeps_one_validation_name():
    names = [f"n{i}" for i in range(50)]
    train, val = split(names, 0.1, seed=3)
    assert (train, val) == split(names, 0.1, seed=3)
    assert split(names, 0.1, seed=4)[1] != val
    assert len(val) == 5 and not set(train) & set(val) and set(train) | set(val) == set(names)
    assert len(split(["a", "b"], 0.1, 0)[1]) == 1


def test_describe_counts_lengths():
    stats = describe(["ab", "abc", "xy"])
    assert stats["names"] == 3 and stats["characters"] == 7 and stats["lengths"] == {2: 2, 3: 1}


def test_a_folder_named_like_a_corpus_does_not_hide_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "poets").mkdir()
    assert load_names("poets").source == "builtin:poets"
    (tmp_path / "gulong").write_text("my\nown\n", encoding="utf-8")
    assert load_names("gulong").names == ["my", "own"]  # a file of that name is the user's list
