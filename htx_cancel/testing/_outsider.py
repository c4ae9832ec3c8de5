"""A steady outside client on the account: takes slots of a pool from inside the exchange."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from .._clock import Clock

__all__ = ["Outsider"]


class Outsider:
    """Another program on the account sending ``rate`` requests per second to ``endpoint``.

    Its requests arrive at the exchange at steady times (one every ``1 / rate`` seconds of the
    exchange's clock) and take slots of that endpoint's pools like any other; ``accepted`` and
    ``rejected`` (1032) count them. They are not in ``FakeExchange.requests``.

    :param rate: requests per second (more than 0, else a ValueError).
    :param endpoint: the endpoint whose pools its requests take.
    :param clock: the exchange's clock.
    :param admit: takes a request arriving at the given time: True when the pools admitted it, False
        for a 1032. Use ``FakeExchange.start_outsider()`` rather than making one by hand.
    """

    __slots__ = ("_admit", "_clock", "_task", "accepted", "endpoint", "rate", "rejected")

    def __init__(
        self, rate: float, endpoint: str, clock: Clock, admit: Callable[[float], bool]
    ) -> None:
        if not rate > 0:
            raise ValueError(f"outsider rate must be > 0 requests per second, got {rate!r}")
        self.rate = rate
        self.endpoint = endpoint
        self.accepted = 0
        self.rejected = 0
        self._clock = clock
        self._admit = admit
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """True until [`stop()`][htx_cancel.testing.Outsider.stop]."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Begin sending (the first request arrives at once)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        """One arrival every 1 / rate seconds, on a fixed schedule (no drift)."""
        start = self._clock.now()
        sent = 0
        while True:
            due = start + sent / self.rate
            now = self._clock.now()
            if due > now:
                await self._clock.sleep(due - now)
            if self._admit(self._clock.now()):
                self.accepted += 1
            else:
                self.rejected += 1
            sent += 1

    async def stop(self) -> None:
        """Stop sending."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
