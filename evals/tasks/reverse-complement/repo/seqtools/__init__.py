"""Sequence utilities for DNA reads."""

from seqtools.dna import COMPLEMENT, gc_content, reverse_complement

__all__ = ["COMPLEMENT", "gc_content", "reverse_complement"]
