import re

import pytest

from datefields import iso_dates


def test_boundaries():
    good = ["0000-01-01", "9999-12-31", "2024-10-10", "2024-02-29", "2023-02-31", "2024-09-30"]
    bad = ["2024-1-01", "2024-01-1", "20240-01-01", "2024-01-32", "2024-00-01", "2024-01-00",
           "2024/01/01", "2024-01-01\n", "", "-2024-01-01", "2024-12-40"]  # fmt: skip
    assert iso_dates(good + bad) == good


def test_unicode_digits_count_as_digits():
    # \d matches any Unicode decimal digit in a str pattern.
    arabic_year = "\u0662\u0660\u0662\u0664"
    assert iso_dates([f"{arabic_year}-01-01", "２０２４-01-01"]) == [
        f"{arabic_year}-01-01",
        "２０２４-01-01",
    ]


def test_duplicates_and_order_kept():
    fields = ["2024-01-02", "x", "2024-01-01", "2024-01-02"]
    assert iso_dates(fields) == ["2024-01-02", "2024-01-01", "2024-01-02"]


def test_empty():
    assert iso_dates([]) == []


def test_input_not_modified():
    fields = ["2024-01-01", "no"]
    iso_dates(fields)
    assert fields == ["2024-01-01", "no"]


def test_non_string_field_raises_type_error():
    with pytest.raises(TypeError):
        iso_dates([20240101])


def test_matches_a_straightforward_check():
    pattern = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
    fields = [
        f"{y:04d}-{m:02d}-{d:02d}" for y in (1, 2024) for m in range(0, 14) for d in range(0, 34)
    ]
    assert iso_dates(fields) == [f for f in fields if pattern.fullmatch(f)]
