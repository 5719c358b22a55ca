"""Helpers for form and URL handling."""

from webforms.query import parse_query

__all__ = ["parse_query"]
