"""The asyncio rate limiter: FIFO waiters over the pure scheduler, woken by one timer."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from aiolimiter import AsyncLimiter

from . import _policy as policy
from ._catalog import PRIORITIES, READ_POOL, TRADE_POOL, Endpoint, Priority, endpoint_for_path
from ._clock import Clock, LoopClock, TimerHandle
from ._scheduler import PoolSpec, Scheduler, Ticket
from ._stats import LimiterStats, PoolStats

__all__ = ["DEFAULT_LIMITS", "Limiter", "RateLimiter", "RateLimits", "shared_limiter"]


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
    whole pool at once; see :mod:`htx_cancel._policy`). ``plan``: while strategy cancels queue
    beside regular ones, place their rounds so the mix finishes at the least time its limits
    allow (:mod:`htx_cancel._plan`); False keeps strategy cancels at their own full pace behind
    the capped reserve. ``RedisLimiter`` never plans (see docs/redis.md).
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
        return PoolSpec(pool, limit, t, prior, self.probe)

    def full(self, pool: str) -> tuple[int, float]:
        """The account's whole limit for a pool, as the exchange states it."""
        if pool == TRADE_POOL:
            return self.trade
        return self.read if pool == READ_POOL else self.strategy


DEFAULT_LIMITS = RateLimits()


class Limiter(Protocol):
    """What the client needs of a rate limiter (in-process :class:`RateLimiter`, or a shared one).

    ``acquire`` waits until the endpoint's pools have room and returns a ticket; every ticket goes
    back through exactly one of ``complete`` (the request may have been sent) or
    ``release_unused`` (it was not). ``observe`` and ``pause`` take in the exchange's feedback.
    ``slot`` wraps acquire and complete around a request another HTTP client sends (an
    implementation can return ``hold_slot(self, endpoint, priority)``); ``stats`` is a snapshot
    for dashboards.
    """

    async def acquire(self, endpoint: Endpoint, priority: Priority = "normal") -> Ticket:
        """Wait for a slot in every pool of ``endpoint``."""
        ...

    def complete(self, ticket: Ticket) -> None:
        """The request was answered or failed after it may have left."""
        ...

    def release_unused(self, ticket: Ticket) -> None:
        """The request never left."""
        ...

    def observe(self, ticket: Ticket, limit: int, interval_ms: int, remaining: int,
                reset_in: float) -> None:
        """The exchange's ``ratelimit-*`` headers for the ticket's request."""
        ...

    def pause(self, ticket: Ticket, limit: int | None = None, interval_ms: int | None = None,
              reset_in: float | None = None) -> None:
        """The exchange answered 1032 to the ticket's request."""
        ...

    def slot(self, path_or_endpoint: str | Endpoint, *, priority: Priority = "normal",
             pools: tuple[str, ...] | None = None) -> AbstractAsyncContextManager[Ticket]:
        """Granted on entry, completed on exit: a request sent by another HTTP client."""
        ...

    def stats(self) -> LimiterStats:
        """Slots in use and held per pool, waiters per priority, pauses, outside use."""
        ...


def resolve(path_or_endpoint: str | Endpoint, pools: tuple[str, ...] | None) -> Endpoint:
    """The endpoint a ``slot()`` call names: an Endpoint, or a path looked up in the catalog."""
    if isinstance(path_or_endpoint, Endpoint):
        return path_or_endpoint
    return endpoint_for_path(path_or_endpoint, pools)


def check_priority(priority: str) -> None:
    """ValueError for a priority that is not high, normal or low."""
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}, got {priority!r}")


@asynccontextmanager
async def hold_slot(limiter: Limiter, endpoint: Endpoint,
                    priority: Priority) -> AsyncIterator[Ticket]:
    """Acquire on entry, complete on exit however the body ends (the shared ``slot()``)."""
    ticket = await limiter.acquire(endpoint, priority)
    try:
        yield ticket
    finally:
        limiter.complete(ticket)


