"""The ``memory`` mode of ``evolver_timer.py``: each recorded call once, under ``tracemalloc``.

``tracemalloc`` is bound before the code under test is imported, and the module is replaced for
that code by a fence that fails and notes any use (``touched`` in the answer): it cannot reset
or stop the peak it is judged by. Stdlib only: it runs inside the sandbox, next to that code.
"""

from __future__ import annotations

import gc
import pickle
import sys
import tracemalloc
import types
from typing import Any

from evolver_observe import call, digest, force, outcome, plain, resolve

# What measures memory, bound before any code under test is imported; the module it came
# from is then out of that code's reach (see ``_fence_tracemalloc``).
_TRACEMALLOC = ("start", "stop", "is_tracing", "get_traced_memory", "reset_peak", "clear_traces")


class _Fenced(types.ModuleType):
    """``tracemalloc`` (and ``_tracemalloc``) as the code under test sees them while its memory
    is measured: any use is noted, and fails."""

    def __init__(self, name: str, touched: list[str]) -> None:
        super().__init__(name)
        self._touched = touched

    def __getattr__(self, attribute: str) -> Any:
        self._touched.append(attribute)
        raise RuntimeError("tracemalloc belongs to Evolver while memory is measured")


def _fence(touched: list[str]) -> dict[str, Any]:
    """The genuine functions, and the modules replaced in ``sys.modules`` by fences."""
    genuine = {name: getattr(tracemalloc, name) for name in _TRACEMALLOC}
    for name in ("tracemalloc", "_tracemalloc"):
        sys.modules[name] = _Fenced(name, touched)
    return genuine


def measure_memory(spec: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    """Each call once, on its own copy of the arguments: the most memory it held at once beyond
    what it was given (``peaks``, bytes traced), what it left allocated when it returned
    (``retained``: caches, growth of its arguments), and the digest of its outcome, taken after
    the figures are read, so that describing it counts on neither side. A result that is not a
    finished value (a generator) is forced inside the measured region: memory it would take when
    read is counted. The collector runs before each call, so garbage left by earlier calls is
    nobody's."""
    touched: list[str] = []
    traced = _fence(touched)
    function = resolve(spec["module"], spec["qualname"])
    collect = gc.collect
    traced["start"](1)
    get, reset = traced["get_traced_memory"], traced["reset_peak"]
    peaks, retained, digests = [], [], []
    for blob in blobs:
        args, kwargs = pickle.loads(blob)
        collect()
        base = get()[0]
        reset()
        result = call(function, args, kwargs)
        if not plain(result):
            force(result)
        peaks.append(max(0, get()[1] - base))
        digests.append(digest(outcome(result, args, kwargs)))
        del result
        collect()
        retained.append(get()[0] - base)
        if not traced["is_tracing"]():
            break  # stopped under us: nothing after this is ours
    untraced = not traced["is_tracing"]()
    traced["stop"]()
    for name in ("tracemalloc", "_tracemalloc"):  # what was read, or set, on the fences
        fence = sys.modules.get(name)
        touched += [a for a in getattr(fence, "__dict__", {}) if not a.startswith("_")]
        if not isinstance(fence, _Fenced):
            touched.append(f"sys.modules[{name!r}]")
    return {
        "peaks": peaks,
        "retained": retained,
        "digests": digests,
        "untraced": untraced,
        "touched": sorted(set(touched))[:20],
    }
