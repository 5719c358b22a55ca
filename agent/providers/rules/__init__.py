"""The built-in offline provider's catalogue: one module per rule, registered here."""

from __future__ import annotations

from agent.providers.rules.base import Rule

RULES: tuple[Rule, ...] = ()

__all__ = ["RULES", "Rule"]
