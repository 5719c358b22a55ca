"""Loaded by every Python process Evolver starts in a sandbox (the folder is on PYTHONPATH).

It does nothing unless asked through the environment:
- ``EVOLVER_PROFILE_DIR``: profile the whole process with cProfile; at exit, write
  ``<dir>/<pid>.json``: ``{"functions": [[file, line, name, cc, nc, tt, ct, callers], ...]}``
  where ``callers`` is ``[[file, line, name, nc, cc, tt, ct], ...]`` (pstats' figures).
- ``EVOLVER_MEMORY_DIR``: trace the process's memory (see :func:`_start_memory`); at exit,
  write ``<dir>/<pid>.json``: ``{"functions": [[file, line, name, calls, peak, allocated], ...],
  "alive": [[file, line, bytes still allocated there at exit], ...]}``.
- ``EVOLVER_RECORD``: a JSON file naming target functions; record a sample of the arguments
  of their outermost calls (distinct, spread over the whole run, pickled before the call since
  calls may mutate them) and the pytest tests that reached them; at exit, write
  ``<out>/<pid>.json``: ``{"targets": {"module:qualname": {"calls": [base64 of each pickle],
  "tests": [node ids], "seen": calls seen, "skipped": calls not picklable, "largest": the
  largest size among the arguments of the calls sampled}}}`` (``largest`` only when one had a
  size: see :func:`_largest_size`). When a target is a method, also the sequences of calls
  made on a sample of its class's objects (``evolver_sequence_recorder``): ``"sequences"``
  (base64 of each sequence's pickle), ``"sequences_truncated"`` (per sequence, whether calls
  were left out) and ``"objects"`` (objects constructed).

Both dumps are JSON, never pickles or marshal data: Evolver reads them in its own process, and
the code that ran here could have rewritten them; to Evolver the pickled calls are opaque bytes
that only ever go back into a sandbox. Stdlib only, and it must never break the program it
rides in: every failure is swallowed.
"""

from __future__ import annotations

# Only built-in modules here: every Python process of a sandbox loads this file, and most ask
# for none of it (json, pickle and importlib.abc cost a timing process ~12 ms of its start).
import atexit
import itertools
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _write_json(out_dir: str, data: Any) -> None:
    """``<out_dir>/<pid>.json``, whole or not at all (written aside, then renamed)."""
    path = os.path.join(out_dir, f"{os.getpid()}.json")
    partial = f"{path}.part"
    import json

    with open(partial, "w") as handle:
        json.dump(data, handle)
    os.replace(partial, path)


def _start_profile(out_dir: str) -> None:
    import cProfile

    profiler = cProfile.Profile()

    def dump() -> None:
        profiler.create_stats()  # stops the profiler
        stats: dict[Any, Any] = profiler.stats
        rows = [
            [*key, cc, nc, tt, ct, [[*caller, *figures] for caller, figures in callers.items()]]
            for key, (cc, nc, tt, ct, callers) in stats.items()
        ]
        _write_json(out_dir, {"functions": rows})

    atexit.register(dump)
    profiler.enable()


def _start_memory(out_dir: str) -> None:
    """Trace allocations (``tracemalloc``) and, per function of the project (under the working
    directory, not an installed package), keep its calls, the most memory one call held at once
    beyond what was held when it began, and those peaks summed over its calls. A call's peak counts
    its callees', so the peak since each call began is tracked on a stack: ``reset_peak`` at
    every call and return of the project's code, the enclosing call's peak so far kept here."""
    import tracemalloc

    root = os.getcwd() + os.sep
    ours: dict[Any, bool] = {}
    figures: dict[Any, list[int]] = {}  # code -> [calls, peak, peaks summed]
    stack: list[list[Any]] = []  # [code, memory when it began, peak so far]
    traced, reset = tracemalloc.get_traced_memory, tracemalloc.reset_peak

    def mine(code: Any) -> bool:
        found = ours.get(code)
        if found is None:
            name = code.co_filename
            found = ours[code] = name.startswith(root) and "-packages" not in name
        return found

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            if not mine(frame.f_code):
                return
            current, peak = traced()
            if stack and peak > stack[-1][2]:
                stack[-1][2] = peak
            reset()
            stack.append([frame.f_code, current, current])
        elif event == "return" and stack and stack[-1][0] is frame.f_code:
            code, began, top = stack.pop()
            peak = max(traced()[1], top)
            entry = figures.setdefault(code, [0, 0, 0])
            entry[0] += 1
            entry[1] = max(entry[1], peak - began)
            entry[2] += peak - began
            if stack and peak > stack[-1][2]:
                stack[-1][2] = peak
            reset()

    def dump() -> None:
        sys.setprofile(None)
        alive: dict[tuple[str, int], int] = {}
        for trace in tracemalloc.take_snapshot().traces:
            for frame in reversed(trace.traceback):  # the innermost of the project's frames
                if frame.filename.startswith(root) and "-packages" not in frame.filename:
                    key = (frame.filename, frame.lineno)
                    alive[key] = alive.get(key, 0) + trace.size
                    break
        tracemalloc.stop()
        rows = [
            [code.co_filename, code.co_firstlineno, code.co_name, *entry]
            for code, entry in figures.items()
        ]
        _write_json(out_dir, {"functions": rows, "alive": [[*k, v] for k, v in alive.items()]})

    atexit.register(dump)
    tracemalloc.start(8)  # frames: enough to find the project's code under a library call
    sys.setprofile(hook)


