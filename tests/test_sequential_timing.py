"""``timing.compare`` with a bar to clear: real sandboxes, real timing processes.

The statistics of the sequential rule are tested on synthetic samples in test_stats.py; here,
that compare takes more processes only when undecided, stays within its budget, and says so.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from agent.domain import TargetRef
from agent.project.runner import Project
from agent.verify.answers import TimeAnswer
from agent.verify.stats import decide, look_confidence, look_schedule
from agent.verify.timing import Comparison, TimingError, TimingPlan, _believed, compare
from sandbox import Limits, Sandbox
from tests.conftest import write_files

WORK = """
def work(n):
    total = 0
    for i in range(n{scale}):
        total += i * i % 7
    return total
"""
TARGET = TargetRef("pkg/work.py", "work")
CALLS = [pickle.dumps(((20_000,), {}))]
# Small processes, so that a test takes seconds: the rule, not the precision, is under test.
PLAN = TimingPlan(processes=2, values=2, min_time=0.03, most_processes=6, budget=60.0)


def tree(root: Path, scale: str) -> Path:
    write_files(root, {"pkg/__init__.py": "", "pkg/work.py": WORK.format(scale=scale)})
    return root


def timed(tmp_path: Path, scale: str, plan: TimingPlan, bar: float | None) -> Comparison:
    original, candidate = tree(tmp_path / "original", ""), tree(tmp_path / "candidate", scale)
    with (
        Sandbox.create(tmp_path / "boxes", original) as before,
        Sandbox.create(tmp_path / "boxes", candidate) as after,
    ):
        return compare(Project(), before, after, TARGET, CALLS, plan, min_speedup=bar)


def test_a_clear_speedup_is_decided_on_the_planned_processes(tmp_path: Path) -> None:
    compared = timed(tmp_path, " // 4", PLAN, bar=1.05)
    assert compared.processes == PLAN.processes and not compared.undecided
    assert compared.timing.ci[0] >= 1.05
    assert compared.timing.confidence == look_confidence(len(look_schedule(2, 6)))
    assert compared.timing.samples == PLAN.processes * PLAN.values


def test_identical_code_against_a_bar_of_one_is_timed_on_while_undecided(
    tmp_path: Path,
) -> None:
    """A/A at a bar of 1.0 straddles it by nature: more processes, to the last look (or until
    the processes within reach could not show the bar cleared, ``stats.hopeless``), then
    "too noisy" rather than a verdict. Noise may still decide it (slower, or, at most 1% of
    the time, faster): then at a look of the schedule, and the interval says so."""
    compared = timed(tmp_path, "", PLAN, bar=1.0)
    low, high = compared.timing.ci
    assert compared.timing.samples == compared.processes * PLAN.values
    if compared.undecided:
        assert compared.processes == PLAN.most_processes or (
            compared.processes < compared.hopeless_at <= PLAN.most_processes
        ), compared
        assert low < 1.0 <= high
    else:
        assert compared.processes in look_schedule(PLAN.processes, PLAN.most_processes)
        assert decide((low, high), 1.0) != "undecided"


def test_the_budget_stops_the_extra_processes(tmp_path: Path) -> None:
    """With no budget left after the planned rounds, no more processes: the look comes early
    and says undecided."""
    compared = timed(tmp_path, "", TimingPlan(**{**PLAN.__dict__, "budget": 0.0}), bar=1.0)
    assert compared.processes == PLAN.processes
    assert compared.undecided == (decide(compared.timing.ci, 1.0) == "undecided")


def test_without_a_bar_the_plan_is_fixed_at_95_percent(tmp_path: Path) -> None:
    compared = timed(tmp_path, "", PLAN, bar=None)
    assert compared.processes == PLAN.processes and compared.timing.confidence == 0.95
    assert not compared.undecided


SUM = """
def total(values):
    return sum(values)
"""
SUM_THAT_EMPTIES = """
def total(values):
    result = sum(values)
    values.clear()  # the next loop, sharing the list, has nothing left to add up
    return result
"""


def test_loops_share_arguments_the_original_leaves_alone_and_a_change_to_them_shows(
    tmp_path: Path,
) -> None:
    """A large input is unpickled once a sample when the original leaves it as it was; a
    candidate that changes it then gains speed on later loops, and the digests say so."""
    target, calls = TargetRef("pkg/sums.py", "total"), [pickle.dumps(((list(range(3000)),), {}))]
    sides = []
    for name, code in (("original", SUM), ("candidate", SUM_THAT_EMPTIES)):
        write_files(tmp_path / name, {"pkg/__init__.py": "", "pkg/sums.py": code})
        sides.append(tmp_path / name)
    with (
        Sandbox.create(tmp_path / "boxes", sides[0]) as before,
        Sandbox.create(tmp_path / "boxes", sides[1]) as after,
    ):
        compared = compare(Project(), before, after, target, calls, PLAN, min_speedup=1.05)
    original, candidate = compared.seen
    assert len(original[0]) == 1  # the original does the same on every loop it is checked on
    assert candidate[0] - original[0], "the emptied list did not show in the candidate's digests"
    # shared: a loop after the first found the list emptied (another result than loop one's)
    assert len(candidate[0]) >= 2, candidate[0]


# Cheap calls on a large argument (sqlparse's ``imt`` and ``Token.__init__`` are handed its
# whole token-type tree): a copy of the argument per loop, ten thousand loops a sample, does
# not fit in a sandbox's memory. Unpickled, this list takes about 4 MB.
LARGE = list(range(100_000))
CHEAP = """
def size(table):
    return len(table)


