"""The limiter of a client whose limits are off: it grants every request at once."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from ._catalog import Endpoint, Priority
from ._limits import (
    SENT,
    Backend,
    Feedback,
    LimiterStats,
    Slot,
    Ticket,
    check_priority,
    hold_slot,
    resolve,
)

__all__ = ["Unlimited"]


class Unlimited(Backend):
    """A :class:`~htx_cancel.Limiter` that never waits (``CancelClient(rate_limits=None)``).

    ``client.limiter`` is this when limiting is off, so a bot's ``client.limiter.slot(...)`` and
    ``client.limiter.stats()`` work whatever the client's limits: the slot is granted at once,
    the stats have no pools and count the grants.
    """

    __slots__ = ("_granted",)

    def __init__(self) -> None:
        self._granted = 0

    async def acquire(self, endpoint: Endpoint, priority: Priority = "normal") -> Ticket:
        """A ticket at once."""
        check_priority(priority)
        self._granted += 1
        return Ticket(endpoint.name, endpoint.pools, priority)

    def finish(self, ticket: Ticket, feedback: Feedback = SENT) -> None:
        """Nothing to count, nothing to give back."""

    def learn(self, ticket: Ticket, feedback: Feedback) -> None:
        """Headers are not kept and no pool pauses: the attempt machine waits a reset itself."""

    def slot(self, path_or_endpoint: str | Endpoint, *, priority: Priority = "normal",
             pools: tuple[str, ...] | None = None) -> AbstractAsyncContextManager[Slot]:
        """Granted at once, on entry."""
        return hold_slot(self, resolve(path_or_endpoint, pools), priority)

    def stats(self) -> LimiterStats:
        """No pools; the grants counted."""
        return LimiterStats(granted=self._granted)
