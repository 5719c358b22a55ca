"""The built-in offline provider's catalogue: one module per rule, registered here."""

from __future__ import annotations

from agent.providers.rules import dict_keys_membership
from agent.providers.rules.base import Rule

RULES: tuple[Rule, ...] = (
    dict_keys_membership.DictKeysMembership(),
)

__all__ = ["RULES", "Rule"]
