"""Time a task's benchmark call on several trees (sides), independently of the agent.

The agent's own figures come from its timing harness on recorded calls; the eval re-times
what was committed with other code: the benchmark's ``bench_case()`` call, in fresh sandboxed
processes. Every side a score compares (the original, the agent's result, the task's
reference) is timed in the same run by this one method, interleaved call by call: each round
starts one fresh process per side, and they take turns, one timed call at a time in an order
that rotates from call to call, while the others wait. Load on a shared machine comes and goes
(another process's working set, a neighbour on the host) and slows a call by half again for a
second or so; interleaved this finely, a spell of it falls on every side alike, and a ratio of
two sides compares like with like.

Each timed call gets a freshly reloaded target module and a fresh copy of the benchmark's
inputs, so a result that caches answers across calls (``lru_cache``, a module-level dict, an
attribute of the instance) is timed as a first call, the way a program that calls it once sees
it, not as a cache hit. What counts is each call's time less the time other processes held the
CPU it waited for, and of a side's calls the fastest (see :data:`QUANTILE`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import select
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from agent.project.runner import Project
from sandbox import Result, Sandbox

ORIGINAL = "original"
# Enough calls that two trees holding the same code time within a few per cent of each other
# on a loaded machine (see ``evals/tasks/README.md``), and few enough that a task's timing
# stays within seconds.
ROUNDS = 5
CALLS = 10
# What stands for a side's time: the lower decile of its calls. On a shared machine a call is
# slowed by what runs beside it (the other core's working set evicting this one's from the
# shared cache makes a call take half as long again, in spells of a few calls), never sped up:
# the slowed calls are noise about the load, not about the code, and the median of a mixture
# of the two falls in one mode or the other by chance. With the same code on two sides, over
# the corpus under load, the ratio of medians was off by 10% (standard deviation), of lower
# deciles by 1.5%.
QUANTILE = 0.1

# Runs in the copy: seconds of one call each, every call on a fresh module and fresh inputs,
# each when the parent says so (a byte on the "go" FIFO) and answered on the "done" FIFO.
# What counts is the call's wall time less the time its thread sat ready to run while other
# processes had the CPU (the run-queue delay the kernel keeps in /proc/thread-self/schedstat):
# time the call spends blocked (on I/O, on workers it waits for) still counts, so parallel code
# gains only what it gains in wall time. Where the kernel keeps no such figure, wall time alone.
# The clocks, the schedstat file and the channel the answer goes out on are taken before any
# code under test runs (its prints go to stderr), and whether it replaced the clock is told, so
# that a result cannot simply rewrite its own figures. It still runs in this process: the
# figures are a re-measurement for scoring, not a verdict (the agent's cascade decides, with
# its own clock outside the process).
_TIMER = r"""
import gc, importlib, importlib.util, json, os, pickle, sys, time
clock, pread, read, write = time.perf_counter_ns, os.pread, os.read, os.write
try:
    schedstat = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
    int(pread(schedstat, 200, 0).split()[1])
except (OSError, ValueError, IndexError):
    schedstat = None

def waited():
    return 0 if schedstat is None else int(pread(schedstat, 200, 0).split()[1])

bench_file, module_name, calls, go_path, done_path = sys.argv[1:6]
# Opened without waiting for the other end: if the parent has already given up (another side
# failed), "go" is at end of file and this process ends, rather than wait for a writer.
go, done = os.open(go_path, os.O_RDONLY | os.O_NONBLOCK), os.open(done_path, os.O_RDWR)
os.set_blocking(go, True)
channel = os.dup(1)
os.dup2(2, 1)
target = importlib.import_module(module_name)

def benchmark():
    importlib.reload(target)
    spec = importlib.util.spec_from_file_location("evolver_eval_benchmark", bench_file)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)  # after the reload: it binds the fresh function
    return bench

