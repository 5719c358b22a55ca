"""How the project's commands are built and run: a test command that names paths."""

from __future__ import annotations

from pathlib import Path

from agent.project.runner import Project, without_paths
from sandbox import Sandbox


def test_a_named_path_is_dropped_when_tests_are_chosen(tmp_path: Path) -> None:
    """`pytest tests` plus chosen ids would collect the whole folder beside them; the chosen
    tests alone must run, and an option's own value (-k, -c) stays."""
    tree = tmp_path / "tree"
    (tree / "tests").mkdir(parents=True)
    (tree / "tests" / "test_a.py").write_text(
        "def test_one():\n    pass\n\n\ndef test_two():\n    pass\n"
    )
    (tree / "tests" / "test_b.py").write_text("def test_three():\n    pass\n")
    assert without_paths(["pytest", "tests", "-k", "tests", "-c", "setup.cfg"], tree) == [
        "pytest", "-k", "tests", "-c", "setup.cfg",
    ]  # fmt: skip
    project = Project(test_command=("pytest", "tests"))
    with Sandbox.create(tmp_path / "boxes", tree) as sandbox:
        chosen = project.run_tests(sandbox, select=["tests/test_a.py::test_two"])
        whole = project.run_tests(sandbox)
    assert chosen.outcomes == {"tests/test_a.py::test_two": "passed"}, chosen.output
    assert whole.outcomes is not None and len(whole.outcomes) == 3
