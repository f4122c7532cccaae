import pytest

from xiaming.data.corpus import describe, load_names, read_names, split
from xiaming.errors import ConfigError, DataError, XiamingWarning


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
    with pytest.raises(ConfigError, match="^encoding "):
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


def test_long_lines_are_skipped_with_one_warning_naming_them(tmp_path):
    p = tmp_path / "n.txt"
    lines = ["anna", "x" * 40, "bob", *(["y" * 33] * 7), "carl"]
    p.write_text("\n".join(lines), encoding="utf-8")
    with pytest.warns(XiamingWarning) as record:
        assert read_names(p) == ["anna", "bob", "carl"]
    assert len(record) == 1
    message = str(record[0].message)
    assert "skipped 8 lines longer than 32 characters (lines 2, 4, 5, 6, 7 and 3 more)" in message
    assert read_names(p, max_len=40, dedupe=False) == ["anna", "x" * 40, "bob", *(["y" * 33] * 7), "carl"]
    with pytest.raises(ConfigError, match="^max_name_len 0: must be at least 1"):
        read_names(p, max_len=0)


def test_a_file_of_only_long_lines_is_not_called_blank(tmp_path, capsys):
    # before, every command said "no names (the file is empty or blank)" of a file whose names were all too long
    from conftest import run_cli

    p = tmp_path / "long.txt"
    p.write_text("张" * 100 + "\n\n" + "李" * 40 + "\n", encoding="utf-8")
    with pytest.warns(XiamingWarning), pytest.raises(DataError) as refused:
        read_names(p)
    assert str(refused.value) == (
        f"{p}: no names of at most 32 characters (all 2 non-blank lines are longer); raise --max-name-len to keep them"
    )
    for argv in (["train", str(p), "-o", str(tmp_path / "m.safetensors")], ["score", "--file", str(p)]):
        code, out, err = run_cli(capsys, *argv)
        lines = err.strip().splitlines()
        assert code == 1 and out == "" and len(lines) == 2  # the warning naming the lines, then the error
        assert "no names of at most 32 characters" in lines[1] and "empty or blank" not in err
    assert not (tmp_path / "m.safetensors").exists()
    with pytest.warns(XiamingWarning), pytest.raises(DataError) as refused:  # a built-in list, every name too long
        load_names("jinyong", max_len=1)
    assert "jinyong: no names of at most 1 characters (all " in str(refused.value) and "names are longer" in str(
        refused.value
    )


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
def test_reading_in_chunks_gives_what_reading_whole_gives(tmp_path, monkeypatch, chunk):
    import xiaming.data.corpus as corpus

    text = "\ufeff张三\r\n  李四 \r\n\r\n张三\rwang\n" + "长" * 50 + "\n  x y  \u2028end"
    p = tmp_path / "n.txt"
    p.write_bytes(text.encode("utf-8"))
    monkeypatch.setattr(corpus, "_CHUNK", chunk)
    with pytest.warns(XiamingWarning, match=r"\(line 6\)"):
        got = read_names(p, dedupe=False)
    whole = [s for s in (line.strip() for line in text.lstrip("\ufeff").splitlines()) if s and len(s) <= 32]
    assert got == whole == ["张三", "李四", "张三", "wang", "x y", "end"]
    p.write_bytes(text[1:].encode("utf-16"))  # its own BOM
    with pytest.warns(XiamingWarning):
        assert read_names(p, encoding="utf-16", dedupe=False) == whole


def test_a_huge_line_is_never_held_in_memory(tmp_path):
    import tracemalloc

    p = tmp_path / "n.txt"
    with open(p, "w", encoding="utf-8") as f:
        f.write("anna\n" + "长" * 5_000_000 + "\nbob\n")  # 15 MB of UTF-8 on one line
    tracemalloc.start()
    try:
        with pytest.warns(XiamingWarning, match=r"\(line 2\)"):
            assert read_names(p) == ["anna", "bob"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000  # one 1 MB chunk and its text; reading the file whole holds 35 MB


def test_an_encoding_that_was_given_is_named_when_it_fails(tmp_path):
    p = tmp_path / "n.txt"
    p.write_bytes("张三\n".encode("utf-8") + b"ok\n\xff\xff\n")
    with pytest.raises(DataError, match=r"line 3: bytes that are not valid gbk") as info:
        read_names(p, encoding="gbk")
    assert "pass --encoding" not in str(info.value)


def test_names_come_from_files_and_pipes_never_from_devices_or_directories(tmp_path):
    import os
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text("ab\ncd\n", encoding="utf-8"))
    writer.start()
    assert read_names(fifo) == ["ab", "cd"]  # a pipe is read once, from start to end
    writer.join()
    for path, words in (
        (tmp_path, "is a directory"),
        ("/dev/zero", "is a device or socket"),
        (tmp_path / "none.txt", "no such file"),
    ):
        with pytest.raises(DataError, match=f"^{path}: {words}"):
            read_names(path)
    if os.path.exists("/proc/self/mem"):  # a regular file whose reading fails (EIO)
        with pytest.raises(DataError, match=r"^/proc/self/mem line 1: cannot read it \("):
            read_names("/proc/self/mem")
