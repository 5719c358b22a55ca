"""Record real calls to the targets: their arguments, and the tests that reach them."""

from __future__ import annotations

import json
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.domain import TargetRef
from agent.project import Project
from sandbox import Sandbox


@dataclass
class Recording:
    workload_calls: list[bytes] = field(default_factory=list)  # pickled (args, kwargs)
    test_calls: list[bytes] = field(default_factory=list)
    tests: set[str] = field(default_factory=set)  # pytest node ids that reached the target
    skipped: int = 0  # calls whose arguments could not be pickled

    @property
    def timing_calls(self) -> list[bytes]:
        """What to time on: the workload's calls, or the tests' when the workload made none."""
        return self.workload_calls or self.test_calls


def record_calls(
    project: Project, sandbox: Sandbox, targets: list[TargetRef], max_calls: int = 16
) -> dict[TargetRef, Recording]:
    """Run the tests, and the workload when it is something else, recording calls to targets."""
    recordings = {ref: Recording() for ref in targets}
    separate_workload = project.workload_argv(sandbox)[0] != project.tests_argv
    for ref, entry in _recorded(
        lambda env: project.run_tests(sandbox, extra_env=env), sandbox, targets, max_calls
    ):
        recording = recordings[ref]
        recording.test_calls = entry["calls"]
        recording.tests = entry["tests"]
        recording.skipped += entry["skipped"]
        if not separate_workload:
            recording.workload_calls = entry["calls"]
    if separate_workload:
        for ref, entry in _recorded(
            lambda env: project.run_workload(sandbox, env), sandbox, targets, max_calls
        ):
            recordings[ref].workload_calls = entry["calls"]
            recordings[ref].skipped += entry["skipped"]
    return recordings


def _recorded(
    run: Callable[[dict[str, str]], Any], sandbox: Sandbox, targets: list[TargetRef], max_calls: int
) -> list[tuple[TargetRef, dict[str, Any]]]:
    """Run once with the recorder on; merge what each Python process it started recorded."""
    keys = {f"{ref.module}:{ref.qualname}": ref for ref in targets}
    merged: dict[TargetRef, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="evolver-rec-", dir=sandbox.tmp) as out:
        spec = Path(out) / "spec.json"
        spec.write_text(json.dumps({"out_dir": out, "targets": list(keys), "max_calls": max_calls}))
        run({"EVOLVER_RECORD": str(spec)})
        for dump in sorted(Path(out).glob("*.pkl")):
            with dump.open("rb") as handle:
                data = pickle.load(handle)
            for key, entry in data.items():
                into = merged.setdefault(keys[key], {"calls": [], "tests": set(), "skipped": 0})
                fresh = [c for c in entry["calls"] if c not in into["calls"]]
                into["calls"].extend(fresh[: max_calls - len(into["calls"])])
                into["tests"].update(entry["tests"])
                into["skipped"] += entry["skipped"]
    return list(merged.items())
