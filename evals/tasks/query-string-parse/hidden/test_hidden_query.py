import random

from webforms import parse_query


def model(query):
    out = {}
    for part in query.split("&"):
        if part:
            k, _, v = part.partition("=")
            out.setdefault(k, []).append(v)
    return out


def test_only_separators():
    assert parse_query("&") == {}
    assert parse_query("&&&") == {}


def test_empty_key_and_value():
    assert parse_query("=") == {"": [""]}
    assert parse_query("=x") == {"": ["x"]}
    assert parse_query("k=") == {"k": [""]}


def test_split_at_first_equals_only():
    assert parse_query("eq=a=b=c") == {"eq": ["a=b=c"]}
    assert parse_query("==") == {"": ["="]}


def test_key_order_is_first_appearance():
    parsed = parse_query("z=1&a=2&z=3&m=4")
    assert list(parsed) == ["z", "a", "m"]
    assert parsed["z"] == ["1", "3"]


def test_no_decoding_is_done():
    assert parse_query("q=a+b%20c") == {"q": ["a+b%20c"]}


def test_whitespace_and_unicode_kept():
    assert parse_query(" k = v ") == {" k ": [" v "]}
    assert parse_query("名前=太郎&emoji=😀") == {"名前": ["太郎"], "emoji": ["😀"]}


def test_semicolons_are_not_separators():
    assert parse_query("a=1;b=2") == {"a": ["1;b=2"]}


def test_values_are_fresh_lists():
    parsed = parse_query("a=1&b=2")
    parsed["a"].append("x")
    assert parse_query("a=1&b=2") == {"a": ["1"], "b": ["2"]}
    assert parsed["a"] is not parsed["b"]


def test_random_against_model():
    rng = random.Random(41)
    for _ in range(500):
        query = "".join(rng.choice("ab=&&=c") for _ in range(rng.randrange(0, 20)))
        assert parse_query(query) == model(query)
        assert list(parse_query(query)) == list(model(query))
