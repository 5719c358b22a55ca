"""A site's robots.txt, reduced to the path rules every crawler obeys."""

from __future__ import annotations


class RobotsPolicy:
    """The ``Allow`` and ``Disallow`` rules of a robots.txt ``text``.

    One rule per line, ``field: value``: the field's case and the whitespace around either
    part do not matter, ``#`` starts a comment, and lines of any other field (``User-agent``,
    ``Sitemap``...), with no ``:`` or with an empty value are ignored. Every rule applies to
    every crawler. ``text`` may be replaced, and :meth:`allow` and :meth:`disallow` add a rule.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def _add_line(self, field: str, prefix: str) -> None:
        if not prefix.startswith("/") or any(ch.isspace() or ch == "#" for ch in prefix):
            raise ValueError(f"bad path prefix {prefix!r}")
        separator = "" if not self.text or self.text.endswith("\n") else "\n"
        self.text = f"{self.text}{separator}{field}: {prefix}\n"

    def allow(self, prefix: str) -> None:
        """Add an ``Allow`` rule for paths starting with ``prefix`` (a ``/`` and no spaces)."""
        self._add_line("Allow", prefix)

    def disallow(self, prefix: str) -> None:
        """Add a ``Disallow`` rule for paths starting with ``prefix`` (a ``/`` and no spaces)."""
        self._add_line("Disallow", prefix)

    def allows(self, path: str) -> bool:
        """Whether a crawler may fetch ``path``.

        Of the rules whose value ``path`` starts with, the longest decides; of an ``Allow``
        and a ``Disallow`` as long, the ``Allow``. A path no rule matches is allowed.
        """
        best_length = -1
        allowed = True
        for line in self.text.splitlines():
            field, colon, value = line.split("#", 1)[0].partition(":")
            if not colon:
                continue
            field = field.strip().lower()
            value = value.strip()
            if field not in ("allow", "disallow") or not value:
                continue
            if path.startswith(value):
                length = len(value)
                if length > best_length or (length == best_length and field == "allow"):
                    best_length = length
                    allowed = field == "allow"
        return allowed
