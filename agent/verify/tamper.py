"""Notice when code under test edits the files that judge it.

A candidate's code runs in every stage (import, tests, timing), inside its own copy of the
project; from there it could rewrite a test, a conftest or the configuration to pass. A
snapshot of every file's identity, taken before and compared after each stage, catches that:
``st_ctime`` changes with any write, rename or ``utime``, and no process can set it back.
New files count too when Python or pytest would pick them up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Created by a run, harmless: byte code and caches. Anything else new that Python or pytest
# would load (a module shadowing a dependency, a conftest, a .pth file) is tampering.
_IGNORED_DIRS = {"__pycache__", ".pytest_cache", ".hypothesis", ".benchmarks"}
_LOADED_SUFFIXES = (".py", ".pth", ".pyc", ".cfg", ".ini", ".toml", ".so")

Identity = tuple[int, int, int, int]  # inode, size, mtime, ctime


@dataclass(frozen=True)
class Snapshot:
    root: Path
    files: dict[str, Identity]

    @classmethod
    def take(cls, root: Path) -> Snapshot:
        return cls(root, _scan(root))

    def changes(self) -> list[str]:
        """Files changed, removed or (if loadable) added since the snapshot, sorted."""
        now = _scan(self.root)
        changed = {path for path, identity in self.files.items() if now.get(path) != identity}
        added = {p for p in now.keys() - self.files.keys() if p.endswith(_LOADED_SUFFIXES)}
        return sorted(changed | added)


def _scan(root: Path) -> dict[str, Identity]:
    files: dict[str, Identity] = {}
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [d for d in subdirectories if d not in _IGNORED_DIRS]
        for name in names:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            try:
                info = os.lstat(path)
            except OSError:
                continue
            files[relative] = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    return files
