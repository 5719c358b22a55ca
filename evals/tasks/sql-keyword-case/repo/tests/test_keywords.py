from sqlfmt import is_keyword, uppercase_keywords


def test_keywords_are_uppercased():
    tokens = ["select", "name", ",", "Age", "from", "users", "where", "age", ">", "21"]
    assert uppercase_keywords(tokens) == [
        "SELECT",
        "name",
        ",",
        "Age",
        "FROM",
        "users",
        "WHERE",
        "age",
        ">",
        "21",
    ]


def test_mixed_case_keywords():
    assert uppercase_keywords(["SeLeCt", "Distinct"]) == ["SELECT", "DISTINCT"]


def test_is_keyword():
    assert is_keyword("JOIN")
    assert not is_keyword("joins")


def test_empty():
    assert uppercase_keywords([]) == []
