"""The steady outside client: slots of the account's pools taken from inside the exchange."""

from __future__ import annotations

import time

import pytest

from htx_cancel.testing import FakeClock, FakeExchange

BTC = {"contract_code": "BTC-USDT"}


def fake_clock_exchange(**kwargs: object) -> tuple[FakeClock, FakeExchange]:
    clock = FakeClock(start=0.0)
    ex = FakeExchange(clock=clock, clock_skew=time.time() - clock.wall(), **kwargs)  # type: ignore[arg-type]
    return clock, ex


async def test_outsider_takes_trade_slots_at_a_steady_rate(make_api) -> None:
    clock, ex = fake_clock_exchange(trade_limit=(10, 1.0), window="fixed", outsider_rate=8.0)
    async with ex:
        api = make_api(ex)
        await clock.advance(0.3)  # arrivals at 0, 0.125, 0.25
        assert ex.outsider is not None and ex.outsider.accepted == 3
        reply = await api.post("swap_cancel", BTC)
        assert reply.headers["ratelimit-remaining"] == "6"  # 10 - 3 outsider - this one
        for _ in range(7):
            await api.post("swap_cancel", BTC)
        assert ex.rejected_1032 == 1  # the client's eighth: the window is full
        await clock.advance(0.6)  # 0.375 ... 0.875: five more, each refused
        assert (ex.outsider.accepted, ex.outsider.rejected) == (3, 5)
        await clock.advance(0.2)  # t=1.0 in a new window (and nothing until 1.125)
        assert (ex.outsider.accepted, ex.outsider.rejected) == (4, 5)
        assert all(r.endpoint == "swap_cancel" for r in ex.requests)  # not recorded
    assert not ex.outsider.running  # stopped with the exchange


async def test_start_and_stop_by_hand_on_another_pool(make_api) -> None:
    clock, ex = fake_clock_exchange(strategy_limit=(2, 1.0))
    async with ex:
        outsider = ex.start_outsider(5.0, "swap_trigger_cancel")
        with pytest.raises(RuntimeError):
            ex.start_outsider(1.0)
        await clock.advance(0.5)  # arrivals at 0, 0.2, 0.4: the 5/s pool holds 2
        assert (outsider.accepted, outsider.rejected) == (2, 1)
        await ex.stop_outsider()
        await clock.advance(5.0)
        assert (outsider.accepted, outsider.rejected) == (2, 1)
        assert ex.max_in_window("swap_trigger_cancel") == 2
        assert ex.max_in_window("trade") == 2
    with pytest.raises(RuntimeError):
        ex.start_outsider(1.0)
    async with FakeExchange() as other:
        with pytest.raises(ValueError):
            other.start_outsider(0.0)
