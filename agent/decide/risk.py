"""How much a reviewer should look at a proven change: low, medium or high.

Verification proves a change on the calls and inputs it saw; risk is about what it could not
see. It grows with the size of the diff, with added complexity, with the kind of change (a
catalogued codemod with its own tests is the safest; a free-form rewrite, a new cache that
holds memory, a changed signature, a new import are less so), with the strategy a model
followed (caching and parallel code are high; ``prompts/strategies.toml``) and with thin
evidence. The level is the highest any factor gives; the reasons say which. A change that
behaves differently from the original on probes (inputs of shapes no real call or test used)
is one level riskier. A change to the target's class beyond the target (judged on sequences
of calls, not call by call) is high; a rewritten helper medium.
"""

from __future__ import annotations

import re

from agent.domain import RISK_LEVELS as LEVELS
from agent.domain import Outcome, Risk, Target
from agent.providers.strategies import by_name
from agent.rank.codeindex import index_functions
from agent.rank.metrics import measure

SMALL_DIFF, LARGE_DIFF = 12, 40  # changed lines
FEW_RECORDED_CALLS = 5
_CACHE = re.compile(r"\b(lru_cache|cache|cached_property)\b|\bmemo\w*\s*=\s*\{")
_SIGNATURE = re.compile(r"^\s*(async\s+)?def\s")


def assess(outcome: Outcome, target: Target, recorded_calls: int | None = None) -> Risk:
    """The risk of one accepted candidate for ``target`` (its source before the change)."""
    candidate = outcome.candidate
    found: list[tuple[str, str]] = []
    changed = _changed_lines(outcome.patch or "")
    if changed > LARGE_DIFF:
        found.append(("high", f"a large diff ({changed} changed lines)"))
    elif changed > SMALL_DIFF:
        found.append(("medium", f"a diff of {changed} changed lines"))
    if candidate.provider == "rules":
        found.append(("low", f"a catalogued codemod ({candidate.summary}) with its own tests"))
    else:
        found.append(("medium", f"a rewrite proposed by {candidate.provider}"))
        # A model's strategy says what kind of change to review; a codemod's is catalogued.
        strategy = by_name(candidate.strategy)
        if strategy is not None:
            found.append((strategy.risk, f"the {strategy.name} strategy: {strategy.risk_reason}"))
    new_source = _new_function(outcome, target)
    if new_source is None:
        found.append(("high", "the function could not be found after the change"))
    else:
        before, after = target.metrics.complexity, measure(new_source).complexity
        if after > before + 2:
            found.append(("high", f"complexity grows from {before} to {after}"))
        elif after > before:
            found.append(("medium", f"complexity grows from {before} to {after}"))
        if _signature(new_source) != _signature(target.source):
            found.append(("high", "the signature changes"))
        if _CACHE.search(new_source) and not _CACHE.search(target.source):
            found.append(("medium", "adds a cache: memory grows with distinct arguments"))
    added_imports = [
        line
        for line in (outcome.patch or "").splitlines()
        if line.startswith("+") and re.match(r"\+\s*(import|from)\s", line)
    ]
    if added_imports:
        found.append(("medium", f"adds {len(added_imports)} import(s)"))
    beyond = outcome.verdict.changed
    if beyond:
        owner, dot, _ = target.ref.qualname.rpartition(".")
        in_class = bool(dot) and any(n == owner or n.startswith(owner + ".") for n in beyond)
        shown = ", ".join(beyond[:4]) + (", …" if len(beyond) > 4 else "")
        found.append(
            ("high", f"changes its class besides the target: {shown}")
            if in_class
            else ("medium", f"changes helpers besides the target: {shown}")
        )
    if recorded_calls is not None and recorded_calls < FEW_RECORDED_CALLS:
        found.append(("medium", f"checked on only {recorded_calls} recorded calls"))
    level = max((LEVELS.index(level) for level, _ in found), default=0)
    reasons = [reason for lvl, reason in found if LEVELS.index(lvl) == level]
    differs = outcome.verdict.probe_differences
    if differs:  # behaviour no real call pinned down: one level more than the rest says
        level = min(level + 1, len(LEVELS) - 1)
        reasons.append(
            f"differs from the original on inputs no real call or test used: {differs[0]}"
        )
    return Risk(LEVELS[level], tuple(reasons))


def _changed_lines(patch: str) -> int:
    return sum(
        1 for line in patch.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )


def _new_function(outcome: Outcome, target: Target) -> str | None:
    text = outcome.candidate.files.get(target.ref.path)
    if text is None:
        return target.source  # the function's file is unchanged
    try:
        span = index_functions(text).get(target.ref.qualname)
    except SyntaxError:
        return None
    return None if span is None else span.source


def _signature(source: str) -> str:
    """The ``def`` line(s) up to the colon, whitespace-normalised."""
    lines = source.lstrip().splitlines()
    start = next((i for i, line in enumerate(lines) if _SIGNATURE.match(line)), 0)
    header = []
    for line in lines[start:]:
        header.append(line.strip())
        if line.rstrip().endswith(":"):
            break
    return " ".join(" ".join(header).split())
