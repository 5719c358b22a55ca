from arena import leaderboard


def test_order():
    assert leaderboard([("ann", 1500.0), ("bob", 1720.5), ("cy", 1610.0)]) == ["bob", "cy", "ann"]


def test_ties_keep_signup_order():
    assert leaderboard([("x", 1.0), ("y", 2.0), ("z", 1.0)]) == ["y", "x", "z"]


def test_empty():
    assert leaderboard([]) == []
