import pytest

from pipeline import run_order


def test_requirements_first():
    steps = ["report", "clean", "load", "extract"]
    requires = {"report": ["clean"], "clean": ["load"], "load": ["extract"]}
    assert run_order(steps, requires) == ["extract", "load", "clean", "report"]


def test_listed_order_breaks_ties():
    assert run_order(["b", "a", "c"], {}) == ["b", "a", "c"]


def test_cycle():
    with pytest.raises(ValueError, match="cycle"):
        run_order(["a", "b"], {"a": ["b"], "b": ["a"]})


def test_unknown_requirement():
    with pytest.raises(ValueError, match="unknown"):
        run_order(["a"], {"a": ["zzz"]})
