from moderation import visible_comments


def test_blocked_authors_are_hidden():
    comments = [("ann", "hi"), ("spam-bot", "buy now"), ("bob", "hello"), ("troll", "meh")]
    assert visible_comments(comments, ["troll", "spam-bot"]) == [("ann", "hi"), ("bob", "hello")]


def test_nobody_blocked():
    comments = [("ann", "hi"), ("bob", "yo")]
    assert visible_comments(comments, []) == comments


def test_no_comments():
    assert visible_comments([], ["x"]) == []
