"""Time a task's benchmark call on the original and on a result, independently of the agent.

The agent's own figures come from its timing harness on recorded calls; the eval re-times
what was committed with other code: the benchmark's ``bench_case()`` call, in fresh sandboxed
processes, original and result alternating. Each timed call gets a freshly reloaded target
module, so a result that caches answers across calls (``lru_cache``) is timed as a first
call, the way a program that calls it once sees it, not as a cache hit.
"""

from __future__ import annotations

import json

from agent.project import Project
from agent.verify.stats import speedup_interval
from sandbox import Sandbox

# Runs in the copy: seconds of one call each, every call on a fresh module and fresh inputs.
_TIMER = r"""
import importlib, importlib.util, json, sys, time
bench_file, module_name, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
target = importlib.import_module(module_name)
seconds = []
for _ in range(calls):
    importlib.reload(target)
    spec = importlib.util.spec_from_file_location("evolver_eval_benchmark", bench_file)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)  # after the reload: it binds the fresh function
    function, args = bench.bench_case()
    start = time.perf_counter()
    function(*args)
    seconds.append(time.perf_counter() - start)
print(json.dumps(seconds))
"""


class RetimeError(Exception):
    pass


def retime(
    project: Project,
    original: Sandbox,
    result: Sandbox,
    benchmark: str,
    module: str,
    rounds: int = 4,
    calls: int = 7,
    timeout: float = 300.0,
) -> tuple[float, tuple[float, float]]:
    """The speedup of ``result`` over ``original`` (a ratio of medians) and its 95% interval."""
    sides: tuple[list[float], list[float]] = ([], [])
    for number in range(rounds):
        order = (0, 1) if number % 2 == 0 else (1, 0)
        for side in order:
            sandbox = (original, result)[side]
            argv = [project.python, "-c", _TIMER, benchmark, module, str(calls)]
            ran = sandbox.run(argv, timeout=timeout, env=project.env(sandbox))
            if not ran.ok:
                tail = (ran.stderr.strip().splitlines() or [f"exit {ran.returncode}"])[-1]
                raise RetimeError(f"timing the benchmark failed: {tail[:200]}")
            sides[side].extend(json.loads(ran.stdout.strip().splitlines()[-1]))
    return speedup_interval(*sides, per_process=calls)
