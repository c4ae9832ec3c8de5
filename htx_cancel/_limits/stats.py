"""A limiter's state at one moment, as plain data (for dashboards, logs and tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LimiterStats", "PoolStats"]


@dataclass(frozen=True, slots=True)
class PoolStats:
    """One pool at one moment.

    ``in_flight``: granted, not answered yet. ``held``: answered, still counted for a window.
    ``free``: slots that could be granted now. ``outside``: slots left for use this limiter
    cannot see (learned from the exchange's counts). ``paused_for``: seconds left of a pause
    after a 1032 (0 when not paused).
    """

    name: str
    limit: int
    period: float
    in_flight: int
    held: int
    free: int
    outside: int
    paused_for: float

    @property
    def used(self) -> float:
        """Share of the pool taken (in flight, held or left for others), 0..1."""
        return min(1.0, (self.in_flight + self.held + self.outside) / self.limit)


@dataclass(frozen=True, slots=True)
class LimiterStats:
    """Every pool, waiters by priority, and counters since the limiter was made.

    ``granted``: slots granted (a request in two pools counts once). ``pauses``: 1032 pauses
    taken in. ``outside_seen``: the most requests of others the exchange counted in one answer.
    ``backend``: where the pools are kept now: ``"in-process"``, ``"redis"``, or
    ``"fallback"`` (a Redis limiter limiting in-process while Redis cannot be used).
    """

    pools: dict[str, PoolStats] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)
    granted: int = 0
    pauses: int = 0
    outside_seen: int = 0
    backend: str = "in-process"
