"""The ``oracle`` provider: answers with the task's reference solution.

It is the pipeline's ceiling. A reference the verifier rejects, or a speedup the harness
cannot measure, is the pipeline's fault (or the task's), never a model's.
"""

from __future__ import annotations

from pathlib import Path

from agent.domain import Candidate
from agent.providers.base import ProposalRequest, candidate_id


class OracleProvider:
    name = "oracle"

    def __init__(self, reference: Path | None) -> None:
        self.reference = reference  # None: the task has no safe speedup to offer

    def propose(self, request: ProposalRequest) -> list[Candidate]:
        if self.reference is None or request.history:  # one answer, once
            return []
        path = request.target.ref.path
        solution = self.reference / path
        if not solution.is_file():
            return []
        text = solution.read_text(encoding="utf-8")
        ident = candidate_id(request.target, text)
        return [
            Candidate(
                ident, request.target.ref, self.name, {path: text}, "reference solution",
                strategy="reference",
            )
        ]  # fmt: skip
