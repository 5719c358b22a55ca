"""Customer records."""

from crm.book import CustomerBook

__all__ = ["CustomerBook"]
