"""A limiter's state at one moment, as plain data (for dashboards, logs and tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LimiterStats", "PoolStats"]


@dataclass(frozen=True, slots=True)
class PoolStats:
    """One pool at one moment.

    :param name: the pool's name (``trade``, ``read``, or a strategy endpoint's).
    :param limit: requests allowed per window (after ``share``).
    :param period: the window, in seconds.
    :param in_flight: slots granted, not answered yet.
    :param held: slots answered, still counted for a window.
    :param free: slots that could be granted now.
    :param outside: slots left for use this limiter cannot see (learned from the exchange's counts).
    :param paused_for: seconds left of a pause after a 1032 (0 when not paused).
    :param cold: True while nothing is known of the pool's use by others (no answer with
        ``ratelimit-*`` headers in the last window): it sends one request alone and reads its
        answer before bursting (``RateLimits.probe``), so ``free`` is 1 with nothing held or in
        flight; a pool the run never used (the read pool of a cancel-only run) shows just that.
    """

    name: str
    limit: int
    period: float
    in_flight: int
    held: int
    free: int
    outside: int
    paused_for: float
    cold: bool = False

    @property
    def used(self) -> float:
        """Share of the pool taken (in flight, held or left for others), 0..1."""
        return min(1.0, (self.in_flight + self.held + self.outside) / self.limit)


@dataclass(frozen=True, slots=True)
class LimiterStats:
    """Every pool, waiters by priority, and counters since the limiter was made.

    :param pools: each pool's [`PoolStats`][htx_cancel.PoolStats], by pool name.
    :param waiting: requests waiting, by priority.
    :param granted: slots granted (a request in two pools counts once).
    :param pauses: 1032 pauses taken in.
    :param outside_seen: the most requests of others the exchange counted in one answer.
    :param backend: where the pools are kept now: ``"in-process"``, ``"redis"``, or ``"fallback"``
        (a Redis limiter limiting in-process while Redis cannot be used).
    """

    pools: dict[str, PoolStats] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)
    granted: int = 0
    pauses: int = 0
    outside_seen: int = 0
    backend: str = "in-process"
