"""Issue 16: memory as an objective, proven like speed.

One run with ``--objective memory`` on a project whose target builds a list only to iterate it,
with hand-made candidates: a leaner one is committed; one as lean but twice as slow, one that
reaches for ``tracemalloc`` to hide its peak, and one that allocates more are rejected with
their reasons. The fence around ``tracemalloc`` is also checked on its own, in a sandbox.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import pytest

from agent import loop
from agent._harness.evolver_blobs import write_calls
from agent.domain import Outcome
from agent.project.runner import HARNESS_DIR
from agent.verify.memory import judge_memory
from sandbox import Sandbox
from tests.conftest import (
    Offer,
    StaticProvider,
    evolver,
    git,
    init_repo,
    run_config,
    run_tests_on_branch,
)

pytestmark = pytest.mark.timeout(600)

SOURCE = """
import tracemalloc  # the project's own diagnostics use it


def memory_now():
    return tracemalloc.get_traced_memory()[0]


def total_squares(n):
    numbers = list(range(n))
    total = 0
    for i in numbers:
        total += i * i
    return total
"""

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/numbers.py": SOURCE,
    "workload.py": """
        from pkg.numbers import total_squares

        for n in (200_000, 150_000, 120_000, 3):
            total_squares(n)
    """,
    "tests/test_numbers.py": """
        from pkg.numbers import total_squares


        def test_total_squares():
            assert total_squares(0) == 0
            assert total_squares(4) == 14
            assert total_squares(1000) == 332833500
    """,
}


def body(new: str) -> str:
    """SOURCE with total_squares's body replaced."""
    head = SOURCE[: SOURCE.index("    numbers = list(range(n))")]
    return (head + new).lstrip()


CANDIDATES = {
    "lean": body(
        "    total = 0\n    for i in range(n):\n        total += i * i\n    return total\n"
    ),
    "lean-but-slow": body(
        "    total = 0\n    for i in range(n):\n        total += i * i\n"
        "    again = 0\n    for i in range(n):\n        again += i * i\n"
        "    return total if again == total else -1\n"
    ),
    "hides-its-peak": body(
        "    numbers = list(range(n))\n    total = 0\n    for i in numbers:\n"
        "        total += i * i\n    tracemalloc.reset_peak()\n    return total\n"
    ),
    "greedy": body(
        "    numbers = list(range(n))\n    squares = [i * i for i in numbers]\n"
        "    return sum(squares)\n"
    ),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, loop.RunReport]:
    repo = init_repo(tmp_path_factory.mktemp("memory") / "repo", PROJECT)
    config = run_config(
        repo,
        objective="memory",
        targets=("pkg/numbers.py::total_squares",),
        candidates=len(CANDIDATES),
        rounds=1,
        workload="python workload.py",
        branch="evolver/memory",
        confirm=False,
        timing_budget=60,  # a busy machine must not make "no slower" undecidable here
    )
    provider = StaticProvider(
        [Offer(name, {"pkg/numbers.py": text}) for name, text in CANDIDATES.items()]
    )
    return repo, loop.run(config, provider, loop.Silent())


def outcome(report: loop.RunReport, name: str) -> Outcome:
    [found] = [o for o in report.outcomes if o.candidate.summary == name]
    return found


@pytest.mark.pipeline
def test_the_memory_profile_ranks_the_target_by_its_peak(run: tuple[Path, loop.RunReport]) -> None:
    _, report = run
    [target] = report.targets
    assert target.profile is not None and target.profile.memory is not None
    # 200_000 ints in a list: their pointers alone are 1.6 MB, and the ints ~5.6 MB more
    assert target.profile.memory.peak > 5_000_000, target.profile.memory
    assert target.profile.memory.calls >= 4


