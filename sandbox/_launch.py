"""Apply resource limits, then run the command and report how it ended.

Usage: ``_launch.py [--rlimit NAME=SOFT:HARD]... [--user UID:GID] [--channel FD] -- COMMAND
[ARG...]``, e.g. ``--rlimit RLIMIT_AS=1073741824:1073741824 --user 65534:65534``.

The parent cannot use ``preexec_fn`` (unsafe when the parent has threads), so this tiny
program runs between ``fork`` and the real command instead. It is run by file path as
``python -I -S _launch.py``: it imports nothing but a few built-in modules (not even ``json``,
which costs ~9 ms), so it works whatever the child's ``PYTHONPATH`` is, and neither the child's
environment, ``.pth`` files nor a ``json.py`` in the working directory can change what it does.

With ``--user`` (we are root, inside bubblewrap with only ``CAP_SETUID`` and ``CAP_SETGID``)
the command runs as that unprivileged uid and gid, with no supplementary groups: it drops them
just before ``exec`` and checks that root cannot be regained, and that ``no_new_privs`` is set
(so no set-uid program can give root back) before running anything.

Without ``--channel`` it asks to be killed with its parent (``PR_SET_PDEATHSIG``) and becomes
the command (``exec``). With ``--channel FD`` (one end of a socket pair whose other end the
caller holds) it forks the command, waits for it, and writes its exit code (negative for a
signal, as in ``subprocess``) to FD. That keeps the exact status when a wrapper in between
(bubblewrap, ``unshare --fork``) would turn a signal into ``128+n``; and when the channel reads
end-of-file the caller has died, so the command's process group is killed with it. As pid 1 of
a pid namespace it also reaps the orphans handed to it.

Exit status follows ``env``/``timeout``: 125 when the limits cannot be applied or the switch
to ``--user`` fails (fail closed: the command never runs unconfined), 126 when the command
cannot be executed, 127 when it is not found.
"""

from __future__ import annotations

import _signal as signal  # the C module: ``signal`` imports ``enum``, ~4 ms of every command
import os
import resource
import select
import sys

_USAGE = (
    "usage: _launch.py [--rlimit NAME=SOFT:HARD]... [--user UID:GID] [--channel FD] "
    "-- COMMAND [ARG...]"
)
_NO_NEW_PRIVS = 38  # PR_SET_NO_NEW_PRIVS


class _UsageError(Exception):
    pass


class _Options:
    def __init__(self) -> None:
        self.limits: dict[str, tuple[int, int]] = {}
        self.user: tuple[int, int] | None = None
        self.channel: int | None = None
        self.command: list[str] = []


def _parse(args: list[str]) -> _Options:
    options = _Options()
    while args and args[0] != "--":
        if len(args) < 2:
            raise _UsageError(_USAGE)
        option, value = args[0], args[1]
        args = args[2:]
        if option == "--rlimit":
            name, _, pair = value.partition("=")
            soft, _, hard = pair.partition(":")
            options.limits[name] = (int(soft), int(hard))
        elif option == "--user":
            uid, _, gid = value.partition(":")
            options.user = (int(uid), int(gid))
        elif option == "--channel":
            options.channel = int(value)
        else:
            raise _UsageError(_USAGE)
    if len(args) < 2:
        raise _UsageError(_USAGE)
    options.command = args[1:]
    return options


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


class _DropError(Exception):
    pass


def _drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` for good, or raise :class:`_DropError`."""
    if uid == 0 or gid == 0:
        raise _DropError("refusing to run a command as root")
    # First, while we can still import what we need: our interpreter may live where ``uid``
    # cannot read (/root), and ``os.execvp`` imports ``warnings`` when it runs.
    import warnings  # noqa: F401

    if not _no_new_privs():
        raise _DropError("no_new_privs cannot be set: a set-uid program could regain root")
    try:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)  # clears every capability: we are no longer uid 0
    except OSError as error:
        raise _DropError(f"cannot switch to uid {uid}: {error}") from None
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid) or os.getgroups():
        raise _DropError(f"the switch to uid {uid} did not hold")
    try:
        os.setuid(0)
    except PermissionError:
        pass
    else:
        raise _DropError("root could be regained after the switch")


def _no_new_privs() -> bool:
    """Whether no_new_privs is set (bubblewrap sets it), setting it if need be."""
    if _status_field("NoNewPrivs") == "1":
        return True
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_NO_NEW_PRIVS, 1, 0, 0, 0)
    except (ImportError, OSError, AttributeError):
        return False
    return _status_field("NoNewPrivs") == "1"


def _status_field(name: str) -> str | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key == name:
                    return value.strip()
    except OSError:
        pass
    return None


def _switch_user(user: tuple[int, int] | None) -> int | None:
    """Switch to ``user`` if given; an exit status (125) if that fails, else None."""
    if user is not None:
        try:
            _drop_privileges(*user)
        except _DropError as error:
            print(f"sandbox launcher: {error}", file=sys.stderr)
            return 125
    return None


def _become(command: list[str], user: tuple[int, int] | None) -> int:
    """Switch to ``user`` if given, then become ``command``; return an exit status on failure."""
    failed = _switch_user(user)
    return failed if failed is not None else _execute(command)


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


def _supervise(command: list[str], user: tuple[int, int] | None, channel: int) -> int:
    os.set_inheritable(channel, False)  # the command and its children never see it
    # Only the command switches user: this process stays out of its reach (it cannot signal,
    # trace or read another uid's process), so the status it reports is the command's own.
    child = os.fork()
    if child == 0:
        try:
            os._exit(_become(command, user))
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
        options = _parse(args)
        for name, (soft, hard) in options.limits.items():
            _apply(name, soft, hard)
    except _UsageError as error:
        print(error, file=sys.stderr)
        return 125
    except (ValueError, TypeError, AttributeError, OSError) as error:
        print(f"sandbox launcher: cannot apply limits: {error}", file=sys.stderr)
        return 125
    # Ignored signals stay ignored across exec. Python ignores SIGPIPE and SIGXFSZ (without the
    # reset, ``yes | head`` would print "Broken pipe" errors instead of ending quietly), and a
    # shell's background job ignores SIGINT and SIGQUIT: the command starts with none ignored.
    for number in signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP}:
        if signal.getsignal(number) == signal.SIG_IGN:
            signal.signal(number, signal.SIG_DFL)
    if options.channel is None:
        failed = _switch_user(options.user)
        if failed is not None:
            return failed
        _die_with_parent()  # after the switch, which clears the request
        return _execute(options.command)
    # The channel's end-of-file does what PR_SET_PDEATHSIG would, for the whole process group
    # and through any wrapper, without importing ctypes (~4 ms of every command's start).
    return _supervise(options.command, options.user, options.channel)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
