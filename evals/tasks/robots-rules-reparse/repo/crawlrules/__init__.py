"""Crawl rules."""

from crawlrules.robots import RobotsPolicy

__all__ = ["RobotsPolicy"]
