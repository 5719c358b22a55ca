"""Account ledgers and their balances."""

from ledgerkit.balances import overdraft_periods

__all__ = ["overdraft_periods"]
