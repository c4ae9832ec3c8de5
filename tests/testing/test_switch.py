"""The dead man's switch: linear-cancel-after with a real timer on the exchange's clock."""

from __future__ import annotations

import asyncio
import time

from htx_cancel.testing import FakeClock, FakeExchange


def fake_clock_exchange(**kwargs: object) -> tuple[FakeClock, FakeExchange]:
    clock = FakeClock(start=0.0)
    ex = FakeExchange(clock=clock, clock_skew=time.time() - clock.wall(), **kwargs)  # type: ignore[arg-type]
    return clock, ex


async def test_arm_fire_cancels_open_regular_orders(make_api) -> None:
    clock, ex = fake_clock_exchange()
    async with ex:
        api = make_api(ex)
        iso = ex.seed("BTC-USDT", "order", "isolated", 2)
        cross = ex.seed("ETH-USDT", "order", "cross", 1)
        trig = ex.seed("BTC-USDT", "trigger", "isolated", 1)
        reply = await api.post("linear-cancel-after", {"on_off": 1, "time_out": 10000})
        assert set(reply.json) == {"code", "msg", "ts", "data"}
        assert reply.json["code"] == 200 and reply.json["msg"] == ""
        data = reply.json["data"]
        assert data["trigger_time"] - data["current_time"] == 10000
        assert reply.headers["ratelimit-limit"] == "72"
        assert ex.cancel_after.armed and ex.cancel_after.trigger_time == data["trigger_time"]
        await clock.advance(9.9)
        assert ex.cancel_after.fired == []
        await clock.advance(0.1)
        (firing,) = ex.cancel_after.fired
        assert sorted(firing.order_ids) == sorted(iso + cross)
        assert firing.at == data["trigger_time"]
        assert not ex.cancel_after.armed
        assert ex.open_ids() == set(trig)  # strategy orders are left alone
        info = await api.post("swap_order_info", {"contract_code": "BTC-USDT",
                                                  "order_id": iso[0]})
        assert info.json["data"][0]["status"] == 7
        assert info.json["data"][0]["canceled_source"] == "timeout-canceled-order"
        assert ex.order(iso[0]).cancelled_by == 0 and ex.cancellations() == {}


async def test_rearm_pushes_back_and_off_disarms(make_api) -> None:
    clock, ex = fake_clock_exchange()
    async with ex:
        api = make_api(ex)
        ids = ex.seed("BTC-USDT", "order", "isolated", 1)
        await api.post("linear-cancel-after", {"on_off": 1, "time_out": 5000})
        await clock.advance(4.0)
        await api.post("linear-cancel-after", {"on_off": 1, "time_out": 5000})
        await clock.advance(4.0)
        assert ex.cancel_after.fired == [] and ex.open_ids() == set(ids)
        off = await api.post("linear-cancel-after", {"on_off": 0})
        assert off.json["code"] == 200 and off.json["data"]["trigger_time"] == 0
        await clock.advance(60.0)
        assert ex.cancel_after.fired == [] and not ex.cancel_after.armed
        assert ex.cancel_after.arms == 2


async def test_bad_arguments(api, fake_exchange: FakeExchange) -> None:
    short = await api.post("linear-cancel-after", {"on_off": 1, "time_out": 4999})
    assert short.json["code"] == 1067 and "msg" in short.json
    assert (await api.post("linear-cancel-after", {"time_out": 6000})).json["code"] == 1066
    assert (await api.post("linear-cancel-after", {"on_off": 2})).json["code"] == 1067
    assert not fake_exchange.cancel_after.armed
    default = await api.post("linear-cancel-after", {"on_off": 1})
    data = default.json["data"]
    assert data["trigger_time"] - data["current_time"] == 5000


async def test_fires_on_the_real_clock_and_close_disarms(make_api) -> None:
    ex = FakeExchange()
    async with ex:
        ex.seed("BTC-USDT", n=1)
        ex.cancel_after.arm(1)  # 1 ms: tests may arm directly, below HTX's minimum
        firing = await asyncio.wait_for(ex.cancel_after.wait_fired(), 5)
        assert ex.cancel_after.fired == [firing] and ex.open_ids() == set()
        ex.cancel_after.arm(60_000)
    assert not ex.cancel_after.armed
