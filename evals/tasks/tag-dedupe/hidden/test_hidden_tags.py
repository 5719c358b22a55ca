import random

from tagging import unique_tags


def reference(tags):
    seen = set()
    out = []
    for tag in tags:
        key = "-".join(tag.split()).casefold()
        if key and key not in seen:
            seen.add(key)
            out.append(key)
    return out


def test_empty_and_blank_only():
    assert unique_tags([]) == []
    assert unique_tags(["", " ", "\t\n"]) == []


def test_single():
    assert unique_tags(["Solo"]) == ["solo"]


def test_all_duplicates():
    assert unique_tags(["x"] * 100) == ["x"]
    assert unique_tags(["A b", "a  B", " A\tB "]) == ["a-b"]


def test_first_occurrence_wins_order():
    assert unique_tags(["b", "a", "B", "c", "A", "b"]) == ["b", "a", "c"]


def test_unicode_casefold():
    assert unique_tags(["Straße", "STRASSE", "strasse", "ǅ", "ǆ"]) == ["strasse", "ǆ"]
    assert unique_tags(["Ünïcödé", "ünïcödé", "日本 語"]) == ["ünïcödé", "日本-語"]


def test_input_is_not_modified():
    tags = ["B", "a", "b", "  A  "]
    snapshot = list(tags)
    unique_tags(tags)
    assert tags == snapshot


def test_result_is_a_fresh_list_of_str():
    result = unique_tags(["one", "two"])
    assert type(result) is list and all(type(t) is str for t in result)
    result.append("three")
    assert unique_tags(["one", "two"]) == ["one", "two"]


def test_matches_reference_on_random_data():
    rng = random.Random(5)
    for size in (0, 1, 2, 10, 100, 1000):
        tags = [
            rng.choice(["a", "B", " c ", "D d", "", "é", "É"])
            + str(rng.randrange(5)) * rng.randrange(2)
            for _ in range(size)
        ]
        assert unique_tags(tags) == reference(tags)


def test_large():
    tags = [f"tag {i % 777}" for i in range(20_000)]
    assert unique_tags(tags) == [f"tag-{i}" for i in range(777)]
