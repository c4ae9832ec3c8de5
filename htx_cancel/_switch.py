"""HTX's dead man's switch (v5 ``cancel-after``, v1 ``linear-cancel-after``), kept armed.

Armed, the exchange cancels every open order of the account when ``time_out`` passes without
another arm. The switch re-arms well before that from a single background task, so if the bot's
process dies or hangs, its orders are cancelled within ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any

from ._catalog import CATALOG, Priority
from ._clock import Clock
from ._errors import (
    HTXError,
    RequestTimeout,
)
from ._protocol import parse_cancel_after
from ._verification import Requester

__all__ = ["CANCEL_AFTER_PATH", "MIN_TIMEOUT", "CancelAfter", "parse_cancel_after"]

log = logging.getLogger("htx_cancel")

CANCEL_AFTER_PATH = CATALOG["linear-cancel-after"].path
MIN_TIMEOUT = 5.0  # HTX's smallest time_out, in seconds
_ATTEMPTS = 3  # tries of the first arm and of the disarm (re-arms retry on their own)
_MARGIN = 1.0  # a re-arm still unanswered this long before the switch fires counts as failed
_LEAST_WAIT = 0.5  # ...but it is given at least this long

FailureCallback = Callable[[Exception], object]


class CancelAfter:
    """The dead man's switch: ``async with`` arms it, a background task keeps it armed.

    ``trigger_time`` is when the exchange will cancel every open order unless re-armed (epoch
    ms, the exchange's clock; None before the first arm and after a disarm). ``failures``
    counts re-arms that failed in a row; each failure is logged as a warning and passed to
    ``on_failure`` (called from the switch's task: keep it quick). A clean exit disarms unless
    ``stay_armed``; an exit by exception (or cancellation) leaves the switch armed, so the
    exchange cancels the orders when it runs out: that is the point.
    """

    __slots__ = ("_busy", "_clock", "_interval", "_on_failure", "_on_off", "_path", "_priority",
                 "_request",
                 "_stay_armed", "_stopping", "_task", "armed_at", "current_time", "failures",
                 "last_error", "rearms", "timeout", "trigger_time")

    def __init__(self, request: Requester, clock: Clock, timeout: float, *,
                 on_failure: FailureCallback | None = None, stay_armed: bool = False,
                 interval: float | None = None, priority: Priority = "high",
                 path: str = CANCEL_AFTER_PATH,
                 on_off: tuple[int | str, int | str] = (1, 0)) -> None:
        if not timeout >= MIN_TIMEOUT:
            raise ValueError(f"timeout must be at least {MIN_TIMEOUT:g} s (HTX's minimum), "
                             f"got {timeout!r}")
        interval = timeout / 3 if interval is None else interval
        if not 0 < interval < timeout:
            raise ValueError(f"interval must be between 0 and the timeout, got {interval!r}")
        self._request = request
        self._clock = clock
        self._path = path
        self._on_off = on_off
        self.timeout = timeout
        self._interval = interval
        self._on_failure = on_failure
        self._stay_armed = stay_armed
        self._priority: Priority = priority
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self._stopping = False
        self.trigger_time: int | None = None
        self.current_time: int | None = None
        self.armed_at: float | None = None  # the client clock's now() at the last arm
        self.failures = 0
        self.rearms = 0
        self.last_error: Exception | None = None

    def __repr__(self) -> str:
        return (f"CancelAfter(timeout={self.timeout:g}, trigger_time={self.trigger_time}, "
                f"failures={self.failures}, running={self.running})")

    @property
    def running(self) -> bool:
        """True while the background task keeps the switch armed."""
        return self._task is not None and not self._task.done()

    @property
    def expires_at(self) -> float | None:
        """When, on the client's (monotonic) clock, the switch fires unless re-armed (None
        when off); the exchange's own time is :attr:`fires_at`.

        Counted from when the last successful arm was asked for (before its wait for a slot
        and its round trip), so never later than the exchange's.
        """
        return None if self.armed_at is None else self.armed_at + self.timeout

    @property
    def fires_at(self) -> float | None:
        """When the exchange will cancel every open order unless re-armed: epoch seconds on the
        exchange's clock (its ``trigger_time``), None when off or not said."""
        return None if not self.trigger_time else self.trigger_time / 1000

    def fires_in(self) -> float | None:
        """Seconds left before the switch fires unless re-armed (None when off), on the
        client's clock and never later than the exchange's."""
        expires = self.expires_at
        return None if expires is None else max(expires - self._clock.now(), 0.0)

    async def __aenter__(self) -> CancelAfter:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop(disarm=exc_type is None and not self._stay_armed)

    async def arm(self) -> int | None:
        """Arm once, without re-arming; return ``trigger_time`` (for a CLI, or own schedules)."""
        await self._arm(_ATTEMPTS)
        return self.trigger_time

    async def disarm(self) -> None:
        """Stop re-arming (if running) and disarm now."""
        await self.stop(disarm=True)

    async def start(self) -> None:
        """Arm the switch (errors raise: then it may not be armed) and start re-arming."""
        if self._task is not None:
            raise RuntimeError("the switch is already running")
        await self._arm(_ATTEMPTS)
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._keep_armed(),
                                                            name="htx-cancel-after")

    async def stop(self, *, disarm: bool = True) -> None:
        """Stop re-arming; then disarm unless ``disarm=False`` (errors from the disarm raise)."""
        task, self._task = self._task, None
        if task is not None:
            self._stopping = True
            if not (disarm and self._busy):
                task.cancel()  # a re-arm in flight is let finish before a disarm follows it
            try:
                await asyncio.wait([task])
            except BaseException:  # the owner was cancelled meanwhile: leave no task behind
                task.cancel()
                await asyncio.wait([task])
                raise
        if disarm:
            await self._disarm()

    # -- requests ------------------------------------------------------------------------------

    async def _arm(self, attempts: int = 1) -> None:
        """Arm: ``on_off`` 1 with the timeout; remember when it fires."""
        sent = self._clock.now()
        body = {"on_off": self._on_off[0], "time_out": round(self.timeout * 1000)}
        times = await self._send(body, attempts)
        self.current_time, self.trigger_time = _times(times)
        self.armed_at = sent

    async def _disarm(self) -> None:
        """``on_off`` 0: the exchange forgets the timer."""
        await self._send({"on_off": self._on_off[1]}, _ATTEMPTS)
        self.trigger_time = self.armed_at = None
        log.info("dead man's switch disarmed")

    async def _send(self, body: dict[str, int | str], attempts: int) -> tuple[int, int]:
        """One cancel-after request, at most ``attempts`` tries (it is idempotent: the
        client's attempt machine repeats it on transient failures)."""
        return parse_cancel_after(
            await self._request(self._path, body, self._priority, attempts=attempts))

    async def _keep_armed(self) -> None:
        """Re-arm every ``interval`` from the last arm (sooner after a failure) until stopped.

        Each re-arm must be answered a margin before the switch would fire, else it counts as
        failed (the bot hears of it while there is time) and is tried again at once.
        """
        retry = min(self._interval / 2, 1.0)
        while not self._stopping:
            now = self._clock.now()
            if self.failures or self.armed_at is None:
                delay = retry
            else:  # on schedule from the last arm, however long that arm took
                delay = self.armed_at + self._interval - now
            await self._clock.sleep(max(delay, 0.0))
            if self._stopping:
                return
            self._busy = True
            try:
                await self._within(self._arm(), self._answer_budget())
            except Exception as exc:  # any failure must reach the bot, and the task lives on
                self._failed(exc)
            else:
                self.rearms += 1
                if self.failures:
                    log.info("dead man's switch re-armed after %d failures", self.failures)
                self.failures, self.last_error = 0, None
            finally:
                self._busy = False

    def _answer_budget(self) -> float:
        """How long a re-arm may take: up to the interval, and over a margin before firing."""
        left = self._interval if self.expires_at is None else (
            self.expires_at - self._clock.now() - _MARGIN)
        return max(min(self._interval, left), _LEAST_WAIT)

    async def _within(self, arm: Coroutine[Any, Any, None], seconds: float) -> None:
        """Await ``arm``, giving up (RequestTimeout) after ``seconds`` of the client's clock."""
        task = asyncio.ensure_future(arm)
        timer = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            await asyncio.wait((task, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pending in (task, timer):
                if not pending.done():
                    pending.cancel()
            await asyncio.wait((task, timer))
        if task.cancelled():
            raise RequestTimeout(f"re-arm got no answer within {seconds:.1f} s")
        task.result()

    def _failed(self, exc: Exception) -> None:
        """Count, log and report a failed re-arm."""
        self.failures += 1
        self.last_error = exc
        left = None if self.expires_at is None else self.expires_at - self._clock.now()
        level = logging.WARNING if isinstance(exc, HTXError) else logging.ERROR
        log.log(level, "dead man's switch: re-arm failed (%d in a row; fires in %s): %s",
                self.failures, "?" if left is None else f"{max(left, 0.0):.1f} s", exc,
                exc_info=not isinstance(exc, HTXError))
        if self._on_failure is not None:
            try:
                self._on_failure(exc)
            except Exception:
                log.exception("dead man's switch: on_failure raised")


def _times(times: tuple[int, int]) -> tuple[int | None, int | None]:
    """Zero means the answer did not say."""
    return times[0] or None, times[1] or None

