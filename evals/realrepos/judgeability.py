"""What Evolver could judge, read from its report (``agent.reports.model``, or its JSON).

A target is *judged* when one of its candidates had its behaviour compared with the
original's **and** its speed measured. A candidate was timed when it was accepted (only the
speed stage accepts) or rejected at the speed stage with a timing; one rejected at ``reply``,
``parse``, ``scope``, ``capability``, ``import``, ``equivalence``, ``tests``, ``tamper`` or
``internal``, or at ``speed`` without a timing ("no recorded calls to time it on", a timing
process that hit a limit), was not. Its behaviour was compared when it got past the
behaviour stage and its evidence does not say that the comparison compared nothing (judged
end to end on the workload, where calls cannot be recorded, counts as compared).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from agent.reports.model import Report, ReportCandidate, as_report

# Stages a candidate reaches only after the behaviour stage let it through.
_AFTER_BEHAVIOUR = ("tests", "speed")
# Evidence that says the behaviour check compared nothing, in the words the verifier uses;
# "not compared per call" is followed by the other way, end to end on the workload's and the
# tests' outputs, which is a comparison.
_NOT_COMPARED = re.compile(
    r"not compared(?! per call)|compared nothing|no calls? to compare", re.IGNORECASE
)
_NOTHING_RECORDED = re.compile(r"\bon 0 calls recorded\b.*\band 0 made by the tests\b")
_BEHAVIOUR_KEYS = ("behaviour", "behavior", "differential", "equivalence")


@dataclass(frozen=True)
class CandidateVerdict:
    id: str
    summary: str
    verdict: str  # "accepted" or "rejected"
    stage: str
    reason: str
    speedup: float | None
    compared: bool  # its behaviour was compared with the original's
    timed: bool  # its speed was measured

    @property
    def judged(self) -> bool:
        return self.compared and self.timed


@dataclass(frozen=True)
class TargetJudgement:
    target: str
    candidates: tuple[CandidateVerdict, ...]

    @property
    def judged(self) -> bool:
        return any(candidate.judged for candidate in self.candidates)

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "judged": self.judged,
            "candidates": [asdict(candidate) for candidate in self.candidates],
        }


def candidate_verdict(candidate: ReportCandidate) -> CandidateVerdict:
    timed = candidate.accepted or (candidate.stage == "speed" and candidate.speedup is not None)
    passed_behaviour = candidate.accepted or candidate.stage in _AFTER_BEHAVIOUR
    return CandidateVerdict(
        id=candidate.id,
        summary=candidate.summary,
        verdict=candidate.verdict,
        stage=candidate.stage,
        reason=candidate.reason,
        speedup=candidate.speedup,
        compared=passed_behaviour and not _said_not_compared(candidate),
        timed=timed,
    )


def _said_not_compared(candidate: ReportCandidate) -> bool:
    evidence = candidate.evidence or {}
    said = [text for key, text in evidence.items() if key in _BEHAVIOUR_KEYS]
    said.append(candidate.reason)
    return any(_NOT_COMPARED.search(text) or _NOTHING_RECORDED.search(text) for text in said)


def target_judgements(report: Report | Mapping[str, Any]) -> list[TargetJudgement]:
    """Per target of the run (in its order), its candidates' verdicts; a target no provider
    proposed anything for has none, and was not judged."""
    report = as_report(report)
    by_target: dict[str, list[CandidateVerdict]] = {target.target: [] for target in report.targets}
    for candidate in report.candidates:
        by_target.setdefault(candidate.target, []).append(candidate_verdict(candidate))
    return [TargetJudgement(target, tuple(found)) for target, found in by_target.items()]


def judgeability(judgements: list[TargetJudgement]) -> float | None:
    """The share of targets judged; ``None`` for a run without targets."""
    if not judgements:
        return None
    return sum(judgement.judged for judgement in judgements) / len(judgements)
