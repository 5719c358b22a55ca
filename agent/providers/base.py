"""The one interface every source of candidates implements."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from agent.domain import Candidate, Outcome, Target


@dataclass(frozen=True)
class ProposalRequest:
    """What a provider is asked: faster versions of ``target``.

    ``file_source`` is the current text of the target's file (with earlier winners applied);
    ``history`` holds the earlier candidates for this target with their verdicts, so that a
    round can learn from the last; ``tests`` are the pytest node ids that reach the target,
    readable under ``repo_root`` (a copy of the repository).
    """

    target: Target
    file_source: str
    limit: int
    history: tuple[Outcome, ...] = ()
    tests: tuple[str, ...] = ()
    repo_root: Path | None = None


class Provider(Protocol):
    """Proposes at most ``request.limit`` candidates, each the new text of the target's file.

    It may return none. It never runs code: the verifier does, in a sandbox.
    """

    name: str

    def propose(self, request: ProposalRequest) -> list[Candidate]: ...


def candidate_id(target: Target, new_source: str) -> str:
    """A short stable id: the same edit of the same target always gets the same id."""
    digest = hashlib.sha256(f"{target.ref}\0{new_source}".encode()).hexdigest()
    return digest[:10]