_SIZED = (list, tuple, dict, set, frozenset, str, bytes, bytearray)
_TEXT = (str, bytes, bytearray)
_PEEK = 32  # elements (or attributes) of one container looked into
_MAX_SIZE = 2**31  # a count larger than any loop runs: the dump keeps ints small


def _largest_size(values: Any, depth: int = 1) -> int:
    """The largest size among ``values``: the length of a built-in container or string, or a
    non-negative int among the arguments themselves (a count, as in ``range(n)``); looking
    ``depth`` levels into containers and objects' attributes (rows of a table, ``self.items``).
    -1 when nothing has a size. Exact built-in types only, so no code of the program runs
    (but an object's ``__dict__`` descriptor, which :func:`_attributes` guards)."""
    largest = -1
    for value in values:
        kind = type(value)
        if kind in _SIZED:
            largest = max(largest, min(len(value), _MAX_SIZE))
            if depth and kind not in _TEXT:
                inner = value.values() if kind is dict else value
                largest = max(largest, _largest_size(itertools.islice(inner, _PEEK), depth - 1))
        elif kind is int and depth and value >= 0:
            largest = max(largest, min(value, _MAX_SIZE))
        elif depth:
            attributes = _attributes(value)
            if attributes is not None:
                inner = itertools.islice(attributes.values(), _PEEK)
                largest = max(largest, _largest_size(inner, depth - 1))
    return largest


def _attributes(value: Any) -> dict[str, Any] | None:
    """An object's own attributes, without its class's ``__getattribute__`` or ``__getattr__``."""
    try:
        attributes = object.__getattribute__(value, "__dict__")
    except Exception:  # no __dict__ (slots, builtins), or a descriptor that fails
        return None
    return attributes if type(attributes) is dict else None


def _call_size(args: Any, kwargs: Any) -> int:
    """:func:`_largest_size` of a call's arguments, -1 when it cannot tell."""
    try:
        return _largest_size([*args, *kwargs.values()])
    except Exception:  # a container that changed while we looked
        return -1