@pytest.mark.pipeline
def test_a_leaner_candidate_is_committed_with_its_figures(
    run: tuple[Path, loop.RunReport], tmp_path: Path
) -> None:
    repo, report = run
    lean = outcome(report, "lean")
    verdict = lean.verdict
    assert verdict.accepted and lean.committed, verdict.reason
    memory = verdict.memory
    assert memory is not None and memory.ci[0] >= 2, memory  # far past the 10% asked
    assert memory.candidate < memory.original / 100
    assert memory.rss[0] and memory.rss[1], "the kernel's count cross-checked it"
    assert verdict.timing is not None and verdict.timing.ci[0] >= 1 / 1.05
    assert "peak memory" in verdict.evidence["memory"]
    assert run_tests_on_branch(repo, "evolver/memory", tmp_path / "clone").returncode == 0


@pytest.mark.pipeline
def test_a_leaner_but_slower_candidate_is_rejected_for_its_time(
    run: tuple[Path, loop.RunReport],
) -> None:
    verdict = outcome(run[1], "lean-but-slow").verdict
    assert not verdict.accepted and verdict.stage == "speed", verdict.reason
    assert "at most 1.05× slower" in verdict.reason
    assert verdict.memory is not None and verdict.memory.ci[0] >= 2  # it was leaner


@pytest.mark.pipeline
def test_a_candidate_reaching_for_tracemalloc_is_rejected(run: tuple[Path, loop.RunReport]) -> None:
    verdict = outcome(run[1], "hides-its-peak").verdict
    assert not verdict.accepted, verdict.reason
    assert "tracemalloc" in verdict.reason and verdict.stage in ("capability", "memory")


@pytest.mark.pipeline
def test_a_candidate_that_allocates_more_is_rejected(run: tuple[Path, loop.RunReport]) -> None:
    verdict = outcome(run[1], "greedy").verdict
    assert not verdict.accepted and verdict.stage == "memory", verdict.reason
    assert verdict.reason.startswith("uses more memory: peak"), verdict.reason


def test_the_fence_keeps_tracemalloc_from_the_code_it_measures(tmp_path: Path) -> None:
    """The harness alone: a function that resets the peak it is judged by fails in the attempt,
    and its peak is measured all the same."""
    work = tmp_path / "work"
    (work / "pkg").mkdir(parents=True)
    (work / "pkg" / "__init__.py").write_text("")
    (work / "pkg" / "m.py").write_text(
        "import tracemalloc\n\n\ndef honest(n):\n    return sum([i * i for i in range(n)])\n\n\n"
        "def cheat(n):\n    total = sum([i * i for i in range(n)])\n"
        "    try:\n        tracemalloc.reset_peak()\n    except Exception:\n        pass\n"
        "    return total\n"
    )
    box = Sandbox.create(tmp_path / "boxes", work)
    write_calls(str(box.tmp / "calls"), [pickle.dumps(((100_000,), {}))])
    answers = {}
    for name in ("honest", "cheat"):
        spec = {"mode": "memory", "module": "pkg.m", "qualname": name,
                "calls": str(box.tmp / "calls"), "out": str(box.tmp / f"{name}.json")}  # fmt: skip
        (box.tmp / f"{name}.spec").write_text(json.dumps(spec))
        env = {"PYTHONPATH": f"{HARNESS_DIR}:{box.work}", "PATH": "/usr/bin:/bin"}
        done = box.run([sys.executable, str(HARNESS_DIR / "evolver_timer.py"),
                        str(box.tmp / f"{name}.spec")], timeout=60, env=env)  # fmt: skip
        assert done.ok, done.stderr
        answers[name] = json.loads((box.tmp / f"{name}.json").read_text())
    assert answers["honest"]["touched"] == []
    assert answers["cheat"]["touched"] == ["reset_peak"]
    # 100_000 squares in a list: ~3.5 MB; resetting would have shown next to nothing
    assert min(answers["honest"]["peaks"][0], answers["cheat"]["peaks"][0]) > 3_000_000


