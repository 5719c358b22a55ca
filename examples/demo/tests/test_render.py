from logkit.render import render_table


def test_empty():
    assert render_table([]) == ""


def test_single_row_layout():
    assert render_table([("/login", 42)]) == "/login" + " " * 14 + " " * 6 + "42\n"


def test_rows_in_order_with_fixed_width():
    rows = [("/", 1200), ("/api/v1/orders", 7), ("/health", 0)]
    table = render_table(rows)
    lines = table.splitlines()
    assert [line.split() for line in lines] == [["/", "1200"], ["/api/v1/orders", "7"], ["/health", "0"]]
    assert all(len(line) == 28 for line in lines)
    assert table.endswith("\n")
    assert table.count("\n") == 3


def test_overflowing_values_are_not_truncated():
    name = "/a/very/long/endpoint/name"
    table = render_table([(name, 123456789)])
    assert table == f"{name}123456789\n"


def test_duplicate_rows_kept():
    assert render_table([("x", 1), ("x", 1)]) == ("x" + " " * 19 + " " * 7 + "1\n") * 2


def test_many_rows():
    rows = [(f"/page/{i}", i) for i in range(1000)]
    lines = render_table(rows).splitlines()
    assert len(lines) == 1000
    assert lines[999] == f"{'/page/999':<20}{999:>8}"
