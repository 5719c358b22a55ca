import copy
import random

import pytest

from buildgraph import TaskGraph


def fifo_kahn(steps, requires):
    from collections import deque

    waiting = {s: len(requires[s]) for s in steps}
    unlocks = {s: [] for s in steps}
    for s in steps:
        for p in requires[s]:
            unlocks[p].append(s)
    ready = deque(s for s in steps if waiting[s] == 0)
    out = []
    while ready:
        s = ready.popleft()
        out.append(s)
        for f in unlocks[s]:
            waiting[f] -= 1
            if waiting[f] == 0:
                ready.append(f)
    return out


def build(steps, edges):
    graph = TaskGraph()
    for s in steps:
        graph.add(s)
    for a, b in edges:
        graph.depends(a, b)
    return graph


def test_single_step():
    graph = TaskGraph()
    graph.add("only")
    assert graph.order() == ["only"]


def test_fifo_tie_order_between_waves():
    graph = build(["a", "b", "c", "d", "e"], [("d", "a"), ("c", "b"), ("e", "a")])
    # a, b ready at start; a unlocks d then e; b unlocks c.
    assert graph.order() == ["a", "b", "d", "e", "c"]


def test_unlock_order_follows_step_order():
    graph = build(["p", "x", "y"], [("y", "p"), ("x", "p")])
    assert graph.order() == ["p", "x", "y"]


def test_duplicate_edges_count_twice_and_still_resolve():
    graph = build(["a", "b"], [("b", "a"), ("b", "a")])
    assert graph.order() == ["a", "b"]


def test_self_dependency_is_a_cycle():
    graph = build(["a", "b"], [("b", "b")])
    with pytest.raises(ValueError, match=r"^dependency cycle among: b$"):
        graph.order()


def test_cycle_message_lists_stuck_steps_in_insertion_order():
    graph = build(
        ["ok", "z", "y", "x", "after"], [("z", "x"), ("x", "y"), ("y", "z"), ("after", "x")]
    )
    with pytest.raises(ValueError, match=r"^dependency cycle among: z, y, x, after$"):
        graph.order()


def test_order_does_not_change_the_graph():
    graph = build(["a", "b", "c"], [("c", "a"), ("c", "b")])
    before = copy.deepcopy(vars(graph))
    assert graph.order() == ["a", "b", "c"]
    assert vars(graph) == before
    assert graph.order() == ["a", "b", "c"]


def test_unicode_step_names():
    graph = build(["编译", "测试"], [("测试", "编译")])
    assert graph.order() == ["编译", "测试"]


def test_matches_reference_on_random_dags():
    rng = random.Random(23)
    for _ in range(150):
        n = rng.randrange(1, 30)
        steps = [f"t{i}" for i in rng.sample(range(100), n)]
        edges = []
        for _ in range(rng.randrange(0, 2 * n)):
            i, j = rng.randrange(n), rng.randrange(n)
            if i != j:
                edges.append((steps[max(i, j)], steps[min(i, j)]))
        graph = build(steps, edges)
        requires = {s: [] for s in steps}
        for a, b in edges:
            requires[a].append(b)
        assert graph.order() == fifo_kahn(steps, requires)


def test_large_chain():
    steps = [f"n{i}" for i in range(5000)]
    graph = build(steps, [(steps[i], steps[i - 1]) for i in range(1, 5000)])
    assert graph.order() == steps
