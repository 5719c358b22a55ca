"""Times one function on recorded calls, in a fresh process: ``python evolver_timer.py SPEC``.

The clock is bound before the code under test is imported, so a candidate that patches
``time`` cannot change what is measured. Each loop calls the function on freshly unpickled
arguments (calls may mutate them); unpickling happens outside the timed region. The module
is reloaded before each sample, so results a candidate caches between calls do not carry over.
Prints ``{"loops": n, "first": seconds, "values": [seconds per loop, ...]}`` as JSON.
"""

from __future__ import annotations

import importlib
import json
import pickle
import sys
from time import perf_counter_ns as _clock  # bound before any candidate code runs
from typing import Any


def _resolve(module_name: str, qualname: str, reload: bool = False) -> Any:
    owner: Any = importlib.import_module(module_name)
    if reload:
        owner = importlib.reload(owner)
    for part in qualname.split("."):
        owner = getattr(owner, part)
    return owner


def _one_pass(function: Any, calls: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> None:
    for args, kwargs in calls:
        try:  # noqa: SIM105 - recorded calls may raise; suppress() would cost more here
            function(*args, **kwargs)
        except Exception:
            pass


def main(spec_path: str) -> None:
    with open(spec_path) as text:
        spec = json.load(text)
    with open(spec["calls"], "rb") as binary:
        blobs: list[bytes] = pickle.load(binary)
    function = _resolve(spec["module"], spec["qualname"])

    def fresh() -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [pickle.loads(blob) for blob in blobs]

    # The first pass is also reported on its own: a candidate that caches results across
    # calls looks fast on repeats, never on the first call in a fresh process.
    args = fresh()
    start = _clock()
    _one_pass(function, args)
    first = max(_clock() - start, 1)
    loops = spec.get("loops") or max(1, min(10_000, -(-int(spec["min_time"] * 1e9) // first)))
    for _ in range(spec.get("warmups", 1)):
        _one_pass(function, fresh())
    values = []
    for _ in range(spec["values"]):
        # A fresh module for every sample: caches a candidate keeps between calls start empty.
        function = _resolve(spec["module"], spec["qualname"], reload=True)
        batches = [fresh() for _ in range(loops)]
        start = _clock()
        for batch in batches:
            _one_pass(function, batch)
        values.append((_clock() - start) / 1e9 / loops)
    json.dump({"loops": loops, "first": first / 1e9, "values": values}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
