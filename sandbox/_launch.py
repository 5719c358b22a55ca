"""Apply resource limits, then run the command and report how it ended.

Usage: ``_launch.py [--rlimit NAME=SOFT:HARD]... [--channel FD] -- COMMAND [ARG...]``, e.g.
``--rlimit RLIMIT_AS=1073741824:1073741824``.

The parent cannot use ``preexec_fn`` (unsafe when the parent has threads), so this tiny
program runs between ``fork`` and the real command instead. It is run by file path as
``python -I -S _launch.py``: it imports nothing but a few built-in modules (not even ``json``,
which costs ~9 ms), so it works whatever the child's ``PYTHONPATH`` is, and neither the child's
environment, ``.pth`` files nor a ``json.py`` in the working directory can change what it does.

Without ``--channel`` it asks to be killed with its parent (``PR_SET_PDEATHSIG``) and becomes
the command (``exec``). With ``--channel FD`` (one end of a socket pair whose other end the
caller holds) it forks the command, waits for it, and writes its exit code (negative for a
signal, as in ``subprocess``) to FD. That keeps the exact status when a wrapper in between
(bubblewrap, ``unshare --fork``) would turn a signal into ``128+n``; and when the channel reads
end-of-file the caller has died, so the command's process group is killed with it. As pid 1 of
a pid namespace it also reaps the orphans handed to it.

Exit status follows ``env``/``timeout``: 125 when the limits cannot be applied (fail closed:
the command never runs unconfined), 126 when the command cannot be executed, 127 when it is
not found.
"""

from __future__ import annotations

import os
import resource
import select
import signal
import sys

_USAGE = "usage: _launch.py [--rlimit NAME=SOFT:HARD]... [--channel FD] -- COMMAND [ARG...]"


class _UsageError(Exception):
    pass


def _parse(args: list[str]) -> tuple[dict[str, tuple[int, int]], int | None, list[str]]:
    limits: dict[str, tuple[int, int]] = {}
    channel = None
    while args and args[0] != "--":
        if len(args) < 2:
            raise _UsageError(_USAGE)
        option, value = args[0], args[1]
        args = args[2:]
        if option == "--rlimit":
            name, _, pair = value.partition("=")
            soft, _, hard = pair.partition(":")
            limits[name] = (int(soft), int(hard))
        elif option == "--channel":
            channel = int(value)
        else:
            raise _UsageError(_USAGE)
    if len(args) < 2:
        raise _UsageError(_USAGE)
    return limits, channel, args[1:]


def _apply(name: str, soft: int, hard: int) -> None:
    which = getattr(resource, name)
    _, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        # Only a privileged process may raise its hard limit; asking for more than we already
        # have means "no tighter than now", not "fail".
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the process that started it dies, even by
    SIGKILL, so that no sandboxed command outlives its caller. Best effort elsewhere."""
    try:
        import ctypes

        parent = os.getppid()
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the request took effect
            os.kill(os.getpid(), signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _execute(command: list[str]) -> int:
    """Become ``command``; return an exit status only when that fails."""
    try:
        os.execvp(command[0], command)
    except FileNotFoundError:
        print(f"sandbox launcher: command not found: {command[0]}", file=sys.stderr)
        return 127
    except OSError as error:
        print(f"sandbox launcher: cannot execute {command[0]}: {error}", file=sys.stderr)
        return 126
    return 126  # not reached: execvp returns only by raising


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # before Linux 5.3 or Python 3.9, or blocked by seccomp
        return None


def _wait(child: int, channel: int) -> int | None:
    """The wait status of ``child``, or None if the caller died first (the channel hit EOF)."""
    pidfd = _pidfd(child)
    watched = [channel] if pidfd is None else [channel, pidfd]
    # With a pidfd we wake when the child exits; the timeout only paces reaping orphans.
    pause = 0.02 if pidfd is None else 1.0
    while True:
        ready, _, _ = select.select(watched, [], [], pause)
        if channel in ready and not os.read(channel, 1):
            return None
        while True:  # reap the child, and any orphans handed to us as a namespace's pid 1
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            if pid == child:
                return status


def _supervise(command: list[str], channel: int) -> int:
    os.set_inheritable(channel, False)  # the command and its children never see it
    child = os.fork()
    if child == 0:
        try:
            os._exit(_execute(command))
        finally:
            os._exit(126)
    status = _wait(child, channel)
    if status is None:
        # Our caller is gone: take the command's process group with us. (As pid 1 of a pid
        # namespace, our own exit then kills whatever else is left in it.)
        try:
            os.killpg(0, signal.SIGKILL)
        finally:
            os._exit(128 + signal.SIGKILL)
    code = os.waitstatus_to_exitcode(status)
    try:  # noqa: SIM105 - contextlib costs the launcher's start-up a few milliseconds
        os.write(channel, str(code).encode())
    except OSError:
        pass  # the caller stopped listening; nobody is left to tell
    return code if code >= 0 else 128 - code


def main(args: list[str]) -> int:
    try:
        limits, channel, command = _parse(args)
        for name, (soft, hard) in limits.items():
            _apply(name, soft, hard)
    except _UsageError as error:
        print(error, file=sys.stderr)
        return 125
    except (ValueError, TypeError, AttributeError, OSError) as error:
        print(f"sandbox launcher: cannot apply limits: {error}", file=sys.stderr)
        return 125
    # Python ignores SIGPIPE and SIGXFSZ, and ignored signals stay ignored across exec: without
    # this, ``yes | head`` would print "Broken pipe" errors instead of ending quietly.
    for number in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(number, signal.SIG_DFL)
    if channel is None:
        _die_with_parent()
        return _execute(command)
    # The channel's end-of-file does what PR_SET_PDEATHSIG would, for the whole process group
    # and through any wrapper, without importing ctypes (~4 ms of every command's start).
    return _supervise(command, channel)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
