"""DNA strands as typed nucleotide sequences."""

from genomics.strand import Nucleotide, parse_strand, strand_to_text

__all__ = ["Nucleotide", "parse_strand", "strand_to_text"]
