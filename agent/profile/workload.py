"""What a workload command needs from outside the repository.

A ``--workload`` is a shell command run in a sandbox that sees the repository's copy and
little else: a script or data file it names elsewhere on the machine (``python
~/bench/run.py``, ``--input=/data/big.sql``) is not there, and the workload fails. The files
it names can be shown to the sandbox read-only, and only those: never the folders around them.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path


def outside_paths(command: str, repo: Path, cwd: Path) -> list[Path]:
    """The existing files ``command`` names (absolute, or relative to ``cwd``) that lie outside
    ``repo``, in the order named, without repeats.

    A token is a word of the shell command, or the value of one written ``NAME=value`` or
    ``--option=value``; ``~`` and ``$VARIABLES`` are not expanded (in the sandbox they name
    other places). A file named outside is given as named (absolute); a link inside the
    repository to a file outside it, as the file it leads to, since that is what must be seen.
    """
    roots = {os.path.abspath(repo), os.path.realpath(repo)}
    found: dict[Path, None] = {}
    for word in _words(command):
        for candidate in _path_candidates(word):
            named = os.path.normpath(os.path.join(os.path.abspath(cwd), candidate))
            if not os.path.isfile(named):
                continue
            real = os.path.realpath(named)
            if not any(_is_within(named, root) for root in roots):
                found.setdefault(Path(named))
            elif not any(_is_within(real, root) for root in roots):
                found.setdefault(Path(real))
    return list(found)


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _words(command: str) -> list[str]:
    """The shell words of ``command``, operators (``&&``, ``|``, ``>``) split off."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # an unclosed quote: the shell would refuse it too; words still tell
        return command.split()


def _path_candidates(word: str) -> list[str]:
    """``word`` itself, and the value of ``NAME=value`` or ``--option=value``."""
    candidates = [word] if word and not word.startswith("-") else []
    name, equals, value = word.partition("=")
    if equals and value and name:
        candidates.append(value)
    return candidates
