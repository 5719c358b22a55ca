"""What confinement is in force on this machine, in words a run can print once."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox import _cgroup, _confine


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

    def __str__(self) -> str:
        return "\n".join(self.lines)


def protection() -> Protection:
    """What :class:`~sandbox.Sandbox` commands (with the default ``network=False``) get here."""
    layer = _confine.choose()
    support = _cgroup.support()
    memory = support is not None and support.has("memory")
    pids = support is not None and support.has("pids")
    cgroup = f"cgroup v{support.version}" if support is not None else None
    return Protection(
        layer=layer.name,
        cgroup_version=None if support is None else support.version,
        writes_outside_blocked=layer.blocks_writes,
        network_blocked=layer.isolates_network,
        processes_isolated=layer.isolates_pids,
        memory_limited=memory,
        process_count_limited=pids,
        lines=(
            _filesystem(layer),
            _network(layer),
            _processes(layer, cgroup),
            f"memory: {cgroup} limit for the whole command"
            if memory
            else "memory: address-space rlimit per process (no cgroup memory control here)",
            f"process count: {cgroup} pids limit"
            if pids
            else "process count: not limited (no cgroup pids control here); "
            "the timeout and the final kill bound a fork bomb",
            "environment: an allow-list; API keys and tokens are not passed on",
        ),
    )


def _filesystem(layer: _confine.Layer) -> str:
    if layer.blocks_writes:
        return "filesystem: read-only outside the sandbox, /tmp and /run hidden (bubblewrap)"
    return (
        "filesystem: writes outside the sandbox are NOT blocked (no bubblewrap); "
        "commands can change whatever this user can"
    )


def _network(layer: _confine.Layer) -> str:
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
