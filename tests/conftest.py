"""Real temporary git repositories for the tests, and a way to see that one did not change."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

GIT_ID = ["-c", "user.name=Test", "-c", "user.email=test@localhost"]
EVOLVER = [sys.executable, "-m", "agent"]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *GIT_ID, *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def write_files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


MakeRepo = Callable[[dict[str, str]], Path]


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """A git repository holding ``files`` in one commit on ``main``."""
    counter = iter(range(100))

    def make(files: dict[str, str]) -> Path:
        repo = tmp_path / f"repo{next(counter)}"
        repo.mkdir()
        git(repo, "init", "--quiet", "--initial-branch=main")
        write_files(repo, files)
        git(repo, "add", "-A")
        git(repo, "commit", "--quiet", "-m", "initial")
        return repo

    return make


def repo_state(repo: Path) -> dict[str, object]:
    """Everything evolver must leave alone: files (tracked or not), index, refs, stash."""
    files = {}
    for path in sorted(repo.rglob("*")):
        parts = path.relative_to(repo).parts
        if ".git" in parts or parts[0] == ".evolver" or not path.is_file():  # its history
            continue
        files[str(path.relative_to(repo))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return {
        "files": files,
        "head": git(repo, "rev-parse", "HEAD"),
        "branch": git(repo, "rev-parse", "--abbrev-ref", "HEAD"),  # "HEAD" when detached
        "status": git(repo, "status", "--porcelain"),
        "index": hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest(),
        "refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "stash": git(repo, "stash", "list"),
        "worktrees": git(repo, "worktree", "list", "--porcelain"),
    }


def evolver(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a subprocess."""
    return subprocess.run(
        [*EVOLVER, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


DEMO = Path(__file__).parents[1] / "examples" / "demo"


def demo_repo(path: Path) -> Path:
    """A fresh git repository holding a copy of the bundled demo project."""
    shutil.copytree(DEMO, path)
    git(path, "init", "--quiet", "--initial-branch=main")
    git(path, "add", "-A")
    git(path, "commit", "--quiet", "-m", "demo")
    return path


def run_tests_on_branch(repo: Path, branch: str, into: Path) -> subprocess.CompletedProcess[str]:
    """Clone ``branch`` of ``repo`` into ``into`` and run its tests there with pytest."""
    git(into.parent, "clone", "--quiet", "--branch", branch, str(repo), str(into))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=into,
        capture_output=True,
        text=True,
        check=False,
    )


# A small project where one rule applies: `k in d.keys()` in a hot loop.
KEYS_PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": """
        def count_known(d, keys):
            total = 0
            for k in keys:
                if k in d.keys():
                    total += 1
            return total


        def double(x):
            return x * 2
    """,
    "tests/test_core.py": """
        from pkg.core import count_known, double


        def test_count_known():
            d = {i: i for i in range(1000)}
            assert count_known(d, list(range(0, 300000, 3))) == 334
            assert count_known({}, []) == 0


        def test_double():
            assert double(2) == 4
    """,
}
