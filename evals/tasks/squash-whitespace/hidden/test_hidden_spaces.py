from textclean import squash_whitespace


def test_unicode_whitespace_counts():
    text = "a\u00a0b\u2003c\u3000d\u2028e\u0085f"
    assert squash_whitespace(text) == "a b c d e f"


def test_information_separators_are_whitespace_for_str_split():
    # The information separators \x1c-\x1f are whitespace to str.split (str.isspace).
    assert squash_whitespace("a\x1cb\x1dc\x1e d\x1f e") == "a b c d e"


def test_zero_width_space_is_not_whitespace():
    assert squash_whitespace("a\u200bb") == "a\u200bb"


def test_vertical_tab_and_form_feed():
    assert squash_whitespace("a\x0bb\x0cc") == "a b c"


def test_leading_and_trailing():
    assert squash_whitespace("\n\n  x  \n") == "x"


def test_single_word_and_empty():
    assert squash_whitespace("word") == "word"
    assert squash_whitespace("") == ""


def test_result_is_plain_str():
    class Text(str):
        pass

    out = squash_whitespace(Text("a  b"))
    assert out == "a b" and type(out) is str


def test_long():
    assert squash_whitespace(" x " * 10_000) == " ".join(["x"] * 10_000)
