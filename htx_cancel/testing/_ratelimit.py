"""The fake exchange's strict rate limiter: sliding or fixed windows, counted at arrival."""

from __future__ import annotations

import math
from collections import deque
from typing import Literal

__all__ = ["Pool", "ServerPools", "Window", "max_in_window"]

Window = Literal["sliding", "fixed"]


class Pool:
    """One pool: at most ``limit`` accepted arrivals per window of ``interval`` seconds."""

    __slots__ = ("_held", "arrivals", "fixed", "interval", "limit", "name")

    def __init__(self, name: str, limit: int, interval: float, window: Window) -> None:
        if limit < 1 or interval <= 0:
            raise ValueError(f"pool {name!r}: limit must be >= 1 and interval > 0")
        self.name = name
        self.limit = limit
        self.interval = interval
        self.fixed = window == "fixed"
        self._held: deque[float] = deque()
        self.arrivals: list[float] = []

    def _window_start(self, now: float) -> float:
        """Earliest arrival time still counted: fixed windows are [kT, (k+1)T)."""
        if self.fixed:
            return math.floor(now / self.interval) * self.interval
        return now - self.interval

    def _prune(self, now: float) -> None:
        """Forget arrivals that no longer count against the window containing ``now``."""
        start = self._window_start(now)
        held = self._held
        if self.fixed:
            while held and held[0] < start:
                held.popleft()
        else:
            while held and held[0] <= start:
                held.popleft()

    def used(self, now: float) -> int:
        """Accepted arrivals counted in the window at ``now``."""
        self._prune(now)
        return len(self._held)

    def has_room(self, now: float) -> bool:
        """True when one more arrival at ``now`` stays within the limit."""
        return self.used(now) < self.limit

    def add(self, now: float) -> None:
        """Count an accepted arrival."""
        self._held.append(now)
        self.arrivals.append(now)

    def remaining(self, now: float) -> int:
        """Arrivals still allowed in the window at ``now``."""
        return max(self.limit - self.used(now), 0)

    def reset_at(self, now: float) -> float:
        """Monotonic time when a slot frees (sliding) or the window resets (fixed)."""
        if self.fixed:
            return self._window_start(now) + self.interval
        self._prune(now)
        return self._held[0] + self.interval if self._held else now

    def clear(self) -> None:
        """Forget every arrival."""
        self._held.clear()
        self.arrivals.clear()


def max_in_window(arrivals: list[float], interval: float) -> int:
    """The most arrivals in any half-open window (t - interval, t]."""
    best = 0
    start = 0
    ordered = sorted(arrivals)
    for end, t in enumerate(ordered):
        while ordered[start] <= t - interval:
            start += 1
        best = max(best, end - start + 1)
    return best


class ServerPools:
    """Every pool of the exchange (trade, read, one per strategy endpoint), made on first use.

    ``named`` holds the limits of other pools by name (e.g. the v5 algo pool); any other name is
    a strategy endpoint's pool (``strategy_limit``).
    """

    __slots__ = ("_pools", "enabled", "named", "read_limit", "strategy_limit", "trade_limit",
                 "window")

    def __init__(
        self,
        trade_limit: tuple[int, float],
        strategy_limit: tuple[int, float],
        window: Window,
        enabled: bool,
        read_limit: tuple[int, float] = (72, 3.0),
    ) -> None:
        if window not in ("sliding", "fixed"):
            raise ValueError(f"window must be 'sliding' or 'fixed', got {window!r}")
        self.trade_limit = trade_limit
        self.strategy_limit = strategy_limit
        self.read_limit = read_limit
        self.window: Window = window
        self.enabled = enabled
        self.named: dict[str, tuple[int, float]] = {}
        self._pools: dict[str, Pool] = {}

    def pool(self, name: str) -> Pool:
        """The pool called ``name`` ("trade", "read" or a strategy endpoint's name)."""
        pool = self._pools.get(name)
        if pool is None:
            limits = {"trade": self.trade_limit, "read": self.read_limit, **self.named}
            limit, interval = limits.get(name, self.strategy_limit)
            pool = self._pools[name] = Pool(name, limit, interval, self.window)
        return pool

    def admit(self, pools: tuple[str, ...], now: float) -> bool:
        """Count an arrival in every pool, or in none when any pool is full (then False)."""
        members = [self.pool(name) for name in pools]
        if self.enabled and not all(p.has_room(now) for p in members):
            return False
        for p in members:
            p.add(now)
        return True

    def headers(self, name: str, now: float, wall_ms: int) -> dict[str, str]:
        """The ``ratelimit-*`` headers for pool ``name`` at ``now`` (wall clock ``wall_ms``)."""
        pool = self.pool(name)
        reset_ms = wall_ms + max(round((pool.reset_at(now) - now) * 1000), 0)
        return {
            "ratelimit-limit": str(pool.limit),
            "ratelimit-interval": str(round(pool.interval * 1000)),
            "ratelimit-remaining": str(pool.remaining(now)),
            "ratelimit-reset": str(reset_ms),
        }

    def max_in_window(self, name: str) -> int:
        """The most accepted arrivals of pool ``name`` in any sliding window of its length."""
        pool = self.pool(name)
        return max_in_window(pool.arrivals, pool.interval)

    def clear(self) -> None:
        """Forget every arrival of every pool."""
        for pool in self._pools.values():
            pool.clear()
