import itertools
import random

from rle import decode, encode


def test_single_character():
    assert encode("x") == "1x"


def test_no_runs():
    assert encode("abc") == "1a1b1c"


def test_one_long_run():
    assert encode("z" * 1234) == "1234z"


def test_digits_and_spaces_are_characters_too():
    assert encode("1112  ") == "31122 "


def test_unicode_and_combining_marks():
    assert encode("ééé") == "3é"
    assert encode("e\u0301e\u0301") == "1e1\u03011e1\u0301"
    assert encode("😀😀日") == "2😀1日"


def test_case_sensitive():
    assert encode("aAaa") == "1a1A2a"


def test_newlines():
    assert encode("\n\n\r\n") == "2\n1\r1\n"


def test_round_trip_random():
    rng = random.Random(6)
    for _ in range(200):
        text = "".join(
            rng.choice(".#o ") * rng.randrange(1, 15) for _ in range(rng.randrange(0, 20))
        )
        assert decode(encode(text)) == text
        assert encode(text) == "".join(f"{len(list(g))}{k}" for k, g in itertools.groupby(text))


def test_result_is_str():
    assert type(encode("aa")) is str
    assert type(encode("")) is str
