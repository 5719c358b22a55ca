"""How commands are walled off from the rest of the machine: the strongest layer that works here.

1. ``bubblewrap``: the whole file system read-only except the sandbox's own directories;
   private ``/dev`` and ``/proc``; empty ``/tmp`` and ``/run`` but for what the command needs;
   new user, pid, ipc, uts, cgroup and (unless network is allowed) network namespaces; no
   capabilities; killed with its caller.
2. ``unshare``: a new user and network namespace and, where the kernel lets us, a pid namespace
   with its own ``/proc``. Writes outside the sandbox are not blocked.
3. ``none``: the command runs as we do; only its environment, rlimits and cgroup confine it.

The layer is chosen once per process by running each candidate on ``true``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layer:
    """One way of wrapping a command. ``wrap`` returns the full argv to execute."""

    name: str
    program: str | None = None
    # unshare only: the namespace flags that worked in the probe, network one excluded.
    flags: tuple[str, ...] = ()

    @property
    def blocks_writes(self) -> bool:
        return self.name == "bubblewrap"

    @property
    def isolates_network(self) -> bool:
        return self.name != "none"

    @property
    def isolates_pids(self) -> bool:
        return self.name == "bubblewrap" or "--pid" in self.flags

    def wrap(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        writable: Sequence[Path] = (),
        network: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> list[str]:
        """``argv`` wrapped in this layer; ``writable`` are the only directories bubblewrap
        leaves writable, ``env`` is the command's environment (its PYTHONPATH must be seen)."""
        if self.name == "bubblewrap":
            assert self.program is not None
            wrapper = _bubblewrap(self.program, cwd, writable, network, env or {})
            return [*wrapper, "--", *argv]
        if self.name == "unshare":
            assert self.program is not None
            net = () if network else ("--net",)
            return [self.program, *self.flags, *net, "--", *argv]
        return list(argv)


# Hidden behind an empty tmpfs: other programs' temporary files, and the Unix sockets that
# live here (ssh-agent, X11, D-Bus, docker.sock), which a read-only mount would still let the
# command connect to. TMPDIR points into the sandbox, so only hard-coded paths notice.
_HIDDEN = ("/tmp", "/run", "/var/run")


def _bubblewrap(
    program: str, cwd: Path, writable: Sequence[Path], network: bool, env: Mapping[str, str]
) -> list[str]:
    # fmt: off
    args = [
        program,
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",  # the /proc of the new pid namespace: our processes are invisible
    ]
    # fmt: on
    for hidden in _HIDDEN:
        if os.path.isdir(hidden) and not os.path.islink(hidden):
            args += ["--tmpfs", hidden]
    for needed in _needed(env, cwd, network):
        args += ["--ro-bind-try", needed, needed]
    for path in writable:
        # Last, so a sandbox living under /tmp or /dev/shm is bound back on top.
        args += ["--bind", str(path), str(path)]
    # fmt: off
    args += [
        "--unshare-all",  # user, pid, ipc, uts, cgroup and network namespaces
        *(["--share-net"] if network else []),
        "--die-with-parent",
        "--new-session",  # no TIOCSTI: cannot type into our terminal
        # Essential when we are root: with capabilities left, code inside could remount / rw.
        "--cap-drop", "ALL",
        "--chdir", str(cwd),
    ]
    # fmt: on
    return args


def _needed(env: Mapping[str, str], cwd: Path, network: bool) -> list[str]:
    """Paths under the hidden directories the command needs to see, read-only: our Python and
    this package (the launcher), the import path we run with and the command's PYTHONPATH, its
    working directory, and the resolver configuration when it may use the network."""
    wanted = [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable)]
    wanted += [os.path.dirname(os.path.abspath(__file__)), str(cwd)]
    wanted += [entry for entry in sys.path if entry]
    wanted += [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]
    if network:
        wanted.append("/etc/resolv.conf")
    found = []
    for path in wanted:
        for form in {os.path.abspath(path), os.path.realpath(path)}:
            if any(_under(form, hidden) for hidden in _HIDDEN) and os.path.exists(form):
                found.append(form)
    return sorted(set(found))


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory + "/")


_NONE = Layer("none")


def _probe(argv: Sequence[str]) -> bool:
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _bubblewrap_layer() -> Layer | None:
    program = shutil.which("bwrap")
    if program is None:
        return None
    layer = Layer("bubblewrap", program)
    return layer if _probe(layer.wrap(["true"], cwd=Path("/"))) else None


def _unshare_layer() -> Layer | None:
    program = shutil.which("unshare")
    if program is None:
        return None
    # ``--user`` (map us to root) first even as root: inside a new user namespace capabilities
    # apply only there, so the command cannot join the host's network namespace again or raise
    # its hard rlimits, which a real root under plain ``--net`` could. Without it is the fallback
    # where user namespaces are disabled but we are privileged. ``--kill-child`` ties the pid
    # namespace to unshare; ``--mount-proc`` gives it a /proc that shows only its processes.
    pid = ("--pid", "--fork", "--kill-child", "--mount-proc")
    for flags in (("--map-root-user", *pid), ("--map-root-user",), pid, ()):
        layer = Layer("unshare", program, flags)
        if _probe(layer.wrap(["true"], cwd=Path("/"))):
            return layer
    return None


@functools.cache
def available() -> tuple[Layer, ...]:
    """Every layer that works here, strongest first; ``none`` always works."""
    return tuple(
        layer for layer in (_bubblewrap_layer(), _unshare_layer(), _NONE) if layer is not None
    )


def choose() -> Layer:
    """The layer commands run under: the strongest available (tests and benchmarks may
    replace this function to try the others)."""
    return available()[0]