def first_case():
    # The benchmark's inputs, pickled before their first use: later calls get a fresh copy
    # in a fraction of the time making them again can take, and the function (or the copied
    # instance's method) from the reloaded module. Inputs that do not pickle are made again.
    bench = benchmark()
    function, args = bench.bench_case()
    owner, name = getattr(function, "__self__", None), getattr(function, "__name__", "")
    template = None
    if owner is not None or getattr(bench, name, None) is function:
        try:
            template = pickle.dumps((owner, tuple(args)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            template = None
    return function, args, name, template

def next_case(name, template):
    bench = benchmark()
    if template is None:
        return bench.bench_case()
    owner, args = pickle.loads(template)
    return (getattr(bench, name) if owner is None else getattr(owner, name)), args

seconds, template = [], None
for number in range(int(calls)):
    if read(go, 1) != b"g":
        sys.exit(3)
    if number == 0:
        function, args, name, template = first_case()
    else:
        function, args = next_case(name, template)
    gc.collect()  # each call starts from the same clean heap, whatever the last one left
    # Clock first, then the delay so far; at the end the other way round: a switch between
    # the two readings is counted in the call's time, never taken off it.
    start = clock()
    queued = waited()
    function(*args)
    delay = waited() - queued
    wall = clock() - start
    seconds.append(max(wall - delay, 0) / 1e9)
    write(done, b"d")
answer = {
    "seconds": seconds,
    "clock_patched": time.perf_counter_ns is not clock,
    "run_queue": schedstat is not None,
}
write(channel, json.dumps(answer).encode())
"""


class RetimeError(Exception):
    pass


@dataclass(frozen=True)
class Samples:
    """Seconds of single benchmark calls per side, all taken in the same interleaved rounds.

    ``calls`` values came from each process, in order (the bootstrap resamples processes,
    then the values within them).
    """

    seconds: dict[str, list[float]]
    calls: int

    def median(self, side: str) -> float:
        return median(self.seconds[side])


def round_order(sides: Sequence[str], number: int) -> list[str]:
    """The order of the sides at turn ``number``: rotated by one each turn."""
    shift = number % len(sides) if sides else 0
    return [*sides[shift:], *sides[:shift]]


def retime_sides(
    project: Project,
    sandboxes: Mapping[str, Sandbox],
    benchmark: str,
    module: str,
    rounds: int = ROUNDS,
    calls: int = CALLS,
    timeout: float = 300.0,
) -> Samples:
    """``calls`` timed calls of the benchmark per side and round, interleaved.

    ``sandboxes`` maps a side's name (``"original"``, ``"result"``, ``"reference"``...) to its
    tree; ``benchmark`` is the benchmark file relative to the trees, ``module`` the target's
    module. ``timeout`` bounds each call's wait and each round's processes. Raises
    :class:`RetimeError` when a side's timing process fails.
    """
    if rounds < 1 or calls < 1 or not sandboxes:
        raise ValueError("need a side, at least one round and one call")
    names = list(sandboxes)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    clocks: set[bool] = set()
    for number in range(rounds):
        figures = _one_round(project, sandboxes, benchmark, module, calls, number, timeout)
        for name, (values, run_queue) in figures.items():
            seconds[name] += values
            clocks.add(run_queue)
    if len(clocks) > 1:  # one process less its run-queue delay, another not: not comparable
        raise RetimeError("the timing processes did not all read the run-queue delay")
    return Samples(seconds, calls)


def speedup(
    samples: Samples, side: str, baseline: str = ORIGINAL, confidence: float = 0.95
) -> tuple[float, tuple[float, float]]:
    """How much faster ``side`` is than ``baseline``: the ratio of their times (the lower
    decile of their calls, :data:`QUANTILE`), baseline over side, and its interval.

    The interval is the two-stage bootstrap of ``agent.verify.stats.speedup_interval``
    (resample processes, then the calls within each), on this statistic: calls of one process
    share its memory layout and hash seed, and are not independent evidence.
    """
    base, mine = samples.seconds[baseline], samples.seconds[side]
    groups = (_chunks(base, samples.calls), _chunks(mine, samples.calls))
    rng = random.Random(0)  # seeded: the same samples give the same interval
    ratios = sorted(
        _low(_resampled(rng, groups[0])) / _low(_resampled(rng, groups[1]))
        for _ in range(_RESAMPLES)
    )
    tail = (1 - confidence) / 2
    interval = ratios[int(tail * (_RESAMPLES - 1))], ratios[int((1 - tail) * (_RESAMPLES - 1))]
    return _low(base) / _low(mine), interval


_RESAMPLES = 2000
_SHORTEST = 1e-9  # a call too short for the clock still took some time


def _low(values: list[float]) -> float:
    """The :data:`QUANTILE` of ``values``, interpolated."""
    ordered = sorted(values)
    place = QUANTILE * (len(ordered) - 1)
    below = int(place)
    above = min(below + 1, len(ordered) - 1)
    value = ordered[below] + (ordered[above] - ordered[below]) * (place - below)
    return max(value, _SHORTEST)


def _chunks(values: list[float], size: int) -> list[list[float]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def _resampled(rng: random.Random, groups: list[list[float]]) -> list[float]:
    """One two-stage resample: processes with replacement, then calls within each."""
    pooled: list[float] = []
    for group in rng.choices(groups, k=len(groups)):
        pooled += rng.choices(group, k=len(group))
    return pooled


@dataclass
class _Turns:
    """The parent's ends of one timing process's two FIFOs."""

    go: int
    done: int


def _one_round(
    project: Project,
    sandboxes: Mapping[str, Sandbox],
    benchmark: str,
    module: str,
    calls: int,
    number: int,
    timeout: float,
) -> dict[str, tuple[list[float], bool]]:
    """One fresh process per side, taking turns call by call; their figures by side."""
    names = list(sandboxes)
    with _fifos(sandboxes) as (paths, turns), ThreadPoolExecutor(len(names)) as pool:
        running: dict[str, Future[Result]] = {}
        try:
            for name, sandbox in sandboxes.items():
                go, done = paths[name]
                argv = [project.python, "-c", _TIMER, benchmark, module, str(calls), go, done]
                env = project.env(sandbox)
                running[name] = pool.submit(sandbox.run, argv, timeout=timeout, env=env)
            for call in range(calls):
                for name in round_order(names, number * calls + call):
                    _take_turn(name, turns[name], running[name], timeout)
        finally:
            for ends in turns.values():  # a process still waiting for its turn reads the end
                os.close(ends.go)
                ends.go = -1
        return {name: _figures(running[name].result(), name, calls) for name in names}


@contextlib.contextmanager
def _fifos(
    sandboxes: Mapping[str, Sandbox],
) -> Iterator[tuple[dict[str, tuple[str, str]], dict[str, _Turns]]]:
    """A "go" and a "done" FIFO in each sandbox's ``tmp/`` (handed to the sandbox's user when
    its command starts), opened at our end; removed at the end."""
    stem = f"evolver-turn-{uuid.uuid4().hex}"
    paths = {name: (str(s.tmp / f"{stem}.go"), str(s.tmp / f"{stem}.done")) for name, s in
             sandboxes.items()}  # fmt: skip
    turns: dict[str, _Turns] = {}
    try:
        for name, (go, done) in paths.items():
            os.mkfifo(go, 0o600)
            os.mkfifo(done, 0o600)
            # Read and write: opening never waits for the other end, and a FIFO we hold open
            # for writing is never at end of file for the process.
            turns[name] = _Turns(os.open(go, os.O_RDWR), os.open(done, os.O_RDWR))
        yield paths, turns
    finally:
        for ends in turns.values():
            for fd in (ends.go, ends.done):
                if fd >= 0:
                    os.close(fd)
        for pair in paths.values():
            for path in pair:
                with contextlib.suppress(OSError):
                    Path(path).unlink()


def _take_turn(name: str, turns: _Turns, running: Future[Result], timeout: float) -> None:
    """Let the process time one call, and wait until it has."""
    os.write(turns.go, b"g")
    deadline = time.monotonic() + timeout
    while True:
        ready, _, _ = select.select([turns.done], [], [], 0.05)
        if ready and os.read(turns.done, 1):
            return
        if running.done():  # it ended (or failed) before it answered
            raise RetimeError(f"timing the benchmark on the {name} failed: {_why(running)}")
        if time.monotonic() > deadline:
            raise RetimeError(f"timing the benchmark on the {name}: a call took over {timeout}s")


def _why(running: Future[Result]) -> str:
    error = running.exception()
    if error is not None:
        return str(error)[:200]
    ran = running.result()
    return ran.last_line()[:200] or f"exit {ran.returncode}"


def _figures(ran: Result, side: str, calls: int) -> tuple[list[float], bool]:
    """One process's figures, checked, and whether they are less the run-queue delay: it ran
    the code being timed, so its answer is data to validate, not to trust."""
    if not ran.ok:
        tail = (ran.stderr.strip().splitlines() or [f"exit {ran.returncode}"])[-1]
        raise RetimeError(f"timing the benchmark on the {side} failed: {tail[:200]}")
    try:
        answer = json.loads(ran.stdout)
    except ValueError:
        raise RetimeError(f"timing the {side} gave no readable answer") from None
    if not isinstance(answer, dict) or answer.get("clock_patched") is not False:
        raise RetimeError(f"timing the {side}: the code replaced the clock, or answered oddly")
    seconds = answer.get("seconds")
    if not isinstance(seconds, list) or len(seconds) != calls:
        raise RetimeError(f"timing the {side} gave {calls} calls' figures in the wrong shape")
    if not all(isinstance(s, float) and math.isfinite(s) and s >= 0 for s in seconds):
        raise RetimeError(f"timing the {side} gave figures that are not times")
    run_queue = answer.get("run_queue")
    if not isinstance(run_queue, bool):
        raise RetimeError(f"timing the {side} did not say which clock it read")
    return seconds, run_queue
