"""Bad input: exit 2 with one clear line on stderr, and the repository exactly as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import KEYS_PROJECT, InProcess, MakeRepo, evolver, git, repo_state


def exited(done: subprocess.CompletedProcess[str]) -> tuple[int, str]:
    """A process's exit code and stderr, as ``evolver_here`` gives them for a call in ours
    (the errors found before anything runs are checked in this process: a process of their
    own would spend most of its time importing)."""
    return done.returncode, done.stderr


def assert_usage_error(code: int, stderr: str, *fragments: str) -> None:
    """Exit 2, and one line that says why: the last on stderr (progress, on by default, may
    come before it)."""
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    said = [line for line in lines if line.startswith("evolver:")]
    assert said == lines[-1:], stderr
    assert lines[-1].startswith("evolver: error: ")
    for fragment in fragments:
        assert fragment in lines[-1]


def test_not_a_git_repository(tmp_path: Path) -> None:
    assert_usage_error(*exited(evolver("run", str(tmp_path))), "not a git repository")


def test_missing_directory(tmp_path: Path) -> None:
    assert_usage_error(*exited(evolver("run", str(tmp_path / "nope"))), "not a directory")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("pkg/missing.py::f", "no file pkg/missing.py"),
        ("pkg/core.py::nope", "no function nope"),
        ("pkg/core.py", "FILE::QUALNAME"),
        ("tests/test_core.py::test_double", "never targets"),
        ("../outside.py::f", "inside the repository"),
    ],
)
def test_bad_targets(
    make_repo: MakeRepo, evolver_here: InProcess, target: str, message: str
) -> None:
    repo = make_repo(KEYS_PROJECT)
    before = repo_state(repo)
    assert_usage_error(*evolver_here("run", str(repo), "--target", target), message)
    assert repo_state(repo) == before


def test_target_file_with_syntax_error(make_repo: MakeRepo, evolver_here: InProcess) -> None:
    repo = make_repo({**KEYS_PROJECT, "pkg/broken.py": "def f(:\n    pass\n"})
    assert_usage_error(
        *evolver_here("run", str(repo), "--target", "pkg/broken.py::f"), "syntax error at line 1"
    )


def test_failing_baseline_names_the_tests(make_repo: MakeRepo) -> None:
    repo = make_repo(
        {**KEYS_PROJECT, "tests/test_bad.py": "def test_broken():\n    assert 1 == 2\n"}
    )
    before = repo_state(repo)
    assert_usage_error(
        *exited(evolver("run", str(repo))), "baseline tests fail", "tests/test_bad.py::test_broken"
    )
    assert repo_state(repo) == before


def test_no_tests_found(make_repo: MakeRepo) -> None:
    repo = make_repo({"pkg/__init__.py": "", "pkg/core.py": "def f():\n    return 1\n"})
    assert_usage_error(*exited(evolver("run", str(repo))), "no tests found")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--min-speedup", "abc"], "min-speedup"),
        (["--min-speedup", "0.5"], "--min-speedup"),
        (["--candidates", "0"], "--candidates"),
        (["--jobs", "-1"], "--jobs"),
        (["--float-tolerance", "-1e-9"], "--float-tolerance"),
        (["--check-timeout", "0"], "--check-timeout"),
        (["--provider", "nonsense"], "unknown provider"),
        (["--branch", "bad..name"], "not a valid branch name"),
        (["--no-such-flag"], "no-such-flag"),
        (["--json", "/nonexistent/dir/report.json"], "no directory /nonexistent/dir"),
    ],
)
def test_bad_flag_values(
    make_repo: MakeRepo, evolver_here: InProcess, flags: list[str], message: str
) -> None:
    repo = make_repo(KEYS_PROJECT)
    assert_usage_error(*evolver_here("run", str(repo), *flags), message)


def test_existing_branch_is_refused(make_repo: MakeRepo, evolver_here: InProcess) -> None:
    repo = make_repo(KEYS_PROJECT)
    git(repo, "branch", "taken")
    assert_usage_error(*evolver_here("run", str(repo), "--branch", "taken"), "already exists")


def test_bad_config_key_in_pyproject(make_repo: MakeRepo, evolver_here: InProcess) -> None:
    repo = make_repo({**KEYS_PROJECT, "pyproject.toml": "[tool.evolver]\nmin_sppedup = 2\n"})
    assert_usage_error(*evolver_here("run", str(repo)), "unknown key 'min_sppedup'")


def test_a_baseline_collection_error_names_its_cause(make_repo: MakeRepo) -> None:
    repo = make_repo({**KEYS_PROJECT, "tests/test_bad.py": "import no_such_module_here\n"})
    assert_usage_error(
        *exited(evolver("run", str(repo))),
        "baseline tests fail",
        "ERROR collecting tests/test_bad.py: ModuleNotFoundError: "
        "No module named 'no_such_module_here'",
    )
