from logkit.ips import unique_in_order, unique_ips


def test_unique_in_order_keeps_first_occurrences():
    assert unique_in_order(["b", "a", "b", "c", "a", "d"]) == ["b", "a", "c", "d"]


def test_unique_in_order_edge_cases():
    assert unique_in_order([]) == []
    assert unique_in_order(["x"]) == ["x"]
    assert unique_in_order(["x", "x", "x"]) == ["x"]
    assert unique_in_order(["a", "b", "c"]) == ["a", "b", "c"]


def test_unique_in_order_returns_a_new_list_and_leaves_input_alone():
    items = ["a", "b", "a"]
    result = unique_in_order(items)
    assert result is not items
    assert items == ["a", "b", "a"]
    result.append("z")
    assert items == ["a", "b", "a"]


def test_unique_in_order_is_case_sensitive():
    assert unique_in_order(["Host", "host", "HOST", "host"]) == ["Host", "host", "HOST"]


def test_unique_in_order_matches_reference_on_many_items():
    items = [f"10.0.{i % 7}.{i % 13}" for i in range(500)]
    expected = []
    seen = set()
    for item in items:
        if item not in seen:
            seen.add(item)
            expected.append(item)
    assert unique_in_order(items) == expected
    assert len(expected) == 7 * 13


LOG = [
    '10.0.0.2 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 2326',
    '10.0.0.7 - frank [10/Oct/2024:13:55:37 +0000] "GET /login HTTP/1.1" 302 0',
    '10.0.0.2 - - [10/Oct/2024:13:55:38 +0000] "GET /app.js HTTP/1.1" 200 512',
    "",
    '2001:db8::1 - - [10/Oct/2024:13:55:39 +0000] "GET /health HTTP/1.1" 200 2',
    '  10.0.0.9 - - [10/Oct/2024:13:55:40 +0000] "GET / HTTP/1.1" 200 2326',
    '10.0.0.7 - frank [10/Oct/2024:13:55:41 +0000] "POST /logout HTTP/1.1" 204 0',
    "   ",
]


def test_unique_ips_in_order_of_first_appearance():
    assert unique_ips(LOG) == ["10.0.0.2", "10.0.0.7", "2001:db8::1", "10.0.0.9"]


def test_unique_ips_edge_cases():
    assert unique_ips([]) == []
    assert unique_ips(["", "  ", "\t"]) == []
    assert unique_ips(["1.2.3.4"]) == ["1.2.3.4"]
    assert unique_ips(["1.2.3.4 a", "1.2.3.4 b"]) == ["1.2.3.4"]
