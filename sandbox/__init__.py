"""Run untrusted commands on a private copy of a directory tree.

Each :class:`Sandbox` is a directory with its own copy of the source tree, home and temp
directory. Commands run there with an allow-listed environment, under the strongest
confinement this machine offers, chosen once per process and reported by :func:`protection`:

- bubblewrap when it works: the file system read-only outside the sandbox, ``/tmp`` and
  ``/run`` hidden, no network, an own pid namespace, no capabilities;
- else ``unshare``: no network and, where possible, an own pid namespace; writes outside the
  sandbox are not blocked;
- else nothing beyond the rest of this list.

A cgroup per command (v2, or the v1 ``memory`` and ``pids`` hierarchies, where writable) limits
the memory and the number of processes of the whole tree and lets every process be killed at
the end, even one that left the session with ``setsid()``; without it, rlimits per process and
the process group kill stand in. A deadline bounds every command.

This is containment for honest mistakes and careless or overeager code (runaway loops, memory
hogs, fork bombs, stray writes, network calls, leaked secrets). Commands can still read what we
can read, so it is not a boundary against a determined attacker with a kernel exploit.
"""

from sandbox._environment import clean_environment
from sandbox._process import Limits, Result, network_isolation_available
from sandbox._protection import Protection, protection
from sandbox._sandbox import Sandbox, default_parent

__all__ = [
    "Limits",
    "Protection",
    "Result",
    "Sandbox",
    "clean_environment",
    "default_parent",
    "network_isolation_available",
    "protection",
]
