"""Keyword casing for the formatter."""

from __future__ import annotations

SQL_KEYWORDS = [
    "add", "all", "alter", "and", "any", "as", "asc", "between", "by", "case", "cast", "check",
    "column", "commit", "constraint", "create", "cross", "current", "database", "default",
    "delete", "desc", "distinct", "drop", "else", "end", "escape", "except", "exists", "false",
    "fetch", "for", "foreign", "from", "full", "grant", "group", "having", "if", "in", "index",
    "inner", "insert", "intersect", "into", "is", "join", "key", "left", "like", "limit", "not",
    "null", "offset", "on", "or", "order", "outer", "over", "partition", "primary", "references",
    "right", "rollback", "row", "rows", "select", "set", "table", "then", "top", "true",
    "truncate", "union", "unique", "update", "using", "values", "view", "when", "where", "with",
]  # fmt: skip


def uppercase_keywords(tokens: list[str]) -> list[str]:
    """The tokens with every SQL keyword in upper case (matched case-insensitively); other
    tokens, identifiers and literals alike, are left exactly as they are."""
    out = []
    for token in tokens:
        if token.lower() in SQL_KEYWORDS:
            out.append(token.upper())
        else:
            out.append(token)
    return out


def is_keyword(token: str) -> bool:
    """Whether ``token`` is an SQL keyword, in any case."""
    return token.lower() in SQL_KEYWORDS
