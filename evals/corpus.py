"""The task corpus: one directory per task under ``evals/tasks`` (see its README)."""

from __future__ import annotations

import fnmatch
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.domain import TargetRef
from agent.errors import UsageError
from evals.results import CLASS, MEMORY  # the kinds scored as the results say

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TASKS_DIR = Path(__file__).resolve().parent / "tasks"
KINDS = ("rules", "model", "none", MEMORY, CLASS)
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Task:
    name: str
    root: Path
    description: str
    target: str  # FILE::QUALNAME in the task's repo
    kind: str  # "rules", "model", "none", "memory" or "class"
    tags: tuple[str, ...]
    reference_speedup: float | None
    reference_memory_ratio: float | None = None  # kind "memory": the reference's peak ratio

    @property
    def objective(self) -> str:
        """What the agent is asked to improve, and the task is scored on: "time" or "memory"."""
        return MEMORY if self.kind == MEMORY else "time"

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

    def reference_files(self) -> dict[str, str]:
        """The reference's source files by their path in the repo; what running Python in the
        task's folders leaves there (``__pycache__``) is not part of it."""
        if self.reference is None:
            return {}
        return {
            path.relative_to(self.reference).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(self.reference.rglob("*"))
            if path.is_file() and "__pycache__" not in path.relative_to(self.reference).parts
        }

    @property
    def benchmark(self) -> str:
        """The benchmark file defining ``bench_case()``, relative to the repo."""
        found = sorted((self.repo / "benchmarks").glob("test_bench_*.py"))
        if not found:
            raise UsageError(f"task {self.name}: no benchmarks/test_bench_*.py")
        return found[0].relative_to(self.repo).as_posix()


def load_task(root: Path) -> Task:
    """The task at ``root``; :class:`UsageError` when its ``task.toml`` cannot make one."""
    try:
        task = _task(root, _read_meta(root))
    except (OSError, tomllib.TOMLDecodeError, KeyError) as error:
        raise UsageError(f"task {root.name}: bad task.toml: {error}") from None
    if task.kind not in KINDS:
        raise UsageError(f"task {root.name}: kind {task.kind!r} is not one of {', '.join(KINDS)}")
    return task


def load_task_checked(root: Path) -> tuple[Task | None, list[str]]:
    """The task at ``root`` and every problem with it as ``evals/tasks/README.md`` describes a
    task (its ``task.toml`` fields, and where its files are): empty when it is well formed.
    The task is ``None`` when ``task.toml`` cannot be read or lacks what makes one."""
    try:
        meta = _read_meta(root)
    except (OSError, tomllib.TOMLDecodeError) as error:
        return None, [f"task.toml: {error}"]
    problems = _layout_problems(root, meta)
    try:
        task: Task | None = _task(root, meta)
    except (KeyError, TypeError, AttributeError) as error:
        return None, [*problems, f"task.toml lacks {error}"]
    return task, problems


def _read_meta(root: Path) -> dict[str, Any]:
    return tomllib.loads((root / "task.toml").read_text(encoding="utf-8"))


def _task(root: Path, meta: dict[str, Any]) -> Task:
    return Task(
        name=meta["name"],
        root=root,
        description=meta.get("description", ""),
        target=meta["target"],
        kind=meta["kind"],
        tags=tuple(meta.get("tags", ())),
        reference_speedup=meta.get("reference", {}).get("speedup"),
        reference_memory_ratio=meta.get("reference", {}).get("memory_ratio"),
    )


def _layout_problems(root: Path, meta: dict[str, Any]) -> list[str]:
    return [*_field_problems(root, meta), *_file_problems(root, meta)]


def _field_problems(root: Path, meta: dict[str, Any]) -> list[str]:
    problems = []
    if not _NAME.match(root.name):
        problems.append("directory name is not kebab-case")
    if meta.get("name") != root.name:
        problems.append(f"name {meta.get('name')!r} is not the directory's")
    description = meta.get("description")
    if not isinstance(description, str) or not description.strip() or "\n" in description:
        problems.append("description must be one non-empty line")
    if meta.get("kind") not in KINDS:
        problems.append(f"kind {meta.get('kind')!r} is not one of {', '.join(KINDS)}")
    tags = meta.get("tags")
    if not (isinstance(tags, list) and tags and all(isinstance(t, str) for t in tags)):
        problems.append("tags must be a non-empty list of strings")
    target = str(meta.get("target", ""))
    try:
        ref = TargetRef.parse(target)
    except ValueError:
        problems.append(f"target {target!r} is not FILE::QUALNAME of a file in repo/")
    else:
        if not (root / "repo" / ref.path).is_file():
            problems.append(f"target {target!r} is not FILE::QUALNAME of a file in repo/")
    return problems


def _file_problems(root: Path, meta: dict[str, Any]) -> list[str]:
    problems = []
    repo = root / "repo"
    if not list((repo / "tests").glob("test_*.py")):
        problems.append("no visible tests (repo/tests/test_*.py)")
    if not list((repo / "benchmarks").glob("test_bench_*.py")):
        problems.append("no benchmark (repo/benchmarks/test_bench_*.py)")
    if not list((root / "hidden").glob("test_hidden_*.py")):
        problems.append("no hidden tests (hidden/test_hidden_*.py)")
    reference = meta.get("reference")
    if meta.get("kind") == "none":
        if (root / "reference").exists() or reference is not None:
            problems.append("a 'none' task has no reference/ and no [reference]")
    elif meta.get("kind") in KINDS:
        if not (root / "reference").is_dir():
            problems.append("no reference/")
        # Informational (the eval measures the reference itself), but the fallback when it cannot.
        for key in ("speedup", "memory_ratio") if meta["kind"] == MEMORY else ("speedup",):
            if not isinstance(reference, dict) or not isinstance(reference.get(key), float):
                problems.append(f"[reference] {key} (a float) is missing")
    return problems


def load_tasks(pattern: str = "*", tasks_dir: Path = TASKS_DIR) -> list[Task]:
    """The tasks whose names match the glob ``pattern`` (or one of several, comma-separated),
    by name."""
    globs = [part.strip() for part in pattern.split(",") if part.strip()]
    roots = sorted(p for p in tasks_dir.iterdir() if (p / "task.toml").is_file())
    tasks = [load_task(p) for p in roots if any(fnmatch.fnmatch(p.name, glob) for glob in globs)]
    if not tasks:
        raise UsageError(f"--tasks {pattern!r}: no task matches in {tasks_dir}")
    return tasks
