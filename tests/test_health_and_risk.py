"""The pure parts of watch and risk: metrics parsing, health, regressions, risk levels."""

from __future__ import annotations

import textwrap

import pytest

from agent.config import Threshold
from agent.decide.risk import assess
from agent.domain import Candidate, Outcome, Target, TargetRef, Verdict
from agent.rank.metrics import measure
from agent.ship.health import (
    MeasureFailed,
    health,
    objective_for,
    parse_metrics,
    worse,
    worse_metrics,
)

# --- metrics and health -----------------------------------------------------------------------


def test_metrics_are_the_last_json_object_of_numbers() -> None:
    out = 'warming up\n{"latency_ms": 12.5, "ok": true, "name": "x", "errors": 0}\nbye\n'
    assert parse_metrics(out) == {"latency_ms": 12.5, "errors": 0.0}
    with pytest.raises(MeasureFailed, match="no JSON object"):
        parse_metrics("[1, 2]\nnot json\n")


def test_health_is_100_within_thresholds_and_falls_with_distance() -> None:
    bounds = {"latency_ms": Threshold(max=50), "throughput": Threshold(min=1000)}
    assert health({"latency_ms": 20, "throughput": 2000}, bounds).score == 100
    off = health({"latency_ms": 100, "throughput": 500}, bounds)
    assert off.score == pytest.approx(50.0)
    assert off.breaches == ("latency_ms 100 > 50", "throughput 500 < 1000")
    missing = health({"latency_ms": 20}, bounds)
    assert missing.score == 50 and missing.breaches == ("throughput: not measured",)
    assert health({}, {}).score == 100


def test_worse_knows_which_way_is_better() -> None:
    before = {"latency_ms": 10.0, "throughput": 1000.0, "gone": 1.0}
    now = {"latency_ms": 11.5, "throughput": 850.0, "new": 5.0}
    assert worse(now, before, 0.10, ("throughput",)) == [
        "latency_ms 10 → 11.5 (+15%)",
        "throughput 1000 → 850 (-15%)",
    ]
    assert worse(now, before, 0.20, ("throughput",)) == []
    assert worse({"latency_ms": 5.0}, before, 0.10, ()) == []  # better is never a regression


def test_what_slipped_decides_what_an_evolution_improves() -> None:
    bounds = {"latency_ms": Threshold(max=50), "peak_mb": Threshold(max=100)}
    assert health({"latency_ms": 60, "peak_mb": 120}, bounds).breached == ("latency_ms", "peak_mb")
    assert health({"latency_ms": 20}, bounds).breached == ("peak_mb",)  # not measured
    memory = ("peak_mb",)
    assert objective_for({"peak_mb"}, memory) == "memory"
    assert objective_for({"peak_mb", "latency_ms"}, memory) == "both"
    assert objective_for({"latency_ms"}, memory) == objective_for(set(), memory) == "time"
    assert worse_metrics({"peak_mb": 130.0}, {"peak_mb": 100.0}, 0.10, ()) == ["peak_mb"]


# --- risk --------------------------------------------------------------------------------------

ORIGINAL = textwrap.dedent(
    """
    def total(xs):
        t = 0
        for x in xs:
            t += x
        return t
    """
).lstrip()


def outcome(
    new_file: str, provider: str = "rules", summary: str = "a_rule", strategy: str | None = None
) -> Outcome:
    ref = TargetRef("pkg/m.py", "total")
    candidate = Candidate("c1", ref, provider, {"pkg/m.py": new_file}, summary, strategy=strategy)
    old, new = ORIGINAL.splitlines(), new_file.splitlines()
    patch = "--- a/pkg/m.py\n+++ b/pkg/m.py\n" + "".join(
        [f"-{line}\n" for line in old if line not in new]
        + [f"+{line}\n" for line in new if line not in old]
    )
    return Outcome(candidate, Verdict(True, "speed", "ok"), patch=patch)


TARGET = Target(TargetRef("pkg/m.py", "total"), ORIGINAL, 1, measure(ORIGINAL))


def test_a_small_codemod_is_low_risk() -> None:
    risk = assess(outcome("def total(xs):\n    return sum(xs)\n"), TARGET, recorded_calls=12)
    assert risk.level == "low"
    assert risk.reasons == ("a catalogued codemod (a_rule) with its own tests",)


def test_caching_and_parallel_strategies_raise_the_risk() -> None:
    faster = "def total(xs):\n    return sum(xs)\n"
    risks = {
        label: assess(outcome(faster, "openai", "m #1", label), TARGET, 12)
        for label in ("algorithm", "caching", "parallel", None)
    }
    assert risks["algorithm"].level == risks[None].level == "medium"
    for label in ("caching", "parallel"):
        assert risks[label].level == "high"
        assert any(f"the {label} strategy" in reason for reason in risks[label].reasons)
    # A codemod's risks are its own (a cache it adds is medium), whatever its label.
    assert assess(outcome(faster, strategy="caching"), TARGET, 12).level == "low"


def test_what_raises_the_risk() -> None:
    rewrite = outcome("def total(xs):\n    return sum(xs)\n", provider="openai")
    assert assess(rewrite, TARGET, 12).level == "medium"
    assert "a rewrite proposed by openai" in assess(rewrite, TARGET, 12).reasons

    thin = assess(outcome("def total(xs):\n    return sum(xs)\n"), TARGET, recorded_calls=2)
    assert (thin.level, thin.reasons) == ("medium", ("checked on only 2 recorded calls",))

    cached = "from functools import lru_cache\n@lru_cache(maxsize=None)\n" + ORIGINAL
    risk = assess(outcome(cached), TARGET, 12)
    assert risk.level == "medium"
    assert "adds a cache: memory grows with distinct arguments" in risk.reasons
    assert "adds 1 import(s)" in risk.reasons

    signature = "def total(xs, start=0):\n    return sum(xs, start)\n"
    assert assess(outcome(signature), TARGET, 12).reasons == ("the signature changes",)

    branches = "def total(xs):\n" + "".join(
        f"    if len(xs) == {n}:\n        return sum(xs)\n" for n in range(5)
    ) + "    return sum(xs)\n"  # fmt: skip
    risky = assess(outcome(branches), TARGET, 12)
    assert risky.level == "high" and risky.reasons[0].startswith("complexity grows from 2 to")

    gone = assess(outcome("def other(xs):\n    return 0\n"), TARGET, 12)
    assert gone.level == "high"
