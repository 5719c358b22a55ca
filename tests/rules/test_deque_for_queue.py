import pytest

from agent.providers.rules.deque_for_queue import DequeForQueue
from tests.rules.helpers import assert_same_behaviour, rewrite

RULE = DequeForQueue()

BFS = """
def bfs(graph, start):
    seen = {start}
    queue = [start]
    order = []
    while queue:
        node = queue.pop(0)
        order.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return order


def untouched(items):
    stack = [1]
    return stack.pop(0)
"""

GRAPHS = [
    ({}, 1),
    ({1: [2, 3], 2: [4], 3: [4], 4: [1]}, 1),
    ({1: [1, 1]}, 1),
    ({"a": ["b"], "b": ["c", "a"], "c": []}, "a"),
    ({1: [2]}, 5),
]


def test_bfs_queue_becomes_deque() -> None:
    after = rewrite(RULE, BFS, "bfs")
    assert after is not None
    assert after.startswith("from collections import deque\n")
    assert "queue = deque([start])" in after
    assert "node = queue.popleft()" in after
    assert "queue.append(nxt)" in after
    assert "order = []" in after and "order.append(node)" in after
    assert_same_behaviour(BFS, after, "bfs", GRAPHS)


def test_other_functions_are_left_alone() -> None:
    after = rewrite(RULE, BFS, "bfs")
    assert after is not None
    untouched = BFS[BFS.index("def untouched") :]
    assert after.endswith(untouched)


def test_empty_list_insert_front_and_list_call() -> None:
    before = """
from collections import deque


def rotate(items: list[int], steps: int) -> list[int]:
    q: list[int] = list(items)
    for _ in range(steps):
        if q:
            q.insert(0, q.pop())
    return [x for x in items if x in q] + [len(q)]


def drain(items):
    q = []
    q.extend(items)
    out = []
    while len(q) > 0 and not (q and False):
        out.append(q.pop(0))
    for x in q:
        out.append(x)
    return out
"""
    after = rewrite(RULE, before, "rotate")
    assert after is not None
    assert after.count("from collections import deque") == 1
    assert "q: deque[int] = deque(items)" in after
    assert "q.appendleft(q.pop())" in after
    inputs = [([], 3), ([1], 2), ([1, 2, 3], 0), ([1, 2, 3, 2], 5)]
    assert_same_behaviour(before, after, "rotate", inputs)

    after = rewrite(RULE, before, "drain")
    assert after is not None
    assert "q = deque()" in after and "out.append(q.popleft())" in after
    assert_same_behaviour(before, after, "drain", [([],), ([1, 1, 2],), ("abc",)])


QUEUE_WITH = """
def f(items):
    q = list(items)
    while q:
        q.pop(0)
        {use}
"""


@pytest.mark.parametrize(
    "use",
    [
        "return q",  # escapes
        "print(q)",  # passed to a call
        "x = q[0]",  # indexed
        "other = q",  # aliased
        "q = [1]",  # rebound
        "q.insert(1, 0)",  # not a front insert
        "q.pop(1)",
        "q.sort()",
        "y = q and 1",  # ``q and 1`` may evaluate to ``q``
        "f = lambda: q.pop(0)",  # captured
        "for v in q: q.append(v)",  # a deque refuses mutation while iterated
        "yield q",
        "del q",
        "print(locals())",  # shows the local by name
    ],
)
def test_does_not_fire_when_the_list_escapes_or_is_used_as_a_list(use: str) -> None:
    assert rewrite(RULE, QUEUE_WITH.format(use="pass"), "f") is not None  # the control fires
    assert rewrite(RULE, QUEUE_WITH.format(use=use), "f") is None


def test_does_not_fire_without_a_front_operation_in_a_loop() -> None:
    source = """
def once(items):
    q = list(items)
    first = q.pop(0)
    return first + len(q)


def stack(items):
    q = list(items)
    while q:
        q.pop()
    return 0


def param(q):
    while q:
        q.pop(0)
"""
    assert rewrite(RULE, source, "once") is None
    assert rewrite(RULE, source, "stack") is None
    assert rewrite(RULE, source, "param") is None


@pytest.mark.parametrize(
    "header",
    [
        "from mylib import deque",
        "deque = None",
        "from collections import OrderedDict as deque",
        "from os import *",
    ],
)
def test_does_not_fire_when_deque_means_something_else(header: str) -> None:
    assert rewrite(RULE, header + "\n" + QUEUE_WITH.format(use="pass"), "f") is None


def test_does_not_fire_when_list_is_shadowed() -> None:
    source = """
def list(x):
    return x


def f(items):
    q = list(items)
    while q:
        q.pop(0)
"""
    assert rewrite(RULE, source, "f") is None


def test_method_target() -> None:
    before = """
class Walker:
    def walk(self, roots):
        todo = [*roots]
        out = []
        while todo:
            item = todo.pop(0)
            out.append(item)
            if item > 0:
                todo.append(item - 1)
        return out


def run(roots):
    return Walker().walk(roots)
"""
    after = rewrite(RULE, before, "Walker.walk")
    assert after is not None
    assert "todo = deque([*roots])" in after and "todo.popleft()" in after
    assert_same_behaviour(before, after, "run", [([],), ([0],), ([3, 1],), ([2, 2],)])
