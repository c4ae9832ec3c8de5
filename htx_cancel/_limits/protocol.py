"""What the client needs of a rate limiter, and the slot handle both backends give.

Every ticket an ``acquire`` returns goes back through exactly one :meth:`Limiter.finish`, with
a :class:`~.feedback.Feedback` saying whether the request left and what its answer said.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from .._catalog import PRIORITIES, Endpoint, Priority, endpoint_for_path
from .._models import RateLimitHeaders
from .feedback import NOT_SENT, SENT, Feedback
from .scheduler import Ticket
from .stats import LimiterStats

__all__ = ["Backend", "Limiter", "Slot", "check_priority", "hold_slot", "resolve"]


class Limiter(Protocol):
    """What the client needs of a rate limiter (in-process :class:`RateLimiter`, or a shared one).

    ``acquire`` waits until the endpoint's pools have room and returns a ticket; every ticket goes
    back through exactly one ``finish`` (with :class:`Feedback`: sent or not, the answer's
    headers, an over-limit answer). ``slot`` wraps acquire and finish around a request another
    HTTP client sends; ``stats`` is a snapshot for dashboards.

    ``complete``, ``release_unused``, ``observe`` and ``pause`` are the older form of
    ``finish`` (kept while callers move to it).
    """

    async def acquire(self, endpoint: Endpoint, priority: Priority = "normal") -> Ticket:
        """Wait for a slot in every pool of ``endpoint``."""
        ...

    def finish(self, ticket: Ticket, feedback: Feedback = SENT) -> None:
        """The ticket's request is over: it left or not, and what its answer said."""
        ...

    def complete(self, ticket: Ticket) -> None:
        """``finish(ticket)``: the request was answered or failed after it may have left."""
        ...

    def release_unused(self, ticket: Ticket) -> None:
        """``finish(ticket, NOT_SENT)``: the request never left."""
        ...

    def observe(self, ticket: Ticket, limit: int, interval_ms: int, remaining: int,
                reset_in: float) -> None:
        """The exchange's ``ratelimit-*`` headers for a completed ticket's request."""
        ...

    def pause(self, ticket: Ticket, limit: int | None = None, interval_ms: int | None = None,
              reset_in: float | None = None) -> None:
        """The exchange answered 1032 to a completed ticket's request."""
        ...

    def slot(self, path_or_endpoint: str | Endpoint, *, priority: Priority = "normal",
             pools: tuple[str, ...] | None = None) -> AbstractAsyncContextManager[Slot]:
        """Granted on entry, finished on exit: a request sent by another HTTP client."""
        ...

    def stats(self) -> LimiterStats:
        """Slots in use and held per pool, waiters per priority, pauses, outside use."""
        ...


class Backend:
    """What both backends share above their books: the older feedback methods, in terms of
    :meth:`finish` (the request is over) and :meth:`learn` (what a finished request's answer
    said)."""

    __slots__ = ()

    def finish(self, ticket: Ticket, feedback: Feedback = SENT) -> None:
        raise NotImplementedError

    def learn(self, ticket: Ticket, feedback: Feedback) -> None:
        raise NotImplementedError

    def complete(self, ticket: Ticket) -> None:
        """``finish(ticket)``: the request was answered or failed after it may have left."""
        self.finish(ticket, SENT)

    def release_unused(self, ticket: Ticket) -> None:
        """``finish(ticket, NOT_SENT)``: the request never left."""
        self.finish(ticket, NOT_SENT)

    def observe(self, ticket: Ticket, limit: int, interval_ms: int, remaining: int,
                reset_in: float) -> None:
        """The ``ratelimit-*`` headers of a completed ticket's request."""
        self.learn(ticket, Feedback(True, RateLimitHeaders(limit, interval_ms, remaining, 0),
                                    reset_in))

    def pause(self, ticket: Ticket, limit: int | None = None, interval_ms: int | None = None,
              reset_in: float | None = None) -> None:
        """A 1032 to a completed ticket's request."""
        headers = (RateLimitHeaders(limit, interval_ms, 0, 0)
                   if limit is not None and interval_ms is not None else None)
        self.learn(ticket, Feedback(True, headers, reset_in, rate_limited=True))


class Slot:
    """A granted slot inside ``async with limiter.slot(...) as slot:``.

    Say how the request ended with :meth:`finish` (or :meth:`not_sent`) before the block ends;
    a block that says nothing counts as sent, so its slot stays counted for a window.
    """

    __slots__ = ("feedback", "ticket")

    def __init__(self, ticket: Ticket) -> None:
        self.ticket = ticket
        self.feedback = SENT

    def finish(self, feedback: Feedback) -> None:
        """What the answer said (headers, over-limit), handed to the limiter when the block ends."""
        self.feedback = feedback

    def not_sent(self) -> None:
        """The request certainly never left: the slot goes straight back when the block ends."""
        self.feedback = Feedback(sent=False)


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
                    priority: Priority) -> AsyncIterator[Slot]:
    """Acquire on entry, finish on exit however the body ends (every backend's ``slot()``)."""
    slot = Slot(await limiter.acquire(endpoint, priority))
    try:
        yield slot
    finally:
        limiter.finish(slot.ticket, slot.feedback)
