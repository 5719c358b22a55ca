"""Data out of a process that ran candidate or project code: read it as hostile.

Such a process could leave a symlink to ``/dev/zero``, a FIFO that never ends, a file of many
gigabytes, or text that carries a secret it read. :func:`read_bounded` opens without following
links or blocking, accepts only a regular file, and stops at a size cap; :func:`scrub` caps
text and masks anything that looks like a credential before it is shown, stored or sent.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.reports.format import cut

MAX_ANSWER_BYTES = 256 * 1024 * 1024


class UntrustedDataError(Exception):
    """The file is missing, not a regular file, too large, or not what it should be."""


def read_bounded(path: Path, max_bytes: int = MAX_ANSWER_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, at most ``max_bytes``; never follows a link,
    never waits on a FIFO or a device."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise UntrustedDataError(f"cannot open {path.name}: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UntrustedDataError(f"{path.name} is not a regular file")
        if info.st_size > max_bytes:
            raise UntrustedDataError(f"{path.name} is larger than {max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise UntrustedDataError(f"{path.name} is larger than {max_bytes} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def is_real_directory(path: Path) -> bool:
    """A directory, not a link to one: code that ran in the sandbox can swap one for the other."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


# What each process of a profiled or recorded run leaves: <pid>.json, one per process.
PROCESS_DUMP = re.compile(r"[0-9]{1,10}\.json")
MAX_PROCESS_DUMPS = 512  # read per run; more are left out (with a note)


@dataclass(frozen=True)
class ProcessDumps:
    """The per-process dumps in a folder a sandboxed run wrote into."""

    files: list[Path]  # at most MAX_PROCESS_DUMPS, in name order
    found: int  # dumps there were
    others: list[str]  # names of files there that are not dumps

    @property
    def left_out(self) -> int:
        return self.found - len(self.files)


def process_dumps(folder: Path) -> ProcessDumps | None:
    """The dumps in ``folder``; ``None`` when it is no longer the directory we made (the run
    could replace it with a link)."""
    if not is_real_directory(folder):
        return None
    names = sorted(entry.name for entry in os.scandir(folder))
    dumps = [folder / name for name in names if PROCESS_DUMP.fullmatch(name)]
    others = [name for name in names if not PROCESS_DUMP.fullmatch(name)]
    return ProcessDumps(dumps[:MAX_PROCESS_DUMPS], len(dumps), others)


def write_new(path: Path, data: bytes) -> None:
    """Write a new file where a sandboxed process could have planted something: never through
    a link, never over a file already there."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    with os.fdopen(os.open(path, flags, 0o644), "wb") as handle:
        handle.write(data)


def read_json(path: Path, max_bytes: int = MAX_ANSWER_BYTES) -> Any:
    """:func:`read_bounded`, parsed as JSON (shape is the caller's to validate)."""
    data = read_bounded(path, max_bytes)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise UntrustedDataError(f"{path.name} is not JSON: {str(error)[:80]}") from None


# Credentials by their look: provider key prefixes, cloud key ids, tokens, private keys,
# ``NAME=value`` / ``"name": "value"`` pairs whose name says secret, and long opaque strings.
_SECRET_PATTERNS = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
    re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\b(ghp|gho|ghu|ghs|ghr|github_pat|glpat|xox[abpors])[-_][A-Za-z0-9_\-]{8,}"),
    re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{12,}"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]*"),  # JWT
    re.compile(
        r"(?i)\b([A-Z0-9_]*(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)[A-Z0-9_]*)"
        r"(['\"]?\s*[:=]\s*['\"]?)([^\s'\",;]{4,})"
    ),
    # Long base64 or hex with digits in it: keys, tokens (not a long snake_case test name).
    re.compile(r"\b(?=[A-Za-z0-9+/\-]*\d)(?=[A-Za-z0-9+/\-]*[A-Za-z])[A-Za-z0-9+/\-]{32,}={0,2}"),
)
_MASK = "[redacted]"
_SECRET_NAME = re.compile(r"(?i)(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)")


def _our_secrets() -> list[str]:
    """Values of secret-looking variables in our own environment: never shown anywhere."""
    return sorted(
        (
            value
            for name, value in os.environ.items()
            if _SECRET_NAME.search(name) and len(value) >= 6
        ),
        key=len,
        reverse=True,
    )


def scrub(text: str, limit: int = 300) -> str:
    """``text`` capped at ``limit`` characters, with what looks like a secret masked."""
    for value in _our_secrets():
        text = text.replace(value, _MASK)
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 4:  # NAME=value: keep the name, mask the value
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(3)}{_MASK}", text)
        else:
            text = pattern.sub(_MASK, text)
    text = "".join(c if c.isprintable() or c in "\n\t" else "?" for c in text)
    return cut(text, limit)
