"""`evals/retime.py`: the eval's one timer, run on real sandboxes of a tiny task."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.project.runner import Project
from evals.retime import RetimeError, Samples, retime_sides, round_order, speedup
from sandbox import Sandbox
from tests.conftest import write_files

SLOW = """
def sum_squares(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total
"""

FAST = """
def sum_squares(n: int) -> int:
    return (n - 1) * n * (2 * n - 1) // 6 if n > 0 else 0
"""

# As slow as the original on a first call; answers from a module-level cache after it.
CACHING = (
    SLOW.replace("def sum_squares", "def _sum_squares")
    + """
_ANSWERS: dict[int, int] = {}


def sum_squares(n: int) -> int:
    if n not in _ANSWERS:
        _ANSWERS[n] = _sum_squares(n)
    return _ANSWERS[n]
"""
)

# Makes its own clock read as though every call took no time at all.
CLOCK_PATCHING = (
    FAST
    + """
import time

time.perf_counter_ns = lambda: 0
"""
)

BENCHMARK = """
from pkg.squares import sum_squares


def bench_case():
    return sum_squares, (60_000,)
"""


MakeSides = Callable[..., dict[str, Sandbox]]


def tree(root: Path, module: str) -> Path:
    write_files(
        root,
        {"pkg/__init__.py": "", "pkg/squares.py": module, "benchmarks/test_bench.py": BENCHMARK},
    )
    return root


@pytest.fixture
def sides(tmp_path: Path) -> Iterator[MakeSides]:
    """Make sandboxes of the tiny task, one per named version of its module."""
    made: list[Sandbox] = []

    def make(**modules: str) -> dict[str, Sandbox]:
        found = {}
        for name, module in modules.items():
            sandbox = Sandbox.create(tmp_path / "sandboxes", tree(tmp_path / name, module))
            made.append(sandbox)
            found[name] = sandbox
        return found

    yield make
    for sandbox in made:
        sandbox.remove()


def test_the_sides_take_turns_in_a_rotating_order() -> None:
    sides = ["original", "result", "reference"]
    firsts = [round_order(sides, number)[0] for number in range(6)]
    assert firsts == sides * 2
    assert all(sorted(round_order(sides, n)) == sorted(sides) for n in range(6))


def test_calls_slowed_by_load_do_not_move_the_speedup() -> None:
    """Two sides of the same code, one of them caught by load on more of its calls (each such
    call half as long again): the same speed, where a ratio of medians says 1.5x."""
    calm = [1.0 + 0.001 * n for n in range(7)] + [1.5, 1.5, 1.5]
    loaded = [1.0 + 0.001 * n for n in range(3)] + [1.5] * 7
    samples = Samples({"original": loaded * 4, "result": calm * 4}, calls=10)
    ratio, (low, high) = speedup(samples, "result")
    assert abs(ratio - 1) < 0.01 and low <= 1 <= high
    assert samples.median("original") / samples.median("result") > 1.4
    faster = Samples({"original": calm * 4, "result": [v / 3 for v in loaded * 4]}, calls=10)
    ratio, (low, high) = speedup(faster, "result")
    assert abs(ratio - 3) < 0.05 and low <= ratio <= high


def test_three_sides_are_timed_in_the_same_run(sides: MakeSides) -> None:
    trees = sides(original=SLOW, result=FAST, reference=FAST)
    samples = retime_sides(Project(), trees, "benchmarks/test_bench.py", "pkg.squares", 2, 3)
    assert {name: len(values) for name, values in samples.seconds.items()} == dict.fromkeys(
        trees, 6
    )
    for side in ("result", "reference"):
        ratio, (low, high) = speedup(samples, side)
        assert low <= ratio <= high
        assert ratio > 5, (side, samples.seconds)
    # The same code on two sides: the same time, within what a busy machine allows.
    assert 0.5 < samples.median("result") / samples.median("reference") < 2


def test_a_result_that_caches_across_calls_is_timed_as_a_first_call(sides: MakeSides) -> None:
    trees = sides(original=SLOW, result=CACHING)
    samples = retime_sides(Project(), trees, "benchmarks/test_bench.py", "pkg.squares", 2, 4)
    ratio, _ = speedup(samples, "result")
    # Timed on a warm cache, all calls but the first would take next to nothing: a huge ratio.
    assert ratio < 2


def test_a_side_that_fails_stops_the_timing_at_once(sides: MakeSides) -> None:
    trees = sides(original=SLOW, result="raise ImportError('nope')\n")
    started = time.monotonic()
    with pytest.raises(RetimeError, match="result"):
        retime_sides(Project(), trees, "benchmarks/test_bench.py", "pkg.squares", 2, 3)
    assert time.monotonic() - started < 30  # the original's process was not left waiting


def test_a_side_that_replaces_the_clock_is_refused(sides: MakeSides) -> None:
    trees = sides(original=SLOW, result=CLOCK_PATCHING)
    with pytest.raises(RetimeError, match="clock"):
        retime_sides(Project(), trees, "benchmarks/test_bench.py", "pkg.squares", 1, 2)


def test_a_side_that_fails_at_once_leaves_no_process_waiting(sides: MakeSides) -> None:
    """The side that fails may do so before the others have even started (here its tree is
    copy is gone, so it cannot start at all): they must not wait for a turn that never comes."""
    trees = sides(broken=SLOW, original=SLOW, result=SLOW)
    shutil.rmtree(trees["broken"].work)
    started = time.monotonic()
    with pytest.raises(RetimeError, match="broken"):
        retime_sides(Project(), trees, "benchmarks/test_bench.py", "pkg.squares", 1, 3)
    assert time.monotonic() - started < 30
