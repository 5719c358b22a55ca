"""Runs one function on recorded calls in a fresh process: ``python evolver_timer.py SPEC``.

``SPEC`` is a JSON file: ``module``, ``qualname``, ``calls`` (a calls file of pickled
``(args, kwargs)``, see ``evolver_blobs``), ``out`` (where to write the JSON answer) and ``mode``:

- ``observe``: call once per recorded call, each under a time limit (``limits``, seconds per
  call; with ``stop_on_timeout``, the first call past its limit ends the run), and describe
  what it did (see ``evolver_observe``).
- ``time``: time passes over all the calls. The clock is taken before the code under test is
  imported and kept in a local variable, so a candidate that patches ``time`` cannot change what is
  measured (the answer also says whether it tried). Each loop calls the function on its own copy of
  the arguments the call changes (a mutated input, ``self`` in a constructor), and the loops of a
  sample share one copy of those it leaves as they were: the original's calibrating process (no
  ``loops`` in the spec) finds which on its first pass and answers them (``changed``); the parent
  tells every later process, on both sides, the same (``fresh``, or ``share`` when no call changes
  anything). A fresh argument is unpickled again with references to the shared objects in place, so
  sharing between arguments is as recorded. Copies are made outside the timed region, and the loop
  count is bounded by what a loop holds (its copy and its results, measured with ``tracemalloc`` on
  a warm-up pass) against ``memory`` and by what its copies take to make (``most_loops`` in the
  answer): a cheap call on a large argument cannot fill the sandbox's memory. The collector is kept
  off the copies (``gc.freeze``) while a sample runs. Each timed region is bracketed by a mark
  (``[`` then ``]``) on stdout, which the parent timestamps as it reads them: the parent's clock
  decides, the figures this process reports are only cross-checked. Results that are not finished
  builtin values are forced (described) inside the region, so work a lazy result defers is timed.
  The module is reloaded before each sample, so results a candidate caches between calls do not
  carry over. The first pass and one loop of every sample, picked at random after it ran, are
  described too: a candidate that behaves one way when checked and another when timed is caught by
  comparing those with what ``observe`` saw. With ``sequences``, ``qualname`` is a class and the
  calls file holds recorded sequences: each is one call, construction included, on a new object
  (``evolver_sequence_runner``), with a copy of its steps for every loop.
- ``memory``: call once per recorded call, with ``tracemalloc`` tracing, and answer each call's
  peak and retained memory (see ``evolver_memory``).
"""

from __future__ import annotations

import gc
import io
import json
import math
import os
import pickle
import sys
import time
from typing import Any

from evolver_blobs import load_calls
from evolver_observe import (
    CallTimeout,
    Raised,
    call,
    call_with_limit,
    describe,
    digest,
    force,
    mutable_held,
    outcome,
    plain,
    preview,
    resolve,
)

Calls = list[tuple[tuple[Any, ...], dict[str, Any]]]
_CLOCKS = ("perf_counter", "perf_counter_ns", "time", "time_ns", "monotonic", "monotonic_ns")


