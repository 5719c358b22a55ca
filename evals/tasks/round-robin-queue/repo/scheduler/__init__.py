"""A toy CPU scheduler simulator."""

from scheduler.roundrobin import completion_order

__all__ = ["completion_order"]
