"""HTX's limits as one process may use them: the pools' sizes and the limiter's options."""

from __future__ import annotations

from dataclasses import dataclass

from .._catalog import READ_POOL, TRADE_POOL
from . import policy
from .pools import PoolSpec

__all__ = ["DEFAULT_LIMITS", "RateLimits"]


@dataclass(frozen=True, slots=True)
class RateLimits:
    """HTX's limits as this process may use them.

    ``trade`` is the account's trade pool (72 requests per 3 s), ``read`` its read pool (72 per
    3 s) and ``strategy`` each strategy endpoint's own pool (5 per 1 s), as ``(requests,
    seconds)``. ``share`` scales them down for one of several processes on an account (0.5:
    half each). ``guard`` is added to every hold, against clock granularity at the exchange.
    ``strategy_reserve`` caps the trade slots kept for queued strategy cancels (default: two
    thirds of the trade pool, what three strategy endpoints at full speed need). ``pacing``, if
    set, is an ``(requests, seconds)`` aiolimiter stage in front of the strict pools that
    spreads a burst; it never replaces them.

    Outside use (another program on the account) is learned from the exchange's
    ``ratelimit-*`` headers. ``probe``: while nothing is known of a pool, send one request and
    read its answer before bursting. ``outside_prior``: the share of the trade and read pools
    left free for unseen use until the exchange's count covers half a window (0 to burst the
    whole pool at once; see :mod:`htx_cancel._limits.outside`). ``plan``: while strategy
    cancels queue beside regular ones, place their rounds so the mix finishes at the least time
    its limits allow (:mod:`htx_cancel._limits.planner`); False keeps strategy cancels at their
    own full pace behind the capped reserve. ``RedisLimiter`` never plans (see docs/redis.md).
    """

    trade: tuple[int, float] = (72, 3.0)
    strategy: tuple[int, float] = (5, 1.0)
    share: float = 1.0
    guard: float = 0.005
    strategy_reserve: int | None = None
    pacing: tuple[float, float] | None = None
    read: tuple[int, float] = (72, 3.0)
    probe: bool = True
    outside_prior: float = 0.25
    plan: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1:
            raise ValueError(f"share must be in (0, 1], got {self.share}")
        for name, (n, t) in (("trade", self.trade), ("read", self.read),
                             ("strategy", self.strategy)):
            if n < 1 or t <= 0:
                raise ValueError(f"{name} limit must be (requests >= 1, seconds > 0), got {(n, t)}")
        if self.guard < 0:
            raise ValueError(f"guard must not be negative, got {self.guard}")
        if not 0 <= self.outside_prior < 1:
            raise ValueError(f"outside_prior must be in [0, 1), got {self.outside_prior}")

    def spec(self, pool: str) -> PoolSpec:
        """The pool's spec after ``share``: trade, read, or else a strategy endpoint's."""
        n, t = self.full(pool)
        limit = max(1, int(n * self.share))
        account = pool in (TRADE_POOL, READ_POOL)
        prior = policy.prior_for(limit, self.outside_prior) if account else 0
        return PoolSpec(pool, limit, t, prior, self.probe, n)

    def specs(self, pools: tuple[str, ...] = (TRADE_POOL, READ_POOL)) -> list[PoolSpec]:
        """The specs of these pools (default the account's two)."""
        return [self.spec(pool) for pool in pools]

    def full(self, pool: str) -> tuple[int, float]:
        """The account's whole limit for a pool, as the exchange states it."""
        if pool == TRADE_POOL:
            return self.trade
        return self.read if pool == READ_POOL else self.strategy


DEFAULT_LIMITS = RateLimits()
