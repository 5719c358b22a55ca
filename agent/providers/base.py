"""The one interface every source of candidates implements."""

from __future__ import annotations

import hashlib
from typing import Protocol

from agent.domain import Candidate, Target


class Provider(Protocol):
    """Proposes faster versions of a target function.

    ``file_source`` is the current text of the target's file (with earlier winners applied).
    A provider returns at most ``limit`` candidates, each the new text of that file; it
    may return none. It never runs code: the verifier does, in a sandbox.
    """

    name: str

    def propose(self, target: Target, file_source: str, limit: int) -> list[Candidate]: ...


def candidate_id(target: Target, new_source: str) -> str:
    """A short stable id: the same edit of the same target always gets the same id."""
    digest = hashlib.sha256(f"{target.ref}\0{new_source}".encode()).hexdigest()
    return digest[:10]
