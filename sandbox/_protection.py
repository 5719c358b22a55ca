"""What confinement is in force on this machine, in words a run can print once.

The parts that matter most against hostile code (which user commands run as, whether they can
change the kernel's settings, whether they can read our home directory) are not inferred from
the layer: a tiny probe command checks them from inside, once per process and layer.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sandbox import _cgroup, _confine

_SHOUTED = re.compile(r"\b(NOT|ROOT|WRITABLE|VISIBLE)\b")


@dataclass(frozen=True)
class Protection:
    """The protection commands get here. ``str()`` gives one line per aspect."""

    layer: str  # "bubblewrap", "unshare" or "none"
    cgroup_version: int | None  # the cgroup version per-command cgroups use, if any
    writes_outside_blocked: bool
    network_blocked: bool
    processes_isolated: bool  # own pid namespace: our processes are invisible to commands
    memory_limited: bool  # for the whole command tree (cgroup), not per process
    process_count_limited: bool
    lines: tuple[str, ...]
    # Checked from inside, by a probe command run the way every command is:
    # the uid commands have on the host (None if the probe failed), and whether it is not root;
    host_uid: int | None = None
    runs_unprivileged: bool = False
    # no kernel setting (/proc/sys, /proc/sysrq-trigger, /sys) could be opened for writing;
    kernel_settings_read_only: bool = False
    # a file planted in our HOME could not be read; and one planted in /tmp could not either.
    homes_hidden: bool = False
    tmp_hidden: bool = False

    def __str__(self) -> str:
        return "\n".join(self.lines)

    @property
    def weaknesses(self) -> tuple[str, ...]:
        """The lines that say something does not hold here (they shout it in capitals)."""
        return tuple(line for line in self.lines if _SHOUTED.search(line))


def protection() -> Protection:
    """What :class:`~sandbox.Sandbox` commands (with the default ``network=False``) get here."""
    layer = _confine.choose()
    findings = _probe(layer)
    support = _cgroup.support()
    memory = support is not None and support.has("memory")
    pids = support is not None and support.has("pids")
    cgroup = f"cgroup v{support.version}" if support is not None else None
    return Protection(
        layer=layer.name,
        cgroup_version=None if support is None else support.version,
        writes_outside_blocked=layer.blocks_writes,
        network_blocked=layer.isolates_network and not findings.interfaces,
        processes_isolated=layer.isolates_pids,
        memory_limited=memory,
        process_count_limited=pids,
        lines=(
            _filesystem(layer, findings),
            _network(layer, findings),
            _processes(layer, cgroup),
            f"memory: {cgroup} limit for the whole command"
            if memory
            else "memory: address-space rlimit per process (no cgroup memory control here)",
            f"process count: {cgroup} pids limit"
            if pids
            else "process count: not limited (no cgroup pids control here); "
            "the timeout and the final kill bound a fork bomb",
            "environment: an allow-list; API keys and tokens are not passed on",
            *findings.lines(),
        ),
        host_uid=findings.host_uid,
        runs_unprivileged=findings.host_uid not in (None, 0),
        kernel_settings_read_only=findings.ran and not findings.kernel_writable,
        homes_hidden=findings.home_read is False,
        tmp_hidden=findings.tmp_read is False,
    )


# Opening a kernel setting for writing changes nothing; writing to it would. Run with ``-I -S``.
_PROBE = r"""
import os, socket, sys
def opens(path, flags):
    try:
        os.close(os.open(path, flags | os.O_NOFOLLOW))
    except OSError:
        return False
    return True
print("uid", os.getuid())
for path in sys.argv[3:]:
    if os.path.exists(path) and opens(path, os.O_WRONLY):
        print("writable", path)
for name, path in (("home", sys.argv[1]), ("tmp", sys.argv[2])):
    print(name, "-" if path == "-" else "read" if opens(path, os.O_RDONLY) else "refused")
