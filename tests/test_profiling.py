"""Attribution of a real cProfile run to the repository's own functions."""

from __future__ import annotations

from pathlib import Path

from agent.domain import TargetRef
from agent.profiling import profile_workload
from agent.project import Project
from agent.ranking import rank
from sandbox import Sandbox
from tests.conftest import write_files

FILES = {
    "app/__init__.py": "",
    "app/work.py": """
        import functools


        def drain(n):
            queue = list(range(n))
            while queue:
                queue.pop(0)  # library time, spent on drain's behalf
            return n


        def squares(n):
            return sum([i * i for i in range(n)])  # the comprehension is squares' own time


        class Grid:
            @functools.lru_cache(maxsize=None)
            def cell(self, x):
                return x


        def cheap():
            return 1
    """,
    "tests/test_work.py": """
        from app.work import Grid, cheap, drain, squares


        def test_all():
            assert drain(30000) == 30000
            assert squares(300000) > 0
            assert Grid().cell(3) == 3
            assert cheap() == 1
            for _ in range(100000):  # test code is never a target
                pass
    """,
}


def test_time_goes_to_the_functions_that_spend_it(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write_files(source, FILES)
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        profile = profile_workload(Project(), sandbox)
    functions = profile.functions
    drain, squares = TargetRef("app/work.py", "drain"), TargetRef("app/work.py", "squares")
    assert set(functions) >= {drain, squares, TargetRef("app/work.py", "cheap")}
    assert not any(ref.path.startswith("tests/") for ref in functions)
    assert functions[drain].own_time > 0.5 * functions[drain].cum_time > 0
    assert functions[squares].own_time > 0.5 * functions[squares].cum_time > 0
    assert functions[drain].calls == 1
    assert profile.workload == "the test suite"
    ranked = [t.ref for t in rank(source, functions, limit=2)]
    assert set(ranked) == {drain, squares}
