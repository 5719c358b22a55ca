"""Build-step dependency graphs."""

from buildgraph.graph import TaskGraph

__all__ = ["TaskGraph"]
