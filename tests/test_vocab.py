from hypothesis import given
from hypothesis import strategies as st

from xiaming.data.vocab import BOUNDARY, N_SPECIAL, UNKNOWN, Vocab


def test_ids_are_sorted_chars_after_specials():
    v = Vocab.from_names(["令狐冲", "冲虚"])
    assert v.chars == tuple(sorted("令狐冲虚"))
    assert v.size == 4 + N_SPECIAL
    assert v.id(v.chars[0]) == N_SPECIAL
    assert v.id("张") == UNKNOWN


def test_decode_stops_at_boundary_and_skips_unknown():
    v = Vocab.from_names(["abc"])
    assert v.decode([v.id("a"), UNKNOWN, v.id("c"), BOUNDARY, v.id("b")]) == "ac"


def test_union_keeps_both_character_sets():
    assert Vocab.from_names(["ab"]).union(Vocab.from_names(["bc"])).chars == ("a", "b", "c")


@given(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=20))
def test_encode_decode_round_trip_and_dict_round_trip(names):
    v = Vocab.from_names(names)
    for name in names:
        assert v.decode(v.encode(name)) == name
    assert Vocab.from_dict(v.to_dict()) == v
