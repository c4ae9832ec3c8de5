"""Pacer: a burst of requests started over several loop iterations, not in one.

When a window opens the limiter grants a whole burst at once (72 trade slots on HTX). Each
granted request then signs, builds and writes itself in the same loop iteration, so a bot's
quoting task sharing the loop waits for all of them: 10 to 25 ms on a busy machine. The pacer
lets requests start while the current iteration has spent less than ``budget`` seconds on
them; the rest wait their turn and are let go a slice at a time, one slice an iteration, the
most urgent first (a cancel before a placement), so the bot's tasks run between slices. The
burst reaches the exchange no later in sum: the work is the same, only interleaved.

An iteration is told from the next by a callback scheduled with ``call_soon`` at its first
turn (it runs at the start of the next iteration). The size of a slice is the budget over
the time a request has been taking to start (a running mean of the gaps between turns in one
iteration), at least one.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

__all__ = ["DEFAULT_BUDGET", "Pacer"]

DEFAULT_BUDGET = 0.0008  # seconds of one loop iteration spent starting requests
_FIRST_GUESS = 0.0001  # what a request takes to start, before one was measured
_LEVELS = 3  # the ranks turn() takes: 0 (most urgent) to 2


class Pacer:
    """Let requests start while the loop iteration's budget lasts; the rest in later ones.

    ``await pacer.turn(rank)`` returns at once while the iteration has time left and nobody
    waits; otherwise it waits behind earlier turns of the same or a more urgent ``rank``
    (0 first). A turn that is cancelled while waiting gives its place up.
    """

    __slots__ = ("_budget", "_clock", "_cost", "_last", "_loop", "_marked", "_open",
                 "_release", "_start", "_waiters")

    def __init__(self, budget: float = DEFAULT_BUDGET, *,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        if not budget > 0:
            raise ValueError(f"budget must be a positive number of seconds, got {budget!r}")
        self._budget = budget
        self._clock = clock
        self._cost: float | None = None  # what starting a request takes, once measured
        self._loop: asyncio.AbstractEventLoop | None = None
        self._marked = False  # this iteration has started requests
        self._start = 0.0  # when the iteration's first one started
        self._last = 0.0  # when its latest one started
        self._open = False  # ... and what that one costs is not measured yet
        self._release: asyncio.Handle | None = None
        self._waiters: tuple[deque[asyncio.Future[None]], ...] = tuple(
            deque() for _ in range(_LEVELS))

    @property
    def budget(self) -> float:
        """Seconds of one loop iteration that starting requests may take."""
        return self._budget

    @property
    def waiting(self) -> int:
        """Turns waiting for a later iteration."""
        return sum(len(q) for q in self._waiters)

    @property
    def slice(self) -> int:
        """How many waiting turns one iteration lets go now."""
        return max(1, int(self._budget / (self._cost or _FIRST_GUESS)))

    async def turn(self, rank: int = 0) -> None:
        """Return when this request may start: now, or in a later loop iteration."""
        now = self._clock()
        self._learn(now)
        if not self._marked:
            self._mark(now)
        if now - self._start < self._budget and not self.waiting:
            self._started(now)
            return
        await self._wait(min(max(rank, 0), _LEVELS - 1))

    def _learn(self, now: float) -> None:
        """The time since the latest start, in one iteration, is what that start cost."""
        if self._open:
            gap = now - self._last
            cost = self._cost
            self._cost = gap if cost is None else cost + (gap - cost) / 4
            self._open = False

    def _started(self, now: float) -> None:
        self._last = now
        self._open = True

    def _mark(self, now: float) -> None:
        """This iteration starts requests: the next one is told apart by a callback."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        self._marked = True
        self._start = now
        loop.call_soon(self._unmark)

    def _unmark(self) -> None:
        self._marked = self._open = False

    async def _wait(self, rank: int) -> None:
        loop = self._loop
        assert loop is not None
        future: asyncio.Future[None] = loop.create_future()
        self._waiters[rank].append(future)
        if self._release is None:
            self._release = loop.call_soon(self._let_go)
        try:
            await future
        except asyncio.CancelledError:
            if future in self._waiters[rank]:  # not let go yet: give the place up
                self._waiters[rank].remove(future)
            raise
        now = self._clock()
        self._learn(now)
        self._started(now)

    def _let_go(self) -> None:
        """One slice of the waiting turns may start (they run in the next iteration)."""
        self._release = None
        budget = self.slice
        for queue in self._waiters:
            while queue and budget:
                future = queue.popleft()
                if not future.done():
                    future.set_result(None)
                    budget -= 1
        self._open = False
        self._mark(self._clock())  # turns arriving meanwhile queue behind, or fit the budget
        if self.waiting:
            loop = self._loop
            assert loop is not None
            self._release = loop.call_soon(self._let_go)
