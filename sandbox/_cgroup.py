"""A control group per command: a memory limit and a process limit for its whole tree, and a
way to kill every process in it, including those that left its session with ``setsid()``.

We only ever create children of our own cgroup (never touch a sibling or a parent), one per
command, and remove them when it ends. cgroup v2 is used when it offers both the memory and the
pids controllers to our children; otherwise the v1 ``memory`` and ``pids`` hierarchies, each
where it is mounted and writable. Where neither works, :func:`support` says so and the caller
falls back to per-process rlimits.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_MB = 1024 * 1024
_CONTROLLERS = ("memory", "pids")
_counter = itertools.count()

# How long to keep sweeping a cgroup for processes, and to wait for it to empty before rmdir.
_SWEEP_SECONDS = 5.0


@dataclass(frozen=True)
class Hierarchy:
    """Our own cgroup in one mounted hierarchy, and the controllers we may use under it."""

    version: int
    base: Path
    controllers: frozenset[str]


@dataclass(frozen=True)
class Support:
    hierarchies: tuple[Hierarchy, ...]

    def has(self, controller: str) -> bool:
        return any(controller in h.controllers for h in self.hierarchies)

    @property
    def version(self) -> int:
        return self.hierarchies[0].version


class CommandCgroup:
    """The cgroups (one per hierarchy) that one command runs in."""

    def __init__(self, directories: list[Path], version: int) -> None:
        self.directories = directories
        self.version = version

    @property
    def procs_files(self) -> list[Path]:
        return [d / "cgroup.procs" for d in self.directories]

    def pids(self) -> list[int]:
        """The processes in the command's cgroup (every hierarchy holds all of them)."""
        try:
            text = (self.directories[0] / "cgroup.procs").read_text()
        except OSError:
            return []
        return [int(line) for line in text.split()]

    def limits_hit(self) -> tuple[str, ...]:
        """Which limits stopped something: ``"memory"`` (the OOM killer ran), ``"pids"`` (a
        fork or clone failed)."""
        hit = []
        for directory in self.directories:
            if _event_count(directory, "memory.events", "oom_kill") or _event_count(
                directory, "memory.oom_control", "oom_kill"
            ):
                hit.append("memory")
            if _event_count(directory, "pids.events", "max"):
                hit.append("pids")
        return tuple(sorted(set(hit)))

    def peak_memory(self) -> int | None:
        """The most memory the command's processes held at once, in bytes, as the kernel
        counted it (v2 ``memory.peak``, v1 ``memory.max_usage_in_bytes``); ``None`` where
        no memory controller says."""
        for directory in self.directories:
            for name in ("memory.peak", "memory.max_usage_in_bytes"):
                try:
                    return int((directory / name).read_text().split()[0])
                except (OSError, ValueError, IndexError):
                    continue
        return None

    def kill(self) -> None:
        """SIGKILL every process in the cgroup, new ones included, until it is empty."""
        kill_file = self.directories[0] / "cgroup.kill"
        if self.version == 2 and kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")  # atomic in the kernel, forks cannot race it
                return
        # cgroup v1 has no cgroup.kill: sweep until nothing is left. A process forking between
        # our read and our kill is caught by the next sweep; the pids limit bounds the race.
        deadline = time.monotonic() + _SWEEP_SECONDS
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                _kill_if_member(pid, self.directories[0])
            time.sleep(0.001)

    def remove(self) -> None:
        """Kill what is left and delete the cgroups; an exiting process may hold them a moment."""
        self.kill()
        deadline = time.monotonic() + _SWEEP_SECONDS
        for directory in self.directories:
            while True:
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break  # leave it: an empty cgroup costs nothing, a hang costs a run
                    time.sleep(0.005)


def _kill_if_member(pid: int, directory: Path) -> None:
    """SIGKILL ``pid`` only while it is still in our cgroup: a pidfd pins the process, so a pid
    reused by someone else after we read ``cgroup.procs`` is never hit."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)  # no pidfd here: the reuse window is microseconds
        return
    try:
        if _cgroup_of(pid, directory):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except OSError:
        pass
    finally:
        os.close(pidfd)


def _cgroup_of(pid: int, directory: Path) -> bool:
    try:
        text = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False
    return any(line.endswith("/" + directory.name) for line in text.splitlines())


def _event_count(directory: Path, filename: str, key: str) -> int:
    try:
        text = (directory / filename).read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value) if value.strip().isdigit() else 0
    return 0


def create(support: Support, *, memory_mb: int | None, pids: int | None) -> CommandCgroup:
    """Make the command's cgroups and set its limits. Raises OSError if that fails."""
    name = f"sandbox-{os.getpid()}-{next(_counter)}-{secrets.token_hex(3)}"
    made: list[Path] = []
    try:
        for hierarchy in support.hierarchies:
            directory = hierarchy.base / name
            directory.mkdir()
            made.append(directory)
            _set_limits(hierarchy, directory, memory_mb=memory_mb, pids=pids)
    except OSError:
        CommandCgroup(made, support.version).remove()
        raise
    return CommandCgroup(made, support.version)


