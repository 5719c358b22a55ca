from datefields import count_blank, iso_dates


def test_iso_dates():
    fields = ["2024-01-31", "31/01/2024", "2024-13-01", "2024-00-10", "1999-12-01", ""]
    assert iso_dates(fields) == ["2024-01-31", "1999-12-01"]


def test_whole_field_must_match():
    assert iso_dates(["2024-01-31 ", " 2024-01-31", "2024-01-31T00:00"]) == []


def test_count_blank():
    assert count_blank(["", " ", "x", "\t"]) == 3
