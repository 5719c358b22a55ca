"""Where candidates come from. A new provider is one module and one line in ``PROVIDERS``."""

from __future__ import annotations

from collections.abc import Callable

from agent.config import RunConfig
from agent.errors import UsageError
from agent.providers.base import Provider


def _rules(config: RunConfig) -> Provider:
    from agent.providers.rules import RULES
    from agent.providers.rules.provider import RulesProvider

    return RulesProvider(RULES)


def _not_yet(name: str) -> Callable[[RunConfig], Provider]:
    def factory(config: RunConfig) -> Provider:
        raise UsageError(f"provider {name!r} is not available yet; use --provider rules")

    return factory


PROVIDERS: dict[str, Callable[[RunConfig], Provider]] = {
    "rules": _rules,
    "openai": _not_yet("openai"),
    "anthropic": _not_yet("anthropic"),
}


def make_provider(config: RunConfig) -> Provider:
    factory = PROVIDERS.get(config.provider)
    if factory is None:
        known = ", ".join(PROVIDERS)
        raise UsageError(f"unknown provider {config.provider!r} (known: {known})")
    return factory(config)
