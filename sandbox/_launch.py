"""Apply resource limits, then become the command: ``_launch.py LIMITS_JSON -- COMMAND [ARG...]``.

The parent cannot use ``preexec_fn`` (unsafe when the parent has threads), so this tiny
program runs between ``fork`` and the real command instead. It is run by file path as
``python -I -S _launch.py``: it imports nothing but the standard library, so it works whatever
the child's ``PYTHONPATH`` is, and neither the child's environment, ``.pth`` files nor a
``json.py`` in the working directory can change what it does.

``LIMITS_JSON`` maps ``resource`` constant names to ``[soft, hard]``, e.g.
``{"RLIMIT_AS": [1073741824, 1073741824]}``. Exit status follows ``env``/``timeout``: 125 when
the limits cannot be applied (fail closed: the command never runs unconfined), 126 when the
command cannot be executed, 127 when it is not found.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys


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
    """Ask Linux to SIGKILL the command when the process that started it dies, even by
    SIGKILL, so that no sandboxed command outlives its caller. Best effort elsewhere."""
    try:
        import ctypes

        parent = os.getppid()
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the request took effect
            os.kill(os.getpid(), signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def main(args: list[str]) -> int:
    if len(args) < 3 or args[1] != "--":
        print("usage: _launch.py LIMITS_JSON -- COMMAND [ARG...]", file=sys.stderr)
        return 125
    try:
        for name, (soft, hard) in json.loads(args[0]).items():
            _apply(name, int(soft), int(hard))
    except (ValueError, TypeError, AttributeError, OSError) as error:
        print(f"sandbox launcher: cannot apply limits: {error}", file=sys.stderr)
        return 125
    # Python ignores SIGPIPE and SIGXFSZ, and ignored signals stay ignored across exec: without
    # this, ``yes | head`` would print "Broken pipe" errors instead of ending quietly.
    for number in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(number, signal.SIG_DFL)
    _die_with_parent()
    command = args[2:]
    try:
        os.execvp(command[0], command)
    except FileNotFoundError:
        print(f"sandbox launcher: command not found: {command[0]}", file=sys.stderr)
        return 127
    except OSError as error:
        print(f"sandbox launcher: cannot execute {command[0]}: {error}", file=sys.stderr)
        return 126
    return 126  # not reached: execvp returns only by raising


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
