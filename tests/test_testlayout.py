"""Tests, benchmarks and conftest files are told apart the way pytest collects them."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.domain import TargetRef
from agent.errors import UsageError
from agent.profile.profiling import profile_workload
from agent.project.runner import Project
from agent.project.testlayout import TestLayout
from agent.rank.ranking import make_target, rank
from sandbox import Sandbox
from tests.conftest import MakeRepo, evolver, repo_state, write_files
from tests.test_cli_errors import assert_usage_error, exited


def layout_of(tmp_path: Path, files: dict[str, str]) -> TestLayout:
    write_files(tmp_path, files)
    return TestLayout.of(tmp_path)


def test_defaults_without_a_configuration(tmp_path: Path) -> None:
    layout = layout_of(tmp_path, {"pkg/core.py": "", "pkg/tests/conftest.py": ""})
    assert layout.config_file is None
    assert layout.conftests == ("pkg/tests/conftest.py",)
    for path in (
        "test_core.py",
        "pkg/core_test.py",
        "pkg/tests/helpers.py",  # the folder names remain a fallback
        "testing/util.py",
        "conftest.py",
        "pkg/conftest.py",
        "bench_parse.py",
        "pkg/parse_bench.py",
        "benchmarks/run.py",
        "benchmark.py",  # tabulate's
    ):
        assert layout.is_test(path), path
    for path in ("pkg/core.py", "pkg/testament.py", "test.py", "pkg/contest.py", "latest/x.py"):
        assert not layout.is_test(path), path


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pytest.ini", "[pytest]\npython_files = test.py check_*.py\n"),
        ("pytest.ini", "[pytest]\npython_files =\n    test.py\n    check_*.py\n"),
        ("pyproject.toml", '[tool.pytest.ini_options]\npython_files = ["test.py", "check_*.py"]\n'),
        ("pyproject.toml", '[tool.pytest.ini_options]\npython_files = "test.py check_*.py"\n'),
        ("pyproject.toml", '[tool.pytest]\npython_files = ["test.py", "check_*.py"]\n'),
        ("pytest.toml", '[pytest]\npython_files = ["test.py", "check_*.py"]\n'),
        ("tox.ini", "[tox]\nenvlist = py311\n[pytest]\npython_files = test.py check_*.py\n"),
        ("setup.cfg", "[metadata]\nname = x\n[tool:pytest]\npython_files = test.py check_*.py\n"),
    ],
)
def test_python_files_from_each_configuration_file(tmp_path: Path, name: str, text: str) -> None:
    layout = layout_of(tmp_path, {name: text})
    assert layout.config_file == name
    assert layout.python_files == ("test.py", "check_*.py")
    assert layout.is_test("test.py") and layout.is_test("pkg/check_core.py")
    assert not layout.is_test("test_core.py")  # pytest would not collect it: the setting rules


def test_the_first_file_in_pytests_order_wins(tmp_path: Path) -> None:
    layout = layout_of(
        tmp_path,
        {
            "setup.cfg": "[tool:pytest]\npython_files = from_setup.py\n",
            "tox.ini": "[tox]\n",  # no [pytest]: passed over, as pytest does
            "pyproject.toml": "[project]\nname = 'x'\n",  # no pytest table: passed over
            "pytest.ini": "",  # pytest's own file counts even empty: pytest's defaults
        },
    )
    assert layout.config_file == "pytest.ini"
    assert layout.python_files == ("test_*.py", "*_test.py")
    assert not layout.is_test("from_setup.py")


def test_a_configuration_that_does_not_parse_is_passed_over(tmp_path: Path) -> None:
    layout = layout_of(
        tmp_path,
        {
            "pyproject.toml": "[tool.pytest.ini_options\npython_files = 'x.py'\n",
            "setup.cfg": "[tool:pytest]\npython_files = test.py\n",
        },
    )
    assert layout.config_file == "setup.cfg" and layout.is_test("test.py")


def test_patterns_with_a_slash_match_the_path(tmp_path: Path) -> None:
    layout = layout_of(tmp_path, {"pytest.ini": "[pytest]\npython_files = checks/*.py\n"})
    assert layout.is_test("checks/core.py")
    assert layout.is_test("pkg/checks/deep/core.py")  # fnmatch's * crosses folders, as in pytest
    assert not layout.is_test("pkg/core.py")


def test_testpaths_name_test_folders(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["spec", "suites/*", "."]\n',
        "spec/helpers.py": "",
        "suites/unit/cases.py": "",
        "pkg/core.py": "",
    }
    layout = layout_of(tmp_path, files)
    assert layout.testpaths == ("spec", "suites/unit")  # "." would name everything: not a folder
    assert layout.is_test("spec/helpers.py") and layout.is_test("suites/unit/cases.py")
    assert not layout.is_test("pkg/core.py") and not layout.is_test("specs.py")


def test_testpaths_with_doctests_of_modules_name_source_too(tmp_path: Path) -> None:
    text = "[pytest]\naddopts = --doctest-modules\ntestpaths = pkg tests\n"
    layout = layout_of(tmp_path, {"pytest.ini": text, "pkg/core.py": ""})
    assert layout.testpaths == ()
    assert not layout.is_test("pkg/core.py")
    assert layout.is_test("tests/helpers.py")  # by the folder's name still


# chardet's layout: its tests in test.py, which only its pytest configuration names.
CHARDET_LIKE = {
    "setup.cfg": "[tool:pytest]\naddopts = -q\npython_files = test.py\n",
    "detect/__init__.py": "",
    "detect/core.py": """
        def score(data):
            total = 0
            for byte in data:
                total += byte % 7
            return total
    """,
    "test.py": """
        from detect.core import score


        def test_hot():
            counted = 0
            for i in range(400000):  # the test's own loop: hot, and never a target
                counted += i % 3
            assert counted > 0
            assert score(bytes(range(256)) * 400) > 0
    """,
}


def test_a_hot_test_named_by_the_configuration_is_never_a_target(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write_files(source, CHARDET_LIKE)
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        profile = profile_workload(Project(), sandbox)
    assert TargetRef("detect/core.py", "score") in profile.functions
    assert not any(ref.path == "test.py" for ref in profile.functions)
    assert [t.ref for t in rank(source, profile.functions, limit=5)] == [
        TargetRef("detect/core.py", "score")
    ]
    with pytest.raises(UsageError, match="tests, benchmarks and conftest are never targets"):
        make_target(source, TargetRef("test.py", "test_hot"), None)


def test_cli_refuses_a_test_the_configuration_names(make_repo: MakeRepo) -> None:
    repo = make_repo(CHARDET_LIKE)
    before = repo_state(repo)
    done = evolver("run", str(repo), "--target", "test.py::test_hot")
    assert_usage_error(*exited(done), "target test.py::test_hot", "never targets")
    assert repo_state(repo) == before
