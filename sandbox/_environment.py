"""The environment a sandboxed command sees: an allow-list, never a copy of ours."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

# An allow-list rather than a deny-list: a deny-list misses whatever secret is added next
# (API keys, cloud tokens, SSH agent sockets). These only make tools behave predictably.
_INHERITED = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TERM",
    "TZ",
    "PYTHONHASHSEED",
    "PYTHONUTF8",
    "PYTHONDONTWRITEBYTECODE",
    "SOURCE_DATE_EPOCH",
    "VIRTUAL_ENV",
)


def clean_environment(extra: Mapping[str, str] | None, *, home: Path, tmp: Path) -> dict[str, str]:
    """The allow-listed part of ``os.environ``, ``HOME`` and temp dirs moved, then ``extra``.

    ``extra`` comes last so the caller can set anything it deliberately wants (``PYTHONPATH``),
    including overriding ``HOME``.
    """
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    # Programs write caches and config under HOME and TMPDIR; pointing both inside the sandbox
    # keeps those writes out of the real home and lets them be deleted with the sandbox.
    env["HOME"] = str(home)
    for name in ("TMPDIR", "TEMP", "TMP"):
        env[name] = str(tmp)
    if extra:
        env.update(extra)
    return env
