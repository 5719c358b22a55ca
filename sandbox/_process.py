"""Run one command confined: a wrapper layer, a cgroup, rlimits, a deadline, and a kill of
everything it started.

(Over 400 lines on purpose: starting, feeding, watching and killing one confined process is
one lifecycle, and its race conditions are easier to see in one file.)
"""

from __future__ import annotations

import array
import contextlib
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sandbox import _cgroup, _confine

_LAUNCHER = Path(__file__).with_name("_launch.py")
_MB = 1024 * 1024

# Each of stdout and stderr keeps at most this much; the rest is read and dropped, so a command
# printing in a loop can neither exhaust our memory nor block on a full pipe.
OUTPUT_LIMIT = 4 * _MB

# After everything is killed, how long to keep reading for output still buffered in the pipes.
# Only a descendant we could not reach (no cgroup, no pid namespace, and it called setsid) can
# hold them open longer than that.
_DRAIN_SECONDS = 1.0

# Linux >= 5.3 can tell us when the command exits (pidfd); elsewhere we poll this often.
_USE_PIDFD = hasattr(os, "pidfd_open")
_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Limits:
    """Resource limits of a command; ``None`` leaves a limit as it is.

    ``memory_mb`` and ``pids`` hold for the command's whole process tree, through a cgroup
    where one can be made. Without cgroup memory control ``memory_mb`` falls back to an
    address-space rlimit per process (virtual memory, so runtimes that reserve large ranges up
    front, like the JVM or Go, may need it raised); without the pids controller there is no
    process limit (``RLIMIT_NPROC`` counts every process of the user, and root is exempt), and
    the timeout and the final kill bound a fork bomb instead. The defaults are generous for
    tests and benchmarks but stop a runaway allocation long before the machine swaps.
    """

    # An address-space rlimit applied to every process whatever else is available.
    address_space_mb: int | None = None
    cpu_seconds: int | None = None
    file_size_mb: int | None = 1024
    # RLIMIT_NPROC: see above; only for callers who know what the user runs besides.
    processes: int | None = None
    open_files: int | None = 1024
    # Last, so that the fields above keep their positions.
    memory_mb: int | None = 4096
    pids: int | None = 1024  # processes and threads at once

    def rlimits(self, *, cgroup_memory: bool = False) -> dict[str, tuple[int, int]]:
        """The ``(soft, hard)`` pairs for the launcher, by ``resource`` constant name.

        ``cgroup_memory``: the memory limit is enforced by a cgroup, so no address-space
        fallback is needed (it would break heavy imports long before memory runs out).
        """
        wanted: dict[str, tuple[int, int]] = {
            # A crashing command should not leave core files in the tree being measured.
            "RLIMIT_CORE": (0, 0),
        }
        address_space = self.address_space_mb
        if address_space is None and not cgroup_memory:
            address_space = self.memory_mb
        if address_space is not None:
            wanted["RLIMIT_AS"] = _same(address_space * _MB)
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
    """What a command did. ``returncode`` is negative when a signal killed it, as in subprocess.

    ``limits_hit`` names the cgroup limits that stopped something: ``"memory"`` (the
    out-of-memory killer ran) and ``"pids"`` (a fork failed).
    """

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool
    limits_hit: tuple[str, ...] = ()
    # When each piece of stdout arrived: (bytes of stdout so far, ``time.perf_counter_ns()``),
    # taken here, in the caller's process: when we read it, or with ``clocked_stdout`` when the
    # kernel took it from the command (on our clock's scale). A command can lie about time in
    # what it prints; it cannot lie about when it was read or sent.
    stdout_times: tuple[tuple[int, int], ...] = ()
    # The most memory the command's processes held at once, in bytes, as the kernel counted it
    # for the command's cgroup (nothing the command runs can change it); ``None`` without one.
    peak_memory: int | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def last_line(self) -> str:
        """The last line it printed on stderr (else stdout): usually the error that stopped it."""
        lines = (self.stderr or self.stdout).strip().splitlines()
        return lines[-1][:200] if lines else "no output"


