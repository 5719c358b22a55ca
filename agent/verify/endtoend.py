"""Judge a change end to end when its calls cannot be recorded one by one.

The hottest code of real libraries often takes arguments that cannot be pickled (generators,
parser state, compiled objects): no call can be replayed, so neither behaviour nor speed can
be judged per call. What can still be judged is what reaches the target as a whole: the
workload, or the tests that reach it, each run in a fresh process in the original's sandbox
and in the candidate's, alternately (A B, B A, …).

- **Behaviour**: what the workload shows the world must not change: its exit code and its
  output (stdout), compared exactly with the original's. The original runs at least twice
  first; when its own output differs between runs, the output judges nothing and is said to
  be not compared. A run of the tests is judged as the tests stage judges it: each test's
  outcome, from the trusted plugin's records, against the baseline's.
- **Speed**: the wall time of each process, clocked here around ``sandbox.run`` (never a
  figure the process reports), one value per process, with the statistics of per-call
  timing (:mod:`agent.verify.stats`): the bootstrap interval on the ratio of medians, looked
  at sequentially at the level the schedule's looks allow. A whole-workload speedup is the
  target's own diluted by the rest of the workload (Amdahl's law), so the bar is the whole
  speedup that ``--min-speedup`` on the target would give at its share of the profile, never
  below :data:`FLOOR`.

Every timed run is checked as well as timed: a candidate cannot behave one way while it is
checked and another while it is timed, and a run that fails, or shows something else, rejects
rather than counting as fast.

(Over 400 lines on purpose: the reach, the bar and the two measurements are one judgement,
made only where no call could be recorded.)
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from statistics import median

from agent.domain import Timing
from agent.profile.recording import Recording
from agent.project.runner import Project, TestRun
from agent.reports import format as fmt
from agent.verify.stats import Look, hopeless, look, look_confidence, look_schedule, reachable
from agent.verify.timing import TimingPlan
from sandbox import Result, Sandbox

# The lowest bar a whole-process comparison may use, whatever the share. The interval takes
# care of the random part of whole-process noise; the floor is for a systematic part the
# interval cannot see: two sandboxes, two directory trees, one file compiled from other bytes.
# Measured here (2 cores shared with other jobs, load 5-7, bubblewrap and cgroups), the same
# code in two sandboxes, alternating: single runs spread by 12% (sqlparse's 4 s workload,
# 11.6 s under that load) to 26-29% (a 0.65 s one); the ratio of medians was 1.014 over 12
# rounds and 1.010 over 30, with 99.5% intervals of 0.83-1.15 and 0.92-1.17: no systematic
# difference resolvable at that noise, and the point estimates within 1.5%. A bar of 1% above
# even keeps a neutral change from passing on a bias of that size.
FLOOR = 1.01
# A candidate may take this many times the original's slowest run (but at least the minimum)
# before its run is said to hang; the project's test timeout bounds both.
_HANG_FACTOR = 10.0
_LEAST_TIMEOUT = 30.0
# After two rounds, a candidate this much slower is not worth more processes.
_CLEARLY_SLOWER = 0.9
_SHOWN = 80  # characters of a differing output line in a reason


class Rejected(Exception):
    """The candidate fails a check while it runs end to end: ``stage`` and ``reason``."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


class EndToEndError(Exception):
    """The original could not be run end to end (it failed, or hung): nothing can be timed."""


@dataclass(frozen=True)
class Bar:
    """The whole-run speedup to prove, and where it comes from."""

    value: float
    min_speedup: float
    share: float | None  # of the target in what is timed; None: unknown

    def describe(self) -> str:
        """``bar 1.02× for a 31% share``: which bar was used, and why."""
        if self.share is None:
            return f"bar {fmt.times(self.value)}: the target's share of it is unknown, so all of it"
        amdahl = whole_speedup(self.min_speedup, self.share)
        if self.value > amdahl:
            return (
                f"bar {fmt.times(self.value)}, the floor for whole processes "
                f"({amdahl:.3f}× for a {self.share:.0%} share)"
            )
        return f"bar {self.value:.3g}× for a {self.share:.0%} share"


def whole_speedup(target_speedup: float, share: float) -> float:
    """Amdahl's law: the whole run's speedup when a ``share`` of it gets ``target_speedup``."""
    share = min(1.0, max(0.0, share))
    return 1 / (1 - share + share / target_speedup)


