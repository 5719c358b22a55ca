"""Run one of the harness scripts on a set of calls in a sandbox, and read its JSON answer."""

from __future__ import annotations

import json
import pickle
import uuid
from typing import Any

from agent.project import HARNESS_DIR, Project
from sandbox import Sandbox


class HarnessError(Exception):
    """The harness process failed; the message says how."""


def run_harness(
    project: Project,
    sandbox: Sandbox,
    script: str,
    spec: dict[str, Any],
    calls: list[bytes],
    timeout: float,
) -> dict[str, Any]:
    """Run ``_harness/<script>`` with ``spec`` (plus ``calls`` and ``out``) in ``sandbox``.

    The answer is read from a file rather than stdout, so whatever the code under test prints
    cannot corrupt it. It is parsed as JSON, never unpickled: it comes from untrusted code.
    """
    stem = sandbox.tmp / f"evolver-{uuid.uuid4().hex[:12]}"
    calls_file, spec_file, out_file = (stem.with_suffix(s) for s in (".pkl", ".json", ".out"))
    calls_file.write_bytes(pickle.dumps(calls))
    spec_file.write_text(json.dumps({**spec, "calls": str(calls_file), "out": str(out_file)}))
    argv = [project.python, str(HARNESS_DIR / script), str(spec_file)]
    try:
        result = sandbox.run(argv, timeout=timeout, env=project.env(sandbox))
        if result.timed_out:
            raise HarnessError(f"timed out after {timeout:.0f}s")
        if result.limits_hit:
            raise HarnessError(f"hit the sandbox's {' and '.join(result.limits_hit)} limit")
        if not result.ok:
            tail = result.stderr.strip().splitlines()[-1:] or [f"exit code {result.returncode}"]
            raise HarnessError(f"failed: {tail[0][:200]}")
        try:
            answer: dict[str, Any] = json.loads(out_file.read_text())
        except (OSError, ValueError) as error:
            raise HarnessError(f"gave no readable answer: {error}") from None
        return answer
    finally:
        for path in (calls_file, spec_file, out_file):
            path.unlink(missing_ok=True)
