"""Per target, which accepted candidate wins, and how its commit is described."""

from __future__ import annotations

from agent.domain import Outcome
from agent.reports import format as fmt


def choose(outcomes: list[Outcome]) -> Outcome | None:
    """The accepted candidate with the best proven speedup (the interval's lower end)."""
    accepted = [o for o in outcomes if o.verdict.accepted and o.verdict.timing]
    return max(accepted, key=lambda o: o.verdict.timing.ci[0], default=None)  # type: ignore[union-attr]


def commit_message(outcome: Outcome) -> str:
    candidate, timing = outcome.candidate, outcome.verdict.timing
    assert timing is not None
    low, high = timing.ci
    interval = f"{timing.level} CI {low:.2f}–{high:.2f}"
    if timing.method == "end to end":
        subject = f"the workload {fmt.times(timing.speedup)} faster end to end"
        speedup = f"{interval}, {timing.samples} processes per side, whole runs"
        verified = (
            "import, full test suite, the workload's output, timing end to end on the "
            "workload (behaviour not compared per call)"
        )
    else:
        subject = f"{fmt.times(timing.speedup)} faster"
        speedup = (
            f"{interval}, {timing.samples} samples per side; "
            f"{fmt.times(timing.first_call)} on first calls"
        )
        verified = "import, targeted tests, full test suite, timing on recorded calls"
    return (
        f"evolver: {candidate.target} {subject}\n\n"
        f"Target: {candidate.target}\n"
        f"Speedup: {fmt.times(timing.speedup)} ({speedup})\n"
        f"Provider: {candidate.provider} ({candidate.summary})\n"
        f"Candidate: {candidate.id}\n"
        f"Verified: {verified}\n"
    )
