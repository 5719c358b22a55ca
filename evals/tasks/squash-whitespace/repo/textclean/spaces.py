"""Whitespace clean-up."""

from __future__ import annotations


def squash_whitespace(text: str) -> str:
    """``text`` with every run of whitespace (any Unicode whitespace, as ``str.split`` sees
    it) replaced by one space, and none at either end."""
    return " ".join(text.split())
