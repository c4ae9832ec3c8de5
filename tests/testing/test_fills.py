"""Fills: scripted, seeded before or during a cancel, and the timed cancelling phase."""

from __future__ import annotations

import time

import pytest

from htx_cancel.testing import FakeClock, FakeExchange

BTC = {"contract_code": "BTC-USDT"}


async def test_scripted_fill_makes_cancel_1061(api, fake_exchange: FakeExchange) -> None:
    (oid,) = fake_exchange.seed("BTC-USDT", "order", "isolated", 1)
    fake_exchange.fill(oid)
    assert fake_exchange.order_state(oid) == "filled" and fake_exchange.status_of(oid) == 6
    assert (await api.post("swap_cancel", {**BTC, "order_id": oid})).errors == {oid: 1061}
    with pytest.raises(ValueError, match="volume"):
        fake_exchange.fill(*fake_exchange.seed("BTC-USDT", n=1), volume=2)


async def test_seeded_fill_before_cancel(make_api) -> None:
    async with FakeExchange(seed=3, fill_before_cancel=0.5) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 20)
        reply = await make_api(ex).post("swap_cancel", {**BTC, "order_id": ",".join(ids)})
        filled = {i for i in ids if ex.status_of(i) == 6}
        assert 0 < len(filled) < 20
        assert reply.errors == dict.fromkeys(filled, 1061)
        assert set(reply.successes) == set(ids) - filled
        assert {i for i in ids if ex.status_of(i) == 7} == set(ids) - filled


async def test_seeded_fill_during_cancel(make_api) -> None:
    async with FakeExchange(seed=3, fill_during_cancel=0.5) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 20)
        reply = await make_api(ex).post("swap_cancel", {**BTC, "order_id": ",".join(ids)})
        assert sorted(reply.successes) == sorted(ids)  # every cancel accepted...
        filled = {i for i in ids if ex.status_of(i) == 6}  # ...but some filled meanwhile
        assert 0 < len(filled) < 20
        assert set(ex.requests[-1].cancelled) == set(ids) - filled
        assert ex.cancelled_ids() == set(ids) - filled


async def test_seeded_fills_are_reproducible(make_api) -> None:
    outcomes = []
    for _ in range(2):
        async with FakeExchange(seed=11, fill_before_cancel=0.3, fill_during_cancel=0.3) as ex:
            ids = ex.seed("BTC-USDT", "order", "isolated", 25)
            await make_api(ex).post("swap_cancel", {**BTC, "order_id": ",".join(ids)})
            outcomes.append([ex.status_of(i) for i in ids])
    assert outcomes[0] == outcomes[1]
    assert FakeExchange(seed=11).seed("BTC-USDT", n=5) == FakeExchange(
        seed=11, fill_before_cancel=0.5).seed("BTC-USDT", n=5)  # fills never shift the ids


async def test_strategy_orders_never_fill_by_draw(make_api) -> None:
    async with FakeExchange(seed=1, fill_before_cancel=1.0, fill_during_cancel=1.0) as ex:
        ids = ex.seed("BTC-USDT", "trigger", "isolated", 5)
        reply = await make_api(ex).post("swap_trigger_cancel", {**BTC, "order_id": ",".join(ids)})
        assert sorted(reply.successes) == sorted(ids) and reply.errors == {}


async def test_cancelling_phase(make_api) -> None:
    clock = FakeClock(start=0.0)
    ex = FakeExchange(clock=clock, clock_skew=time.time() - clock.wall(), cancelling_seconds=2.0)
    async with ex:
        api = make_api(ex)
        a, b = ex.seed("BTC-USDT", "order", "isolated", 2)
        assert (await api.post("swap_cancel", {**BTC, "order_id": a})).successes == [a]
        assert ex.status_of(a) == 11 and ex.open_ids() == {b}
        info = await api.post("swap_order_info", {**BTC, "order_id": a})
        assert info.json["data"][0]["status"] == 11
        again = await api.post("swap_cancel", {**BTC, "order_id": a})
        assert again.errors == {a: 1062} and again.successes == [a]
        await clock.advance(2.0)
        assert ex.status_of(a) == 7
        assert (await api.post("swap_cancel", {**BTC, "order_id": a})).errors == {a: 1071}


async def test_cancelling_phase_can_end_filled(make_api) -> None:
    clock = FakeClock(start=0.0)
    ex = FakeExchange(clock=clock, clock_skew=time.time() - clock.wall(), seed=2,
                      cancelling_seconds=1.0, fill_during_cancel=1.0)
    async with ex:
        (oid,) = ex.seed("BTC-USDT", "order", "isolated", 1)
        reply = await make_api(ex).post("swap_cancel", {**BTC, "order_id": oid})
        assert reply.successes == [oid] and ex.status_of(oid) == 11
        await clock.advance(1.0)
        assert ex.status_of(oid) == 6


def test_fill_probabilities_are_checked() -> None:
    with pytest.raises(ValueError, match="fill_before_cancel"):
        FakeExchange(fill_before_cancel=1.5)


async def test_fill_while_cancelling_is_not_a_cancellation(make_api) -> None:
    clock = FakeClock(start=0.0)
    ex = FakeExchange(clock=clock, clock_skew=time.time() - clock.wall(), cancelling_seconds=5.0)
    async with ex:
        (oid,) = ex.seed("BTC-USDT", "order", "isolated", 1)
        await make_api(ex).post("swap_cancel", {**BTC, "order_id": oid})
        assert ex.cancelled_ids() == {oid}
        ex.fill(oid)  # the race HTX warns about: it filled before the cancel was processed
        await clock.advance(5.0)
        assert ex.status_of(oid) == 6 and ex.cancelled_ids() == set()
