"""A site's robots.txt, reduced to the path rules every crawler obeys."""

from __future__ import annotations


def _rule(line: str) -> tuple[str, bool] | None:
    """The rule on ``line`` as ``(prefix, allowed)``, or ``None`` if it holds none."""
    field, colon, value = line.split("#", 1)[0].partition(":")
    if not colon:
        return None
    field = field.strip().lower()
    value = value.strip()
    if field not in ("allow", "disallow") or not value:
        return None
    return value, field == "allow"


class RobotsPolicy:
    """The ``Allow`` and ``Disallow`` rules of a robots.txt ``text``.

    One rule per line, ``field: value``: the field's case and the whitespace around either
    part do not matter, ``#`` starts a comment, and lines of any other field (``User-agent``,
    ``Sitemap``...), with no ``:`` or with an empty value are ignored. Every rule applies to
    every crawler. ``text`` may be replaced, and :meth:`allow` and :meth:`disallow` add a rule.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        # The rules, parsed once: each prefix's verdict (an Allow beats a Disallow of the same
        # prefix) and the prefixes' lengths, longest first.
        self._rules: dict[str, bool] = {}
        self._lengths: list[int] = []
        for line in text.splitlines():
            rule = _rule(line)
            if rule is not None:
                self._learn(*rule)

    def _learn(self, prefix: str, allowed: bool) -> None:
        self._rules[prefix] = allowed or self._rules.get(prefix, False)
        if len(prefix) not in self._lengths:
            self._lengths.append(len(prefix))
            self._lengths.sort(reverse=True)

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
        self._learn(prefix, False)

    def allows(self, path: str) -> bool:
        """Whether a crawler may fetch ``path``.

        Of the rules whose value ``path`` starts with, the longest decides; of an ``Allow``
        and a ``Disallow`` as long, the ``Allow``. A path no rule matches is allowed.
        """
        rules = self._rules
        size = len(path)
        for length in self._lengths:
            if length <= size:
                allowed = rules.get(path[:length])
                if allowed is not None:
                    return allowed
        return True
