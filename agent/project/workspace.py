"""The private scratch area of one run: the current state of the code, and sandbox copies.

``Workspace.for_commit`` is the one way a commit of the user's repository is measured (by
``evolver run``, ``profile``, ``prompt``, ``watch``), and ``limits_of`` the one place the
settings of a run become the limits of its commands: so every command honours them alike.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import git

from agent.config import RunConfig
from agent.record import gitops
from sandbox import Limits, Sandbox, default_parent


def limits_of(config: RunConfig) -> Limits:
    """The limits of every command a run with ``config`` starts in a sandbox."""
    return Limits(memory_mb=config.memory_mb)


class Workspace:
    """``state/`` holds the code as it stands (HEAD plus this run's winners); every command
    runs in a fresh sandbox copy of it, so ``state/`` itself never runs anything.

    Commands see neither ``state/`` nor the paths in ``hidden`` (the user's real checkout),
    where the sandbox can hide paths, but for the paths in ``readable``, which they may read
    wherever they are (the project's interpreter and its environment, a venv inside that
    checkout). Every directory name is tempfile's own, like any program's scratch space:
    nothing in a command's paths says "Evolver" or "sandbox".
    """

    def __init__(
        self,
        limits: Limits = Limits(),  # noqa: B008 - frozen, shared safely
        hidden: Sequence[Path] = (),
        readable: Sequence[Path] = (),
    ) -> None:
        self.limits = limits
        self.root = Path(tempfile.mkdtemp())
        self.state = self.root / "state"
        # Apart from the state: on /dev/shm when there is room, where a copy is ~10x faster.
        self.sandboxes = Path(tempfile.mkdtemp(dir=default_parent()))
        self.hidden = (self.root, *hidden)
        self.readable = tuple(readable)

    @classmethod
    def for_commit(
        cls, repo: git.Repo, commit: str, limits: Limits, readable: Sequence[Path] = ()
    ) -> Workspace:
        """A workspace whose state is the tree of ``commit``; its commands get ``limits`` and
        do not see the repository (``_repository_paths``). ``limits`` has no default: a
        command run with limits other than the run's is measured under conditions the user
        did not choose."""
        workspace = cls(limits, hidden=_repository_paths(repo), readable=readable)
        try:
            gitops.export_tree(repo, commit, workspace.state)
        except BaseException:
            workspace.close()
            raise
        return workspace

    def sandbox(self, name: str) -> Sandbox:
        """A fresh copy of the state. ``name`` is for the reader of the calling code only: the
        copy gets an anonymous name, which is what commands see as their working directory."""
        del name
        return Sandbox.create(
            self.sandboxes,
            self.state,
            limits=self.limits,
            hidden=self.hidden,
            readable=self.readable,
        )

    def show(self, paths: Sequence[Path]) -> None:
        """Let the commands of sandboxes made from now on read ``paths`` too: the project's
        interpreter is known only once the run has its workspace."""
        self.readable = tuple(dict.fromkeys([*self.readable, *paths]))

    def folder(self) -> Path:
        """A new directory of this run's own, hidden like ``state/`` but for what a command is
        shown of it (through ``PYTHONPATH``, say), readable by whoever commands run as."""
        made = Path(tempfile.mkdtemp(dir=self.root))
        made.chmod(0o755)
        return made

    def update(self, files: dict[str, str]) -> None:
        """Apply a winner to the state."""
        for path, text in files.items():
            (self.state / path).write_text(text, encoding="utf-8")

    def close(self) -> None:
        shutil.rmtree(self.sandboxes, ignore_errors=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _repository_paths(repo: git.Repo) -> tuple[Path, ...]:
    """The user's checkout, the repository's git directory and its other worktrees: a linked
    worktree keeps its git directory (every branch, every object) outside its checkout."""
    listed = repo.git.worktree("list", "--porcelain").splitlines()
    worktrees = [
        Path(line.removeprefix("worktree ")) for line in listed if line.startswith("worktree ")
    ]
    return (Path(str(repo.working_tree_dir)), Path(repo.common_dir).resolve(), *worktrees)
