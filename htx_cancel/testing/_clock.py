"""A clock that moves only when a test says so."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable

__all__ = ["FakeClock"]


class _Timer:
    """A scheduled callback; cancelling it makes ``advance`` skip it."""

    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        """Do not run the callback."""
        self.cancelled = True


class FakeClock:
    """A `htx_cancel._clock.Clock` for tests: time stands still until ``advance`` moves it.

    ``sleep`` waits for the fake time to pass; ``advance`` runs due timers in order and lets the
    event loop run the tasks they woke before moving on.

    :param start: the fake monotonic time to begin at, in seconds (default 1000.0).
    :param wall: the fake epoch time at ``start``, in seconds (default 1,700,000,000: November
        2023).
    """

    __slots__ = ("_counter", "_now", "_timers", "_wall0")

    def __init__(self, start: float = 1000.0, wall: float = 1_700_000_000.0) -> None:
        self._now = start
        self._wall0 = wall - start
        self._timers: list[tuple[float, int, _Timer]] = []
        self._counter = itertools.count()

    def now(self) -> float:
        """The fake monotonic time."""
        return self._now

    def wall(self) -> float:
        """The fake epoch time, moving with ``now``."""
        return self._wall0 + self._now

    def call_at(self, when: float, callback: Callable[[], None]) -> _Timer:
        """Run ``callback`` when ``advance`` reaches ``when``.

        :param when: the fake monotonic time, in seconds.
        :param callback: called with no arguments; cancel it through the timer returned.
        """
        timer = _Timer(callback)
        heapq.heappush(self._timers, (when, next(self._counter), timer))
        return timer

    async def sleep(self, delay: float) -> None:
        """Wait until the fake time has moved ``delay`` forward.

        :param delay: fake seconds (a negative delay is taken as 0).
        """
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not fut.done():
                fut.set_result(None)

        self.call_at(self._now + max(delay, 0.0), wake)
        await fut

    def next_timer(self) -> float | None:
        """When the earliest pending timer is due, or None."""
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    async def advance(self, delta: float) -> None:
        """Move time forward by ``delta``, running every timer that falls due on the way.

        :param delta: fake seconds to move forward.
        """
        target = self._now + delta
        await _settle()
        while (due := self.next_timer()) is not None and due <= target:
            _, _, timer = heapq.heappop(self._timers)
            self._now = max(self._now, due)
            timer.callback()
            await _settle()
        self._now = target
        await _settle()

    async def run_until(self, awaitable_done: Callable[[], bool], limit: float = 3600.0) -> None:
        """Advance timer by timer until ``awaitable_done()`` is true or ``limit`` seconds pass.

        :param awaitable_done: checked after each timer; the wait ends once it returns True.
        :param limit: fake seconds after which a TimeoutError is raised (default 3600.0); also
            raised at once when no timer is left to run.
        """
        end = self._now + limit
        await _settle()
        while not awaitable_done():
            due = self.next_timer()
            if due is None or due > end:
                raise TimeoutError("fake time ran out with nothing left to do")
            await self.advance(due - self._now)


async def _settle(rounds: int = 20) -> None:
    """Let ready tasks run a few loop iterations."""
    for _ in range(rounds):
        await asyncio.sleep(0)
