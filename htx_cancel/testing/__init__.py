"""Test helpers: a fake clock (and, soon, a fake HTX exchange)."""

from ._clock import FakeClock

__all__ = ["FakeClock"]
