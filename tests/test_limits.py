"""Every command that runs the project's code does so under the run's limits: ``--memory-mb``
(or ``[tool.evolver] memory_mb``) reaches what ``evolver profile``, ``prompt`` and ``watch``
run, not only ``evolver run``. The project allocates 400 MiB: under a 200 MiB limit the
sandbox stops it, under the default it runs.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.project.workspace import Workspace
from agent.record import gitops
from sandbox import Limits, protection
from tests.conftest import MakeRepo, evolver, git, init_repo

# Bytes filled in, not merely reserved: the pages count against a cgroup's memory.
ALLOCATE = """
    import json

    from pkg.core import total

    held = b"x" * (400 << 20)
    print(json.dumps({"held_mb": len(held) >> 20, "total": total(10)}))
"""

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": """
        def total(n):
            return sum(range(n))
    """,
    "allocate.py": ALLOCATE,
    "pyproject.toml": """
        [tool.evolver.watch]
        branch = "main"
        benchmarks = false
        metrics_command = "python allocate.py"
        repeats = 1
    """,
}

WORKLOAD = ("--workload", "python allocate.py")


def test_profile_and_prompt_honour_memory_mb(make_repo: MakeRepo) -> None:
    repo = make_repo(PROJECT)

    for command in ("profile", "prompt"):
        done = evolver(command, str(repo), *WORKLOAD, "--memory-mb", "200")
        assert done.returncode == 2, done.stderr
        assert "hit the sandbox's memory limit" in done.stderr, done.stderr

    done = evolver("profile", str(repo), *WORKLOAD)
    assert done.returncode == 0, done.stderr
    assert "Hot functions (python allocate.py" in done.stdout


def test_profile_honours_memory_mb_in_pyproject(make_repo: MakeRepo) -> None:
    pyproject = "[tool.evolver]\nmemory_mb = 200\n"
    repo = make_repo({**PROJECT, "pyproject.toml": pyproject})
    done = evolver("profile", str(repo), *WORKLOAD)
    assert done.returncode == 2, done.stderr
    assert "hit the sandbox's memory limit" in done.stderr, done.stderr


def test_watch_measures_under_memory_mb(make_repo: MakeRepo) -> None:
    repo = make_repo(PROJECT)
    git(repo, "switch", "--quiet", "--detach")  # watch moves main: it must not be checked out

    done = evolver("watch", str(repo), "--once", "--json", "--memory-mb", "200")
    assert done.returncode == 2  # the project's command failed: a clear one-line error
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("evolver: error: the metrics command failed"), done.stderr
    assert "hit the sandbox's memory limit" in done.stderr, done.stderr

    done = evolver("watch", str(repo), "--once", "--json")
    assert done.returncode == 0, done.stderr
    [cycle] = [json.loads(line) for line in done.stdout.splitlines()]
    assert cycle["metrics"] == {"held_mb": 400, "total": 45}


@pytest.fixture
def outside() -> Iterator[Path]:
    """A directory outside /tmp (which bubblewrap hides anyway), open to all: only hiding
    what is in it can keep a command from reading it."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as directory:
        os.chmod(directory, 0o755)
        yield Path(directory)


@pytest.mark.skipif(not protection().homes_hidden, reason="only bubblewrap hides paths")
def test_a_commit_workspace_hides_every_checkout_and_the_git_directory(outside: Path) -> None:
    main, linked, other = outside / "main", outside / "linked", outside / "other"
    for directory in (main, other):
        init_repo(directory, PROJECT)
    git(main, "worktree", "add", "--quiet", "--detach", str(linked))
    paths = {"checkout": linked, "git": main / ".git", "main": main, "other": other,
             "state": Path(".")}  # fmt: skip
    probe = "import os, sys; print(os.listdir(sys.argv[1]))"
    limits = Limits(memory_mb=512)
    with Workspace.for_commit(gitops.open_repo(linked), "HEAD", limits) as workspace:
        assert workspace.limits == limits
        with workspace.sandbox("probe") as sandbox:
            seen = {
                name: sandbox.run(["python3", "-c", probe, str(path)], timeout=30).stdout
                for name, path in paths.items()
            }
    # An unrelated repository next to it stays visible: hiding is what keeps the rest out.
    assert "allocate.py" in seen["other"] and "allocate.py" in seen["state"], seen
    for name in ("checkout", "git", "main"):
        assert "allocate.py" not in seen[name] and "HEAD" not in seen[name], seen
