"""Run one command confined: resource limits, no network, its own process group, a deadline."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_LAUNCHER = Path(__file__).with_name("_launch.py")
_MB = 1024 * 1024

# Each of stdout and stderr keeps at most this much; the rest is read and dropped, so a command
# printing in a loop can neither exhaust our memory nor block on a full pipe.
OUTPUT_LIMIT = 4 * _MB

# After the process group is killed, how long to keep reading for output still buffered in the
# pipes. Only a descendant that left the group (setsid) can hold them open longer than that.
_DRAIN_SECONDS = 1.0

# Linux >= 5.3 can tell us when the command exits (pidfd); elsewhere we poll this often.
_USE_PIDFD = hasattr(os, "pidfd_open")
_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Limits:
    """Per-process resource limits (``setrlimit``); ``None`` leaves a limit as it is.

    The default address-space limit is generous for tests and benchmarks but stops a runaway
    allocation long before the machine swaps. Runtimes that reserve large virtual ranges up front
    (the JVM, Go, some sanitizers) may need it raised or ``None``.
    """

    address_space_mb: int | None = 4096
    cpu_seconds: int | None = None
    file_size_mb: int | None = 1024
    # RLIMIT_NPROC counts every process of the real user, and the kernel does not enforce it
    # for root at all (not even inside a user namespace whose root maps to the real root), so
    # it is no fork-bomb guard when running as root; only the timeout and group kill bound one.
    processes: int | None = None
    open_files: int | None = 1024

    def rlimits(self) -> dict[str, tuple[int, int]]:
        """The ``[soft, hard]`` pairs for the launcher, by ``resource`` constant name."""
        wanted: dict[str, tuple[int, int]] = {
            # A crashing command should not leave core files in the tree being measured.
            "RLIMIT_CORE": (0, 0),
        }
        if self.address_space_mb is not None:
            wanted["RLIMIT_AS"] = _same(self.address_space_mb * _MB)
        if self.cpu_seconds is not None:
            # The soft limit sends SIGXCPU, the hard one SIGKILL: the gap of one second lets a
            # command report the reason (returncode -SIGXCPU) before it is killed outright.
            wanted["RLIMIT_CPU"] = (self.cpu_seconds, self.cpu_seconds + 1)
        if self.file_size_mb is not None:
            wanted["RLIMIT_FSIZE"] = _same(self.file_size_mb * _MB)
        if self.processes is not None:
            wanted["RLIMIT_NPROC"] = _same(self.processes)
        if self.open_files is not None:
            wanted["RLIMIT_NOFILE"] = _same(self.open_files)
        return wanted


def _same(value: int) -> tuple[int, int]:
    # Soft and hard equal: the command cannot raise its own limit back.
    return (value, value)


@dataclass(frozen=True)
class Result:
    """What a command did. ``returncode`` is negative when a signal killed it, as in subprocess."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


@functools.cache
def _unshare_prefix() -> tuple[str, ...] | None:
    """The command prefix that gives a process an empty network namespace, if any works here."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    # ``-rn`` first even as root: inside a new user namespace the command's capabilities apply
    # only there, so it cannot join the host's network namespace again or raise its hard
    # rlimits, which a real root under plain ``-n`` could. ``-n`` is the fallback where user
    # namespaces are disabled but we are privileged.
    for flags in ("-rn", "-n"):
        try:
            probe = subprocess.run(
                [unshare, flags, "true"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return (unshare, flags)
    return None


def network_isolation_available() -> bool:
    """Whether commands can be cut off from the network here (``unshare -rn`` or ``-n`` works)."""
    return _unshare_prefix() is not None


def run_process(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str],
    cwd: Path,
    stdin: str | None = None,
    limits: Limits = Limits(),
    network: bool = False,
) -> Result:
    """Run ``argv`` under ``limits`` with exactly ``env``, killing its whole group at the end.

    Without network isolation available the command runs anyway; callers that care check
    :func:`network_isolation_available` and report it.
    """
    if not argv:
        raise ValueError("argv must not be empty")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, not {timeout}")
    command = [
        sys.executable,
        "-I",  # isolated: ignore PYTHON* variables, the user site and the script's directory
        "-S",  # no site: .pth files in the environment cannot run code; also ~15 ms faster
        str(_LAUNCHER),
        json.dumps(limits.rlimits()),
        "--",
        *argv,
    ]
    if not network:
        prefix = _unshare_prefix()
        if prefix is not None:
            # unshare execs (it does not fork), so the pid we get is the command's own pid.
            command = [*prefix, *command]

    started = time.monotonic()
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,  # own session and process group, so the group kill is exact
        close_fds=True,
    )
    try:
        stdout, stderr, timed_out = _communicate(
            process, b"" if stdin is None else stdin.encode(), started + timeout
        )
    finally:
        # Kill before reaping: until the leader is reaped its pid cannot be reused, so the group
        # id still names this command's group and nothing else.
        _kill_group(process.pid)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        process.wait()
    return Result(
        argv=tuple(argv),
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
        duration=time.monotonic() - started,
        timed_out=timed_out,
    )


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class _Capture:
    """Bytes read from one pipe, kept up to ``OUTPUT_LIMIT``."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = OUTPUT_LIMIT - len(self.data)
        self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - room)

    def text(self) -> str:
        text = self.data.decode(errors="replace")
        if self.dropped:
            text += f"\n[sandbox: output truncated, {self.dropped} more bytes dropped]\n"
        return text


