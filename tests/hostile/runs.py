"""One real ``evolver run`` against the loopback model server, watched from outside: every
process it starts (to find any left running), what the server was asked, what came out."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import EVOLVER
from tests.llm_server import Body, LLMServer, Reply

_TARGET_IN_PROMPT = re.compile(r"Make `([\w.]+)` faster")


def replies_by_target(replies: dict[str, list[str]]) -> LLMServer:
    """A model server answering each prompt with the replies for the target it is about."""

    def answer(body: Body) -> Reply:
        user = next((m["content"] for m in body.get("messages", []) if m["role"] == "user"), "")
        found = _TARGET_IN_PROMPT.search(str(user))
        texts = replies.get(found[1], []) if found else []
        return Reply(texts=texts or ["I have nothing faster."])

    return LLMServer(answer)


# /proc/PID/stat after the command's closing parenthesis: state is field 0, ppid 1, starttime 19.
def _stat(pid: str) -> tuple[int, int] | None:
    """(ppid, start time) of a live process; None if it is gone or only a zombie (it runs
    nothing; init reaps it when it gets round to it)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else (int(fields[1]), int(fields[19]))


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return raw.replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _cwd(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return ""


def _processes() -> dict[int, tuple[int, int]]:
    """Every process: pid -> (ppid, start time)."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(entry)) is not None:
            found[int(entry)] = stat
    return found


@dataclass
class ProcessWatch:
    """Notes, every few milliseconds, each process descended from ``root`` while it runs."""

    root: int
    # (pid, start time) -> (command line, working directory)
    seen: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            processes = _processes()
            children: dict[int, list[int]] = {}
            for pid, (ppid, _) in processes.items():
                children.setdefault(ppid, []).append(pid)
            todo = list(children.get(self.root, []))
            while todo:
                pid = todo.pop()
                key = (pid, processes[pid][1])
                if key not in self.seen:
                    self.seen[key] = (_cmdline(pid), _cwd(pid))
                todo.extend(children.get(pid, []))
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def sandbox_roots(self) -> set[str]:
        """The sandboxes the run's processes ran in: the parents of the ``work/`` directories
        they ran in (``Sandbox.work``). Working directories, not command lines: a checkout
        at ``/check/work/main`` must not make ``/check`` a sandbox."""
        return {cwd.removesuffix("/work") for _, cwd in self.seen.values() if cwd.endswith("/work")}

    def still_running(self, patience: float = 5.0) -> list[str]:
        """Processes of the run still alive, and any process in one of its sandboxes, after
        waiting up to ``patience`` seconds for those being killed to go."""
        deadline = time.monotonic() + patience
        while (found := self._alive()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return found

    def _alive(self) -> list[str]:
        alive = [
            f"{pid}: {' '.join(seen)}"
            for (pid, start), seen in self.seen.items()
            if (stat := _stat(str(pid))) is not None and stat[1] == start
        ]
        inside = tuple(root + "/" for root in self.sandbox_roots())
        for pid in _processes():
            cmdline, cwd = _cmdline(pid), _cwd(pid) + "/"
            if pid != os.getpid() and (cwd.startswith(inside) or any(r in cmdline for r in inside)):
                alive.append(f"{pid}: {cmdline} {cwd}")
        return sorted(set(alive))


@dataclass
class Run:
    """What one ``evolver run`` did."""

    returncode: int | None  # None: it did not finish in time and was stopped
    stdout: str
    stderr: str
    report: dict[str, Any] | None  # the --json report, if it wrote one
    requests: list[Body]  # what the model server received, in order
    left_running: list[str]
    sandbox_roots: set[str]
    watched: int  # processes the run started, as the watch saw them

    def candidates(self) -> list[dict[str, Any]]:
        return [] if self.report is None else list(self.report["candidates"])

    def describe(self) -> str:
        """For assertion messages: how the run ended."""
        tail = "\n".join(self.stderr.strip().splitlines()[-15:])
        return f"exit {self.returncode}; stderr tail:\n{tail}"


def _limit_memory(max_bytes: int) -> None:
    # Only the soft limit: the sandbox may set its own limits on the commands it starts.
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, hard))


def evolver_run(
    args: Sequence[str],
    server: LLMServer,
    env: dict[str, str],
    report_path: Path,
    timeout: float,
    memory_bytes: int | None = None,
) -> Run:
    """``evolver run ARGS --json REPORT`` in a subprocess, stopped (SIGTERM, then SIGKILL)
    after ``timeout`` seconds; ``memory_bytes`` caps its address space, so that a read that
    never ends fails instead of eating the machine."""
    argv = [*EVOLVER, "run", *args, "--json", str(report_path)]
    with subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", **env},
        preexec_fn=None if memory_bytes is None else (lambda: _limit_memory(memory_bytes)),
    ) as process:
        watch = ProcessWatch(process.pid)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
            returncode: int | None = process.returncode
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)  # unwinds like Ctrl-C: sandboxes removed
            try:
                stdout, stderr = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                stdout, stderr = process.communicate()
            returncode = None
        watch.stop()
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    return Run(
        returncode,
        stdout,
        stderr,
        report,
        list(server.requests),
        watch.still_running(),
        watch.sandbox_roots(),
        len(watch.seen),
    )


def secret_forms(secret: str) -> Iterator[str]:
    """The secret as the attacks carry it: plain, reversed, and dotted."""
    yield secret
    yield secret[::-1]
    yield ".".join(secret)
