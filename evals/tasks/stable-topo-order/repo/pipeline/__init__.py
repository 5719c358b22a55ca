"""Data-pipeline step scheduling."""

from pipeline.schedule import run_order

__all__ = ["run_order"]
