import random

from logkit.graph import hops


def reference_hops(graph, start, goal):
    """Level-by-level BFS, written differently on purpose."""
    level, frontier, seen = 0, {start}, {start}
    while frontier:
        if goal in frontier:
            return level
        frontier = {c for n in frontier for c in graph.get(n, []) if c not in seen}
        seen |= frontier
        level += 1
    return -1


def test_same_service_is_zero_hops():
    assert hops({"a": ["b"]}, "a", "a") == 0
    assert hops({}, "ghost", "ghost") == 0


def test_direct_call_is_one_hop():
    assert hops({"gateway": ["auth"]}, "gateway", "auth") == 1


def test_shortest_route_wins():
    graph = {
        "gateway": ["auth", "orders"],
        "auth": ["users"],
        "users": ["db"],
        "orders": ["db"],
    }
    assert hops(graph, "gateway", "db") == 2
    assert hops(graph, "gateway", "users") == 2
    assert hops(graph, "auth", "db") == 2


def test_long_chain():
    graph = {f"s{i}": [f"s{i + 1}"] for i in range(50)}
    assert hops(graph, "s0", "s50") == 50
    assert hops(graph, "s10", "s20") == 10


def test_unreachable_goal():
    graph = {"a": ["b"], "b": ["c"], "x": ["a"]}
    assert hops(graph, "a", "x") == -1  # edges are one-way
    assert hops(graph, "a", "nowhere") == -1
    assert hops(graph, "missing", "a") == -1
    assert hops({}, "a", "b") == -1


def test_cycles_terminate():
    graph = {"a": ["b"], "b": ["c", "a"], "c": ["a", "b"]}
    assert hops(graph, "a", "c") == 2
    assert hops(graph, "a", "d") == -1


def test_self_loops_and_duplicate_edges():
    graph = {"a": ["a", "b", "b"], "b": ["b", "c"]}
    assert hops(graph, "a", "c") == 2


def test_callees_need_not_be_keys():
    assert hops({"a": ["leaf"]}, "a", "leaf") == 1
    assert hops({"a": ["leaf"]}, "leaf", "a") == -1


def test_graph_is_not_modified():
    graph = {"a": ["b", "c"], "b": ["d"], "c": ["d"]}
    snapshot = {k: list(v) for k, v in graph.items()}
    hops(graph, "a", "d")
    assert graph == snapshot


def test_matches_reference_on_random_graphs():
    rng = random.Random(7)
    for _ in range(40):
        n = rng.randrange(2, 40)
        names = [f"n{i}" for i in range(n)]
        graph = {name: rng.sample(names, rng.randrange(0, 3)) for name in names}
        for _ in range(10):
            start, goal = rng.choice(names), rng.choice(names)
            assert hops(graph, start, goal) == reference_hops(graph, start, goal)
