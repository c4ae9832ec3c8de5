"""The limiter of a client whose limits are off: it grants every request at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from ._catalog import Endpoint, Priority
from ._limiter import check_priority, resolve
from ._scheduler import Ticket
from ._stats import LimiterStats

__all__ = ["Unlimited"]


class Unlimited:
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

    def complete(self, ticket: Ticket) -> None:
        """Nothing to count."""

    def release_unused(self, ticket: Ticket) -> None:
        """Nothing to give back."""

    def observe(self, ticket: Ticket, limit: int, interval_ms: int, remaining: int,
                reset_in: float) -> None:
        """Headers are not kept: there are no pools."""

    def pause(self, ticket: Ticket, limit: int | None = None, interval_ms: int | None = None,
              reset_in: float | None = None) -> None:
        """No pool to pause: the attempt machine waits the reset itself."""

    def slot(self, path_or_endpoint: str | Endpoint, *, priority: Priority = "normal",
             pools: tuple[str, ...] | None = None) -> AbstractAsyncContextManager[Ticket]:
        """Granted at once, on entry."""
        return self._hold(resolve(path_or_endpoint, pools), priority)

    @asynccontextmanager
    async def _hold(self, endpoint: Endpoint, priority: Priority) -> AsyncIterator[Ticket]:
        yield await self.acquire(endpoint, priority)

    def stats(self) -> LimiterStats:
        """No pools; the grants counted."""
        return LimiterStats(granted=self._granted)
