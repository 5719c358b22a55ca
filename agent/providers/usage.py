"""What model requests cost: tokens, dollars, retries and cache hits, for one run."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

# US dollars per million tokens: input, output, cached input. Overridable in [tool.evolver].
PRICES: dict[str, tuple[float, float, float]] = {
    "gpt-4.1-mini": (0.40, 1.60, 0.10),
    "gpt-4.1-nano": (0.10, 0.40, 0.025),
    "gpt-4.1": (2.00, 8.00, 0.50),
    "gpt-4o-mini": (0.15, 0.60, 0.075),
    "gpt-4o": (2.50, 10.00, 1.25),
    "o4-mini": (1.10, 4.40, 0.275),
    "claude-3-5-haiku": (0.80, 4.00, 0.08),
    "claude-haiku-4": (1.00, 5.00, 0.10),
    "claude-sonnet-4": (3.00, 15.00, 0.30),
    "claude-opus-4": (15.00, 75.00, 1.50),
    "local:": (0.0, 0.0, 0.0),  # a model run in this process costs nothing
}


def price_of(model: str, prices: dict[str, tuple[float, float, float]]) -> tuple[float, ...] | None:
    """The price of ``model``: an exact entry, else the longest entry it starts with."""
    if model in prices:
        return prices[model]
    matches = [name for name in prices if model.startswith(name)]
    return prices[max(matches, key=len)] if matches else None


@dataclass
class Usage:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    cache_hits: int = 0
    retries: int = 0
    # Replies served by a replay, as they were when recorded: what the model run cost.
    recorded_input_tokens: int = 0
    recorded_output_tokens: int = 0
    recorded_cost_usd: float = 0.0
    unpriced_models: list[str] = field(default_factory=list)
    retry_log: list[str] = field(default_factory=list)


class Ledger:
    """Thread-safe running totals, and the budget check before each request."""

    def __init__(
        self,
        budget_usd: float | None = None,
        prices: dict[str, tuple[float, float, float]] | None = None,
    ) -> None:
        self.budget_usd = budget_usd
        self.prices = {**PRICES, **(prices or {})}
        self.usage = Usage()
        self._lock = threading.Lock()

    def charge(
        self, model: str, input_tokens: int, output_tokens: int, cached: int, requests: int
    ) -> float:
        """Record a completed request; return its cost."""
        priced = self.cost_of(model, input_tokens, output_tokens, cached)
        cost = priced or 0.0
        with self._lock:
            u = self.usage
            u.requests += requests
            u.input_tokens += input_tokens
            u.output_tokens += output_tokens
            u.cached_tokens += cached
            u.cost_usd += cost
            if priced is None and model not in u.unpriced_models:
                u.unpriced_models.append(model)
        return cost

    def cost_of(
        self, model: str, input_tokens: int, output_tokens: int, cached: int
    ) -> float | None:
        """What a request costs at our prices (``None`` when ``model`` has no price)."""
        price = price_of(model, self.prices)
        if price is None:
            return None
        fresh = max(0, input_tokens - cached)
        return (fresh * price[0] + output_tokens * price[1] + cached * price[2]) / 1e6

    def replayed(self, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        """A recorded reply was served again (for nothing): note what it cost back then."""
        with self._lock:
            u = self.usage
            u.recorded_input_tokens += input_tokens
            u.recorded_output_tokens += output_tokens
            u.recorded_cost_usd += cost_usd

    def cache_hit(self) -> None:
        with self._lock:
            self.usage.cache_hits += 1

    def retried(self, reason: str) -> None:
        with self._lock:
            self.usage.retries += 1
            self.usage.retry_log.append(reason)

    @property
    def exhausted(self) -> bool:
        return self.budget_usd is not None and self.usage.cost_usd >= self.budget_usd

    def summary(self) -> dict[str, Any]:
        with self._lock:
            data = asdict(self.usage)
        data["cost_usd"] = round(data["cost_usd"], 6)
        data["recorded_cost_usd"] = round(data["recorded_cost_usd"], 6)
        data["budget_usd"] = self.budget_usd
        return data
