"""Runs one function on recorded calls in a fresh process: ``python evolver_timer.py SPEC``.

``SPEC`` is a JSON file: ``module``, ``qualname``, ``calls`` (a calls file of pickled
``(args, kwargs)``, see ``evolver_blobs``), ``out`` (where to write the JSON answer) and ``mode``:

- ``observe``: call once per recorded call, each under a time limit (``limits``, seconds per
  call; with ``stop_on_timeout``, the first call past its limit ends the run), and describe
  what it did (see ``evolver_observe``).
- ``time``: time passes over all the calls. The clock is taken before the code under test is
  imported and kept in a local variable, so a candidate that patches ``time`` cannot change what
  is measured (the answer also says whether it tried). Each loop calls the function on freshly
  unpickled arguments (calls may mutate them) — unless the spec says ``share``: the parent does
  when the original's calibrating run reports its first pass left every call's arguments
  ``unchanged``, and then a sample's loops share one copy. Unpickling happens outside the timed
  region. Each timed region is bracketed by a mark (``[`` then ``]``) on stdout, which the
  parent timestamps as it reads them: the parent's clock decides, the figures this process
  reports are only cross-checked. Results that are not finished builtin values are forced
  (described) inside the region, so work a lazy result defers is timed. The module is reloaded
  before each sample, so results a candidate caches between calls do not carry over. The first
  pass and one loop of every sample, picked at random after it ran, are described too: a
  candidate that behaves one way when checked and another when timed is caught by comparing
  those with what ``observe`` saw.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import sys
import time
from typing import Any

from evolver_blobs import load_calls
from evolver_observe import (
    CallTimeout,
    call,
    call_with_limit,
    describe,
    digest,
    force,
    outcome,
    plain,
    preview,
)

Calls = list[tuple[tuple[Any, ...], dict[str, Any]]]
_CLOCKS = ("perf_counter", "perf_counter_ns", "time", "time_ns", "monotonic", "monotonic_ns")


def _resolve(module_name: str, qualname: str, reload: bool = False) -> Any:
    owner: Any = importlib.import_module(module_name)
    if reload:
        owner = importlib.reload(owner)
    for part in qualname.split("."):
        owner = getattr(owner, part)
    return owner


def observe(spec: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    function = _resolve(spec["module"], spec["qualname"])
    limits: list[float] = spec["limits"]
    observations: list[dict[str, Any] | None] = [None] * len(blobs)
    seconds: list[float | None] = [None] * len(blobs)
    inputs: list[Any] = [None] * len(blobs)
    timed_out_at = None
    for number, (blob, limit) in enumerate(zip(blobs, limits, strict=True)):
        args, kwargs = pickle.loads(blob)
        inputs[number] = preview(describe((args, kwargs)))  # only ever shown, in reasons
        start = time.perf_counter()
        try:
            result = call_with_limit(limit, call, function, args, kwargs)
        except CallTimeout:
            if spec.get("stop_on_timeout"):  # a candidate that hangs once has said enough
                timed_out_at = number
                break
            continue
        seconds[number] = time.perf_counter() - start
        observations[number] = outcome(result, args, kwargs)
    return {
        "observations": observations,
        "digests": [None if o is None else digest(o) for o in observations],
        "seconds": seconds,
        "inputs": inputs,
        "timed_out_at": timed_out_at,
    }


def _one_pass(function: Any, calls: Calls) -> list[Any]:
    return [call(function, args, kwargs) for args, kwargs in calls]


def measure(
    spec: dict[str, Any], blobs: list[bytes], clock: Any, pick: Any, mark: Any
) -> dict[str, Any]:
    """Time the calls; ``mark`` brackets every timed region on the channel the parent clocks.

    The figures returned here are this process's own view; the parent takes its figures from
    when the marks arrived and only cross-checks these.
    """
    module, qualname = spec["module"], spec["qualname"]
    function = _resolve(module, qualname)
    checks: dict[int, set[str]] = {}

    def fresh() -> Calls:
        return [pickle.loads(blob) for blob in blobs]

    def check(results: list[Any], calls: Calls) -> None:
        for index, (result, (args, kwargs)) in enumerate(zip(results, calls, strict=True)):
            checks.setdefault(index, set()).add(digest(outcome(result, args, kwargs)))

    # The first pass is also reported on its own: a candidate that caches results across
    # calls looks fast on repeats, never on the first call in a fresh process. Its results
    # are forced on the clock: work a lazy result would do when read is counted.
    calls = fresh()
    before = [digest(describe(call)) for call in calls]
    mark(b"[")
    start = clock()
    results = _one_pass(function, calls)
    for result in results:
        force(result)
    first = max(clock() - start, 1)
    mark(b"]")
    check(results, calls)
    unchanged = before == [digest(describe(call)) for call in calls]
    # Finished values need no forcing in the samples (a result that is not finished while
    # timed describes differently, which the digest of a random loop shows); others do.
    forced = not all(plain(result) for result in results)
    loops = spec.get("loops") or max(1, min(10_000, -(-int(spec["min_time"] * 1e9) // first)))
    for _ in range(spec.get("warmups", 1)):
        _one_pass(function, fresh())
    values = []
    for _ in range(spec["values"]):
        # A fresh module for every sample: caches a candidate keeps between calls start empty.
        function = _resolve(module, qualname, reload=True)
        # Arguments the original leaves as they were are unpickled once a sample and shared
        # by its loops (the parent says so): a large input costs its memory once, not once a
        # loop. A call that changes them anyway shows it in the random loop's digest.
        batches = [fresh()] * loops if spec.get("share") else [fresh() for _ in range(loops)]
        mark(b"[")
        start = clock()
        kept = [_one_pass(function, batch) for batch in batches]
        if forced:
            for results in kept:
                for result in results:
                    force(result)
        values.append((clock() - start) / 1e9 / loops)
        mark(b"]")
        chosen = pick(loops)
        check(kept[chosen], batches[chosen])
    return {
        "loops": loops,
        "unchanged": unchanged,
        "first": first / 1e9,
        "values": values,
        "checks": {str(index): sorted(seen) for index, seen in checks.items()},
    }


def main(spec_path: str) -> None:
    # Bound before any code under test runs, and held in locals it cannot reach.
    clock = time.perf_counter_ns
    genuine = {name: getattr(time, name) for name in _CLOCKS}
    urandom = os.urandom
    write = os.write
    # The timing channel is our stdout, kept on a private descriptor; what the code under
    # test prints goes to stderr instead, so only our marks reach the parent's clock.
    channel = os.dup(1)
    os.dup2(2, 1)

    def mark(label: bytes) -> None:
        write(channel, label)

    def pick(count: int) -> int:
        return int.from_bytes(urandom(8), "big") % count

    with open(spec_path) as text:
        spec = json.load(text)
    blobs = load_calls(spec["calls"])
    if spec["mode"] == "observe":
        answer = observe(spec, blobs)
    else:
        answer = measure(spec, blobs, clock, pick, mark)
        answer["clock_patched"] = [n for n in _CLOCKS if getattr(time, n) is not genuine[n]]
    with open(spec["out"], "w") as out:
        json.dump(answer, out, allow_nan=True)


if __name__ == "__main__":
    main(sys.argv[1])
