"""The asyncio rate limiter: FIFO waiters over the pure scheduler, woken by one timer."""

from __future__ import annotations

import asyncio
import weakref
from contextlib import AbstractAsyncContextManager

from aiolimiter import AsyncLimiter

from .._catalog import Endpoint, Priority
from .._clock import Clock, LoopClock, TimerHandle
from .feedback import SENT, Feedback
from .limits import DEFAULT_LIMITS, RateLimits
from .protocol import Backend, Slot, check_priority, hold_slot, resolve
from .scheduler import Finished, Scheduler, Ticket
from .stats import LimiterStats

__all__ = ["RateLimiter", "shared_limiter"]


class RateLimiter(Backend):
    """Admits requests so that no pool ever exceeds its limit in any window at the exchange.

    One limiter serves every client and task of an account in this process (see
    :func:`shared_limiter`). ``acquire`` returns a ticket; the caller must hand it back with
    ``finish`` once the request was answered or failed, or never sent (:class:`Feedback`). A
    waiter cancelled while queued takes nothing. ``slot()`` does both around a block, for
    requests another HTTP client sends.

    ``scheduler`` lends books to keep (the Redis backend's, when it falls back to this one).
    """

    __slots__ = ("__weakref__", "_clock", "_loop", "_pacer", "_sched", "_soon", "_timer",
                 "_timer_at", "limits")

    def __init__(self, limits: RateLimits = DEFAULT_LIMITS, *, clock: Clock | None = None,
                 scheduler: Scheduler | None = None) -> None:
        self.limits = limits
        self._clock: Clock = clock or LoopClock()
        self._sched = scheduler or Scheduler(limits.specs(), guard=limits.guard,
                                             reserve_cap=limits.strategy_reserve,
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
        except (asyncio.CancelledError, Exception):  # cancelled, or sent away by evict()
            if ticket.granted:
                sched.release_unused(ticket)
            else:
                sched.cancel(ticket)
            self._wake()
            raise
        return ticket

    def evict(self, exc: BaseException) -> None:
        """Send every queued waiter away with ``exc`` (it took nothing): the Redis backend
        moves them back to Redis when Redis returns."""
        for ticket in self._sched.queued():
            self._sched.cancel(ticket)
            fut = ticket.waker
            if isinstance(fut, asyncio.Future) and not fut.done():
                fut.set_exception(exc)

    def slot(self, path_or_endpoint: str | Endpoint, *, priority: Priority = "normal",
             pools: tuple[str, ...] | None = None) -> AbstractAsyncContextManager[Slot]:
        """``async with limiter.slot(path) as slot:`` around a request another HTTP client sends.

        Granted on entry; finished on exit however the block ends, with what the block said
        through ``slot.finish(Feedback(...))`` or ``slot.not_sent()`` (nothing said: sent, so
        the slot stays counted for a window after the request). ``path_or_endpoint`` is a
        catalog path (``/linear-swap-api/v1/swap_order``), a bare name, or an
        :class:`~htx_cancel._catalog.Endpoint`; a path the catalog does not know needs ``pools``.
        """
        check_priority(priority)
        return hold_slot(self, resolve(path_or_endpoint, pools), priority)

    def finish(self, ticket: Ticket, feedback: Feedback = SENT) -> None:
        """The ticket's request is over (see :class:`Feedback`): its slots go back, or stay
        counted for a window; its headers teach the pool outside use; a 1032 pauses it."""
        self._after(self._sched.finish(ticket, self._clock.now(), feedback))

    def learn(self, ticket: Ticket, feedback: Feedback) -> None:
        """What the answer of a finished ticket's request said (headers, a 1032)."""
        self._after(self._sched.learn(ticket, self._clock.now(), feedback))

    def stats(self) -> LimiterStats:
        """Every pool's slots, the waiters by priority and the counters, at this moment."""
        return self._sched.stats(self._clock.now())

    def _after(self, done: Finished) -> None:
        """Wake waiters after this loop turn if the feedback may let one go; re-arm the timer."""
        if done.wake:
            self._soon_wake()
        self._arm()

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