def network_isolation_available() -> bool:
    """Whether commands can be cut off from the network here (a network namespace works)."""
    return _confine.choose().isolates_network


def run_process(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str],
    cwd: Path,
    stdin: str | None = None,
    limits: Limits = Limits(),
    network: bool = False,
    writable: Sequence[Path] = (),
    hidden: Sequence[Path] = (),
    readable: Sequence[Path] = (),
    clocked_stdout: bool = False,
) -> Result:
    """Run ``argv`` under ``limits`` with exactly ``env``; kill all it started at the end.

    ``clocked_stdout``: stdout is a socket of records that the kernel stamps as the command
    writes them, so ``Result.stdout_times`` says when each write was made, not when we got
    round to reading it (a busy machine delays our reads, never the stamps). For commands that
    write a little at a time, such as timing marks: a single write larger than the socket's
    buffer fails.

    ``writable`` are the directories the command may write where the file system outside them
    can be made read-only (bubblewrap); elsewhere nothing stops it writing where we can.
    ``hidden`` are paths it must not see, besides home directories, where paths can be hidden
    (bubblewrap; see :func:`sandbox.protection`). ``readable`` are shown read-only even inside
    hidden ones (a path named in both stays hidden). Without
    network isolation available the command runs anyway; callers that care check
    :func:`network_isolation_available` (or :func:`sandbox.protection`) and report it.
    """
    if not argv:
        raise ValueError("argv must not be empty")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, not {timeout}")
    # Absolute, so that bubblewrap binds and enters the same directories we mean.
    cwd = Path(os.path.abspath(cwd))
    writable = [Path(os.path.abspath(path)) for path in writable]
    view = _View(writable=tuple(writable), hidden=tuple(hidden), readable=tuple(readable))
    support = _cgroup.support()
    cgroup = None
    if support is not None and _wants_cgroup(limits, _confine.choose()):
        # It worked in the probe; should it fail now, the rlimit fallbacks stand in.
        with contextlib.suppress(OSError):
            cgroup = _cgroup.create(support, memory_mb=limits.memory_mb, pids=limits.pids)
    memory_in_cgroup = cgroup is not None and support is not None and support.has("memory")
    rlimits = limits.rlimits(cgroup_memory=memory_in_cgroup)
    try:
        return _run(argv, timeout, env, cwd, stdin, rlimits, network, view, cgroup, clocked_stdout)
    finally:
        if cgroup is not None:
            cgroup.remove()


def _wants_cgroup(limits: Limits, layer: _confine.Layer) -> bool:
    """A cgroup for limits, or to reach descendants that left the process group (setsid)
    where no pid namespace does. Moving a process into a cgroup v1 costs ~10 ms (the kernel
    waits for an RCU grace period), so a caller that asks for no limits under a pid namespace
    does not pay it."""
    return limits.memory_mb is not None or limits.pids is not None or not layer.isolates_pids


@dataclass(frozen=True)
class _View:
    """What the command may write, what it must not see, and what it may read regardless."""

    writable: tuple[Path, ...] = ()
    hidden: tuple[Path, ...] = ()
    readable: tuple[Path, ...] = ()


def _command(
    argv: Sequence[str],
    *,
    channel: int,
    cwd: Path,
    rlimits: Mapping[str, tuple[int, int]],
    network: bool,
    view: _View,
    env: Mapping[str, str],
    cgroup: _cgroup.CommandCgroup | None,
) -> list[str]:
    """cgroup join, then the confinement layer, then the launcher (rlimits), then ``argv``."""
    launcher = [
        sys.executable,
        "-I",  # isolated: ignore PYTHON* variables, the user site and the script's directory
        "-S",  # no site: .pth files in the environment cannot run code; also ~15 ms faster
        str(_LAUNCHER),
    ]
    for name, (soft, hard) in rlimits.items():
        launcher += ["--rlimit", f"{name}={soft}:{hard}"]
    layer = _confine.choose()
    if layer.user is not None:
        launcher += ["--user", f"{layer.user}:{layer.user}"]
    launcher += ["--channel", str(channel), "--", *argv]
    command = layer.wrap(
        launcher,
        cwd=cwd,
        writable=view.writable,
        network=network,
        env=env,
        hidden=view.hidden,
        readable=view.readable,
    )
    if cgroup is not None:
        command = [*_cgroup.join_prefix(cgroup), *command]
    return command


