from logkit.errors import has_errors


def test_detects_error_line():
    lines = [
        "2024-10-10T13:00:01Z INFO worker-1 started",
        "2024-10-10T13:00:02Z ERROR worker-1 database unreachable",
        "2024-10-10T13:00:03Z INFO worker-1 retrying",
    ]
    assert has_errors(lines) is True


def test_error_on_last_line():
    lines = ["t INFO ok"] * 100 + ["t ERROR boom"]
    assert has_errors(lines) is True


def test_no_errors():
    lines = [
        "2024-10-10T13:00:01Z INFO worker-1 started",
        "2024-10-10T13:00:02Z WARN worker-1 slow query",
        "2024-10-10T13:00:03Z DEBUG worker-1 error count reset",
    ]
    assert has_errors(lines) is False


def test_empty_input():
    assert has_errors([]) is False
    assert has_errors([""]) is False


def test_only_whole_uppercase_token_counts():
    assert has_errors(["t error lowercase"]) is False
    assert has_errors(["t ERRORS plural"]) is False
    assert has_errors(["t TERROR inside"]) is False
    assert has_errors(["t NO_ERROR here"]) is False
    assert has_errors(["t ERROR: colon"]) is False
    assert has_errors(["t  ERROR  padded"]) is True


def test_many_errors():
    assert has_errors(["t ERROR a", "t ERROR b"]) is True
