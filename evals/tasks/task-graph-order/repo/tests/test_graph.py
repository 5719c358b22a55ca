import pytest

from buildgraph import TaskGraph


def test_prerequisites_come_first():
    graph = TaskGraph()
    graph.depends("link", "compile")
    graph.depends("compile", "fetch")
    graph.depends("test", "link")
    assert graph.order() == ["fetch", "compile", "link", "test"]


def test_independent_steps_keep_insertion_order():
    graph = TaskGraph()
    for step in ["c", "a", "b"]:
        graph.add(step)
    assert graph.order() == ["c", "a", "b"]


def test_cycle_is_reported():
    graph = TaskGraph()
    graph.depends("a", "b")
    graph.depends("b", "a")
    with pytest.raises(ValueError, match="cycle"):
        graph.order()


def test_empty_graph():
    assert TaskGraph().order() == []
