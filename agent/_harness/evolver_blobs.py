"""The calls file: a list of opaque byte strings, in a container that is not a pickle.

Evolver hands recorded calls (each a pickled ``(args, kwargs)``, unpickled only inside a
sandbox) to the harness scripts in this format; its own process never unpickles them. Layout,
all integers big-endian::

    b"EVOLVER-CALLS-1\\n"   magic (16 bytes)
    u32                      number of blobs
    per blob: u64 length, then that many bytes
    nothing after the last blob

Stdlib only, and free of imports from the other harness modules: both Evolver's process
(``agent._harness.evolver_blobs``) and the scripts in the sandbox (``evolver_blobs``) load it.
"""

from __future__ import annotations

import os
import struct

MAGIC = b"EVOLVER-CALLS-1\n"
_COUNT = struct.Struct(">I")
_LENGTH = struct.Struct(">Q")


class BlobsError(ValueError):
    """The bytes are not a calls file."""


def encode_calls(blobs: list[bytes]) -> bytes:
    """``blobs`` as the bytes of a calls file."""
    parts = [MAGIC, _COUNT.pack(len(blobs))]
    for blob in blobs:
        if not isinstance(blob, bytes):
            raise TypeError(f"a call is bytes, not {type(blob).__name__}")
        parts += [_LENGTH.pack(len(blob)), blob]
    return b"".join(parts)


def decode_calls(data: bytes) -> list[bytes]:
    """The blobs in the bytes of a calls file; :class:`BlobsError` when they are not one."""
    if not data.startswith(MAGIC):
        raise BlobsError("not a calls file (wrong magic)")
    offset = len(MAGIC)
    if len(data) < offset + _COUNT.size:
        raise BlobsError("truncated before the count")
    (count,) = _COUNT.unpack_from(data, offset)
    offset += _COUNT.size
    blobs: list[bytes] = []
    for number in range(count):
        if len(data) < offset + _LENGTH.size:
            raise BlobsError(f"truncated before blob {number}")
        (length,) = _LENGTH.unpack_from(data, offset)
        offset += _LENGTH.size
        if len(data) < offset + length:
            raise BlobsError(f"blob {number} is truncated")
        blobs.append(data[offset : offset + length])
        offset += length
    if offset != len(data):
        raise BlobsError("data after the last blob")
    return blobs


def load_calls(path: str) -> list[bytes]:
    """The blobs in the calls file at ``path``."""
    with open(path, "rb") as handle:
        return decode_calls(handle.read())


def write_calls(path: str, blobs: list[bytes], dir_fd: int | None = None) -> None:
    """Create the calls file ``path``; never through a link or over an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o644, dir_fd=dir_fd)
    with os.fdopen(fd, "wb") as handle:
        handle.write(encode_calls(blobs))