def _set_limits(
    hierarchy: Hierarchy, directory: Path, *, memory_mb: int | None, pids: int | None
) -> None:
    if memory_mb is not None and "memory" in hierarchy.controllers:
        amount = str(memory_mb * _MB)
        if hierarchy.version == 2:
            (directory / "memory.max").write_text(amount)
            # Swap would let a hog run on at disk speed instead of being stopped.
            _write_if_present(directory / "memory.swap.max", "0")
        else:
            (directory / "memory.limit_in_bytes").write_text(amount)
            # memsw is memory plus swap; equal to the memory limit, it leaves no swap.
            _write_if_present(directory / "memory.memsw.limit_in_bytes", amount)
    if pids is not None and "pids" in hierarchy.controllers:
        (directory / "pids.max").write_text(str(pids))


def _write_if_present(path: Path, text: str) -> None:
    if path.exists():
        path.write_text(text)


# --- finding what this machine offers -----------------------------------------------------------


@functools.cache
def support() -> Support | None:
    """The cgroup hierarchies we can make command cgroups in, probed once per process."""
    candidates = _v2_candidates() or _v1_candidates()
    usable = tuple(h for h in candidates if _works(h))
    for hierarchy in usable:
        _remove_stale(hierarchy.base)
    return Support(usable) if usable else None


def _remove_stale(base: Path) -> None:
    """Delete the empty cgroups that processes of ours left when they were killed outright.

    Only those whose creator is gone and that are a minute old: a live creator (perhaps in a
    pid namespace we cannot see) may be between ``mkdir`` and moving its command in. The kernel
    refuses to remove a cgroup that still holds a process.
    """
    for directory in base.glob("sandbox-*-*-*"):
        creator = directory.name.split("-")[1]
        if not creator.isdigit() or os.path.exists(f"/proc/{creator}"):
            continue
        with contextlib.suppress(OSError):
            if time.time() - directory.stat().st_mtime > 60:
                directory.rmdir()


def _mounts() -> Iterator[tuple[str, Path, str, set[str]]]:
    """(fs type, mount point, root within the hierarchy, super options) of cgroup mounts."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    for line in lines:
        fields = line.split()
        if "-" not in fields:
            continue
        after = fields[fields.index("-") + 1 :]
        if len(after) >= 3 and after[0] in ("cgroup", "cgroup2"):
            yield after[0], Path(fields[4]), fields[3], set(after[2].split(","))


def _own_cgroups() -> dict[str, str]:
    """Our cgroup path per v1 controller, and under ``""`` in the v2 hierarchy."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _inside(mount: Path, mount_root: str, path: str) -> Path | None:
    """Where our cgroup ``path`` appears under a hierarchy mounted at ``mount``."""
    root = mount_root.rstrip("/")
    if root and not (path == root or path.startswith(root + "/")):
        return None  # our cgroup is outside what this mount shows
    return mount / path[len(root) :].lstrip("/")


def _v2_candidates() -> list[Hierarchy]:
    own = _own_cgroups().get("")
    if own is None:
        return []
    for kind, mount, root, _ in _mounts():
        if kind != "cgroup2":
            continue
        base = _inside(mount, root, own)
        if base is None:
            continue
        try:
            offered = set((base / "cgroup.controllers").read_text().split())
        except OSError:
            continue
        if offered.issuperset(_CONTROLLERS) and _delegate(base):
            return [Hierarchy(2, base, frozenset(_CONTROLLERS))]
    return []


def _delegate(base: Path) -> bool:
    """Make sure our children get the controllers. Fails (EBUSY) when our own cgroup holds
    processes and is not the root: cgroup v2 puts processes only in leaves."""
    control = base / "cgroup.subtree_control"
    try:
        enabled = set(control.read_text().split())
        missing = [c for c in _CONTROLLERS if c not in enabled]
        if missing:
            control.write_text(" ".join(f"+{c}" for c in missing))
    except OSError:
        return False
    return True


def _v1_candidates() -> list[Hierarchy]:
    own = _own_cgroups()
    found = []
    for controller in _CONTROLLERS:
        for kind, mount, root, options in _mounts():
            if kind != "cgroup" or controller not in options or controller not in own:
                continue
            base = _inside(mount, root, own[controller])
            if base is not None:
                found.append(Hierarchy(1, base, frozenset({controller})))
                break
    return found


def _works(hierarchy: Hierarchy) -> bool:
    """Whether we can make a child here, set its limits and move a process into it."""
    if not os.access(hierarchy.base, os.W_OK):
        return False
    try:
        probe = create(Support((hierarchy,)), memory_mb=64, pids=64)
    except OSError:
        return False
    try:
        joined = subprocess.run(
            [_shell(), "-c", 'echo $$ > "$1"', "sh", str(probe.procs_files[0])],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
            check=False,
        )
        return joined.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        probe.remove()


def join_prefix(cgroup: CommandCgroup) -> list[str]:
    """A command prefix that moves the process into the cgroup before anything else runs.

    A shell is the cheapest way (~1 ms) to do that between ``fork`` and ``exec`` without
    ``preexec_fn``; it execs the rest, so the pid stays the same. It fails closed (125) if it
    cannot join, like the launcher does for rlimits.
    """
    script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
    return [_shell(), "-c", script, "sh", *map(str, cgroup.procs_files), "--"]


@functools.cache
def _shell() -> str:
    # By absolute path: Popen looks a bare name up in the *command's* PATH, which is theirs.
    return shutil.which("sh") or "/bin/sh"
