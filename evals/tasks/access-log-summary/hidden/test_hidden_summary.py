import random

import pytest

from weblogs import status_summary


def by_hand(log):
    """The summary, written independently."""
    totals = {}
    for line in log.splitlines():
        if not line.strip():
            continue
        _, _, status, sent = line.split()
        requests, total = totals.get(status[0] + "xx", (0, 0))
        totals[status[0] + "xx"] = (requests + 1, total + int(sent))
    return dict(sorted(totals.items()))


def test_only_blank_lines():
    assert status_summary("\n\n   \n\t\n") == {}


def test_no_trailing_newline():
    assert status_summary("GET / 200 7") == {"2xx": (1, 7)}


def test_classes_in_order_whatever_comes_first():
    log = "GET /a 503 1\nGET /b 101 2\nGET /c 200 3\nGET /d 200 4\n"
    out = status_summary(log)
    assert list(out) == ["1xx", "2xx", "5xx"]
    assert out["2xx"] == (2, 7)


def test_windows_and_old_mac_line_endings():
    assert status_summary("GET / 200 1\r\nGET / 404 2\rGET / 200 3") == {
        "2xx": (2, 4),
        "4xx": (1, 2),
    }


def test_unicode_line_separator_splits_lines():
    assert status_summary("GET / 200 1\u2028GET / 200 2") == {"2xx": (2, 3)}


def test_tabs_and_runs_of_spaces_separate_fields():
    assert status_summary("GET\t/x   200 \t 12  \n") == {"2xx": (1, 12)}


def test_unicode_paths():
    assert status_summary("GET /café/ñ 200 5\nGET /日本 404 6\n") == {
        "2xx": (1, 5),
        "4xx": (1, 6),
    }


def test_large_byte_counts_are_exact():
    big = 10**30
    assert status_summary(f"GET / 200 {big}\nGET / 200 {big}\n") == {"2xx": (2, 2 * big)}


def test_error_names_the_first_bad_line_and_quotes_it():
    log = "GET / 200 1\n\nGET /x 2000 5\nGET /y 200\n"
    with pytest.raises(ValueError) as raised:
        status_summary(log)
    assert str(raised.value) == "line 3: not METHOD PATH STATUS BYTES: 'GET /x 2000 5'"


@pytest.mark.parametrize(
    "line",
    ["GET / 20x 1", "GET / 200 -1", "GET / 200 1.5", "GET / 200 1 extra", "200 1", "GET / 2 1"],
)
def test_malformed_lines_raise(line):
    with pytest.raises(ValueError, match=r"^line 2: "):
        status_summary(f"GET / 200 1\n{line}\n")


def test_error_even_after_many_good_lines():
    log = "GET / 200 1\n" * 1000 + "oops\n"
    with pytest.raises(ValueError, match=r"^line 1001: .*'oops'$"):
        status_summary(log)


def test_input_is_unchanged_and_result_is_a_fresh_dict():
    log = "GET / 200 1\n"
    first = status_summary(log)
    first["2xx"] = (0, 0)
    assert status_summary(log) == {"2xx": (1, 1)}
    assert log == "GET / 200 1\n"


def test_random_logs_against_a_hand_count():
    rng = random.Random(5)
    for _ in range(200):
        lines = []
        for _ in range(rng.randrange(0, 30)):
            if rng.random() < 0.1:
                lines.append("")
            else:
                status = rng.choice([100, 200, 204, 302, 404, 418, 500, 599])
                lines.append(f"GET /p{rng.randrange(9)} {status} {rng.randrange(0, 10**6)}")
        log = rng.choice(["\n", "\r\n"]).join(lines)
        assert status_summary(log) == by_hand(log)


def test_a_large_log():
    log = "".join(f"GET /{i} {200 + (i % 3) * 100} {i}\n" for i in range(50_000))
    out = status_summary(log)
    assert sum(requests for requests, _ in out.values()) == 50_000
    assert sum(sent for _, sent in out.values()) == sum(range(50_000))
