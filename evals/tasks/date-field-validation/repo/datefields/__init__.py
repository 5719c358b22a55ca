"""Validation of date fields in imported spreadsheets."""

from datefields.validate import count_blank, iso_dates

__all__ = ["count_blank", "iso_dates"]
