"""Run untrusted commands on a private copy of a directory tree.

Each :class:`Sandbox` is a directory with its own copy of the source tree, home and temp
directory. Commands run there with an allow-listed environment, under the strongest
confinement this machine offers, chosen once per process and reported by :func:`protection`:

- bubblewrap when it works: the file system read-only outside the sandbox; ``/tmp``,
  ``/run``, home directories, neighbouring sandboxes and the paths the caller names hidden
  (but for what the command needs: the interpreter, its ``PYTHONPATH``, and the paths the
  caller names readable, shown read-only); the kernel's settings
  (``/proc/sys``, ``/sys``) read-only; no network, an own pid namespace, no capabilities; and,
  when we are root, the command runs as ``nobody`` (uid 65534), to which the sandbox tree is
  handed over;
- else ``unshare``: no network and, where possible, an own pid namespace; writes outside the
  sandbox are not blocked, nothing is hidden, and as root the command is root on the host;
- else nothing beyond the rest of this list.

A cgroup per command (v2, or the v1 ``memory`` and ``pids`` hierarchies, where writable) limits
the memory and the number of processes of the whole tree and lets every process be killed at
the end, even one that left the session with ``setsid()``; without it, rlimits per process and
the process group kill stand in. A deadline bounds every command.

This is containment for careless, overeager and hostile code (runaway loops, memory hogs, fork
bombs, stray writes, network calls, secrets in files and the environment, writes to kernel
settings). :func:`protection` checks the parts that matter most from inside, once per process.
Under bubblewrap commands can still read the rest of the file system that ``nobody`` (or we,
when not root) can read; it is not a boundary against a kernel exploit.
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
