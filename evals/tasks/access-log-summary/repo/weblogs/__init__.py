"""Summaries of web server access logs."""

from weblogs.summary import status_summary

__all__ = ["status_summary"]
