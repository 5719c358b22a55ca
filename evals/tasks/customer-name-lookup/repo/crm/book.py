"""An in-memory customer book."""

from __future__ import annotations


class CustomerBook:
    """Customer records ``(customer_id, name)`` in the order they were imported.

    Imports are messy: an id may appear more than once, and then the first record wins.
    """

    def __init__(self, records: list[tuple[int, str]]) -> None:
        self.records = list(records)

    def add(self, customer_id: int, name: str) -> None:
        self.records.append((customer_id, name))

    def names_for(self, customer_ids: list[int], missing: str = "?") -> list[str]:
        """The name of each customer in ``customer_ids`` (``missing`` for unknown ids)."""
        names = []
        for wanted in customer_ids:
            name = missing
            for customer_id, customer_name in self.records:
                if customer_id == wanted:
                    name = customer_name
                    break
            names.append(name)
        return names
