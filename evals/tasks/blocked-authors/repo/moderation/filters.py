"""Filtering comment threads."""

from __future__ import annotations


def visible_comments(
    comments: list[tuple[str, str]], blocked_authors: list[str]
) -> list[tuple[str, str]]:
    """The ``(author, text)`` comments not written by a blocked author, in thread order.

    Author names are compared exactly (moderators block the canonical handle).
    """
    visible = []
    for author, text in comments:
        if author not in blocked_authors:
            visible.append((author, text))
    return visible
