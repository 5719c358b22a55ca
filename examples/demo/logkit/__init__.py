"""logkit: a tiny toolkit for poking at web-server access logs.

The functions are small and deliberately plain; see the README for what each one does.
"""

from logkit.errors import has_errors
from logkit.graph import hops
from logkit.ids import answered
from logkit.ips import unique_in_order, unique_ips
from logkit.render import render_table
from logkit.retry import backoff_schedules
from logkit.stats import fastest, slowest
from logkit.text import remove_stopwords

__all__ = [
    "answered",
    "backoff_schedules",
    "fastest",
    "has_errors",
    "hops",
    "remove_stopwords",
    "render_table",
    "slowest",
    "unique_in_order",
    "unique_ips",
]

__version__ = "0.1.0"
