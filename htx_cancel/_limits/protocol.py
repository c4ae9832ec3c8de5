"""What the client needs of a rate limiter, and the slot handle both backends give.

Every ticket an ``acquire`` returns goes back through exactly one `Limiter.finish()`, with
a `Feedback` saying whether the request left and what its answer said.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from .._catalog import PRIORITIES, Endpoint, Priority, endpoint_for_path
from .feedback import SENT, Feedback
from .scheduler import Ticket
from .stats import LimiterStats

__all__ = ["Limiter", "Slot", "check_priority", "hold_slot", "resolve"]


class Limiter(Protocol):
    """What the client needs of a rate limiter (in-process `RateLimiter`, or a shared one).

    ``acquire`` waits until the endpoint's pools have room and returns a ticket; every ticket goes
    back through exactly one ``finish`` (with `Feedback`: sent or not, the answer's
    headers, an over-limit answer). ``slot`` wraps acquire and finish around a request another
    HTTP client sends; ``stats`` is a snapshot for dashboards.
    """

    async def acquire(self, endpoint: Endpoint, priority: Priority = "normal") -> Ticket:
        """Wait for a slot in every pool of ``endpoint``.

        :param endpoint: the catalog's endpoint of the request (its pools: trade, read, a strategy
            pool).
        :param priority: ``"high"``, ``"normal"`` (the default) or ``"low"``: higher priorities are
            granted first.
        """
        ...

    def finish(self, ticket: Ticket, feedback: Feedback = SENT) -> None:
        """The ticket's request is over: it left or not, and what its answer said.

        :param ticket: the ticket ``acquire`` returned; each goes back exactly once.
        :param feedback: how the request ended: a [`Feedback`][htx_cancel.Feedback] (default: sent,
            nothing learned from its answer).
        """
        ...

    def slot(self, path_or_endpoint: str | Endpoint, *, priority: Priority = "normal",
             pools: tuple[str, ...] | None = None) -> AbstractAsyncContextManager[Slot]:
        """Granted on entry, finished on exit: a request sent by another HTTP client.

        :param path_or_endpoint: a catalog path (``/linear-swap-api/v1/swap_order``,
            ``/v5/trade/order``), a bare v1 name (``swap_order``), or an endpoint of the catalog.
        :param priority: ``"high"``, ``"normal"`` (the default) or ``"low"``; anything else is a
            ValueError.
        :param pools: the pools the request counts against, such as ``("trade",)``; needed (else a
            ValueError) for a path the catalog does not know, and given for a known one they replace
            the catalog's.
        """
        ...

    def stats(self) -> LimiterStats:
        """Slots in use and held per pool, waiters per priority, pauses, outside use."""
        ...


class Slot:
    """A granted slot inside ``async with limiter.slot(...) as slot:``.

    Say how the request ended with `finish()` (or `not_sent()`) before the block ends;
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
