"""The dead man's switch: ``linear-cancel-after`` and the timer that cancels when it runs out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from .._clock import Clock, TimerHandle
from ._answers import JSON
from ._process import RequestError, parse_body, text_param

__all__ = ["MIN_TIMEOUT_MS", "CancelAfterSwitch", "SwitchFiring"]

MIN_TIMEOUT_MS = 5000


@dataclass(frozen=True, slots=True)
class SwitchFiring:
    """One time the switch ran out: when (server epoch ms) and which orders it cancelled.

    :param at: when it fired, server epoch ms.
    :param order_ids: the orders it cancelled.
    """

    at: int
    order_ids: tuple[str, ...]


class CancelAfterSwitch:
    """The account's cancel-after timer, on the exchange's clock.

    ``armed``, ``trigger_time`` (server epoch ms, None when off), ``fired`` (every
    [`SwitchFiring`][htx_cancel.testing.SwitchFiring]), ``arms`` (accepted arm requests) are for
    tests to inspect.

    :param clock: the exchange's clock.
    :param ts: the exchange's epoch time now, in ms.
    :param fire: cancels what the switch cancels when it runs out; returns the ids cancelled.
    """

    __slots__ = (
        "_clock", "_due", "_fire", "_handle", "_ts", "_waiters", "arms", "fired", "trigger_time"
    )

    def __init__(
        self, clock: Clock, ts: Callable[[], int], fire: Callable[[], tuple[str, ...]]
    ) -> None:
        self._clock = clock
        self._ts = ts
        self._fire = fire
        self._handle: TimerHandle | None = None
        self._due: float | None = None  # the clock's monotonic time of trigger_time
        self.trigger_time: int | None = None
        self.arms = 0
        self.fired: list[SwitchFiring] = []
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    @property
    def armed(self) -> bool:
        """True while the timer runs."""
        return self._due is not None

    def arm(self, timeout_ms: int) -> int:
        """Start (or push back) the timer; the new trigger time in server epoch ms.

        :param timeout_ms: ms from now until the switch fires.
        """
        self.disarm()
        self.arms += 1
        self._due = self._clock.now() + timeout_ms / 1000
        self.trigger_time = self._ts() + timeout_ms
        self._handle = self._clock.call_at(self._due, self.check)
        return self.trigger_time

    def disarm(self) -> None:
        """Stop the timer."""
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._due = None
        self.trigger_time = None

    def check(self) -> None:
        """Fire if the trigger time has come (run by the timer, and before each request)."""
        if self._due is None or self._clock.now() < self._due:
            return
        at = self.trigger_time or self._ts()
        self._handle = None
        self._due = None
        self.trigger_time = None
        self.fired.append(SwitchFiring(at, self._fire()))
        for count, waiter in self._waiters:
            if len(self.fired) >= count and not waiter.done():
                waiter.set_result(None)
        self._waiters = [(c, w) for c, w in self._waiters if not w.done()]

    async def wait_fired(self, count: int = 1) -> SwitchFiring:
        """Wait until the switch has fired ``count`` times in all; the latest firing.

        :param count: firings in all to wait for (default 1).
        """
        if len(self.fired) < count:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append((count, waiter))
            await waiter
        return self.fired[-1]

    def handle(self, raw: bytes, ts: int) -> tuple[JSON, int | None]:
        """One ``linear-cancel-after`` request: the answer (HTX's code/msg shape) and error.

        :param raw: the request's JSON body (``on_off``, ``time_out`` in ms, at least 5000).
        :param ts: the exchange's epoch time now, in ms, for the answer.
        """
        try:
            body = parse_body(raw)
            on_off = text_param(body, "on_off")
            if on_off is None:
                raise RequestError(1066, "on_off cannot be empty.")
            if on_off not in ("0", "1"):
                raise RequestError(1067, "Illegal parameter on_off.")
            timeout = text_param(body, "time_out") or str(MIN_TIMEOUT_MS)
            if not timeout.isdigit() or int(timeout) < MIN_TIMEOUT_MS:
                raise RequestError(1067, "Illegal parameter time_out.")
        except RequestError as exc:
            return {"code": exc.code, "msg": exc.message, "ts": ts}, exc.code
        if on_off == "1":
            trigger = self.arm(int(timeout))
        else:
            self.disarm()
            trigger = 0
        data = {"current_time": ts, "trigger_time": trigger}
        return {"code": 200, "msg": "", "ts": ts, "data": data}, None
