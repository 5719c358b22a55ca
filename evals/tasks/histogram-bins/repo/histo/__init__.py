"""Histograms of measurements."""

from histo.binning import histogram

__all__ = ["histogram"]
