"""Run one of the harness scripts on a set of calls in a sandbox, and read its JSON answer.

The answer comes from a process that ran candidate (or project) code, in a directory that code
can write: it is read as hostile data. It is opened without following links or waiting (a FIFO,
a link to ``/dev/zero`` or a file of gigabytes is refused), parsed as JSON, never unpickled,
and checked against a schema (:mod:`agent.verify.answers`); anything else becomes a
:class:`HarnessError` that rejects the candidate with a reason, never a crash or a hang.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import uuid
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from agent._harness.evolver_blobs import write_calls
from agent.project.runner import HARNESS_DIR, Project
from agent.project.testlayout import import_roots
from agent.verify.answers import MalformedAnswer, parse_answer
from agent.verify.untrusted import UntrustedDataError, read_json, scrub, write_new
from sandbox import Result, Sandbox

M = TypeVar("M", bound=BaseModel)


class HarnessError(Exception):
    """The harness process failed; the message says how."""


def run_harness(
    project: Project,
    sandbox: Sandbox,
    script: str,
    spec: dict[str, Any],
    calls: list[bytes],
    timeout: float,
    schema: type[M],
) -> M:
    """Run ``_harness/<script>`` with ``spec`` (plus ``calls`` and ``out``) in ``sandbox``.

    ``calls`` go in a calls file (``evolver_blobs``), the path in ``spec["calls"]``. The
    answer is read from the file ``spec["out"]`` rather than stdout, so whatever the code
    under test prints cannot corrupt it, and returned validated as ``schema``.
    """
    return run_harness_with_result(project, sandbox, script, spec, calls, timeout, schema)[0]


def run_harness_with_result(
    project: Project,
    sandbox: Sandbox,
    script: str,
    spec: dict[str, Any],
    calls: list[bytes],
    timeout: float,
    schema: type[M],
    clocked: bool = False,
) -> tuple[M, Result]:
    """:func:`run_harness`, and the process's :class:`Result` (its stdout, and when it came:
    ``clocked``, when the process wrote each piece; see ``Sandbox.run``'s ``clocked_stdout``)."""
    tmp = _checked_tmp(sandbox)
    stem = f"evolver-{uuid.uuid4().hex}"
    calls_file, spec_file, out_file = (tmp / f"{stem}{s}" for s in (".calls", ".json", ".out"))
    try:
        try:
            write_calls(str(calls_file), calls)
            spec_text = json.dumps({**spec, "calls": str(calls_file), "out": str(out_file)})
            write_new(spec_file, spec_text.encode())
        except OSError as error:
            raise HarnessError(f"cannot write its input: {error.strerror}") from None
        argv = [project.python, str(HARNESS_DIR / script), str(spec_file)]
        result = sandbox.run(
            argv, timeout=timeout, env=_env(project, sandbox), clocked_stdout=clocked
        )
        if result.timed_out:
            raise HarnessError(f"timed out after {timeout:.0f}s")
        if result.limits_hit:
            raise HarnessError(f"hit the sandbox's {' and '.join(result.limits_hit)} limit")
        if not result.ok:
            raise HarnessError(f"failed: {_last_line(result.stderr, result.returncode)}")
        _checked_tmp(sandbox)
        try:
            answer = read_json(out_file)
        except UntrustedDataError as error:
            raise HarnessError(f"gave no readable answer: {scrub(str(error), 200)}") from None
        return _validated(answer, schema), result
    finally:
        for path in (calls_file, spec_file, out_file):
            with contextlib.suppress(OSError):  # the code under test may have made it a directory
                path.unlink()


def _env(project: Project, sandbox: Sandbox) -> dict[str, str]:
    """The project's environment, and last on the path the folders pytest imports tests from:
    a recorded argument may be an instance of a class a test module defines."""
    env = project.env(sandbox)
    roots = [str(root) for root in import_roots(sandbox.work)]
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], *roots])
    return env


def _validated(answer: Any, schema: type[M]) -> M:
    try:
        return parse_answer(schema, answer)
    except MalformedAnswer as error:
        raise HarnessError(f"gave a malformed answer: {error}") from None


def _checked_tmp(sandbox: Sandbox) -> Path:
    """The sandbox's ``tmp/``, still a directory of its own: code that ran in the sandbox can
    replace it with a link, and we would then write our files wherever it points."""
    try:
        info = os.lstat(sandbox.tmp)
    except OSError as error:
        raise HarnessError(f"found no temporary directory: {error.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise HarnessError("found its temporary directory replaced (by a link or a file)")
    return sandbox.tmp


def _last_line(stderr: str, returncode: int) -> str:
    """The child's last words, which the code under test controls: capped and scrubbed."""
    lines = stderr[-4096:].strip().splitlines()
    return scrub(lines[-1], 200) if lines else f"exit code {returncode}"
