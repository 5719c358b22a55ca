"""The one interface every source of candidates implements."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from agent.domain import Candidate, Outcome, Target

NEEDS = "needs"  # the key of a candidate's provenance that lists its needs (see ``Need``)


@dataclass(frozen=True)
class ProposalRequest:
    """What a provider is asked: faster versions of ``target`` (or leaner, for ``objective``).

    ``file_source`` is the current text of the target's file (with earlier winners applied);
    ``history`` holds the earlier candidates for this target with their verdicts, so that a
    round can learn from the last; ``tests`` are the pytest node ids that reach the target,
    readable under ``repo_root`` (a copy of the repository): none in the first round, which is
    asked before any call is recorded (so that targets no provider has anything for are
    never recorded).
    """

    target: Target
    file_source: str
    limit: int
    history: tuple[Outcome, ...] = ()
    tests: tuple[str, ...] = ()
    repo_root: Path | None = None
    round_number: int = 0  # 0 for the first round of this target
    objective: str = "time"  # "memory" or "both": what the candidates must improve


class ProviderFailed(Exception):
    """Raised by ``propose`` when the provider gave up on this request (retries exhausted, a bad
    response, its budget spent): the run notes the message and goes on with the next target."""


class TargetSkipped(Exception):
    """Raised by ``propose`` when the provider cannot work on this target at all (it does not
    fit a model's prompt, say): the run notes the message and goes on with the next target."""


class Provider(Protocol):
    """Proposes at most ``request.limit`` candidates, each the new text of the target's file.

    It may return none. It never runs code: the verifier does, in a sandbox. It raises
    ``TargetSkipped`` for a target it cannot work on, and ``ProviderFailed`` when it failed
    this time.

    A candidate that can only pay off on some calls says so in ``provenance["needs"]`` (a list
    of ``Need.as_json()``): the run drops it, with a note, when the recorded calls show none.
    """

    name: str

    def propose(self, request: ProposalRequest) -> list[Candidate]: ...


def candidate_id(target: Target, new_source: str) -> str:
    """A short stable id: the same edit of the same target always gets the same id."""
    digest = hashlib.sha256(f"{target.ref}\0{new_source}".encode()).hexdigest()
    return digest[:10]


@dataclass(frozen=True)
class Need:
    """What a candidate needs of the target's real calls to have a chance of being faster,
    declared by ``by`` (a rule's name): ``min_items``, a call with an argument of at least that
    many items (a loop hoist costs more than it saves on a loop of three)."""

    by: str
    min_items: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"by": self.by, "min_items": self.min_items}

    def unmet(self, largest_argument: int | None) -> str | None:
        """Why the calls seen cannot give this need, or ``None`` when they may (also when
        nothing was seen: no reason to drop is not a reason)."""
        if largest_argument is None or largest_argument >= self.min_items:
            return None
        return f"recorded calls iterate at most {largest_argument} items"


def needs_of(candidate: Candidate) -> list[Need]:
    """The needs a candidate's provider declared (none when its provenance holds no list)."""
    declared = candidate.provenance.get(NEEDS)
    if not isinstance(declared, list):
        return []
    return [
        Need(str(item["by"]), item["min_items"])
        for item in declared
        if isinstance(item, dict) and type(item.get("min_items")) is int and "by" in item
    ]
