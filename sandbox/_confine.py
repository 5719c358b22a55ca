"""How commands are walled off from the rest of the machine: the strongest layer that works here.

1. ``bubblewrap``: the whole file system read-only except the sandbox's own directories;
   private ``/dev`` and ``/proc``, with the kernel's settings in ``/proc`` read-only; empty
   ``/tmp`` and ``/run``, and home directories, the sandbox's neighbours and whatever the
   caller names hidden, but for what the command needs; new pid, ipc, uts, cgroup and (unless
   network is allowed) network namespaces; no capabilities; killed with its caller. As root,
   the command runs as the unprivileged user ``nobody`` (see :attr:`Layer.user`); otherwise a
   user namespace maps it to our own, unprivileged, uid.
2. ``unshare``: a new user and network namespace and, where the kernel lets us, a pid namespace
   with its own ``/proc``. Writes outside the sandbox are not blocked, nothing is hidden, and
   as root the command keeps root's power over the host's files.
3. ``none``: the command runs as we do; only its environment, rlimits and cgroup confine it.

The layer is chosen once per process by running each candidate on ``true``.
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# The uid and gid commands run as when we are root: "nobody", which owns nothing of ours.
UNPRIVILEGED = 65534

_LAUNCHER = Path(__file__).with_name("_launch.py")


@dataclass(frozen=True)
class Layer:
    """One way of wrapping a command. ``wrap`` returns the full argv to execute."""

    name: str
    program: str | None = None
    # unshare only: the namespace flags that worked in the probe, network one excluded.
    flags: tuple[str, ...] = ()
    # bubblewrap as root only: the uid (and gid) the launcher switches the command to. Root
    # keeps its power over root-owned files in any namespace (a uid-0 write to
    # /proc/sys/kernel/core_pattern needs no capability), so the command must not be uid 0.
    # None where the command is unprivileged already (bubblewrap's user namespace maps it to
    # our own uid) or where it cannot be made so (unshare, none).
    user: int | None = None

    @property
    def blocks_writes(self) -> bool:
        return self.name == "bubblewrap"

    @property
    def hides_paths(self) -> bool:
        """Whether home directories and the paths callers name are hidden from the command."""
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
        hidden: Sequence[Path] = (),
        readable: Sequence[Path] = (),
    ) -> list[str]:
        """``argv`` wrapped in this layer; ``writable`` are the only directories bubblewrap
        leaves writable, ``env`` is the command's environment (its PYTHONPATH must be seen),
        ``hidden`` are files and directories bubblewrap hides besides home directories (but
        for what the command needs inside them), ``readable`` are shown read-only even inside
        hidden ones (another interpreter's environment, say; a path named in both stays
        hidden)."""
        if self.name == "bubblewrap":
            assert self.program is not None
            view = _View(cwd, writable, network, env or {}, hidden, self.user, readable)
            return [*_bubblewrap(self.program, view), "--", *argv]
        if self.name == "unshare":
            assert self.program is not None
            net = () if network else ("--net",)
            return [self.program, *self.flags, *net, "--", *argv]
        return list(argv)


# Hidden behind an empty tmpfs: other programs' temporary files, and the Unix sockets that
# live here (ssh-agent, X11, D-Bus, docker.sock), which a read-only mount would still let the
# command connect to. TMPDIR points into the sandbox, so only hard-coded paths notice; the
# temp directories stay writable (sticky, as usual) for those, but private to the command.
_HIDDEN = ("/tmp", "/run", "/var/run", "/dev/shm")
_SHARED_TEMP = ("/tmp", "/dev/shm")
# Home directories hold keys, tokens, shell history, other checkouts; the caller's HOME too
# (added per call, since it may live anywhere).
_HOMES = ("/home", "/root")

# Parts of /proc that act on the whole kernel. bubblewrap means to cover some of them, but only
# when it finds them writable, and as root with its capabilities dropped it wrongly finds them
# not (bwrap 0.8), which left /proc/sys/kernel/core_pattern writable by uid 0: a pipe handler
# written there runs as root on the host. These are bound read-only over its /proc (from ours:
# the same kernel settings), as Docker does.
_PROC_READ_ONLY = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs")
# And these are masked, as Docker masks them: kernel memory, keys, timers, hardware details.
_PROC_MASKED = (
    "/proc/kcore",
    "/proc/keys",
    "/proc/timer_list",
    "/proc/sched_debug",
    "/proc/latency_stats",
    "/proc/acpi",
    "/proc/asound",
    "/proc/scsi",
)


@dataclass(frozen=True)
class _View:
    """What one command should see of the file system, and who it runs as."""

    cwd: Path
    writable: Sequence[Path]
    network: bool
    env: Mapping[str, str]
    hidden: Sequence[Path]
    user: int | None
    readable: Sequence[Path] = ()


def _bubblewrap(program: str, view: _View) -> list[str]:
    # fmt: off
    args = [
        program,
        "--ro-bind", "/", "/",  # recursive: /sys and every other mount read-only too
        "--dev", "/dev",
        "--proc", "/proc",  # the /proc of the new pid namespace: our processes are invisible
        *_kernel_interfaces(),
    ]
    # fmt: on
    args += _mount_arguments(_plan(view))
    args += _namespaces(view.network, view.user)
    args += ["--chdir", str(view.cwd)]
    return args


@functools.cache
def _kernel_interfaces() -> tuple[str, ...]:
    args: list[str] = []
    for path in _PROC_READ_ONLY:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    for path in _PROC_MASKED:
        if os.path.isdir(path):
            args += ["--tmpfs", path, "--remount-ro", path]
        elif os.path.exists(path):
            args += ["--ro-bind", "/dev/null", path]
    return tuple(args)


def _namespaces(network: bool, user: int | None) -> list[str]:
    common = ["--die-with-parent", "--new-session"]  # --new-session: no TIOCSTI into our tty
    if user is None:
        # A user namespace mapping the command to our own uid, and no capabilities in it.
        net = ["--share-net"] if network else []
        return ["--unshare-all", *net, *common, "--cap-drop", "ALL"]
    # As root, no user namespace: in one, uid 0 would still be root to the host's files. The
    # launcher keeps CAP_SETUID and CAP_SETGID only to switch the command to ``user`` (and
    # bubblewrap sets no_new_privs, so no set-uid program gives them back); the command itself
    # has no capabilities at all.
    # fmt: off
    return [
        "--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try",
        *([] if network else ["--unshare-net"]),
        *common,
        "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
    ]
    # fmt: on


_HIDE, _SHOW, _WRITE, _DIRECTORY = "hide", "show", "write", "directory"


def _plan(view: _View) -> list[tuple[str, str]]:
    """The mounts that make ``view``, as ``(kind, path)`` in the order to apply them.

    Every path gets a rule: hidden (an empty tmpfs, or /dev/null for a file), shown read-only,
    or writable. Applied parents first, so the most specific rule wins: a needed interpreter
    (or a path the caller named readable) under a hidden home is shown, a hidden checkout under
    a shown directory stays hidden. A rule that changes nothing (shown where already visible,
    hidden inside a hidden directory) is left out; every mount costs time at each command's
    start. Inside a hidden directory the way to a mount is made first, world-traversable:
    bubblewrap itself would make it 0700, closed to an unprivileged command.
    """
    rules: dict[str, str] = {}
    needed = [*_needed(view.env, view.cwd, view.network), *_existing_forms(view.readable)]
    writable = [os.path.abspath(path) for path in view.writable]
    for path in needed:
        rules[path] = _SHOW
    for path in _hidden(view, [*needed, *writable]):
        rules[path] = _HIDE  # a path both hidden and needed stays hidden: the caller said so
    for path in writable:
        rules[path] = _WRITE
    plan: list[tuple[str, str]] = []
    applied: dict[str, str] = {}
    for path in sorted(rules, key=lambda path: PurePosixPath(path).parts):
        kind, (around, _) = rules[path], _enclosing(path, rules)
        if (kind == _SHOW and around != _HIDE) or (kind == _HIDE and around == _HIDE):
            continue
        mounted_on, way = _enclosing(path, applied)
        if mounted_on in (_HIDE, _DIRECTORY):  # inside an empty tmpfs, made by us
            plan += [(_DIRECTORY, step) for step in way]
            applied.update((step, _DIRECTORY) for step in way)
        plan.append((kind, path))
        applied[path] = kind
    return plan


def _enclosing(path: str, rules: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """The rule of the nearest directory above ``path`` that has one (None: ``/``, read-only),
    and the directories between the two, outermost first."""
    way: list[str] = []
    for parent in map(str, PurePosixPath(path).parents):
        if parent in rules:
            return rules[parent], way[::-1]
        way.append(parent)
    return None, way[::-1]


def _hidden(view: _View, reached: Sequence[str]) -> set[str]:
    """Everything to hide: the fixed lists, the caller's HOME and ``view.hidden`` (real paths, so
    a symlink cannot keep the target in view), and, when the command runs as ``view.user``,
    every directory that user could not pass through on the way to a path it needs: an empty
    tmpfs in its place has bubblewrap create the way there, world-traversable."""
    candidates = [*_HIDDEN, *_HOMES, os.path.expanduser("~")]
    candidates += [os.path.realpath(path) for path in view.hidden]
    if view.user is not None:
        candidates += _untraversable(reached)
    return {
        path
        for path in candidates
        if path != "/" and os.path.lexists(path) and not os.path.islink(path)
    }


def _untraversable(paths: Iterable[str]) -> set[str]:
    found = set()
    for path in paths:
        for parent in map(str, PurePosixPath(path).parents):
            try:
                mode = os.stat(parent).st_mode
            except OSError:
                continue
            if not mode & stat.S_IXOTH:
                found.add(parent)
    return found


def _mount_arguments(plan: Iterable[tuple[str, str]]) -> list[str]:
    args: list[str] = []
    for kind, path in plan:
        if kind == _WRITE:
            args += ["--bind", path, path]
        elif kind == _SHOW:
            args += ["--ro-bind-try", path, path]
        elif kind == _DIRECTORY:
            args += ["--perms", "0755", "--dir", path]
        elif os.path.isdir(path):
            sticky = ["--perms", "1777"] if path in _SHARED_TEMP else []
            args += [*sticky, "--tmpfs", path]
        else:
            args += ["--ro-bind", "/dev/null", path]
    return args


def _needed(env: Mapping[str, str], cwd: Path, network: bool) -> list[str]:
    """Paths the command needs to see, read-only: our Python and this package (the launcher),
    the import path we run with and the command's PYTHONPATH, its working directory, and the
    resolver configuration when it may use the network."""
    wanted = [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable)]
    wanted += [os.path.dirname(os.path.abspath(__file__)), str(cwd)]
    wanted += [entry for entry in sys.path if entry]
    wanted += [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]
    if network:
        wanted.append("/etc/resolv.conf")
    return _existing_forms(wanted)


def _existing_forms(paths: Iterable[str | Path]) -> list[str]:
    """Each path as given (absolute) and as it resolves, where it exists: a link to a
    directory needs its target shown too."""
    found = set()
    for path in paths:
        for form in {os.path.abspath(path), os.path.realpath(path)}:
            if os.path.exists(form):
                found.add(form)
    return sorted(found)


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
    user = UNPRIVILEGED if os.geteuid() == 0 else None
    layer = Layer("bubblewrap", program, user=user)
    probe = ["true"]
    if user is not None:  # the switch to ``user`` must work too, or this layer is no use
        launcher = [sys.executable, "-I", "-S", str(_LAUNCHER), "--user", f"{user}:{user}"]
        probe = [*launcher, "--", "true"]
    return layer if _probe(layer.wrap(probe, cwd=Path("/"))) else None


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
