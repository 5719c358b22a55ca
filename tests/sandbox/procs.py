"""Finding processes by a marker in their argv (pids printed inside a pid namespace mean
nothing outside it, and must never be signalled from here)."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import sys
import time
from pathlib import Path


def marked(mark: str) -> list[int]:
    """Live (not zombie) processes whose argv contains ``mark``, ourselves excluded."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if mark.encode() in argv and state != "Z":
            found.append(int(entry.name))
    return found


def wait_marked(mark: str, *, count: int = 1, seconds: float = 10.0) -> list[int]:
    """Wait until at least ``count`` processes carry ``mark``."""
    deadline = time.monotonic() + seconds
    while len(found := marked(mark)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} processes marked {mark} started"
        time.sleep(0.02)
    return found


def gone(mark: str, *, seconds: float = 3.0) -> bool:
    """Whether every process carrying ``mark`` is gone within ``seconds``."""
    deadline = time.monotonic() + seconds
    while marked(mark):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def kill_marked(mark: str) -> None:
    for pid in marked(mark):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def sleeper(mark: str, seconds: int = 100) -> str:
    """A shell command that sleeps with ``mark`` in its argv (``sleep`` itself takes none).

    Pass it to the sandbox in the environment (``SLEEPER``) and run it as ``sh -c "$SLEEPER"``:
    written into a script, it would put the marker in the argv of the script's shell too.
    """
    python = shlex.quote(sys.executable)
    return f"exec {python} -S -c 'import time; time.sleep({seconds})' {mark}"


def await_marked(mark: str) -> str:
    """A shell command that waits until a process carrying ``mark`` runs. The pattern is
    ``mark`` with its last character in brackets, so that grep does not find itself."""
    pattern = shlex.quote(f"{mark[:-1]}[{mark[-1]}]")
    return f"until grep -qs {pattern} /proc/[0-9]*/cmdline; do sleep 0.01; done"
