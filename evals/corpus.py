"""The task corpus: one directory per task under ``evals/tasks`` (see its README)."""

from __future__ import annotations

import fnmatch
import sys
from dataclasses import dataclass
from pathlib import Path

from agent.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TASKS_DIR = Path(__file__).resolve().parent / "tasks"
KINDS = ("rules", "model", "none")


@dataclass(frozen=True)
class Task:
    name: str
    root: Path
    description: str
    target: str  # FILE::QUALNAME in the task's repo
    kind: str  # "rules", "model" or "none"
    tags: tuple[str, ...]
    reference_speedup: float | None

    @property
    def repo(self) -> Path:
        """What the agent sees."""
        return self.root / "repo"

    @property
    def hidden(self) -> Path:
        """Tests the agent never sees."""
        return self.root / "hidden"

    @property
    def reference(self) -> Path | None:
        """The optimized files, at their paths in the repo; ``None`` for kind "none"."""
        path = self.root / "reference"
        return path if path.is_dir() else None

    @property
    def benchmark(self) -> str:
        """The benchmark file defining ``bench_case()``, relative to the repo."""
        found = sorted((self.repo / "benchmarks").glob("test_bench_*.py"))
        if not found:
            raise UsageError(f"task {self.name}: no benchmarks/test_bench_*.py")
        return found[0].relative_to(self.repo).as_posix()


def load_task(root: Path) -> Task:
    try:
        meta = tomllib.loads((root / "task.toml").read_text(encoding="utf-8"))
        task = Task(
            name=meta["name"],
            root=root,
            description=meta.get("description", ""),
            target=meta["target"],
            kind=meta["kind"],
            tags=tuple(meta.get("tags", ())),
            reference_speedup=meta.get("reference", {}).get("speedup"),
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError) as error:
        raise UsageError(f"task {root.name}: bad task.toml: {error}") from None
    if task.kind not in KINDS:
        raise UsageError(f"task {root.name}: kind {task.kind!r} is not one of {', '.join(KINDS)}")
    return task


def load_tasks(pattern: str = "*", tasks_dir: Path = TASKS_DIR) -> list[Task]:
    """The tasks whose names match the glob ``pattern``, by name."""
    roots = sorted(p for p in tasks_dir.iterdir() if (p / "task.toml").is_file())
    tasks = [load_task(p) for p in roots if fnmatch.fnmatch(p.name, pattern)]
    if not tasks:
        raise UsageError(f"--tasks {pattern!r}: no task matches in {tasks_dir}")
    return tasks