class _Recorder:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.out_dir: str = spec["out_dir"]
        self.max_calls: int = spec.get("max_calls", 16)
        self.max_bytes: int = spec.get("max_bytes", 64 * 1024 * 1024)
        # All kept calls together, so the dump stays under what Evolver reads.
        self.max_total: int = spec.get("max_total_bytes", 128 * 1024 * 1024)
        self.total = 0
        self.targets: dict[str, list[str]] = {}
        for key in spec["targets"]:
            module, _, qualname = key.partition(":")
            self.targets.setdefault(module, []).append(qualname)
        self.data: dict[str, dict[str, Any]] = {}
        self.spec = spec
        # Sequences of calls on objects, per class owning a method target (its "module:Class"),
        # and which class each such target's entry takes its sequences from.
        self.classes: dict[str, Any] = {}
        self.sequenced: dict[str, str] = {}
        atexit.register(self.dump)

    def wrap_module(self, module: Any) -> None:
        for qualname in self.targets.get(module.__name__, []):
            *owner_path, name = qualname.split(".")
            owner = module
            try:
                for part in owner_path:
                    owner = getattr(owner, part)
                original = owner.__dict__[name]
            except (AttributeError, KeyError):
                continue
            if callable(original) and not isinstance(original, (staticmethod, classmethod)):
                setattr(owner, name, self._wrapper(f"{module.__name__}:{qualname}", original))
                if owner_path and isinstance(owner, type):
                    self._sequence(module.__name__, qualname, owner)

    def _sequence(self, module: str, qualname: str, owner: type) -> None:
        """Record sequences of calls on ``owner``'s objects too (once per class)."""
        key = f"{module}:{qualname.rpartition('.')[0]}"
        if self.spec.get("max_sequences", 8) <= 0:  # not asked for: leave the class as it is
            return
        try:
            sequences = self.classes.get(key)
            if sequences is None:
                from evolver_sequence_recorder import ClassSequences

                sequences = ClassSequences(self, key, self.spec)
            if not sequences.wrap(owner):  # once per class object (a reload makes another)
                return
            self.classes[key] = sequences
            self.sequenced[f"{module}:{qualname}"] = key
        except Exception:  # recording less must never break the import that wrapped it
            return

    def _wrapper(self, key: str, function: Any) -> Any:
        import functools
        import random
        from pickle import HIGHEST_PROTOCOL, dumps

        entry = self.data.setdefault(
            key,
            {"calls": [], "digests": [], "tests": set(), "seen": 0, "skipped": 0, "largest": -1},
        )
        # A reservoir sample of the calls: each outermost call is equally likely to be kept,
        # so the sample spans the whole run rather than its first few calls. Seeded: the same
        # run records the same calls.
        chance = random.Random(key)
        depth = [0]

        def keep(args: Any, kwargs: Any) -> None:
            calls, digests = entry["calls"], entry["digests"]
            slot = len(calls)
            if slot >= self.max_calls:
                slot = chance.randrange(entry["seen"])
                if slot >= self.max_calls:
                    return
            # Only the sampled calls: a size costs a little on every call measured, and the
            # sample's share of the calls shrinks as the run goes on.
            entry["largest"] = max(entry["largest"], _call_size(args, kwargs))
            try:
                blob = dumps((args, kwargs), protocol=HIGHEST_PROTOCOL)
            except Exception:
                entry["skipped"] += 1
                return
            digest = hash(blob)
            if digest in digests or len(blob) > self.max_bytes:
                return
            replaced = len(calls[slot]) if slot < len(calls) else 0
            if self.total - replaced + len(blob) > self.max_total:
                return
            self.total += len(blob) - replaced
            if slot == len(calls):
                calls.append(blob)
                digests.append(digest)
            else:
                calls[slot], digests[slot] = blob, digest

        @functools.wraps(function)
        def recorded(*args: Any, **kwargs: Any) -> Any:
            if depth[0] == 0:
                entry["seen"] += 1
                test = os.environ.get("PYTEST_CURRENT_TEST")
                if test:
                    entry["tests"].add(test.rsplit(" (", 1)[0])
                keep(args, kwargs)  # before the call: calls may mutate their arguments
            depth[0] += 1
            try:
                return function(*args, **kwargs)
            finally:
                depth[0] -= 1

        return recorded

    def dump(self) -> None:
        import base64

        targets = {}
        for key, entry in self.data.items():
            targets[key] = {
                "calls": [base64.b64encode(blob).decode("ascii") for blob in entry["calls"]],
                "tests": sorted(entry["tests"]),
                "seen": entry["seen"],
                "skipped": entry["skipped"],
            }
            if entry["largest"] >= 0:
                targets[key]["largest"] = entry["largest"]
            if key in self.sequenced:
                targets[key].update(self.classes[self.sequenced[key]].export())
        _write_json(self.out_dir, {"targets": targets})


class _WrapOnImport:  # a finder on sys.meta_path (importlib.abc.MetaPathFinder's protocol)
    """Lets the normal finders load a target module, then wraps its target functions."""

    def __init__(self, recorder: _Recorder) -> None:
        self.recorder = recorder

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in self.recorder.targets:
            return None
        import importlib.util

        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader, recorder = spec.loader, self.recorder
        exec_module = loader.exec_module

        def exec_and_wrap(module: Any) -> None:
            exec_module(module)
            recorder.wrap_module(module)

        loader.exec_module = exec_and_wrap  # type: ignore[method-assign]
        return spec


def _install() -> None:
    profile_dir = os.environ.get("EVOLVER_PROFILE_DIR")
    if profile_dir:
        _start_profile(profile_dir)
    memory_dir = os.environ.get("EVOLVER_MEMORY_DIR")
    if memory_dir:
        _start_memory(memory_dir)
    record_spec = os.environ.get("EVOLVER_RECORD")
    if record_spec:
        import json

        with open(record_spec) as handle:
            recorder = _Recorder(json.load(handle))
        sys.meta_path.insert(0, _WrapOnImport(recorder))


try:
    _install()
except Exception as error:
    print(f"evolver harness: {error}", file=sys.stderr)
