import random

from arena import leaderboard


def test_ties_keep_input_order_not_name_order():
    ratings = [("zed", 5.0), ("amy", 5.0), ("mia", 7.0), ("bob", 5.0)]
    assert leaderboard(ratings) == ["mia", "zed", "amy", "bob"]


def test_all_tied():
    names = [f"p{i}" for i in range(50)]
    rng = random.Random(2)
    rng.shuffle(names)
    assert leaderboard([(n, 1200.0) for n in names]) == names


def test_negative_and_zero_ratings():
    assert leaderboard([("a", -1.0), ("b", 0.0), ("c", -0.5)]) == ["b", "c", "a"]


def test_int_and_float_ratings_mix_and_tie():
    assert leaderboard([("i", 10), ("f", 10.0), ("g", 11)]) == ["g", "i", "f"]


def test_duplicate_names_are_separate_entries():
    assert leaderboard([("a", 1.0), ("a", 3.0)]) == ["a", "a"]


def test_single():
    assert leaderboard([("solo", 1.0)]) == ["solo"]


def test_input_not_modified():
    ratings = [("a", 1.0), ("b", 2.0)]
    leaderboard(ratings)
    assert ratings == [("a", 1.0), ("b", 2.0)]


def test_random_against_stable_descending_sort():
    rng = random.Random(11)
    for _ in range(100):
        ratings = [(f"n{i}", float(rng.randrange(5))) for i in range(rng.randrange(0, 40))]
        expected = [n for _, n in sorted(((-r, i), n) for i, (n, r) in enumerate(ratings))]
        assert leaderboard(ratings) == expected
