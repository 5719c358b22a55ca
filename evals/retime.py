"""Time a task's benchmark call on the original and on a result, independently of the agent.

The agent's own figures come from its timing harness on recorded calls; the eval re-times
what was committed with different code: the benchmark's ``bench_case()`` call, with
``timeit``, in fresh sandboxed processes, original and result alternating.
"""

from __future__ import annotations

import json

from agent.project import Project
from agent.verify.stats import speedup_interval
from sandbox import Sandbox

# Runs in the copy: the benchmark's call timed with timeit; seconds per call, one per repeat.
_TIMER = r"""
import importlib.util, json, sys, timeit
bench_file, repeats = sys.argv[1], int(sys.argv[2])
spec = importlib.util.spec_from_file_location("evolver_eval_benchmark", bench_file)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
function, args = bench.bench_case()
timer = timeit.Timer(lambda: function(*args))
number, _ = timer.autorange()
number = max(1, number // 4)  # about 0.05 s per repeat
print(json.dumps([t / number for t in timer.repeat(repeat=repeats, number=number)]))
"""


class RetimeError(Exception):
    pass


def retime(
    project: Project,
    original: Sandbox,
    result: Sandbox,
    benchmark: str,
    rounds: int = 4,
    repeats: int = 5,
    timeout: float = 300.0,
) -> tuple[float, tuple[float, float]]:
    """The speedup of ``result`` over ``original`` (a ratio of medians) and its 95% interval."""
    sides: tuple[list[float], list[float]] = ([], [])
    for number in range(rounds):
        order = (0, 1) if number % 2 == 0 else (1, 0)
        for side in order:
            sandbox = (original, result)[side]
            argv = [project.python, "-c", _TIMER, benchmark, str(repeats)]
            ran = sandbox.run(argv, timeout=timeout, env=project.env(sandbox))
            if not ran.ok:
                tail = (ran.stderr.strip().splitlines() or [f"exit {ran.returncode}"])[-1]
                raise RetimeError(f"timing the benchmark failed: {tail[:200]}")
            sides[side].extend(json.loads(ran.stdout.strip().splitlines()[-1]))
    return speedup_interval(*sides, per_process=repeats)
