"""A small SQL formatter."""

from sqlfmt.keywords import SQL_KEYWORDS, is_keyword, uppercase_keywords

__all__ = ["SQL_KEYWORDS", "is_keyword", "uppercase_keywords"]
