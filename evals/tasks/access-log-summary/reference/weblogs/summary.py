"""Summaries of web server access logs, one request a line."""

from __future__ import annotations


def status_summary(log: str) -> dict[str, tuple[int, int]]:
    """Requests and bytes sent per status class in an access log.

    Each line of ``log`` is ``METHOD PATH STATUS BYTES``, its fields separated by whitespace.
    The result maps each status class that occurs (``"2xx"``, ``"4xx"``...) to
    ``(requests, bytes)``, in the order of the classes. Blank lines are skipped. A line with
    another number of fields, a status that is not three digits or a byte count that is not a
    number raises ``ValueError`` naming the line (numbered from 1).
    """
    # One line's fields at a time: no list of every line's fields alongside the lines.
    totals: dict[str, tuple[int, int]] = {}
    for number, line in enumerate(log.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 4 or not _is_status(fields[2]) or not fields[3].isdecimal():
            raise ValueError(f"line {number}: not METHOD PATH STATUS BYTES: {line!r}")
        status_class = fields[2][0] + "xx"
        requests, sent = totals.get(status_class, (0, 0))
        totals[status_class] = (requests + 1, sent + int(fields[3]))
    return dict(sorted(totals.items()))


def _is_status(text: str) -> bool:
    return len(text) == 3 and text.isdecimal()
