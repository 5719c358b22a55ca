import random

from sqlfmt import SQL_KEYWORDS, is_keyword, uppercase_keywords


def test_every_keyword_in_any_case():
    for word in SQL_KEYWORDS:
        assert uppercase_keywords([word, word.upper(), word.title()]) == [word.upper()] * 3


def test_non_keywords_untouched_exactly():
    tokens = ["Users", "selected", "fromage", "'select'", '"from"', "sel ect", "", " "]
    assert uppercase_keywords(tokens) == tokens


def test_unicode_and_special_case_mappings():
    # 'ſ' (long s) lowercases to itself, so "ſelect" is not a keyword;
    # 'İ'.lower() is 'i̇' (two code points), so "İN" is not "in".
    tokens = ["ſelect", "İN", "ın", "straße", "ÉTÉ", "in"]
    assert uppercase_keywords(tokens) == ["ſelect", "İN", "ın", "straße", "ÉTÉ", "IN"]


def test_keyword_that_uppercases_differently():
    # upper() of the original token, not of the keyword: the same here, but the output must
    # be the token's own upper case.
    assert uppercase_keywords(["Null", "nULL"]) == ["NULL", "NULL"]


def test_duplicates_and_order():
    assert uppercase_keywords(["x", "and", "x", "AND", "x"]) == ["x", "AND", "x", "AND", "x"]


def test_input_not_modified_and_new_list():
    tokens = ["select", "a"]
    out = uppercase_keywords(tokens)
    assert tokens == ["select", "a"]
    assert out is not tokens


def test_keyword_list_unchanged():
    before = list(SQL_KEYWORDS)
    uppercase_keywords(["select"] * 10)
    assert SQL_KEYWORDS == before


def test_is_keyword_agrees():
    rng = random.Random(2)
    words = SQL_KEYWORDS + ["foo", "bar", "selects", "FROM", "Where"]
    tokens = [rng.choice(words) for _ in range(500)]
    out = uppercase_keywords(tokens)
    for token, cased in zip(tokens, out):
        assert cased == (token.upper() if is_keyword(token) else token)
