"""`evolver watch` on a real repository, cycle by cycle, as cron or CI would run it.

The story: `ways` is fast; a commit makes it naive recursion (the benchmark gets ~1000x
slower); watch sees the new commit and the breached latency threshold, evolves, and lands the
`memoize_recursive` rewrite (fast again); the next cycle sees that the landed change made the
service's memory peak four times what it was before it landed, and reverts it; the one after
evolves again but does not land the same change twice. All of it is in the history. The story
is told once, by a module fixture; rolling back by hand goes on from where it ends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MakeRepo, evolver, git, init_repo, repo_state, write_files

FAST = """
    def ways(n: int) -> int:
        \"\"\"Ways to climb n stairs taking 1, 2 or 3 steps at a time.\"\"\"
        a, b, c = 1, 0, 0
        for _ in range(n):
            a, b, c = a + b + c, a, b
        return a
"""

SLOW = """
    def ways(n: int) -> int:
        \"\"\"Ways to climb n stairs taking 1, 2 or 3 steps at a time.\"\"\"
        if n < 0:
            return 0
        if n == 0:
            return 1
        return ways(n - 1) + ways(n - 2) + ways(n - 3)
"""

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/stairs.py": FAST,
    "tests/test_stairs.py": """
        from pkg.stairs import ways


        def test_ways():
            assert [ways(n) for n in range(8)] == [1, 1, 2, 4, 7, 13, 24, 44]
            assert ways(-1) == 0
    """,
    "tests/test_bench.py": """
        from pkg.stairs import ways


        def test_ways_speed(benchmark):
            assert benchmark(ways, 18) == 35890
    """,
    # The service's own view of itself: latency of a request and the memory it holds.
    "metrics.py": """
        import json
        import time
        import tracemalloc

        from pkg.stairs import ways

        tracemalloc.start()
        start = time.perf_counter()
        assert sum(ways(n) for n in range(22)) == 489396
        latency_ms = (time.perf_counter() - start) * 1000
        peak_kb = tracemalloc.get_traced_memory()[1] / 1024
        print(json.dumps({"latency_ms": latency_ms, "peak_kb": peak_kb}))
    """,
    "pyproject.toml": """
        [tool.evolver]
        candidates = 2
        rounds = 1

        [tool.evolver.watch]
        branch = "main"
        metrics_command = "python metrics.py"
        repeats = 2
        regression = 0.5
        rollback_threshold = 0.25
        max_targets = 1
        land = ["low", "medium"]

        [tool.evolver.watch.thresholds]
        latency_ms = { max = 20 }
    """,
}

# For the tests about what follows an evolution (a hold, a timeout) rather than about the
# measuring: one measurement a cycle, of the metrics command alone (a sandboxed pytest-benchmark
# run less per cycle).
ONE_MEASUREMENT = ("repeats = 2", "repeats = 1\nbenchmarks = false")


def configured(*changes: tuple[str, str]) -> str:
    """PROJECT's pyproject.toml with each ``(old, new)`` made; an ``old`` it lacks is an error,
    not a change silently left out."""
    text = PROJECT["pyproject.toml"]
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    return text


def watch(repo: Path, *args: str) -> list[dict]:
    done = evolver("watch", str(repo), "--json", *args, timeout=600)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@dataclass(frozen=True)
class Main:
    """The main branch as it was at one point of the story."""

    tip: str
    parent: str
    stairs: str  # its pkg/stairs.py
    subject: str  # its tip's commit message's first line

    @classmethod
    def of(cls, repo: Path) -> Main:
        return cls(
            tip=git(repo, "rev-parse", "main"),
            parent=git(repo, "rev-parse", "main^"),
            stairs=git(repo, "show", "main:pkg/stairs.py"),
            subject=git(repo, "log", "-1", "--format=%s", "main"),
        )


@dataclass(frozen=True)
class Story:
    """The module docstring's story, told once. What the story's test reads is captured as it
    happened, so a test that goes on with the repository afterwards changes none of it."""

    repo: Path
    injected: str  # the commit that made `ways` naive recursion
    cycles: list[dict[str, Any]]  # each cycle's JSON line, in order
    landed_main: Main  # after the cycle that landed
    reverted_main: Main  # after the cycles that reverted and evolved again
    checkout_before: dict[str, object]  # repo_state before the cycle that landed...
    checkout_after: dict[str, object]  # ...and after the last one
    history: dict[str, Any]  # `evolver history --json` at the end
    landed_candidate: dict[str, Any]  # `evolver show --json` of the candidate that landed


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    repo = init_repo(tmp_path_factory.mktemp("watch") / "repo", PROJECT)
    git(repo, "switch", "--quiet", "--detach")  # watch moves main: it must not be checked out
    [first] = watch(repo, "--once")

    # Someone makes `ways` "simpler": naive recursion.
    git(repo, "switch", "--quiet", "main")
    write_files(repo, {"pkg/stairs.py": SLOW})
    git(repo, "commit", "--quiet", "-am", "stairs: recursive ways() is easier to read")
    injected = git(repo, "rev-parse", "HEAD")
    git(repo, "switch", "--quiet", "--detach")
    checkout_before = repo_state(repo)

    [second] = watch(repo, "--once")
    landed_main = Main.of(repo)
    third, fourth = watch(repo, "--cycles", "2", "--interval", "0.1")
    reverted_main = Main.of(repo)
    checkout_after = repo_state(repo)

    done = evolver("history", "-C", str(repo), "--json")
    assert done.returncode == 0, done.stderr
    history = json.loads(done.stdout)
    land = next(e for e in history["events"] if e["kind"] == "land")
    shown = evolver("show", str(land["candidate_id"]), "-C", str(repo), "--json")
    return Story(
        repo=repo,
        injected=injected,
        cycles=[first, second, third, fourth],
        landed_main=landed_main,
        reverted_main=reverted_main,
        checkout_before=checkout_before,
        checkout_after=checkout_after,
        history=history,
        landed_candidate=json.loads(shown.stdout),
    )


@pytest.mark.pipeline
def test_watch_evolves_lands_and_reverts_a_change_that_made_things_worse(story: Story) -> None:
    first, second, third, fourth = story.cycles
    assert first["health"] == 100 and first["trigger"] is None and not first["landed"]
    assert first["metrics"]["latency_ms"] < 20
    assert any(name.startswith("benchmark:") for name in first["metrics"])

    injected = story.injected
    assert second["commit"] == injected
    assert "new commits" in second["trigger"] and "latency_ms" in second["trigger"]
    assert second["health"] < 100
    [landed] = second["landed"]
    assert landed["target"] == "pkg/stairs.py::ways"
    assert landed["summary"] == "memoize_recursive" and landed["risk"] == "medium"
    assert story.landed_main.tip == landed["commit"] == second["after"]
    assert story.landed_main.parent == injected
    assert "lru_cache" in story.landed_main.stairs

    assert third["commit"] == landed["commit"]
    assert third["metrics"]["latency_ms"] < 20  # faster, indeed
    [reverted] = third["reverted"]
    assert reverted["reverted_commit"] == landed["commit"]
    assert "peak_kb" in reverted["why"]
    assert story.reverted_main.parent == landed["commit"]
    assert story.reverted_main.subject.startswith("Revert")
    assert story.reverted_main.stairs == git(story.repo, "show", f"{injected}:pkg/stairs.py")
    assert third["trigger"] is None  # a cycle that reverts does not also evolve

    assert fourth["commit"] == third["after"]
    assert fourth["trigger"] and not fourth["landed"]  # slower again, so it evolved...
    assert any("reverted before" in note for note in fourth["notes"])  # ...but not that again

    # The user's checkout never moved; only the main branch did.
    after, before = story.checkout_after, story.checkout_before
    assert {k: v for k, v in after.items() if k != "refs"} == {
        k: v for k, v in before.items() if k != "refs"
    }

    kinds = [event["kind"] for event in story.history["events"]]
    assert kinds.count("watch") == 4 and kinds.count("land") == 1 and kinds.count("revert") == 1
    assert len(story.history["runs"]) == 2  # the two evolutions, each a run of its own
    shown = story.landed_candidate
    assert shown["decision"] == "committed" and "lru_cache" in shown["patch"]
    assert [e["kind"] for e in shown["events"]] == ["land", "revert"]


def test_watch_refuses_a_branch_that_is_checked_out(make_repo: MakeRepo) -> None:
    repo = make_repo(PROJECT)
    before = repo_state(repo)
    done = evolver("watch", str(repo), "--once")
    assert done.returncode == 2
    assert "branch 'main' is checked out in" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert repo_state(repo) == before


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("intervall = 60", "[tool.evolver.watch]: unknown key 'intervall'"),
        ("interval = -1", "[tool.evolver.watch] interval: input should be greater than 0"),
        (
            'land = ["risky"]',
            "[tool.evolver.watch] land: unknown risk level 'risky' (low, medium or high)",
        ),
        (
            "thresholds = { latency_ms = { maximum = 5 } }",
            "[tool.evolver.watch]: unknown key 'thresholds.latency_ms.maximum'",
        ),
    ],
)
def test_watch_config_errors_name_the_key(make_repo: MakeRepo, table: str, message: str) -> None:
    repo = make_repo({**PROJECT, "pyproject.toml": f"[tool.evolver.watch]\n{table}\n"})
    git(repo, "switch", "--quiet", "--detach")
    done = evolver("watch", str(repo), "--once")
    assert done.returncode == 2
    assert done.stderr.strip() == f"evolver: error: {message}"


@pytest.mark.pipeline
def test_rollback_by_hand_reverts_on_the_result_branch(story: Story) -> None:
    """The story's last evolution is an `evolver run` like any: it committed the change again
    on its own result branch (watch did not land it: it was reverted before). Rolled back by
    hand, it is reverted there."""
    repo = story.repo
    before = repo_state(repo)
    latest = max(story.history["runs"], key=lambda run: run["id"])
    branch = latest["branch"]
    listed = json.loads(evolver("history", str(latest["id"]), "-C", str(repo), "--json").stdout)
    [row] = [c for c in listed["candidates"] if c["decision"] == "committed"]
    assert git(repo, "rev-parse", branch) == row["commit"]  # the run's own commit, on its branch

    done = evolver("rollback", str(row["id"]), "-C", str(repo))
    assert done.returncode == 0, done.stderr
    assert git(repo, "rev-parse", f"{branch}^") == row["commit"]
    assert git(repo, "diff", "main", branch) == ""  # back to where it started
    again = evolver("rollback", str(row["id"]), "-C", str(repo))
    assert again.returncode == 2 and "already reverted" in again.stderr
    shown = json.loads(evolver("show", str(row["id"]), "-C", str(repo), "--json").stdout)
    assert [e["kind"] for e in shown["events"]] == ["revert"]
    after = repo_state(repo)
    assert {k: v for k, v in after.items() if k != "refs"} == {
        k: v for k, v in before.items() if k != "refs"
    }


@pytest.mark.pipeline
def test_an_evolution_that_overruns_its_timeout_is_stopped_and_leaves_no_trace(
    make_repo: MakeRepo,
) -> None:
    config = configured(
        ("max_targets = 1", "max_targets = 1\nevolution_timeout = 3"), ONE_MEASUREMENT
    )
    repo = make_repo({**PROJECT, "pyproject.toml": config, "pkg/stairs.py": SLOW})
    git(repo, "switch", "--quiet", "--detach")
    before = repo_state(repo)

    [cycle] = watch(repo, "--once")  # the latency threshold is breached from the start
    assert cycle["trigger"] and "latency_ms" in cycle["trigger"]
    assert cycle["notes"] == ["pkg/stairs.py::ways: evolution stopped after 3s"]
    assert not cycle["landed"] and cycle["after"] == cycle["commit"]

    assert repo_state(repo) == before  # no branch, no commit: the run was cut short cleanly
    runs = json.loads(evolver("history", "-C", str(repo), "--json").stdout)["runs"]
    # Stopped by SIGTERM, the run marked itself interrupted (unless it was stopped before it
    # could even start its record, on a very busy machine).
    assert len(runs) <= 1 and all(run["status"] == "interrupted" for run in runs)


@pytest.mark.pipeline
def test_a_change_the_risk_policy_does_not_allow_is_held_on_its_branch(
    make_repo: MakeRepo,
) -> None:
    config = configured(('land = ["low", "medium"]', 'land = ["low"]'), ONE_MEASUREMENT)
    repo = make_repo({**PROJECT, "pyproject.toml": config, "pkg/stairs.py": SLOW})
    git(repo, "switch", "--quiet", "--detach")
    main = git(repo, "rev-parse", "main")

    [cycle] = watch(repo, "--once")
    [held] = cycle["held"]
    assert held["summary"] == "memoize_recursive" and held["risk"] == "medium"
    assert not cycle["landed"] and git(repo, "rev-parse", "main") == main
    branch = held["source_branch"]
    assert branch.startswith("evolver/watch/") and "lru_cache" in git(
        repo, "show", f"{branch}:pkg/stairs.py"
    )
    events = json.loads(evolver("history", "-C", str(repo), "--json").stdout)["events"]
    [hold] = [e for e in events if e["kind"] == "hold"]
    assert hold["detail"]["why"] == "risk medium needs review" and hold["branch"] == branch
