import pytest

from weblogs import status_summary

LOG = """GET /index.html 200 5120
GET /missing 404 310
POST /api/orders 201 88
GET /index.html 304 0
GET /api/orders/7 500 120
"""


def test_summary():
    assert status_summary(LOG) == {
        "2xx": (2, 5208),
        "3xx": (1, 0),
        "4xx": (1, 310),
        "5xx": (1, 120),
    }


def test_empty_log():
    assert status_summary("") == {}


def test_blank_lines_are_skipped():
    assert status_summary("\nGET / 200 10\n\n") == {"2xx": (1, 10)}


def test_malformed_line():
    with pytest.raises(ValueError, match="line 2"):
        status_summary("GET / 200 10\nGET / 200\n")
