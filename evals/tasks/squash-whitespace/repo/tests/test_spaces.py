from textclean import squash_whitespace


def test_squash():
    assert squash_whitespace("  hello \t\n  world  ") == "hello world"


def test_nothing_to_do():
    assert squash_whitespace("a b c") == "a b c"


def test_blank():
    assert squash_whitespace(" \n\t ") == ""
    assert squash_whitespace("") == ""
