"""Reconciliation helpers for a ledger."""

from ledger.reconcile import count_pairs_with_sum

__all__ = ["count_pairs_with_sum"]
