import random

from moderation import visible_comments


def test_everyone_blocked():
    comments = [("a", "1"), ("b", "2")]
    assert visible_comments(comments, ["b", "a"]) == []


def test_exact_match_only():
    comments = [("Ann", "x"), ("ann", "y"), ("ann ", "z"), ("änn", "w")]
    assert visible_comments(comments, ["ann"]) == [("Ann", "x"), ("ann ", "z"), ("änn", "w")]


def test_duplicates_in_block_list_and_thread():
    comments = [("a", "1"), ("b", "2"), ("a", "3"), ("c", "4")]
    assert visible_comments(comments, ["a", "a", "a"]) == [("b", "2"), ("c", "4")]


def test_order_and_duplicates_kept():
    comments = [("z", "same"), ("y", "same"), ("z", "same")]
    assert visible_comments(comments, []) == comments


def test_empty_strings():
    comments = [("", "anonymous"), ("x", "")]
    assert visible_comments(comments, [""]) == [("x", "")]
    assert visible_comments(comments, ["x"]) == [("", "anonymous")]


def test_inputs_are_not_modified():
    comments = [("a", "1"), ("b", "2")]
    blocked = ["b"]
    visible_comments(comments, blocked)
    assert comments == [("a", "1"), ("b", "2")]
    assert blocked == ["b"]


def test_result_is_a_new_list():
    comments = [("a", "1")]
    result = visible_comments(comments, [])
    assert result == comments and result is not comments


def test_random_against_set_semantics():
    rng = random.Random(9)
    names = [f"u{i}" for i in range(40)] + ["ü", "日本"]
    for _ in range(100):
        comments = [(rng.choice(names), str(i)) for i in range(rng.randrange(0, 60))]
        blocked = rng.sample(names, rng.randrange(0, 20))
        expected = [c for c in comments if c[0] not in set(blocked)]
        assert visible_comments(comments, blocked) == expected