def observe(spec: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    function = resolve(spec["module"], spec["qualname"])
    limits: list[float] = spec["limits"]
    observations: list[dict[str, Any] | None] = [None] * len(blobs)
    seconds: list[float | None] = [None] * len(blobs)
    inputs: list[Any] = [None] * len(blobs)
    shared: list[bool | None] = [None] * len(blobs)
    timed_out_at = None
    for number, (blob, limit) in enumerate(zip(blobs, limits, strict=True)):
        try:
            args, kwargs = pickle.loads(blob)
        except Exception:  # no outcome to compare: the parent leaves the call out, and says so
            continue
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
        shared[number] = _shared_on_repeat(function, blob, result, limit)
    return {
        "observations": observations,
        "digests": [None if o is None else digest(o) for o in observations],
        "seconds": seconds,
        "inputs": inputs,
        "timed_out_at": timed_out_at,
        "shared": shared,
    }


def _shared_on_repeat(function: Any, blob: bytes, first: Any, limit: float) -> bool | None:
    """Whether the same call again (on a fresh copy of its arguments) returns a mutable object
    the first result holds: a cache that hands out one list, which a caller changing it
    changes for every later caller. ``None`` where either call raised or ran past its limit."""
    if isinstance(first, Raised):
        return None
    try:
        args, kwargs = pickle.loads(blob)
        again = call_with_limit(limit, call, function, args, kwargs)
    except (Exception, CallTimeout):  # this repeat decides nothing then
        return None
    if isinstance(again, Raised):
        return None
    return not mutable_held(first).isdisjoint(mutable_held(again))


def _one_pass(function: Any, calls: Calls) -> list[Any]:
    return [call(function, args, kwargs) for args, kwargs in calls]


# What one process may hold for a sample's loops (their argument copies and results), and
# spend unpickling a sample's copies, unless the spec says otherwise.
LOOP_MEMORY = 512 * 1024 * 1024
COPY_SECONDS = 1.0
MAX_LOOPS = 1_000_000


class LoopCost:
    """What one loop of a sample costs besides the calls: the memory of its copy of the
    arguments and of the results it keeps until the sample ends, and the seconds the copy
    takes to unpickle. (Not a dataclass: ``dataclasses`` imports ``inspect``, ~4 ms of every
    timing process's start.)"""

    def __init__(self, copy_bytes: int, result_bytes: int, copy_seconds: float) -> None:
        self.copy_bytes, self.result_bytes, self.copy_seconds = (
            copy_bytes,
            result_bytes,
            copy_seconds,
        )

    def most_loops(self, spec: dict[str, Any], first: float, share: bool) -> int:
        """The most loops a sample may take: what fits the memory budget (however cheap the
        call, a copy of a large argument per loop must fit), and, unless the loops share one
        copy, what the copies cost to make, but never fewer than a sample a quarter of the
        planned time long needs."""
        held = self.result_bytes + (0 if share else self.copy_bytes)
        by_memory = int(spec.get("memory", LOOP_MEMORY)) // max(1, held)
        by_copies = MAX_LOOPS
        if not share and self.copy_seconds > 0:
            affordable = int(spec.get("copy_seconds", COPY_SECONDS) / self.copy_seconds)
            needed = math.ceil(spec["min_time"] / 4 / max(first, 1e-9))
            by_copies = max(affordable, needed)
        return max(1, min(MAX_LOOPS, by_memory, by_copies))


def loop_cost(function: Any, copy: Any, share: bool) -> LoopCost:
    """:class:`LoopCost`, measured on an untimed pass (one of the warm-up passes)."""
    import tracemalloc  # only the calibrating process needs it: ~2 ms of the others' start

    began = time.perf_counter()
    batch = copy()
    copy_seconds = time.perf_counter() - began
    tracemalloc.start()
    try:
        if not share:
            batch = copy()
        copy_bytes = tracemalloc.get_traced_memory()[0]
        results = _one_pass(function, batch)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del results, batch
    return LoopCost(max(1, copy_bytes), max(1, held - copy_bytes), copy_seconds)


Key = int | str  # an argument: its position, or its keyword


def argument_digests(call: tuple[tuple[Any, ...], dict[str, Any]]) -> dict[Key, str]:
    """Each argument's description, digested: which of them a call changes."""
    args, kwargs = call
    found: dict[Key, str] = {number: digest(describe(value)) for number, value in enumerate(args)}
    found.update((name, digest(describe(value))) for name, value in kwargs.items())
    return found


def copier(blob: bytes, fresh: list[Key] | None) -> Any:
    """What gives a loop its arguments for the call pickled in ``blob``: a new copy of every
    argument (``fresh`` is ``None``), one copy shared by every loop (``fresh`` is empty: the
    call leaves them as they were), or a new copy of the arguments in ``fresh`` only, holding
    the very objects of the shared ones wherever it reached them (``self`` is new on every
    call to a constructor; the large tree it is handed need not be)."""
    if fresh is None:
        return lambda: pickle.loads(blob)
    args, kwargs = pickle.loads(blob)
    if not fresh:
        return lambda: (args, kwargs)
    try:
        return _partial_copier(args, kwargs, fresh)
    except Exception:  # an argument that does not pickle again the same way: copy it all
        return lambda: pickle.loads(blob)


def _partial_copier(args: tuple[Any, ...], kwargs: dict[str, Any], fresh: list[Key]) -> Any:
    wanted = set(fresh)
    given: dict[Key, Any] = dict(enumerate(args))
    given.update(kwargs)
    if not wanted <= set(given):
        raise ValueError("the arguments are not those the spec names")
    # Every object pickling the shared arguments reaches (kept alive here, so that no id is
    # reused), then the fresh arguments pickled with references to those objects in place.
    shared: dict[int, Any] = {}

    class _Reached(pickle.Pickler):
        def persistent_id(self, obj: Any) -> None:
            shared[id(obj)] = obj

    class _Referring(pickle.Pickler):
        def persistent_id(self, obj: Any) -> int | None:
            return id(obj) if id(obj) in shared else None

    kept = [value for key, value in given.items() if key not in wanted]
    shared[id(kept)] = kept
    _Reached(io.BytesIO(), pickle.HIGHEST_PROTOCOL).dump(kept)
    order = [key for key in given if key in wanted]
    buffer = io.BytesIO()
    _Referring(buffer, pickle.HIGHEST_PROTOCOL).dump([given[key] for key in order])
    data = buffer.getvalue()

    def copy() -> tuple[tuple[Any, ...], dict[str, Any]]:
        unpickler = pickle.Unpickler(io.BytesIO(data))
        unpickler.persistent_load = shared.__getitem__  # type: ignore[method-assign]
        new = dict(zip(order, unpickler.load(), strict=True))
        return (
            tuple(new.get(number, value) for number, value in enumerate(args)),
            {name: new.get(name, value) for name, value in kwargs.items()},
        )

    return copy


def _timed(spec: dict[str, Any], reload: bool = False) -> Any:
    """What is timed: the function, or for ``sequences`` a runner of sequences on the class."""
    found = resolve(spec["module"], spec["qualname"], reload=reload)
    if spec.get("sequences"):
        from evolver_sequence_runner import Runner

        return Runner(found)
    return found


def measure(
    spec: dict[str, Any], blobs: list[bytes], clock: Any, pick: Any, mark: Any
) -> dict[str, Any]:
    """Time the calls; ``mark`` brackets every timed region on the channel the parent clocks.

    The figures returned here are this process's own view; the parent takes its figures from
    when the marks arrived and only cross-checks these.
    """
    sequences = bool(spec.get("sequences"))
    if sequences:
        from evolver_sequence_runner import sequence_calls

        blobs = sequence_calls(blobs)
    function = _timed(spec)
    checks: dict[int, set[str]] = {}

    def describer(forcing: bool = False) -> Any:  # a sequence's: its class's objects differ
        return function.describer(forcing) if sequences else None

    def fresh() -> Calls:
        return [pickle.loads(blob) for blob in blobs]

    def check(results: list[Any], calls: Calls) -> None:
        for index, (result, (args, kwargs)) in enumerate(zip(results, calls, strict=True)):
            observed = outcome(result, args, kwargs, describer())
            checks.setdefault(index, set()).add(digest(observed))

    # The first pass is also reported on its own: a candidate that caches results across
    # calls looks fast on repeats, never on the first call in a fresh process. Its results
    # are forced on the clock: work a lazy result would do when read is counted.
    # Only the calibrating process (the original's first: no ``loops`` in the spec) finds how
    # many loops fit and which arguments its calls change; the parent tells every later one.
    calibrating = spec.get("loops") is None
    calls = fresh()
    before = [argument_digests(call) for call in calls] if calibrating else []
    mark(b"[")
    start = clock()
    results = _one_pass(function, calls)
    for result in results:
        force(result, describer(True))
    first = max(clock() - start, 1)
    mark(b"]")
    check(results, calls)
    # Which arguments each loop gets a copy of: those the call changes. The calibrating
    # process (the original's: no candidate code) finds them on its first pass; the parent
    # tells every later process the same, so that both sides copy alike.
    after = [argument_digests(call) for call in calls] if calibrating else []
    changed = [
        [key for key in was if was[key] != now.get(key)]
        for was, now in zip(before, after, strict=True)
    ]
    fresh_keys: list[list[Key] | None] = [None] * len(blobs)  # unless told: copy them all
    if calibrating:
        fresh_keys = list(changed)
    elif spec.get("share"):
        fresh_keys = [[] for _ in blobs]
    elif spec.get("fresh") is not None and len(spec["fresh"]) == len(blobs):
        fresh_keys = spec["fresh"]
    if sequences:  # its steps change the object, and may change what they are given
        fresh_keys = [None] * len(blobs)
    copiers = [copier(blob, keys) for blob, keys in zip(blobs, fresh_keys, strict=True)]

    def loop_copy() -> Calls:
        return [make() for make in copiers]

    # Finished values need no forcing in the samples (a result that is not finished while
    # timed describes differently, which the digest of a random loop shows); others do.
    forced = not all(plain(result) for result in results)
    share = all(keys == [] for keys in fresh_keys)
    warmups = spec.get("warmups", 1)
    if calibrating:  # what a loop costs, measured on the first warm-up pass
        cost = loop_cost(function, loop_copy, share)
        most = cost.most_loops(spec, first / 1e9, share)
        loops = min(most, max(1, -(-int(spec["min_time"] * 1e9) // first)))
        warmups -= 1
    else:
        most = loops = spec["loops"]
    for _ in range(warmups):
        _one_pass(function, loop_copy())
    values = []
    for _ in range(spec["values"]):
        # A fresh module for every sample: caches a candidate keeps between calls start empty.
        function = _timed(spec, reload=True)
        # Arguments the original leaves as they were are unpickled once a sample and shared
        # by its loops (the parent says so): a large input costs its memory once, not once a
        # loop. A call that changes them anyway shows it in the random loop's digest.
        batches = [loop_copy()] * loops if share else [loop_copy() for _ in range(loops)]
        # The copies are old objects by now: the collector need not walk them while the code
        # is timed (work proportional to the loop count, on neither side's account).
        gc.freeze()
        mark(b"[")
        start = clock()
        kept = [_one_pass(function, batch) for batch in batches]
        if forced:
            for results in kept:
                for result in results:
                    force(result, describer(True))
        values.append((clock() - start) / 1e9 / loops)
        mark(b"]")
        gc.unfreeze()
        chosen = pick(loops)
        check(kept[chosen], batches[chosen])
        del kept, batches
    return {
        "loops": loops,
        "most_loops": most,
        "changed": changed if calibrating else None,
        "unchanged": before == after if calibrating else None,
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
    elif spec["mode"] == "memory":
        # Imported here, still before any code under test: it binds tracemalloc as it loads.
        from evolver_memory import measure_memory

        answer = measure_memory(spec, blobs)
    else:
        answer = measure(spec, blobs, clock, pick, mark)
        answer["clock_patched"] = [n for n in _CLOCKS if getattr(time, n) is not genuine[n]]
    with open(spec["out"], "w") as out:
        json.dump(answer, out, allow_nan=True)


if __name__ == "__main__":
    main(sys.argv[1])