def _run(
    argv: Sequence[str],
    timeout: float,
    env: Mapping[str, str],
    cwd: Path,
    stdin: str | None,
    rlimits: Mapping[str, tuple[int, int]],
    network: bool,
    view: _View,
    cgroup: _cgroup.CommandCgroup | None,
    clocked_stdout: bool,
) -> Result:
    # The launcher reports the command's exact exit status on this socket pair; its end-of-file
    # tells the launcher we died, so it takes the command with it.
    ours, theirs = socket.socketpair()
    stamped = _stamped_pair() if clocked_stdout else None
    with ours, contextlib.ExitStack() as closing:
        for end in stamped or ():
            closing.callback(end.close)
        with theirs:
            command = _command(
                argv,
                channel=theirs.fileno(),
                cwd=cwd,
                rlimits=rlimits,
                network=network,
                view=view,
                env=env,
                cgroup=cgroup,
            )
            started = time.monotonic()
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                stdout=subprocess.PIPE if stamped is None else stamped[1].fileno(),
                stderr=subprocess.PIPE,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,  # own session and process group, so the group kill is exact
                close_fds=True,
                pass_fds=(theirs.fileno(),),
            )
            if stamped is not None:
                stamped[1].close()  # the command's end: it holds its own copy
        stdout = process.stdout if stamped is None else stamped[0]
        assert stdout is not None

        def kill_all() -> None:
            _kill_group(process.pid)
            if cgroup is not None:
                cgroup.kill()

        try:
            out, err, timed_out = _communicate(
                process,
                stdout,
                b"" if stdin is None else stdin.encode(),
                started + timeout,
                kill_all,
            )
        finally:
            # Kill before reaping: until the leader is reaped its pid cannot be reused, so the
            # group id still names this command's group and nothing else.
            kill_all()
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
            process.wait()
        status = _reported_status(ours)
    return Result(
        argv=tuple(argv),
        returncode=process.returncode if status is None else status,
        stdout=out.text(),
        stderr=err.text(),
        duration=time.monotonic() - started,
        timed_out=timed_out,
        limits_hit=() if cgroup is None else cgroup.limits_hit(),
        stdout_times=tuple(out.times),
        peak_memory=None if cgroup is None else cgroup.peak_memory(),
    )


# Linux's SO_TIMESTAMPNS (the socket module lacks it): each record received comes with a
# ``struct timespec`` of CLOCK_REALTIME, taken when the sender's write queued it.
_SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("@ll")
_ANCILLARY = socket.CMSG_SPACE(_TIMESPEC.size) + socket.CMSG_SPACE(64 * 4)


def _stamped_pair() -> tuple[socket.socket, socket.socket] | None:
    """(ours, the command's): a record socket pair whose records the kernel stamps, or
    ``None`` where there is none (not Linux): stdout is then a pipe, read times as usual."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    except OSError:
        return None
    try:
        ours.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except OSError:
        ours.close()
        theirs.close()
        return None
    ours.setblocking(False)
    return ours, theirs


def _receive_stamped(channel: socket.socket, capture: _Capture) -> bool:
    """Every record waiting on ``channel`` into ``capture``, each at the kernel's stamp moved
    onto our ``perf_counter_ns`` scale; ``False`` once the command's end is closed."""
    while True:
        try:
            data, ancillary, _, _ = channel.recvmsg(65536, _ANCILLARY)
        except BlockingIOError:
            return True
        except OSError:
            return False
        stamp = None
        for level, kind, payload in ancillary:
            if level != socket.SOL_SOCKET:
                continue
            if kind == socket.SCM_RIGHTS:  # descriptors the command sent us: never kept
                for fd in array.array("i", payload[: len(payload) - len(payload) % 4]):
                    with contextlib.suppress(OSError):
                        os.close(fd)
            elif kind == _SO_TIMESTAMPNS and len(payload) >= _TIMESPEC.size:
                seconds, nanoseconds = _TIMESPEC.unpack_from(payload)
                stamp = seconds * 1_000_000_000 + nanoseconds
        if not data:
            return False
        arrived = None
        if stamp is not None:
            arrived = time.perf_counter_ns() - (time.time_ns() - stamp)
        capture.add(data, arrived)


