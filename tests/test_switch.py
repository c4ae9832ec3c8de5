"""The dead man's switch against a plain fake endpoint and fake time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from htx_cancel import APIError, AuthenticationError, DecodeError, RequestTimeout, TransportError
from htx_cancel._protocol import parse_cancel_after
from htx_cancel._switch import CANCEL_AFTER_PATH, CancelAfter
from htx_cancel.testing import FakeClock


class Switch:
    """linear-cancel-after over fake time: answers HTX's shape, remembers every call."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[tuple[dict[str, Any], str]] = []
        self.errors: list[Exception] = []
        self.trigger_ms: int | None = None
        self.hang: asyncio.Future[None] | None = None
        self.attempts: list[int | None] = []  # the attempts each request was allowed

    def now_ms(self) -> int:
        return int(self.clock.wall() * 1000)

    async def request(self, path: str, body: Mapping[str, Any], priority: str, *,
                      method: str = "POST", attempts: int | None = None) -> Any:
        assert path == CANCEL_AFTER_PATH and method == "POST"
        self.calls.append((dict(body), priority))
        self.attempts.append(attempts)
        if self.hang is not None:
            await self.hang
        if self.errors:
            raise self.errors.pop(0)
        if body["on_off"] == 1:
            self.trigger_ms = self.now_ms() + body["time_out"]
            data = {"current_time": self.now_ms(), "trigger_time": self.trigger_ms}
        else:
            self.trigger_ms, data = None, {}
        return {"code": 200, "msg": "", "ts": self.now_ms(), "data": data}

    def arms(self) -> int:
        return sum(1 for body, _ in self.calls if body["on_off"] == 1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ex(clock: FakeClock) -> Switch:
    return Switch(clock)


async def test_arms_on_entry_rearms_well_before_it_fires_and_disarms_on_exit(
        ex: Switch, clock: FakeClock) -> None:
    async with CancelAfter(ex.request, clock, 10.0) as switch:
        assert ex.calls == [({"on_off": 1, "time_out": 10000}, "high")]
        assert switch.trigger_time == ex.trigger_ms == ex.now_ms() + 10000
        assert switch.running and switch.expires_at == clock.now() + 10.0
        for _ in range(6):  # 20 s: the exchange's timer never runs out
            await clock.advance(10 / 3)
            assert ex.trigger_ms is not None and ex.trigger_ms > ex.now_ms() + 6000
        assert ex.arms() == 7 and switch.rearms == 6 and switch.failures == 0
    assert ex.calls[-1] == ({"on_off": 0}, "high")
    assert ex.trigger_ms is None and switch.trigger_time is None and not switch.running


async def test_a_failed_rearm_is_reported_and_retried_sooner(
        ex: Switch, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Exception] = []
    async with CancelAfter(ex.request, clock, 6.0, on_failure=seen.append) as switch:
        first = switch.trigger_time
        ex.errors += [TransportError("connection reset"), APIError(1004, "busy")]
        with caplog.at_level(logging.WARNING, logger="htx_cancel"):
            await clock.advance(2.0)  # the re-arm fails
            assert switch.failures == 1 and switch.trigger_time == first
            assert seen and isinstance(seen[0], TransportError)
            await clock.advance(1.0)  # retried after a second: fails again
            assert switch.failures == 2 and len(seen) == 2
            await clock.advance(1.0)  # and again: now it holds
        assert switch.failures == 0 and switch.last_error is None
        assert switch.trigger_time is not None and switch.trigger_time > first  # type: ignore[operator]
        assert "re-arm failed (1 in a row; fires in 4.0 s): connection reset" in caplog.text
        assert "2 in a row" in caplog.text


async def test_a_callback_that_raises_does_not_stop_the_switch(
        ex: Switch, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    def boom(exc: Exception) -> None:
        raise RuntimeError("bot bug")

    async with CancelAfter(ex.request, clock, 5.0, on_failure=boom) as switch:
        ex.errors.append(TransportError("x"))
        await clock.advance(5 / 3)
        assert switch.failures == 1 and switch.running
        await clock.advance(1.0)
        assert switch.failures == 0
    assert "on_failure raised" in caplog.text


async def test_an_exit_by_exception_leaves_it_armed(ex: Switch, clock: FakeClock) -> None:
    with pytest.raises(KeyError):
        async with CancelAfter(ex.request, clock, 5.0) as switch:
            raise KeyError("bot crashed")
    assert ex.trigger_ms is not None and ex.arms() == 1 and len(ex.calls) == 1
    assert not switch.running


async def test_stay_armed_keeps_the_timer_after_a_clean_exit(ex: Switch,
                                                             clock: FakeClock) -> None:
    async with CancelAfter(ex.request, clock, 5.0, stay_armed=True):
        pass
    assert [b["on_off"] for b, _ in ex.calls] == [1] and ex.trigger_ms is not None


async def test_arming_errors_raise_on_entry(ex: Switch, clock: FakeClock) -> None:
    ex.errors.append(AuthenticationError(403, "Incorrect Access key"))
    switch = CancelAfter(ex.request, clock, 5.0)
    with pytest.raises(AuthenticationError):
        async with switch:
            pytest.fail("entered an unarmed switch")
    assert not switch.running


async def test_the_first_arm_and_the_disarm_may_be_repeated_a_rearm_is_not(
        ex: Switch, clock: FakeClock) -> None:
    # repeating a request is the attempt machine's job (tests/test_v5.py): the switch asks
    # once, with the attempts it allows, and a failure that comes back is final
    async with CancelAfter(ex.request, clock, 6.0, interval=2.0):
        await clock.advance(2.5)
    assert [b["on_off"] for b, _ in ex.calls] == [1, 1, 0]
    assert ex.attempts == [3, 1, 3]
    ex.errors.append(TransportError("gone"))
    with pytest.raises(TransportError):
        await CancelAfter(ex.request, clock, 5.0).start()
    assert len(ex.calls) == 4  # not sent again by the switch itself


async def test_cancelling_the_owner_leaves_no_task_and_the_switch_armed(
        ex: Switch, clock: FakeClock) -> None:
    before = asyncio.all_tasks()

    async def bot() -> None:
        async with CancelAfter(ex.request, clock, 5.0):
            await asyncio.Event().wait()

    task = asyncio.create_task(bot())
    await clock.advance(4.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert asyncio.all_tasks() == before
    assert ex.trigger_ms is not None and ex.calls[-1][0]["on_off"] == 1


async def test_a_rearm_in_flight_finishes_before_the_disarm(ex: Switch, clock: FakeClock) -> None:
    switch = CancelAfter(ex.request, clock, 6.0)
    await switch.start()
    ex.hang = asyncio.get_running_loop().create_future()
    await clock.advance(2.0)  # a re-arm is now in flight
    stopping = asyncio.create_task(switch.stop())
    await clock.advance(0)
    assert not stopping.done()
    ex.hang.set_result(None)
    ex.hang = None
    await stopping
    assert [b["on_off"] for b, _ in ex.calls] == [1, 1, 0] and ex.trigger_ms is None


async def test_start_twice_is_refused(ex: Switch, clock: FakeClock) -> None:
    switch = CancelAfter(ex.request, clock, 5.0)
    await switch.start()
    with pytest.raises(RuntimeError):
        await switch.start()
    await switch.stop(disarm=False)
    assert len(ex.calls) == 1


@pytest.mark.parametrize("timeout", [4.999, 0, -1, float("nan")])
def test_timeouts_below_htx_minimum_are_refused(ex: Switch, clock: FakeClock,
                                                timeout: float) -> None:
    with pytest.raises(ValueError, match="at least 5"):
        CancelAfter(ex.request, clock, timeout)


def test_interval_must_leave_room(ex: Switch, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="interval"):
        CancelAfter(ex.request, clock, 5.0, interval=5.0)


def test_parses_htx_answer_shapes() -> None:
    ok = b'{"code":200,"msg":"","ts":1,"data":{"current_time":10,"trigger_time":5010}}'
    assert parse_cancel_after(ok) == (10, 5010)
    assert parse_cancel_after({"code": "200", "data": None}) == (0, 0)
    assert parse_cancel_after({"status": "ok", "data": {"trigger_time": 7}}) == (0, 7)
    assert parse_cancel_after({"code": 200, "data": {"current_time": "5",
                                                     "trigger_time": "x"}}) == (5, 0)
    with pytest.raises(APIError) as err:
        parse_cancel_after({"code": 1030, "msg": "Abnormal service."})
    assert (err.value.code, err.value.message) == (1030, "Abnormal service.")
    with pytest.raises(AuthenticationError):
        parse_cancel_after({"status": "error", "err_code": 1253, "err_msg": "sig"})
    with pytest.raises(DecodeError):
        parse_cancel_after(b"<html>")
    with pytest.raises(APIError) as err:
        parse_cancel_after({"code": "timeout", "message": "later"})
    assert err.value.code == "timeout"


async def test_one_shot_arm_and_disarm(ex: Switch, clock: FakeClock) -> None:
    switch = CancelAfter(ex.request, clock, 7.5)
    assert await switch.arm() == ex.trigger_ms == ex.now_ms() + 7500
    assert not switch.running
    await clock.advance(10)
    assert ex.arms() == 1  # nothing re-armed it
    await CancelAfter(ex.request, clock, 5.0).disarm()
    assert ex.trigger_ms is None and ex.calls[-1][0] == {"on_off": 0}


async def test_a_stalled_rearm_counts_as_failed_before_the_switch_fires(
        ex: Switch, clock: FakeClock) -> None:
    seen: list[Exception] = []
    async with CancelAfter(ex.request, clock, 6.0, on_failure=seen.append) as switch:
        ex.hang = asyncio.get_running_loop().create_future()  # the next re-arm gets no answer
        await clock.advance(2.0)  # it is sent (interval 2 s)...
        assert switch.failures == 0
        await clock.advance(2.0)  # ...and given up 2 s later, 2 s before the switch would fire
        assert switch.failures == 1 and isinstance(seen[-1], RequestTimeout)
        assert switch.expires_at is not None and switch.expires_at - clock.now() >= 1.0
        ex.hang = None
        await clock.advance(1.0)  # tried again at once (after the short retry pause)
        assert switch.failures == 0 and switch.rearms == 1
        assert ex.trigger_ms is not None and ex.trigger_ms >= ex.now_ms() + 5000


async def test_rearms_keep_their_schedule_however_long_an_arm_takes(
        ex: Switch, clock: FakeClock) -> None:
    sent: list[float] = []
    answer = ex.request

    async def slow(path: str, body: Mapping[str, Any], priority: str, **kw: Any) -> Any:
        sent.append(clock.now())
        await clock.sleep(1.5)  # a slow slot and round trip
        return await answer(path, body, priority, **kw)

    async def bot() -> None:
        async with CancelAfter(slow, clock, 6.0):
            await clock.sleep(8.0)

    task = asyncio.ensure_future(bot())
    await clock.run_until(task.done)
    await task
    arms = [t - sent[0] for t, (body, _) in zip(sent, ex.calls, strict=True) if body["on_off"]]
    assert arms[:4] == [0.0, 2.0, 4.0, 6.0]  # every interval from the last ask, not after it


async def test_cancelling_the_owner_while_it_stops_leaves_no_task(
        ex: Switch, clock: FakeClock) -> None:
    before = asyncio.all_tasks()
    switch = CancelAfter(ex.request, clock, 6.0)
    await switch.start()
    ex.hang = asyncio.get_running_loop().create_future()
    await clock.advance(2.0)  # a re-arm is in flight, so stop() waits for it
    stopping = asyncio.create_task(switch.stop())
    await clock.advance(0)
    assert not stopping.done()
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert asyncio.all_tasks() == before and not switch.running


async def test_the_exchange_s_time_and_the_time_left(ex: Switch, clock: FakeClock) -> None:
    switch = CancelAfter(ex.request, clock, 10.0)
    task = asyncio.create_task(switch.start())
    await clock.run_until(task.done)
    assert switch.fires_at == ex.trigger_ms / 1000  # type: ignore[operator]
    assert switch.fires_in() == pytest.approx(10.0)
    await clock.advance(2.0)
    assert switch.fires_in() == pytest.approx(8.0)
    await switch.stop(disarm=False)
    off = CancelAfter(ex.request, clock, 10.0)
    assert off.fires_at is None and off.fires_in() is None
