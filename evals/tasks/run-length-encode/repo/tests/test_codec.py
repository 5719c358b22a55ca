from rle import decode, encode


def test_encode():
    assert encode("aaabccdddd") == "3a1b2c4d"


def test_round_trip():
    text = "....####....##.."
    assert decode(encode(text)) == text


def test_empty():
    assert encode("") == ""
