"""The asyncio rate limiter: FIFO waiters over the pure scheduler, woken by one timer."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Protocol

from aiolimiter import AsyncLimiter

from ._catalog import TRADE_POOL, Endpoint, Priority
from ._clock import Clock, LoopClock, TimerHandle
from ._scheduler import PoolSpec, Scheduler, Ticket

__all__ = ["DEFAULT_LIMITS", "Limiter", "RateLimiter", "RateLimits", "shared_limiter"]


@dataclass(frozen=True, slots=True)
class RateLimits:
    """HTX's limits as this process may use them.

    ``trade`` is the account's trade pool (72 requests per 3 s) and ``strategy`` each strategy
    endpoint's own pool (5 per 1 s), as ``(requests, seconds)``. ``share`` scales both down for
    one of several processes on an account (0.5: half each). ``guard`` is added to every hold,
    against clock granularity at the exchange. ``strategy_reserve`` caps the trade slots kept
    for queued strategy cancels (default: two thirds of the trade pool, what three strategy
    endpoints at full speed need). ``pacing``, if set, is an
    ``(requests, seconds)`` aiolimiter stage in front of the strict pools that spreads a burst;
    it never replaces them.
    """

    trade: tuple[int, float] = (72, 3.0)
    strategy: tuple[int, float] = (5, 1.0)
    share: float = 1.0
    guard: float = 0.005
    strategy_reserve: int | None = None
    pacing: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1:
            raise ValueError(f"share must be in (0, 1], got {self.share}")
        for name, (n, t) in (("trade", self.trade), ("strategy", self.strategy)):
            if n < 1 or t <= 0:
                raise ValueError(f"{name} limit must be (requests >= 1, seconds > 0), got {(n, t)}")
        if self.guard < 0:
            raise ValueError(f"guard must not be negative, got {self.guard}")

    def spec(self, pool: str) -> PoolSpec:
        """The pool's spec after ``share``."""
        n, t = self.trade if pool == TRADE_POOL else self.strategy
        return PoolSpec(pool, max(1, int(n * self.share)), t)

    def full(self, pool: str) -> tuple[int, float]:
        """The account's whole limit for a pool, as the exchange states it."""
        return self.trade if pool == TRADE_POOL else self.strategy


DEFAULT_LIMITS = RateLimits()


class Limiter(Protocol):
    """What the client needs of a rate limiter (in-process :class:`RateLimiter`, or a shared one).

    ``acquire`` waits until the endpoint's pools have room and returns a ticket; every ticket goes
    back through exactly one of ``complete`` (the request may have been sent) or
    ``release_unused`` (it was not). ``observe`` and ``pause`` take in the exchange's feedback.
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


class RateLimiter:
    """Admits requests so that no pool ever exceeds its limit in any window at the exchange.

    One limiter serves every client and task of an account in this process (see
    :func:`shared_limiter`). ``acquire`` returns a ticket; the caller must hand it back with
    ``complete`` once the request was answered or failed (or ``release_unused`` if it was never
    sent). A waiter cancelled while queued takes nothing.
    """

    __slots__ = ("__weakref__", "_clock", "_loop", "_pacer", "_sched", "_soon", "_timer",
                 "_timer_at", "limits")

    def __init__(self, limits: RateLimits = DEFAULT_LIMITS, *, clock: Clock | None = None) -> None:
        self.limits = limits
        self._clock: Clock = clock or LoopClock()
        self._sched = Scheduler([limits.spec(TRADE_POOL)], guard=limits.guard,
                                reserve_cap=limits.strategy_reserve)
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
        """Wait (FIFO per endpoint) until all pools of ``endpoint`` have room; take a slot."""
        if self._pacer is not None:
            await self._pacer.acquire()
        for pool in endpoint.pools[1:]:
            self._sched.add_pool(self.limits.spec(pool))
        ticket = Ticket(endpoint.name, endpoint.pools)
        if self._sched.try_grant(ticket, self._clock.now()):
            return ticket
        loop = self._bind(asyncio.get_running_loop())
        fut: asyncio.Future[None] = loop.create_future()
        ticket.waker = fut
        self._sched.enqueue(ticket)
        if not self._soon:  # one dispatch after this loop turn serves all that queued in it
            self._soon = True
            loop.call_soon(self._wake)
        else:
            self._arm()
        try:
            await fut
        except asyncio.CancelledError:
            if ticket.granted:
                self._sched.release_unused(ticket)
            else:
                self._sched.cancel(ticket)
            self._wake()
            raise
        return ticket

    def complete(self, ticket: Ticket) -> None:
        """The request got its answer (or failed after it may have been sent)."""
        self._sched.complete(ticket, self._clock.now())
        self._arm()

    def release_unused(self, ticket: Ticket) -> None:
        """The request was never sent: its slots go straight back."""
        self._sched.release_unused(ticket)
        self._wake()

    def observe(self, ticket: Ticket, limit: int, interval_ms: int, remaining: int,
                reset_in: float) -> None:
        """Take in the exchange's ``ratelimit-*`` headers for the request of ``ticket``.

        The headers name their pool by ``(limit, interval)``; ``reset_in`` is seconds from now
        until the exchange's window resets. Slots the exchange says are taken by someone else
        on the account are held back until then.
        """
        pool = self._match(ticket, limit, interval_ms)
        if pool is None:
            return
        full = self.limits.full(pool)[0]
        mine = self._sched.pools[pool].limit
        now = self._clock.now()
        until = now + min(max(reset_in, 0.0), self._sched.pools[pool].period)
        if self._sched.observe(ticket, pool, remaining - (full - mine), until, now):
            self._arm()

    def pause(self, ticket: Ticket, limit: int | None = None, interval_ms: int | None = None,
              reset_in: float | None = None) -> None:
        """After a 1032: hold the pool the headers name (or all of the ticket's) until reset."""
        now = self._clock.now()
        pool = self._match(ticket, limit, interval_ms) if limit and interval_ms else None
        for name in (pool,) if pool else ticket.pools:
            period = self._sched.pools[name].period
            wait = period if reset_in is None else min(max(reset_in, 0.0), period)
            self._sched.pause(name, now + wait + self.limits.guard)
        self._arm()

    def _match(self, ticket: Ticket, limit: int | None, interval_ms: int | None) -> str | None:
        """The ticket's pool whose limit and window the headers describe."""
        for name in reversed(ticket.pools):
            n, t = self.limits.full(name)
            if interval_ms == round(t * 1000) and limit in (n, self._sched.pools[name].limit):
                return name
        return None

    def _bind(self, loop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
        """Forget a timer or a pending dispatch left behind by an event loop that has ended."""
        if loop is not self._loop:
            self._loop = loop
            self._soon = False
            self._timer = None
        return loop

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