print("interfaces", *[name for _, name in socket.if_nameindex() if name != "lo"])
"""

_KERNEL_SETTINGS = (
    "/proc/sys/kernel/core_pattern",  # a pipe handler here runs as root on the host
    "/proc/sys/kernel/modprobe",
    "/proc/sysrq-trigger",
    "/sys/kernel/uevent_helper",
    "/sys/kernel/mm/transparent_hugepage/enabled",
)


@dataclass(frozen=True)
class _Findings:
    ran: bool
    failure: str = ""
    host_uid: int | None = None
    kernel_writable: tuple[str, ...] = ()
    home: str | None = None  # where the planted file was, if one could be planted
    home_read: bool | None = None  # None: not checked
    tmp_read: bool | None = None
    interfaces: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        if not self.ran:
            return [f"checked from inside: the probe command failed ({self.failure})"]
        return [self._user(), self._kernel(), self._homes()]

    def _user(self) -> str:
        if self.host_uid == 0:
            return "user: commands run as ROOT on the host (only bubblewrap switches to nobody)"
        return f"user: commands run as uid {self.host_uid} on the host, not root"

    def _kernel(self) -> str:
        if self.kernel_writable:
            shown = ", ".join(self.kernel_writable)
            return f"kernel settings: WRITABLE from inside ({shown}): a way out as root"
        return "kernel settings: read-only (/proc/sys, /proc/sysrq-trigger, /sys)"

    def _homes(self) -> str:
        if self.home_read is None:
            return "home directories: not checked (no file could be planted in our HOME)"
        if self.home_read:
            return f"home directories: VISIBLE: a file planted in {self.home} was readable"
        return f"home directories: hidden (a file planted in {self.home} was not readable)"


@functools.cache
def _probe(layer: _confine.Layer) -> _Findings:
    """Run the probe under ``layer`` (as a sandbox command, so through every other step too)."""
    from sandbox._sandbox import Sandbox  # here: the sandbox module reports protection itself

    with (
        tempfile.TemporaryDirectory() as scratch,
        _planted(Path.home()) as home_file,
        _planted(Path("/tmp")) as tmp_file,
    ):
        (Path(scratch) / "empty").mkdir()
        with Sandbox.create(Path(scratch) / "boxes", Path(scratch) / "empty") as box:
            planted = [str(home_file or "-"), str(tmp_file or "-")]
            argv = [sys.executable, "-I", "-S", "-c", _PROBE, *planted, *_KERNEL_SETTINGS]
            result = box.run(argv, timeout=30)
    if not result.ok:
        return _Findings(ran=False, failure=result.last_line())
    seen = {line.split(" ", 1)[0]: line.split(" ")[1:] for line in result.stdout.splitlines()}
    uid = int(seen["uid"][0])
    if uid == 0 and "--map-root-user" in layer.flags:
        uid = os.geteuid()  # root only inside the user namespace: our own uid outside
    writable = [line.split(" ", 1)[1] for line in result.stdout.splitlines() if "writable" in line]
    return _Findings(
        ran=True,
        host_uid=uid,
        kernel_writable=tuple(writable),
        home=str(Path.home()) if home_file else None,
        home_read=None if home_file is None else seen["home"] == ["read"],
        tmp_read=None if tmp_file is None else seen["tmp"] == ["read"],
        interfaces=tuple(seen.get("interfaces", [])),
    )


@contextlib.contextmanager
def _planted(directory: Path) -> Iterator[Path | None]:
    """A file readable by anyone in ``directory`` for the probe to look for, removed after;
    None where none can be made."""
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".")
    except OSError:
        yield None
        return
    try:
        os.fchmod(fd, 0o644)  # so only hiding, not the file's own mode, can keep it unread
        os.close(fd)
        yield Path(name)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _filesystem(layer: _confine.Layer, findings: _Findings) -> str:
    if layer.blocks_writes:
        hidden = "/tmp" if findings.tmp_read is False else "(but /tmp is NOT hidden)"
        return (
            "filesystem: read-only outside the sandbox; "
            f"{hidden}, /run, home directories and other sandboxes hidden (bubblewrap)"
        )
    return (
        "filesystem: writes outside the sandbox are NOT blocked (no bubblewrap); "
        "commands can change whatever this user can, and read our home directory"
    )


def _network(layer: _confine.Layer, findings: _Findings) -> str:
    if layer.isolates_network and findings.interfaces:
        return f"network: NOT blocked: the command saw {', '.join(findings.interfaces)}"
    if layer.isolates_network:
        return f"network: none (network namespace, {layer.name})"
    return "network: NOT blocked (no network namespace can be made here)"


def _processes(layer: _confine.Layer, cgroup: str | None) -> str:
    killed = "the process group" + (f" and the {cgroup}" if cgroup else "")
    if layer.isolates_pids:
        return f"processes: own pid namespace ({layer.name}); all killed at the end with it"
    return (
        f"processes: share our pid namespace (can see our processes); {killed} killed at the end"
        + ("" if cgroup else " (a descendant that calls setsid() can escape)")
    )
