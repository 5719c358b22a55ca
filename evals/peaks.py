"""Peak memory of a task's benchmark call on the original against other trees (sides), for the
tasks scored on memory, independently of the agent.

The agent's figures come from the calls it recorded; the eval measures what was committed on
the benchmark's ``bench_case()`` call alone, by Evolver's own fenced instrument
(``agent/verify/memory.py``): fresh sandboxed processes alternating with the original's, each
tracing the call's peak beyond its inputs with ``tracemalloc`` bound before the code under test
is imported, and the kernel's count of each process's peak as a cross-check. Every side a score
compares (the agent's result, the task's reference) is measured so against the original, in the
same run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping

from agent.domain import MemoryUse, TargetRef
from agent.project.runner import Project
from agent.verify.harness import HarnessError
from agent.verify.memory import MemoryMeasureError, compare_memory, untrustworthy
from evals.retime import ORIGINAL
from sandbox import Sandbox

TIMEOUT = 300.0  # each process's


class PeakError(Exception):
    pass


# Runs in the original's sandbox: the benchmark's call, and a small sample of it for the input
# generator to learn from, each as the pickled ``(args, kwargs)`` Evolver records (a bound
# method's instance first). Written to files in the sandbox (a benchmark's input can be larger
# than a command's output may be) and only ever read back as bytes: never unpickled outside a
# sandbox.
_BENCHMARK_CALLS = r"""
import importlib.util, pickle, sys
spec = importlib.util.spec_from_file_location("evolver_check_benchmark", sys.argv[1])
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
function, args = bench.bench_case()
owner = getattr(function, "__self__", None)
before = () if owner is None else (owner,)

def shrink(value):
    if isinstance(value, (list, str, bytes)):
        return value[:40]
    if isinstance(value, tuple):
        return tuple(shrink(v) for v in value)
    if isinstance(value, dict):
        return {k: shrink(v) for k, v in list(value.items())[:40]}
    return value

calls = [(before + tuple(args), {}), (before + tuple(shrink(a) for a in args), {})]
for number, call in enumerate(calls):
    with open(f"{sys.argv[2]}-{number}", "xb") as out:
        pickle.dump(call, out, protocol=pickle.HIGHEST_PROTOCOL)
"""


def benchmark_calls(
    project: Project, sandbox: Sandbox, benchmark: str, timeout: float = TIMEOUT
) -> list[bytes]:
    """The benchmark's call and its sample, pickled in ``sandbox`` (opaque bytes here);
    ``benchmark`` is the benchmark file relative to the sandbox's tree. Raises
    :class:`HarnessError` when they cannot be made."""
    stem = f"evolver-check-call-{uuid.uuid4().hex}"
    argv = [project.python, "-c", _BENCHMARK_CALLS, benchmark, stem]
    ran = sandbox.run(argv, timeout=timeout, env=project.env(sandbox))
    if not ran.ok:
        raise HarnessError(f"failed: {ran.last_line()[:200]}")
    blobs = []
    for number in range(2):
        try:  # a plain file of the sandbox's own, never a link out of it
            fd = os.open(sandbox.work / f"{stem}-{number}", os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            raise HarnessError("gave no readable calls") from None
        with open(fd, "rb") as blob:
            blobs.append(blob.read())
    return blobs


def peak_ratios(
    project: Project,
    sandboxes: Mapping[str, Sandbox],
    benchmark: str,
    target: TargetRef,
    timeout: float = TIMEOUT,
) -> dict[str, MemoryUse]:
    """The peak memory of the benchmark's call on each side but the original, against the
    original's (``MemoryUse.ratio``: original / side, 2.0 is half the memory), by side.

    ``sandboxes`` maps a side's name to its tree, ``ORIGINAL`` among them. Raises
    :class:`PeakError` when the call cannot be recorded or measured, or when a side's figures
    cannot be believed (its code reached for ``tracemalloc``, or peaked higher seen from
    outside)."""
    original = sandboxes[ORIGINAL]
    try:
        call = benchmark_calls(project, original, benchmark, timeout)[0]
    except HarnessError as error:
        raise PeakError(f"recording the benchmark's call {error}") from None
    figures = {}
    for name, sandbox in sandboxes.items():
        if name == ORIGINAL:
            continue
        try:
            comparison = compare_memory(project, original, sandbox, target, [call], timeout)
        except MemoryMeasureError as error:
            raise PeakError(f"measuring the memory of the {name}: {error}") from None
        problem = untrustworthy(comparison, 1)
        if problem is not None:
            raise PeakError(f"the memory of the {name}: {problem}")
        figures[name] = comparison.use
    return figures
