"""The dead man's switch against the fake exchange, and a bot killed while it is armed."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from htx_cancel import APIError, CancelClient, Credentials
from htx_cancel.testing import FakeExchange

CREDS = Credentials("test-access", "test-secret")
BOT = Path(__file__).with_name("bot.py")


async def until(condition: Callable[[], bool], limit: float = 20.0) -> None:
    """Wait (real time: the exchange's timer is real) until ``condition()`` holds."""
    for _ in range(int(limit / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_armed_rearmed_and_disarmed() -> None:
    async with FakeExchange() as ex, CancelClient(CREDS, api="v1", base_url=ex.base_url) as c:
        ids = ex.seed("BTC-USDT", "order", "isolated", 3)
        async with c.cancel_after(5.0, interval=0.1) as switch:
            assert ex.cancel_after.armed
            assert switch.trigger_time == ex.cancel_after.trigger_time
            first = switch.trigger_time
            await until(lambda: switch.rearms >= 3)
            assert ex.cancel_after.arms >= 4 and switch.trigger_time > first  # type: ignore[operator]
            assert ex.max_in_window("trade") >= 1  # it takes trade slots
        assert not ex.cancel_after.armed and ex.open_ids() == set(ids)
        assert not ex.cancel_after.fired


async def test_failing_to_rearm_is_reported() -> None:
    failures: list[Exception] = []
    async with FakeExchange() as ex, CancelClient(CREDS, api="v1", base_url=ex.base_url) as c:
        async with c.cancel_after(5.0, interval=0.1, on_failure=failures.append) as switch:
            ex.faults.script("linear-cancel-after", ["busy", "maintenance"])
            await until(lambda: switch.rearms >= 2)
            assert len(failures) == 2 and switch.failures == 0
        assert not ex.cancel_after.armed


async def test_stay_armed_fires_after_the_timeout() -> None:
    async with FakeExchange() as ex, CancelClient(CREDS, api="v1", base_url=ex.base_url) as c:
        ids = ex.seed("BTC-USDT", "order", "cross", 4)
        async with c.cancel_after(5.0, stay_armed=True):
            pass
        assert ex.cancel_after.armed
        ex.cancel_after.arm(50)  # the exchange's own timer, shortened for the test
        firing = await asyncio.wait_for(ex.cancel_after.wait_fired(), 5)
        assert sorted(firing.order_ids) == sorted(ids) and ex.open_ids() == set()


async def test_a_failed_disarm_raises() -> None:
    async with FakeExchange() as ex, CancelClient(CREDS, api="v1", base_url=ex.base_url) as c:
        try:
            async with c.cancel_after(5.0):
                ex.faults.script("linear-cancel-after", ["busy"] * 3)
        except APIError as exc:
            assert exc.code == 1004
        else:
            raise AssertionError("the failed disarm was not raised")
        assert ex.cancel_after.armed


async def test_the_switch_fires_after_its_owner_is_killed() -> None:
    async with FakeExchange() as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 20)
        bot = await asyncio.create_subprocess_exec(
            sys.executable, str(BOT), ex.base_url, "5", stdout=asyncio.subprocess.PIPE)
        try:
            assert bot.stdout is not None
            line = await asyncio.wait_for(bot.stdout.readline(), 30)
            assert line.startswith(b"armed ")
            await asyncio.sleep(1.2)  # it re-arms meanwhile
            assert ex.cancel_after.arms >= 2 and ex.open_ids() == set(ids)
        finally:
            bot.send_signal(signal.SIGKILL)
            await bot.wait()
        firing = await asyncio.wait_for(ex.cancel_after.wait_fired(), 30)
        assert sorted(firing.order_ids) == sorted(ids) and ex.open_ids() == set()
        assert {ex.order(i).canceled_source for i in ids} == {"timeout-canceled-order"}