def whole_bar(min_speedup: float, share: float | None) -> Bar:
    """What the whole run must prove: ``min_speedup`` on a ``share`` of it, at least ``FLOOR``
    (the whole ``min_speedup`` when the share is unknown)."""
    if share is None:
        return Bar(max(min_speedup, FLOOR), min_speedup, None)
    return Bar(max(FLOOR, whole_speedup(min_speedup, share)), min_speedup, share)


@dataclass(frozen=True)
class Run:
    """One process as we saw it: our clock, its exit code, a digest of its output.

    ``output`` (stdout, capped by the sandbox) is kept only until the run is checked, and for
    the original's first run, against which the others are compared.
    """

    seconds: float
    returncode: int
    digest: str
    size: int  # bytes of output
    output: str = ""
    problem: str | None = None  # it timed out, hit a limit, or its tests did not pass

    @classmethod
    def of(cls, seconds: float, returncode: int, output: str, problem: str | None) -> Run:
        data = output.encode("utf-8", "surrogatepass")
        return cls(
            seconds, returncode, hashlib.sha256(data).hexdigest(), len(data), output, problem
        )


@dataclass(frozen=True)
class Reach:
    """What reaches the target, run whole: the workload command, or the tests that reach it.

    ``select`` is None for the workload, else the tests to run (empty: all of them);
    ``output_compared``: whether its output can judge (a pytest run prints its durations).
    """

    description: str  # "the workload", "the 3 tests that reach it"
    select: tuple[str, ...] | None
    deselect: tuple[str, ...] = ()
    output_compared: bool = True

    @property
    def is_tests(self) -> bool:
        return self.select is not None

    def run(self, project: Project, sandbox: Sandbox, timeout: float) -> Run:
        if self.select is None:
            return _workload_run(project.run_workload(sandbox, {}, timeout=timeout))
        tests = project.run_tests(
            sandbox, select=list(self.select) or None, deselect=self.deselect, timeout=timeout
        )
        return _tests_run(tests)


def _workload_run(result: Result) -> Run:
    problem = None
    if result.timed_out:
        problem = f"did not finish in {result.duration:.0f}s"
    elif result.limits_hit:
        problem = f"hit the sandbox's {' and '.join(result.limits_hit)} limit"
    return Run.of(result.duration, result.returncode, result.stdout, problem)


def _tests_run(run: TestRun) -> Run:
    judged = run.judgement
    problem = None if run.ok else judged.reason if judged else run.describe_failure()
    return Run.of(run.duration, run.returncode or 0, judged.reason if judged else "", problem)


def reach(project: Project, sandbox: Sandbox, recording: Recording) -> Reach:
    """What to run: the workload, unless it is the test suite; then the tests that reach the
    target (all of them when none is known), without the tests found flaky on HEAD."""
    argv, description = project.workload_argv(sandbox)
    if argv != project.tests_argv:
        # Benchmarks run under pytest, which prints how long they took: no output to compare.
        return Reach("the workload", None, output_compared=project.workload is not None)
    flaky = tuple(project.flaky_tests)
    tests = tuple(sorted(project.not_flaky(recording.tests)))
    if not tests:
        return Reach(description, (), flaky)
    count = (
        "the test that reaches it" if len(tests) == 1 else f"the {len(tests)} tests that reach it"
    )
    return Reach(count, tests, flaky)


@dataclass(frozen=True)
class Measured:
    """What the end-to-end comparison found: the timing, the look that decided, the bar."""

    timing: Timing
    look: Look
    bar: Bar
    processes: int  # per side
    undecided: bool  # still straddling the bar when the budget or the schedule ran out
    seconds: float  # wall time the comparison took, behaviour rounds included
    hopeless_at: int = 0  # as timing.Comparison's: stopped, this many a side within reach


