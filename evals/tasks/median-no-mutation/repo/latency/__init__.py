"""Latency statistics."""

from latency.order_stats import median

__all__ = ["median"]
