from webforms import parse_query


def test_parse():
    assert parse_query("a=1&b=2&a=3") == {"a": ["1", "3"], "b": ["2"]}


def test_empty_pairs_skipped():
    assert parse_query("&&a=1&&") == {"a": ["1"]}


def test_no_equals():
    assert parse_query("flag&x=1") == {"flag": [""], "x": ["1"]}


def test_empty():
    assert parse_query("") == {}