@dataclass
class EndToEnd:
    """One candidate against the original, end to end: rounds of one process a side.

    ``behaviour`` runs the first rounds and checks what the candidate shows against the
    original (the original twice at least); ``measure`` goes on to the planned rounds and the
    sequential looks. Every run, timed or not, is checked the same way.
    """

    project: Project
    reach: Reach
    original: Sandbox
    candidate: Sandbox
    plan: TimingPlan
    min_speedup: float
    share: float | None  # the target's share of the profiled workload
    share_seconds: float | None = None  # its own seconds in the profile, for a test subset
    runs: tuple[list[Run], list[Run]] = field(default_factory=lambda: ([], []))
    # Seconds spent in its rounds: other stages run between the first rounds and the rest.
    spent: float = 0.0

    def behaviour(self) -> None:
        """Two rounds (A B, B A): the original twice, the candidate twice, compared.

        :class:`Rejected` when the candidate shows something else; :class:`EndToEndError`
        when the original cannot be run.
        """
        while len(self.runs[0]) < 2:
            self._round()

    def measure(self) -> Measured:
        """The planned rounds, then more while the interval straddles the bar (in pairs, within
        the plan's budget and schedule), every look at the level of the schedule's looks."""
        self.behaviour()
        bar = self.bar()
        schedule = look_schedule(self.plan.processes, self.plan.most_processes)
        confidence = look_confidence(len(schedule))
        # Only when it saves rounds: a candidate this slow after two will not become a winner.
        clearly_slower = self.plan.processes > 2 and self._clearly_slower(bar, confidence)
        while not clearly_slower and len(self.runs[0]) < self.plan.processes:
            self._round()
        seen = look(*self.seconds(), 1, bar.value, confidence)
        hopeless_at = 0
        if not clearly_slower:
            seen, hopeless_at = self._sequential(schedule, seen)
        original, candidate = self.seconds()
        timing = Timing(
            seen.speedup,
            seen.interval,
            len(original),
            # Every process runs it once, from a cold start: each value is a first run.
            median(original) / median(candidate),
            confidence,
            method="end to end",
        )
        return Measured(
            timing,
            seen,
            bar,
            len(original),
            undecided=not clearly_slower and seen.decision == "undecided",
            seconds=self.spent,
            hopeless_at=hopeless_at,
        )

    def bar(self) -> Bar:
        """The bar for the whole run. For a subset of the tests the profile's share (of the
        whole suite) understates the target's share in what is timed: its own profiled
        seconds over the subset's median time bound it from above, and the higher bar is
        the safer."""
        share = self.share
        if self.reach.is_tests and self.share_seconds and self.runs[0]:
            subset = median(run.seconds for run in self.runs[0])
            share = min(1.0, max(share or 0.0, self.share_seconds / subset))
        return whole_bar(self.min_speedup, share)

    def seconds(self) -> tuple[list[float], list[float]]:
        return [run.seconds for run in self.runs[0]], [run.seconds for run in self.runs[1]]

    def output_note(self) -> str:
        """What the comparison of outputs showed, for the evidence."""
        original = self.runs[0]
        runs = f"{len(self.runs[1])} runs a side"
        if self.reach.is_tests:
            return f"{self.reach.description}: each run's outcomes as the baseline's ({runs})"
        codes = {run.returncode for run in original}
        if not self.reach.output_compared:
            return (
                f"the workload is pytest, its output not compared; exit code {_one(codes)} ({runs})"
            )
        if len({run.digest for run in original}) > 1:
            return (
                "the workload's output varies from run to run: not compared; "
                f"exit code {_one(codes)} in every run ({runs})"
            )
        if not original[0].output:
            return (
                f"the workload prints nothing: only its exit code ({_one(codes)}) compared ({runs})"
            )
        return (
            f"the workload's output identical ({_size(original[0].size)}) and its exit code "
            f"({_one(codes)}) in every run ({runs})"
        )

    def output_compared(self) -> bool:
        """Whether the candidate's output was compared at all (not only its exit code)."""
        if self.reach.is_tests:
            return True
        original = self.runs[0]
        stable = len({run.digest for run in original}) == 1
        return self.reach.output_compared and stable and bool(original and original[0].output)

    # The rounds

    def _round(self) -> None:
        """One process a side, original first in even rounds (A B, B A, …); checked at once."""
        order = (0, 1) if len(self.runs[0]) % 2 == 0 else (1, 0)
        started = time.monotonic()
        for side in order:
            self._run(side)
        self.spent += time.monotonic() - started
        self._check()
        # Once the original has run twice every output is compared as it comes: only the
        # first original's is needed after that (to show where another one differs).
        if len(self.runs[0]) >= 2:
            for side, runs in enumerate(self.runs):
                start = 1 if side == 0 else 0
                runs[start:] = [replace(run, output="") for run in runs[start:]]

    def _run(self, side: int) -> None:
        project = self.project
        if side == 0:
            timeout = project.test_timeout
        else:  # a candidate that hangs is not worth the whole test timeout
            slowest = max(run.seconds for run in self.runs[0])
            timeout = min(project.test_timeout, max(_LEAST_TIMEOUT, _HANG_FACTOR * slowest))
        sandbox = self.original if side == 0 else self.candidate
        run = self.reach.run(project, sandbox, timeout)
        if side == 0 and run.problem is not None:
            raise EndToEndError(f"the original's run of {self.reach.description} {run.problem}")
        if side == 1 and run.problem is not None:
            stage = "tests" if self.reach.is_tests else "equivalence"
            raise Rejected(stage, f"{self.reach.description}, run end to end: {run.problem}")
        self.runs[side].append(run)

    def _check(self) -> None:
        """The candidate's runs against the original's: exit codes while the original's are
        the same every time, outputs while its outputs are."""
        original, candidate = self.runs
        if self.reach.is_tests:
            return  # each run was judged against the baseline as it came
        codes = {run.returncode for run in original}
        if len(codes) == 1:
            (code,) = codes
            for run in candidate:
                if run.returncode != code:
                    raise Rejected(
                        "equivalence",
                        f"the workload exits {_exit(run.returncode)} where the original exits "
                        f"{_exit(code)}",
                    )
        if not self.reach.output_compared or len(original) < 2:
            return
        if len({run.digest for run in original}) > 1:
            return  # the original's output varies: it judges nothing
        for run in candidate:
            if run.digest != original[0].digest:
                raise Rejected("equivalence", _output_difference(original[0], run))

    def _clearly_slower(self, bar: Bar, confidence: float) -> bool:
        """Slower by a clear margin, and so in every process: whole processes on a busy
        machine vary by tens of per cent, so the medians of two alone decide nothing (an
        identical change measured 0.66× on two rounds of a 4 s workload here)."""
        original, candidate = self.seconds()
        if median(original) / median(candidate) >= _CLEARLY_SLOWER:
            return False
        return look(original, candidate, 1, bar.value, confidence).decision == "not faster"

    def _sequential(self, schedule: list[int], seen: Look) -> tuple[Look, int]:
        """While undecided: rounds in pairs (A B, B A) up to the schedule's next look, only
        while, at the pace so far, a pair ends within the budget; a look then (early, when
        the budget ran out: it is still one of the schedule's looks). It stops when the
        processes within reach could not decide it (``stats.hopeless``), and says how many."""
        for processes in schedule[1:]:
            if seen.decision != "undecided":
                break
            rounds = len(self.runs[0])
            reach = reachable(rounds, self.spent, self.plan.budget, self.plan.most_processes)
            if hopeless(seen, reach):
                return seen, reach
            added = 0
            while rounds + added < processes:
                pace = self.spent / (rounds + added)
                if self.spent + 2 * pace > self.plan.budget:
                    break
                for _ in range(min(2, processes - rounds - added)):
                    self._round()
                    added += 1
            if not added:
                break
            seen = look(*self.seconds(), 1, seen.bar, seen.confidence)
            if rounds + added < processes:  # out of budget
                break
        return seen, 0


def _output_difference(original: Run, candidate: Run) -> str:
    """How the candidate's output differs: its size, and the first line that differs."""
    old, new = original.output.splitlines(), candidate.output.splitlines()
    for number, (was, now) in enumerate(zip(old, new), 1):  # noqa: B905 - lengths below
        if was != now:
            return (
                f"the workload's output differs from the original's on line {number}: "
                f"{_cut(now)!r} where the original prints {_cut(was)!r}"
            )
    if len(old) != len(new):
        return (
            f"the workload prints {len(new)} lines where the original prints {len(old)} "
            f"({_size(candidate.size)} against {_size(original.size)})"
        )
    return (
        f"the workload's output differs from the original's in its line endings or bytes "
        f"({_size(candidate.size)} against {_size(original.size)})"
    )


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def _exit(code: int) -> str:
    return f"on signal {-code}" if code < 0 else f"with {code}"


def _one(codes: set[int]) -> str:
    return str(next(iter(codes))) if len(codes) == 1 else "varying"
