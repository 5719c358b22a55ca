"""Validating the date columns of imported spreadsheets."""

from __future__ import annotations

import re

# Compiled once: ``re.fullmatch(pattern, ...)`` looks the pattern up in re's cache on each call.
_ISO_DATE = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])")


def iso_dates(fields: list[str]) -> list[str]:
    """The fields that look like ISO dates, ``YYYY-MM-DD`` with a month 01-12 and a day 01-31
    (the calendar is not consulted: ``2023-02-31`` passes), in order."""
    fullmatch = _ISO_DATE.fullmatch
    return [field for field in fields if fullmatch(field)]


def count_blank(fields: list[str]) -> int:
    """How many fields are empty or all whitespace."""
    return sum(1 for field in fields if not field.strip())
