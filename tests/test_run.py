"""`evolver run` end to end on real repositories, through the real command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    EVOLVER,
    KEYS_PROJECT,
    MakeRepo,
    evolver,
    git,
    init_repo,
    repo_state,
    run_tests_on_branch,
    write_files,
)


@dataclass(frozen=True)
class DirtyRun:
    """One `evolver run` on a repository with uncommitted work of every kind, and its state
    before and after."""

    repo: Path
    before: dict[str, object]
    done: subprocess.CompletedProcess[str]
    report: dict[str, Any]
    tmp: Path


@pytest.fixture(scope="module")
def dirty_run(tmp_path_factory: pytest.TempPathFactory) -> DirtyRun:
    tmp = tmp_path_factory.mktemp("run")
    repo = init_repo(tmp / "repo", KEYS_PROJECT)
    core = repo / "pkg" / "core.py"
    core.write_text(core.read_text() + "\n# work in progress\n")
    write_files(repo, {"notes.txt": "untracked\n", "pkg/extra.py": "X = 1\n"})
    git(repo, "add", "pkg/extra.py")
    write_files(repo, {"stash_me.txt": "stashed\n"})
    git(repo, "stash", "push", "--include-untracked", "--", "stash_me.txt")
    before = repo_state(repo)
    report_path = tmp / "report.json"
    # A generous timing budget: the branch appears only if the change is proven faster.
    done = evolver(
        "run", str(repo), "--branch", "evolver/test", "--timing-budget", "60",
        "--json", str(report_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return DirtyRun(repo, before, done, json.loads(report_path.read_text()), tmp)


@pytest.mark.pipeline
def test_commits_a_verified_speedup_and_reports_it(dirty_run: DirtyRun) -> None:
    repo, before, report = dirty_run.repo, dirty_run.before, dirty_run.report
    assert report["version"] == 1
    assert report["branch"] == "evolver/test", report["candidates"]
    assert report["base_commit"] == before["head"]
    assert report["targets"][0]["target"] == "pkg/core.py::count_known"
    assert report["targets"][0]["share"] > 0
    [candidate] = report["candidates"]
    assert candidate["verdict"] == "accepted" and candidate["committed"]
    assert candidate["speedup"] >= candidate["ci"][0] >= 1.05
    assert report["accepted"] == report["committed"] == 1

    log = git(repo, "log", "--format=%H %s", "main..evolver/test").splitlines()
    assert [line.split()[0] for line in log] == [candidate["commit"]]
    assert "pkg/core.py::count_known" in log[0]
    assert git(repo, "diff", "--name-only", "main", "evolver/test") == "pkg/core.py"
    assert "if k in d:" in git(repo, "show", "evolver/test:pkg/core.py")
    assert "evolver/test" in dirty_run.done.stdout
    assert "1 change(s) committed" in dirty_run.done.stdout

    tests = run_tests_on_branch(repo, "evolver/test", dirty_run.tmp / "clone")
    assert tests.returncode == 0, tests.stdout


@pytest.mark.pipeline
def test_dirty_working_tree_survives_untouched(dirty_run: DirtyRun) -> None:
    after = repo_state(dirty_run.repo)
    before = dict(dirty_run.before)
    assert after.pop("refs") != before.pop("refs")  # the new branch, and nothing else
    assert after == before
    # The branch grows from HEAD: uncommitted work is not swept into it.
    assert "work in progress" not in git(dirty_run.repo, "show", "evolver/test:pkg/core.py")
    assert "extra.py" not in git(dirty_run.repo, "ls-tree", "-r", "--name-only", "evolver/test")


@pytest.mark.pipeline
def test_no_rule_applies_completes_and_says_so(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo(
        {
            "pkg/__init__.py": "",
            "pkg/plain.py": """
            def checksum(data):
                total = 0
                for i, b in enumerate(data):
                    total = (total * 31 + b * i) % 1000003
                return total
        """,
            "tests/test_plain.py": """
            from pkg.plain import checksum


            def test_checksum():
                assert checksum([]) == 0
                assert checksum(range(300000)) == checksum(list(range(300000)))
        """,
        }
    )
    before = repo_state(repo)
    report_path = tmp_path / "r.json"
    done = evolver("run", str(repo), "--json", str(report_path))
    assert done.returncode == 0, done.stderr
    assert "No change was committed" in done.stdout
    assert "proposed nothing" in done.stdout
    assert repo_state(repo) == before
    report = json.loads(report_path.read_text())
    assert report["branch"] is None and report["candidates"] == [] and report["committed"] == 0


@pytest.mark.pipeline
def test_interrupted_run_leaves_nothing_behind_and_reruns(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    repo = make_repo(KEYS_PROJECT)
    before = repo_state(repo)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    args = [*EVOLVER, "run", str(repo), "--branch", "evolver/int", "--progress"]
    for phase in ("profiling", "[1/1]"):  # interrupt early, and in the middle of verifying
        process = subprocess.Popen(
            args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
        )
        assert process.stderr is not None
        seen = ""
        while phase not in seen:
            line = process.stderr.readline()
            assert line, f"run ended before {phase!r}: {seen}"
            seen += line
        time.sleep(0.5)
        process.send_signal(signal.SIGINT if phase == "[1/1]" else signal.SIGTERM)
        assert process.wait(timeout=60) == 130
        assert "interrupted" in process.stderr.read()
        assert repo_state(repo) == before
        assert list(scratch.iterdir()) == [], "scratch files left behind"

    done = evolver(
        "run", str(repo), "--branch", "evolver/int", "--no-confirm", "--timing-budget", "3"
    )
    assert done.returncode == 0, done.stderr
    assert git(repo, "rev-parse", "--verify", "evolver/int")


def test_profile_command_prints_the_ranked_table(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo(KEYS_PROJECT)
    out = tmp_path / "profile.json"
    done = evolver("profile", str(repo), "--json", str(out))
    assert done.returncode == 0, done.stderr
    assert "count_known" in done.stdout
    rows = json.loads(out.read_text())["targets"]
    assert rows[0]["target"] == "pkg/core.py::count_known"
    assert rows[0]["calls"] == 2 and rows[0]["share"] > 0


def test_a_workload_command_is_profiled_and_its_calls_timed(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    repo = make_repo(
        {
            **KEYS_PROJECT,
            "run_workload.py": """
        from pkg.core import count_known, double

        d = {i: i for i in range(500)}
        for _ in range(20):
            count_known(d, list(range(0, 90000, 3)))
        double(3)
    """,
        }
    )
    out = tmp_path / "profile.json"
    done = evolver("profile", str(repo), "--workload", "python run_workload.py", "--json", str(out))
    assert done.returncode == 0, done.stderr
    profile = json.loads(out.read_text())
    assert profile["workload"] == "python run_workload.py"
    assert profile["targets"][0]["target"] == "pkg/core.py::count_known"
    assert profile["targets"][0]["calls"] == 20

    done = evolver("profile", str(repo), "--workload", "true")
    assert done.returncode == 2 and "ran no Python code" in done.stderr


def test_prompt_command_shows_the_prompt_and_its_tokens(make_repo: MakeRepo) -> None:
    repo = make_repo(KEYS_PROJECT)
    done = evolver("prompt", str(repo), "--target", "pkg/core.py::count_known")
    assert done.returncode == 0, done.stderr
    assert "def count_known(d, keys):" in done.stdout
    assert "tests/test_core.py::test_count_known" in done.stdout  # the test that reaches it
    assert "Tokens per section" in done.stdout and "(estimated)" not in done.stdout
    assert "Make it faster by a better algorithm." in done.stdout  # the first candidate's ask

    offered = evolver("prompt", str(repo), "--target", "pkg/core.py::count_known",
                      "--strategy", "single")  # fmt: skip
    assert offered.returncode == 0, offered.stderr
    assert "`Strategy: <name>`" in offered.stdout and "faster by" not in offered.stdout
    unknown = evolver("prompt", str(repo), "--strategy", "magic")
    assert unknown.returncode == 2 and "not a strategy" in unknown.stderr
