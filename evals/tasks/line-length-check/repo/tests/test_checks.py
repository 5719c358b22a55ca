from lintkit import long_lines, within_line_limit


def test_within_limit():
    assert within_line_limit(["short", "also short"], 20)


def test_too_long():
    assert not within_line_limit(["ok", "x" * 30], 20)


def test_empty_file():
    assert within_line_limit([], 0)


def test_long_lines():
    assert long_lines(["a", "bbbb", "cc", "dddd"], 3) == [2, 4]
