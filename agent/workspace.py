"""The private scratch area of one run: the current state of the code, and sandbox copies."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from sandbox import Limits, Sandbox, default_parent


class Workspace:
    """``state/`` holds the code as it stands (HEAD plus this run's winners); every command
    runs in a fresh sandbox copy of it, so ``state/`` itself never runs anything."""

    def __init__(self, limits: Limits = Limits()) -> None:  # noqa: B008 - frozen, shared safely
        self.limits = limits
        self.root = Path(tempfile.mkdtemp(prefix="evolver-"))
        self.state = self.root / "state"
        # Apart from the state: on /dev/shm when there is room, where a copy is ~10x faster.
        self.sandboxes = Path(tempfile.mkdtemp(prefix="evolver-sandboxes-", dir=default_parent()))

    def sandbox(self, name: str) -> Sandbox:
        return Sandbox.create(self.sandboxes, self.state, name=name, limits=self.limits)

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
