"""The bundled demo keeps its promise: the rules really speed it up, and its tests still pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import demo_repo, demo_workload, evolver, repo_state, run_tests_on_branch

pytestmark = pytest.mark.pipeline

TARGETS = ["logkit/ips.py::unique_in_order", "logkit/stats.py::fastest", "logkit/graph.py::hops"]


def test_demo_targets_get_verified_speedups(tmp_path: Path) -> None:
    repo = demo_repo(tmp_path / "demo")
    before = repo_state(repo)
    report_path = tmp_path / "report.json"
    args = [arg for target in TARGETS for arg in ("--target", target)]

    done = evolver(
        "run",
        str(repo),
        *args,
        "--candidates",
        "1",
        "--no-confirm",  # confirmation by benchmarks is tested in test_trust_baseline
        "--branch",
        "evolver/demo",
        "--json",
        str(report_path),
        # Its figures are what is asserted: timed as a user's run times them, whatever the
        # suite's user config says (tests/conftest.py).
        "--min-time",
        "0.05",
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(report_path.read_text())
    committed = {c["target"]: c for c in report["candidates"] if c["committed"]}
    assert set(committed) == set(TARGETS)
    # proven past the default bar at a 99.5% level, and clearly faster (a busy CI machine
    # widens the interval: hops, ~2x, has shown a lower end of 1.29 there)
    assert all(c["ci"][0] >= 1.05 and c["speedup"] >= 1.3 for c in committed.values()), committed
    assert all(c["confidence"] == 0.995 for c in committed.values()), committed
    assert repo_state(repo) | {"refs": None} == before | {"refs": None}
    clone = tmp_path / "result"
    tests = run_tests_on_branch(repo, "evolver/demo", clone)
    assert tests.returncode == 0, tests.stdout[-2000:]
    assert "deque" in (clone / "logkit" / "graph.py").read_text()


def test_the_demo_memory_target_gets_a_verified_leaner_change(tmp_path: Path) -> None:
    """Issue 16: with --objective memory, the demo's memory target is committed at least 2x
    leaner in peak memory, behaving the same, and not slower."""
    repo = demo_repo(tmp_path / "demo")
    report_path = tmp_path / "report.json"
    target = "logkit/ids.py::answered"
    done = evolver(
        "run", str(repo), "--objective", "memory", "--target", target, "--no-confirm",
        # the memory target's benchmark alone: tracing all of them is not what is tested
        "--workload", demo_workload("answered"),
        "--branch", "evolver/leaner", "--json", str(report_path),
        "--timing-budget", "60",  # "no slower", proven on a machine busy with the suite
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(report_path.read_text())
    assert report["objective"] == "memory"
    [committed] = [c for c in report["candidates"] if c["committed"]]
    memory = committed["memory"]
    assert committed["target"] == target and memory["ci"][0] >= 2, committed
    assert committed["ci"][0] >= 1 / 1.05, committed  # not slower, proven
    tests = run_tests_on_branch(repo, "evolver/leaner", tmp_path / "result")
    assert tests.returncode == 0, tests.stdout[-2000:]
