"""Loaded by every Python process Evolver starts in a sandbox (the folder is on PYTHONPATH).

It does nothing unless asked through the environment:
- ``EVOLVER_PROFILE_DIR``: profile the whole process with cProfile, dump to ``<dir>/<pid>.prof``.
- ``EVOLVER_RECORD``: a JSON file naming target functions; record a sample of the arguments
  of their outermost calls (distinct, spread over the whole run, pickled before the call since
  calls may mutate them) and the pytest tests that reached them, written to
  ``<out>/<pid>.pkl`` at exit.

Stdlib only, and it must never break the program it rides in: every failure is swallowed.
"""

from __future__ import annotations

import atexit
import importlib.abc
import importlib.util
import json
import os
import pickle
import sys
from typing import Any


def _start_profile(out_dir: str) -> None:
    import cProfile

    profiler = cProfile.Profile()

    def dump() -> None:
        profiler.disable()
        profiler.dump_stats(os.path.join(out_dir, f"{os.getpid()}.prof"))

    atexit.register(dump)
    profiler.enable()


class _Recorder:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.out_dir: str = spec["out_dir"]
        self.max_calls: int = spec.get("max_calls", 16)
        self.max_bytes: int = spec.get("max_bytes", 64 * 1024 * 1024)
        self.targets: dict[str, list[str]] = {}
        for key in spec["targets"]:
            module, _, qualname = key.partition(":")
            self.targets.setdefault(module, []).append(qualname)
        self.data: dict[str, dict[str, Any]] = {}
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

    def _wrapper(self, key: str, function: Any) -> Any:
        import functools
        import random

        entry = self.data.setdefault(
            key, {"calls": [], "digests": [], "tests": set(), "seen": 0, "skipped": 0}
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
            try:
                blob = pickle.dumps((args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                entry["skipped"] += 1
                return
            digest = hash(blob)
            if digest in digests or len(blob) > self.max_bytes:
                return
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
        for entry in self.data.values():
            entry.pop("digests", None)
        path = os.path.join(self.out_dir, f"{os.getpid()}.pkl")
        with open(path, "wb") as handle:
            pickle.dump(self.data, handle)


class _WrapOnImport(importlib.abc.MetaPathFinder):
    """Lets the normal finders load a target module, then wraps its target functions."""

    def __init__(self, recorder: _Recorder) -> None:
        self.recorder = recorder

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in self.recorder.targets:
            return None
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
    record_spec = os.environ.get("EVOLVER_RECORD")
    if record_spec:
        with open(record_spec) as handle:
            recorder = _Recorder(json.load(handle))
        sys.meta_path.insert(0, _WrapOnImport(recorder))


try:
    _install()
except Exception as error:
    print(f"evolver harness: {error}", file=sys.stderr)