class Entry:
    def __init__(self, table, key):
        {neutral}self.key = key
        self.first = table[0]


def push(items):
    items.append(sum(items))
    return len(items)
"""
SMALL_MEMORY = Limits(memory_mb=768)


def neutral_pair(tmp_path: Path, target: TargetRef, calls: list[bytes]) -> Comparison:
    """The original against the same code plus a ``pass``, in sandboxes of little memory."""
    sides = []
    for name, neutral in (("original", ""), ("candidate", "pass\n        ")):
        write_files(
            tmp_path / name, {"pkg/__init__.py": "", "pkg/cheap.py": CHEAP.format(neutral=neutral)}
        )
        sides.append(tmp_path / name)
    with (
        Sandbox.create(tmp_path / "boxes", sides[0], limits=SMALL_MEMORY) as before,
        Sandbox.create(tmp_path / "boxes", sides[1], limits=SMALL_MEMORY) as after,
    ):
        return compare(Project(), before, after, target, calls, PLAN)


def test_a_cheap_call_on_a_large_argument_is_timed_within_memory(tmp_path: Path) -> None:
    """Left as it was, the argument is shared by the loops from the calibrating process on."""
    calls = [pickle.dumps(((LARGE,), {}))]
    compared = neutral_pair(tmp_path, TargetRef("pkg/cheap.py", "size"), calls)
    assert compared.timing.samples == PLAN.processes * PLAN.values
    assert len(compared.seen[0][0]) == len(compared.seen[1][0]) == 1


def test_a_constructor_copies_only_the_self_it_builds(tmp_path: Path) -> None:
    """``self`` changes, so every loop gets a new one; the large table it is handed does not,
    so the loops share it: memory and copying stay small."""
    made = subprocess.run(
        [sys.executable, "-c", RECORD_ENTRY],
        cwd=tree_with_cheap(tmp_path / "record"),
        capture_output=True,
        check=True,
    )
    compared = neutral_pair(tmp_path, TargetRef("pkg/cheap.py", "Entry.__init__"), [made.stdout])
    assert compared.timing.samples == PLAN.processes * PLAN.values
    assert len(compared.seen[0][0]) == len(compared.seen[1][0]) == 1


RECORD_ENTRY = """
import pickle, sys
from pkg.cheap import Entry
sys.stdout.buffer.write(pickle.dumps(((object.__new__(Entry), list(range(100_000)), 7), {})))
"""


def tree_with_cheap(root: Path) -> Path:
    write_files(root, {"pkg/__init__.py": "", "pkg/cheap.py": CHEAP.format(neutral="")})
    return root


def test_a_call_that_changes_its_argument_gets_a_fresh_copy_every_loop(tmp_path: Path) -> None:
    """Sharing is for what the call leaves alone: every loop of ``push`` sees the list as it
    was recorded, so every loop gives the same outcome."""
    calls = [pickle.dumps(((list(range(1000)),), {}))]
    compared = neutral_pair(tmp_path, TargetRef("pkg/cheap.py", "push"), calls)
    assert len(compared.seen[0][0]) == len(compared.seen[1][0]) == 1


def answer(values: list[float], first: float = 0.001) -> TimeAnswer:
    return TimeAnswer(loops=10, first=first, values=values, checks={}, clock_patched=[])


def test_our_clock_decides_and_a_process_claiming_more_work_than_we_saw_is_refused() -> None:
    """Per loop its samples say 10 ms (0.1 s a sample of 10 loops) where we clocked 0.1 s:
    believed. Claiming twice what we saw (its marks came early, or its clock lies) is refused;
    claiming less (it was traced or preempted between its clock and its mark) leaves our
    figure, the more pessimistic one, and its own first pass is then not taken."""
    clocked = [0.002, 0.1, 0.1]
    first, values = _believed(answer([0.01, 0.01]), clocked, 10, 0.005)
    assert values == [0.01, 0.01] and first == 0.001  # its own first pass, ours being 2 ms
    with pytest.raises(TimingError, match="its clock is not to be believed"):
        _believed(answer([0.02, 0.02]), clocked, 10, 0.005)
    first, values = _believed(answer([0.005, 0.005], first=1e-6), clocked, 10, 0.005)
    assert values == [0.01, 0.01] and first == 0.002  # ours, not its 1 µs
