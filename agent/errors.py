"""Errors that end a run with a one-line message."""


class UsageError(Exception):
    """Bad input or usage: the run stops before changing anything (exit code 2)."""
