"""Run untrusted commands on a private copy of a directory tree.

Each :class:`Sandbox` is a directory with its own copy of the source tree, home and temp
directory. Commands run there in their own process group (killed whole at the end), under
``setrlimit`` limits, with an allow-listed environment and, where the kernel allows, no network.

This is containment for honest mistakes and careless code (runaway loops, memory hogs, stray
writes, accidental network calls, leaked secrets), not a security boundary against a determined
attacker: commands still see the rest of the file system with our permissions.
"""

from sandbox._environment import clean_environment
from sandbox._process import Limits, Result, network_isolation_available
from sandbox._sandbox import Sandbox

__all__ = ["Limits", "Result", "Sandbox", "clean_environment", "network_isolation_available"]