class RateLimiter:
    """Admits requests so that no pool ever exceeds its limit in any window at the exchange.

    One limiter serves every client and task of an account in this process (see
    :func:`shared_limiter`). ``acquire`` returns a ticket; the caller must hand it back with
    ``complete`` once the request was answered or failed (or ``release_unused`` if it was never
    sent). A waiter cancelled while queued takes nothing. ``slot()`` does both around a block,
    for requests another HTTP client sends.
    """

    __slots__ = ("__weakref__", "_clock", "_loop", "_pacer", "_sched", "_soon", "_timer",
                 "_timer_at", "limits")

    def __init__(self, limits: RateLimits = DEFAULT_LIMITS, *, clock: Clock | None = None) -> None:
        self.limits = limits
        self._clock: Clock = clock or LoopClock()
        self._sched = Scheduler([limits.spec(TRADE_POOL), limits.spec(READ_POOL)],
                                guard=limits.guard, reserve_cap=limits.strategy_reserve,
                                plan=limits.plan)
        self._pacer = AsyncLimiter(*limits.pacing) if limits.pacing else None
        self._timer: TimerHandle | None = None
        self._timer_at = 0.0
        self._soon = False
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def scheduler(self) -> Scheduler:
        """The state machine underneath, for inspection."""
        return self._sched

    async def acquire(self, endpoint: Endpoint, priority: Priority = "normal") -> Ticket:
        """Wait (FIFO per priority and endpoint) until all pools of ``endpoint`` have room."""
        if self._pacer is not None:
            await self._pacer.acquire()
        sched = self._sched
        for pool in endpoint.pools:
            if pool not in sched.pools:
                sched.add_pool(self.limits.spec(pool))
        ticket = Ticket(endpoint.name, endpoint.pools, priority)
        if sched.try_grant(ticket, self._clock.now()):
            return ticket
        loop = self._bind(asyncio.get_running_loop())
        fut: asyncio.Future[None] = loop.create_future()
        ticket.waker = fut
        sched.enqueue(ticket)
        if not self._soon:  # one dispatch after this loop turn serves all that queued in it
            self._soon = True
            loop.call_soon(self._wake)
        else:
            self._arm()
        try:
            await fut
        except asyncio.CancelledError:
            if ticket.granted:
                sched.release_unused(ticket)
            else:
                sched.cancel(ticket)
            self._wake()
            raise
        return ticket

    def slot(self, path_or_endpoint: str | Endpoint, *, priority: Priority = "normal",
             pools: tuple[str, ...] | None = None) -> AbstractAsyncContextManager[Ticket]:
        """``async with limiter.slot(path):`` around a request another HTTP client sends.

        Granted on entry (the block gets the ticket), completed on exit however the block
        ends, so the slot stays counted for a window after the request. ``path_or_endpoint``
        is a catalog path (``/linear-swap-api/v1/swap_order``), a bare name, or an
        :class:`~htx_cancel._catalog.Endpoint`; a path the catalog does not know needs ``pools``.
        """
        check_priority(priority)
        return hold_slot(self, resolve(path_or_endpoint, pools), priority)

    def complete(self, ticket: Ticket) -> None:
        """The request got its answer (or failed after it may have been sent)."""
        if self._sched.complete(ticket, self._clock.now()):
            self._soon_wake()  # a probe came back: after its headers are read, burst
        self._arm()

    def release_unused(self, ticket: Ticket) -> None:
        """The request was never sent: its slots go straight back."""
        self._sched.release_unused(ticket)
        self._wake()

    def observe(self, ticket: Ticket, limit: int, interval_ms: int, remaining: int,
                reset_in: float) -> None:
        """Take in the exchange's ``ratelimit-*`` headers for the request of ``ticket``.

        The headers name their pool by ``(limit, interval)``; ``reset_in`` is seconds from now
        until the exchange's window resets. What the exchange counted beyond this limiter's
        own requests is someone else's: the pool leaves room for it (see
        :mod:`htx_cancel._policy`).
        """
        pool = self._match(ticket, limit, interval_ms)
        if pool is None:
            return
        full = self.limits.full(pool)[0]
        mine = self._sched.pools[pool].limit
        self._sched.observe(ticket, pool, remaining - (full - mine), reset_in, self._clock.now())
        self._soon_wake()

    def pause(self, ticket: Ticket, limit: int | None = None, interval_ms: int | None = None,
              reset_in: float | None = None) -> None:
        """After a 1032: hold the pool the headers name (or all of the ticket's) until reset."""
        now = self._clock.now()
        pool = self._match(ticket, limit, interval_ms)
        for name in (pool,) if pool else ticket.pools:
            wait = policy.pause_for(self._sched.pools[name].period, reset_in, self.limits.guard)
            self._sched.pause(name, now + wait, now)
        self._arm()

    def stats(self) -> LimiterStats:
        """Every pool's slots, the waiters by priority and the counters, at this moment."""
        now = self._clock.now()
        sched = self._sched
        pools = {}
        for name, pool in sched.pools.items():
            own = pool.own(now)
            pools[name] = PoolStats(name, pool.limit, pool.period, pool.busy, own - pool.busy,
                                    max(0, pool.free(now)), pool.outside.hold(now),
                                    max(0.0, pool.paused_until - now))
        seen = max((p.outside.seen for p in sched.pools.values()), default=0)
        return LimiterStats(pools, sched.waiting_by_priority(), sched.granted, sched.pauses,
                            seen)

    def _match(self, ticket: Ticket, limit: int | None, interval_ms: int | None) -> str | None:
        """The ticket's pool whose limit and window the headers describe."""
        full = {name: self.limits.full(name) for name in ticket.pools}
        mine = {name: self._sched.pools[name].limit for name in ticket.pools}
        return policy.match_pool(ticket.pools, full, mine, limit, interval_ms)

    def _bind(self, loop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
        """Forget a timer or a pending dispatch left behind by an event loop that has ended."""
        if loop is not self._loop:
            self._loop = loop
            self._soon = False
            self._timer = None
        return loop

    def _soon_wake(self) -> None:
        """Dispatch after this loop turn (after the caller has fed back what it knows)."""
        if self._soon or not self._sched.waiting:
            return
        try:
            loop = self._bind(asyncio.get_running_loop())
        except RuntimeError:
            return
        self._soon = True
        loop.call_soon(self._wake)

    def _wake(self) -> None:
        """Grant whatever may go now, then re-arm the timer."""
        self._soon = False
        for ticket in self._sched.dispatch(self._clock.now()):
            fut = ticket.waker
            assert isinstance(fut, asyncio.Future)
            if fut.done():  # its waiter was cancelled in the same loop turn: give the slot back
                self._sched.release_unused(ticket)
                continue
            fut.set_result(None)
        self._arm()

    def _arm(self) -> None:
        """Keep exactly one timer, set for the scheduler's next wakeup."""
        when = self._sched.next_wakeup(self._clock.now())
        if when is None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            return
        if self._timer is not None:
            if self._timer_at == when:
                return
            self._timer.cancel()
        self._timer_at = when
        self._timer = self._clock.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        """The timer fired."""
        self._timer = None
        self._wake()


_shared: weakref.WeakValueDictionary[tuple[str, RateLimits], RateLimiter] = (
    weakref.WeakValueDictionary()
)


def shared_limiter(account: str, limits: RateLimits = DEFAULT_LIMITS) -> RateLimiter:
    """The process-wide limiter for an account (by access key) and limits, made on first use."""
    key = (account, limits)
    limiter = _shared.get(key)
    if limiter is None:
        limiter = _shared[key] = RateLimiter(limits)
    return limiter
