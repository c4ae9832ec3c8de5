"""The one source of time: a monotonic clock for scheduling, a wall clock for signing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Clock", "LoopClock", "TimerHandle"]


class TimerHandle(Protocol):
    """What ``Clock.call_at`` returns: something that can be cancelled."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Time as the library sees it. Swap in a fake one to move time in tests."""

    def now(self) -> float:
        """Monotonic seconds, for scheduling and timings."""
        ...

    def wall(self) -> float:
        """Epoch seconds (this machine's), for signing and the server-time offset."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` once ``now()`` reaches ``when``."""
        ...

    async def sleep(self, delay: float) -> None:
        """Sleep for ``delay`` seconds of this clock."""
        ...


class LoopClock:
    """The running event loop's clock, and ``time.time()`` for the wall."""

    __slots__ = ()

    def now(self) -> float:
        """The running loop's monotonic time."""
        return asyncio.get_running_loop().time()

    def wall(self) -> float:
        """This machine's epoch time."""
        return time.time()

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        """Schedule on the running loop."""
        return asyncio.get_running_loop().call_at(when, callback)

    async def sleep(self, delay: float) -> None:
        """``asyncio.sleep``."""
        await asyncio.sleep(delay)
