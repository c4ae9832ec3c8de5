"""Connections opened before the first burst, and kept open while the client is idle.

A fresh client's first burst opens a connection for every request at once: on HTTPS as many TLS
handshakes, on the caller's event loop, and the burst reaches the exchange a round trip or more
late. The warm-up opens them beforehand: one unsigned public request per connection
(``GET PUBLIC_PATH``), all sent at once so that each takes a connection of its own, and nothing
taken from the account's private rate limits. The keeper sends the same round again every
``interval`` seconds while the client is idle, before aiohttp's ``keepalive_timeout`` or the
server close the idle connections; a round also replaces the connections the server closed.

Nothing here waits for a cancel or makes one wait: no lock and no limiter slot is shared, and the
rounds' failures are logged and counted (``stats()``), never raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .._clock import Clock

__all__ = ["BUSY_RETRY", "KEEP_INTERVAL", "PUBLIC_PATH", "WarmStats", "Warmer"]

log = logging.getLogger("htx_cancel")

# HTX's server time: public, unsigned, served by the trading host itself (HTX_FACTS.md: "Server
# time: GET /api/v1/timestamp"); the client's sync_time reads it too. That HTX still serves it
# there for v5 accounts is not confirmed (the v1 retirement covers trading, not public data):
# this is the one line to change.
PUBLIC_PATH = "/api/v1/timestamp"
# Below the idle timeouts commonly met (aiohttp's connector: 60 s as this library makes it, 15 s
# by aiohttp's default; nginx 75 s; AWS load balancers 60 s). HTX's own is not published.
KEEP_INTERVAL = 15.0
BUSY_RETRY = 1.0  # seconds until a round put off because the client was busy is tried again

Touch = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class WarmStats:
    """The warm-up's state at one moment (``client.stats().warm``).

    :param connections: the connections it keeps open (each round's size).
    :param ready: connections that answered in the last round.
    :param rounds: rounds sent: the warm-up's, and the keeper's since.
    :param failures: requests of the rounds that failed (no answer, or not a 2xx), all rounds
        together.
    :param last_error: the last failure, as text; None while none failed.
    :param keeping: True while the keeper runs (a round every ``interval`` seconds when idle).
    :param put_off: keeper rounds put off because the client was busy at their time.
    """

    connections: int
    ready: int
    rounds: int
    failures: int
    last_error: str | None
    keeping: bool
    put_off: int


class Warmer:
    """Opens ``connections`` connections with ``touch`` (one request each) and keeps them open.

    ``touch`` sends one public request and reads its answer; it raises on failure. ``busy``
    tells whether the client has requests in flight (a keeper round then waits, ``BUSY_RETRY``);
    None: never. Time comes from ``clock``.
    """

    __slots__ = ("_busy", "_clock", "_connections", "_failures", "_interval", "_keeper",
                 "_last_error", "_opening", "_put_off", "_ready", "_rounds", "_touch")

    def __init__(self, touch: Touch, clock: Clock, busy: Callable[[], bool] | None = None) -> None:
        self._touch = touch
        self._clock = clock
        self._busy = busy
        self._connections = 0
        self._interval = KEEP_INTERVAL
        self._ready = 0
        self._rounds = 0
        self._failures = 0
        self._put_off = 0
        self._last_error: str | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._opening: asyncio.Task[int] | None = None

    def stats(self) -> WarmStats:
        """The counts now."""
        keeper = self._keeper
        return WarmStats(self._connections, self._ready, self._rounds, self._failures,
                         self._last_error, keeper is not None and not keeper.done(),
                         self._put_off)

    async def round(self, connections: int) -> int:
        """Send ``connections`` requests at once; how many answered. Failures are logged and
        counted, never raised."""
        self._connections = connections
        self._rounds += 1
        results = await asyncio.gather(*(self._touch() for _ in range(connections)),
                                       return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        self._ready = len(results) - len(errors)
        if errors:
            self._failures += len(errors)
            self._last_error = str(errors[-1]) or type(errors[-1]).__name__
            log.warning("warm-up: %d of %d connections failed: %s", len(errors), connections,
                        self._last_error)
        else:
            log.debug("warm-up: %d connections ready", connections)
        return self._ready

    async def warm(self, connections: int, *, keep: bool, interval: float) -> int:
        """Open ``connections`` now (after a warm-up started in the background, if one is still
        opening); with ``keep``, keep them open until ``close``. How many answered."""
        opening = self._opening
        if opening is not None and not opening.done():
            await asyncio.wait((opening,))  # not cancelled with this caller: it is the client's
        if opening is not None and opening is self._opening:
            self._opening = None  # its result is used once
        if opening is not None and not opening.cancelled() and self._ready >= connections:
            ready = self._ready  # the background warm-up opened them just now
        else:
            ready = await self.round(connections)
        if keep:
            self.keep(connections, interval)
        return ready

    def start(self, connections: int, interval: float) -> None:
        """Open ``connections`` in the background, then keep them open (``async with``)."""
        if self._opening is None or self._opening.done():
            self._opening = asyncio.get_running_loop().create_task(self.round(connections))
        self.keep(connections, interval)

    def keep(self, connections: int, interval: float) -> None:
        """Keep ``connections`` open: a round every ``interval`` seconds while idle."""
        self._connections = connections
        self._interval = interval
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.get_running_loop().create_task(self._keep())

    async def _keep(self) -> None:
        """The keeper: wait out the interval, put the round off while the client is busy."""
        while True:
            await self._clock.sleep(self._interval)
            while self._is_busy():
                self._put_off += 1
                await self._clock.sleep(min(BUSY_RETRY, self._interval))
            await self.round(self._connections)

    def _is_busy(self) -> bool:
        """Whether the client says it is busy; a failure to say counts as idle."""
        if self._busy is None:
            return False
        try:
            return self._busy()
        except Exception as exc:  # the keeper must not die of it
            log.debug("warm-up: could not tell whether the client is busy: %s", exc)
            return False

    async def close(self) -> None:
        """Stop the keeper and any round under way; nothing is left running."""
        tasks = [t for t in (self._keeper, self._opening) if t is not None]
        self._keeper = self._opening = None
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)  # the caller's own cancellation still goes through
        for task in tasks:
            if not task.cancelled():
                task.exception()  # retrieved: a round never raises, this only silences asyncio