def _reported_status(channel: socket.socket) -> int | None:
    """The exit code the launcher wrote, if it got that far (not when it was killed)."""
    channel.setblocking(False)
    try:
        data = channel.recv(64)
    except OSError:
        return None
    try:
        return int(data)
    except ValueError:
        return None


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


_Readable = IO[bytes] | socket.socket  # what a command's stdout is read from

# At most this many arrival times are kept per command (the rest are dropped, like output).
_TIMES_LIMIT = 100_000


class _Capture:
    """Bytes read from one pipe, kept up to ``OUTPUT_LIMIT``, and when each piece arrived."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.dropped = 0
        self.times: list[tuple[int, int]] = []

    def add(self, chunk: bytes, arrived: int | None = None) -> None:
        """``chunk``, which arrived at ``arrived`` (``perf_counter_ns``; by default now)."""
        if arrived is None:
            arrived = time.perf_counter_ns()
        room = OUTPUT_LIMIT - len(self.data)
        self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - room)
        if room > 0 and len(self.times) < _TIMES_LIMIT:
            self.times.append((len(self.data), arrived))

    def text(self) -> str:
        text = self.data.decode(errors="replace")
        if self.dropped:
            text += f"\n[sandbox: output truncated, {self.dropped} more bytes dropped]\n"
        return text


def _communicate(
    process: subprocess.Popen[bytes],
    stdout: _Readable,
    data: bytes,
    deadline: float,
    kill_all: Callable[[], None],
) -> tuple[_Capture, _Capture, bool]:
    """Feed stdin and read stdout (a pipe, or a stamped socket) and stderr until the command
    exits or the deadline passes.

    Unlike ``Popen.communicate`` this stops when the *command* exits, not when the pipes close:
    a background grandchild holding them open must not keep us waiting. It never reaps the
    command (so :func:`_kill_group` stays safe) and kills everything before the final drain.
    """
    assert process.stderr is not None
    captures = {stdout.fileno(): _Capture(), process.stderr.fileno(): _Capture()}
    stamped = {stdout.fileno(): stdout} if isinstance(stdout, socket.socket) else {}
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
                pending = _step(selector, captures, stamped, process, pending, wait)
            kill_all()
            # Whatever was not yet written to stdin no longer has a reader.
            for extra in (exited.fd, stdin_fd):
                if extra is not None and extra in selector.get_map():
                    selector.unregister(extra)
            drain_until = time.monotonic() + _DRAIN_SECONDS
            while selector.get_map() and time.monotonic() < drain_until:
                _step(selector, captures, stamped, process, pending, drain_until - time.monotonic())
        finally:
            exited.close()
    out, err = captures.values()
    return out, err, timed_out


def _step(
    selector: selectors.BaseSelector,
    captures: dict[int, _Capture],
    stamped: dict[int, socket.socket],
    process: subprocess.Popen[bytes],
    pending: memoryview,
    wait: float,
) -> memoryview:
    """Wait up to ``wait`` seconds for pipe events and handle them; return unwritten stdin."""
    for key, _ in selector.select(max(wait, 0.0)):
        fd = key.fd
        if fd in stamped:
            if not _receive_stamped(stamped[fd], captures[fd]):
                selector.unregister(fd)
        elif fd in captures:
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