def test_under_both_a_change_must_not_be_worse_on_the_other_side() -> None:
    """The Pareto rule's memory half, on figures: leaner lets a change be a little slower;
    not leaner but within tolerance asks it to be faster; larger rejects."""
    from agent.domain import MemoryUse
    from agent.verify.memory import MemoryComparison

    def judged(low: float, high: float, objective: str = "both") -> tuple[bool, float]:
        use = MemoryUse(1000, 500, (low + high) / 2, (low, high), 5, (0, 0), (0, 0))
        result = judge_memory(MemoryComparison(use, ({}, {}), (frozenset(), frozenset())),
                              objective, 1.05, 0.10, 1.05)  # fmt: skip
        return result.rejection is None, result.time_bar

    assert judged(1.5, 1.6) == (True, pytest.approx(1 / 1.05))  # leaner: may be 5% slower
    assert judged(0.97, 1.02) == (True, 1.05)  # as lean: must be faster by the bar
    assert judged(0.80, 0.85)[0] is False  # larger beyond tolerance
    assert judged(0.97, 1.02, "memory")[0] is False  # memory asks for a 10% saving


WATCHED = {
    **PROJECT,
    # The service's own view of itself: the memory one request takes.
    "metrics.py": """
        import json
        import tracemalloc

        from pkg.numbers import total_squares

        tracemalloc.start()
        assert total_squares(200_000) == 2666646666700000
        print(json.dumps({"peak_kb": tracemalloc.get_traced_memory()[1] / 1024}))
    """,
    "pyproject.toml": """
        [tool.evolver]
        candidates = 2
        rounds = 1
        workload = "python workload.py"
        timing_budget = 60

        [tool.evolver.watch]
        branch = "main"
        metrics_command = "python metrics.py"
        benchmarks = false
        repeats = 1
        max_targets = 1
        land = ["low", "medium"]
        memory_metrics = ["peak_kb"]

        [tool.evolver.watch.thresholds]
        peak_kb = { max = 1000 }
    """,
}


@pytest.mark.pipeline
def test_watch_evolves_for_memory_when_a_memory_threshold_is_breached(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo", WATCHED)
    git(repo, "switch", "--quiet", "--detach")  # watch moves main: it must not be checked out
    done = evolver("watch", str(repo), "--json", "--once", timeout=600)
    assert done.returncode == 0, done.stderr
    [cycle] = [json.loads(line) for line in done.stdout.splitlines()]
    assert cycle["objective"] == "memory", cycle
    assert cycle["breaches"] and cycle["landed"], cycle
    landed = git(repo, "show", "main:pkg/numbers.py")
    assert "range(n)" in landed and "list(range(n))" not in landed


def test_the_kernels_count_must_not_contradict_the_traced_figures() -> None:
    """What a process that ran the candidate says it traced is believed only as far as the
    kernel's count of the processes' peaks (read by Evolver) agrees, either way."""
    from agent.domain import MemoryUse
    from agent.verify.memory import MemoryComparison, untrustworthy

    mib = 1024 * 1024

    def problem(traced: tuple[int, int], rss: tuple[int, int], calls: int = 1) -> str | None:
        ratio = traced[0] / traced[1]
        use = MemoryUse(*traced, ratio, (ratio, ratio), 5, (0, 0), rss)
        return untrustworthy(MemoryComparison(use, ({}, {}), (frozenset(), frozenset())), calls)

    assert problem((100 * mib, mib), (140 * mib, 45 * mib)) is None  # seen from outside too
    assert "about as high" in str(problem((100 * mib, mib), (140 * mib, 139 * mib)))
    assert "peaked higher" in str(problem((100 * mib, mib), (40 * mib, 60 * mib)))
    # spread over 25 calls the saving per call is below what the kernel's figure resolves
    assert problem((100 * mib, mib), (40 * mib, 40 * mib), calls=25) is None
    assert problem((2 * mib, mib), (40 * mib, 41 * mib)) is None  # small: within the slack
