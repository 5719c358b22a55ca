"""Optimization strategies: what a model is asked to try, one strategy per candidate.

The strategies themselves are data, in ``prompts/strategies.toml`` beside the templates; this
module reads them, hands them out to the candidates of a round, and finds the strategy a
reply names when the model chose one itself (``--strategies single``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from agent.providers.prompting import template_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MODES = ("varied", "single")  # one strategy per candidate, or every strategy offered to each
FILE = "strategies.toml"
# Per objective (``--objective``), the files its strategies come from, in the order handed out.
FILES = {"time": (FILE,), "memory": ("memory.toml",), "both": ("memory.toml", FILE)}


@dataclass(frozen=True)
class Strategy:
    name: str  # the label in reports: "algorithm", "caching"…
    title: str  # "a better algorithm"
    guidance: str  # what to look for and do, for the prompt
    risk: str  # "medium" or "high": what an accepted change of this kind adds to its risk
    risk_reason: str


@lru_cache(maxsize=3)
def strategies(objective: str = "time") -> tuple[Strategy, ...]:
    """The strategies for ``objective`` (``prompts/strategies.toml`` for time,
    ``prompts/memory.toml`` for memory), in the order they are handed out."""
    return tuple(strategy for name in FILES[objective] for strategy in _read(name))


@lru_cache(maxsize=2)
def _read(name: str) -> tuple[Strategy, ...]:
    text = template_text(name)
    if text is None:
        raise RuntimeError(f"{name} is missing from the prompts")
    return tuple(
        Strategy(
            name=entry["name"],
            title=entry["title"],
            guidance=" ".join(entry["guidance"].split()),
            risk=entry["risk"],
            risk_reason=entry["risk_reason"],
        )
        for entry in tomllib.loads(text)["strategy"]
    )


def by_name(name: str | None) -> Strategy | None:
    """The strategy of that name, for any objective."""
    return next((s for s in strategies("both") if s.name == name), None)


def assign(
    start: int, count: int, among: Sequence[Strategy] | None = None, objective: str = "time"
) -> list[Strategy]:
    """``count`` strategies for the candidates of a round, going on from the ``start``-th: a
    round of three gets three different ones, and the next round the three after."""
    pool = tuple(among or strategies(objective))
    return [pool[(start + i) % len(pool)] for i in range(count)]


_NAMED = re.compile(r"^\W*strategy\W*:\W*([a-z][a-z-]*)", re.IGNORECASE | re.MULTILINE)


def named_in(reply: str) -> str | None:
    """The known strategy a reply names on a ``Strategy: <name>`` line, if any."""
    for match in _NAMED.finditer(reply):
        found = by_name(match.group(1).lower())
        if found is not None:
            return found.name
    return None
