"""Run-length encoding for simple bitmaps."""

from rle.codec import decode, encode

__all__ = ["decode", "encode"]