def _communicate(
    process: subprocess.Popen[bytes], data: bytes, deadline: float
) -> tuple[str, str, bool]:
    """Feed stdin and read both pipes until the command exits or the deadline passes.

    Unlike ``Popen.communicate`` this stops when the *command* exits, not when the pipes close:
    a background grandchild holding them open must not keep us waiting. It never reaps the
    command (so :func:`_kill_group` stays safe) and kills the group before the final drain.
    """
    assert process.stdout is not None and process.stderr is not None
    captures = {process.stdout.fileno(): _Capture(), process.stderr.fileno(): _Capture()}
    pending = memoryview(data)
    stdin_fd = process.stdin.fileno() if process.stdin is not None else None
    with selectors.DefaultSelector() as selector:
        for fd in captures:
            selector.register(fd, selectors.EVENT_READ)
        if stdin_fd is not None:
            # Non-blocking, so a command that stops reading cannot stall us on a full pipe.
            os.set_blocking(stdin_fd, False)
            selector.register(stdin_fd, selectors.EVENT_WRITE)
        exited = _exit_watch(process.pid)
        if exited.fd is not None:
            selector.register(exited.fd, selectors.EVENT_READ)
        try:
            timed_out = False
            while not exited.done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                wait = remaining if exited.fd is not None else min(remaining, _POLL_SECONDS)
                pending = _step(selector, captures, process, pending, wait)
            _kill_group(process.pid)
            # Whatever was not yet written to stdin no longer has a reader.
            for extra in (exited.fd, stdin_fd):
                if extra is not None and extra in selector.get_map():
                    selector.unregister(extra)
            drain_until = time.monotonic() + _DRAIN_SECONDS
            while selector.get_map() and time.monotonic() < drain_until:
                _step(selector, captures, process, pending, drain_until - time.monotonic())
        finally:
            exited.close()
    out, err = captures.values()
    return out.text(), err.text(), timed_out


def _step(
    selector: selectors.BaseSelector,
    captures: dict[int, _Capture],
    process: subprocess.Popen[bytes],
    pending: memoryview,
    wait: float,
) -> memoryview:
    """Wait up to ``wait`` seconds for pipe events and handle them; return unwritten stdin."""
    for key, _ in selector.select(max(wait, 0.0)):
        fd = key.fd
        if fd in captures:
            chunk = os.read(fd, 65536)
            if chunk:
                captures[fd].add(chunk)
            else:
                selector.unregister(fd)
        elif key.events & selectors.EVENT_WRITE:  # only stdin is registered for writing
            try:
                pending = pending[os.write(fd, pending) :] if pending else pending
            except BlockingIOError:
                continue
            except BrokenPipeError:
                pending = pending[:0]  # the command stopped reading; that is its business
            if not pending:
                selector.unregister(fd)
                assert process.stdin is not None
                process.stdin.close()
    return pending


class _ExitWatch:
    """Tells whether a child has exited, without reaping it.

    A pidfd becomes readable when the process exits, so the select loop wakes at once; where
    ``pidfd_open`` is missing (old kernels, seccomp) we fall back to polling ``waitid``.
    """

    def __init__(self, pid: int, fd: int | None) -> None:
        self.pid = pid
        self.fd = fd
        self._done = False

    def done(self) -> bool:
        if not self._done:
            try:
                flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
                self._done = os.waitid(os.P_PID, self.pid, flags) is not None
            except ChildProcessError:  # reaped behind our back (SIGCHLD ignored): gone anyway
                self._done = True
        return self._done

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _exit_watch(pid: int) -> _ExitWatch:
    if _USE_PIDFD:
        try:
            return _ExitWatch(pid, os.pidfd_open(pid))
        except OSError:
            pass
    return _ExitWatch(pid, None)
