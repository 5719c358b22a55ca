"""Integer partition counts for sizing search spaces."""

from partitions.counting import count_all_partitions, count_partitions

__all__ = ["count_all_partitions", "count_partitions"]
