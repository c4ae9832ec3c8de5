"""The strict rate limiter: sliding and fixed windows, pools, headers, the checker."""

from __future__ import annotations

import asyncio
import time

from htx_cancel.testing import FakeClock, FakeExchange
from htx_cancel.testing._ratelimit import Pool, max_in_window

BTC = {"contract_code": "BTC-USDT"}


def fake_clock_exchange(**kwargs: object) -> tuple[FakeClock, FakeExchange]:
    """An exchange on a FakeClock starting at 0, its wall clock lined up with the real one."""
    clock = FakeClock(start=0.0)
    ex = FakeExchange(clock=clock, clock_skew=time.time() - clock.wall(), **kwargs)  # type: ignore[arg-type]
    return clock, ex


async def test_sliding_rejects_over_limit_and_recovers(make_api) -> None:
    async with FakeExchange(trade_limit=(3, 0.3)) as ex:
        api = make_api(ex)
        ids = ex.seed("BTC-USDT", "order", "isolated", 5)
        replies = await asyncio.gather(
            *(api.post("swap_cancel", {**BTC, "order_id": i}) for i in ids)
        )
        codes = sorted(str(r.err_code) for r in replies)
        assert codes == ["1032", "1032", "None", "None", "None"]
        assert ex.rejected_1032 == 2
        assert len(ex.cancelled_ids()) == 3  # rejected requests are not processed
        rejected = ex.find(err_code=1032)
        assert len(rejected) == 2 and not any(r.accepted for r in rejected)
        rejected_ids = [r.body["order_id"] for r in rejected]
        assert all(ex.order_state(i) == "open" for i in rejected_ids)
        assert ex.max_in_window() == 3
        await asyncio.sleep(0.32)
        again = await api.post("swap_cancel", {**BTC, "order_id": rejected_ids[0]})
        assert again.successes == [rejected_ids[0]]


async def test_sliding_window_is_half_open(make_api) -> None:
    clock, ex = fake_clock_exchange(trade_limit=(2, 1.0))
    async with ex:
        api = make_api(ex)
        assert (await api.post("swap_cancel", BTC)).err_code != 1032  # t=0
        await clock.advance(0.5)
        assert (await api.post("swap_cancel", BTC)).err_code != 1032  # t=0.5
        await clock.advance(0.4)
        assert (await api.post("swap_cancel", BTC)).err_code == 1032  # t=0.9: 2 in (-0.1, 0.9]
        await clock.advance(0.1)
        assert (await api.post("swap_cancel", BTC)).err_code != 1032  # t=1.0: t=0 has left
        assert (await api.post("swap_cancel", BTC)).err_code == 1032
        assert ex.max_in_window() == 2
        assert [r.arrival for r in ex.find(accepted=True)] == [0.0, 0.5, 1.0]


async def test_fixed_windows_reset_at_boundaries(make_api) -> None:
    clock, ex = fake_clock_exchange(trade_limit=(3, 1.0), window="fixed")
    async with ex:
        api = make_api(ex)
        await clock.advance(0.7)
        for _ in range(3):
            assert (await api.post("swap_cancel", BTC)).err_code != 1032
        reply = await api.post("swap_cancel", BTC)
        assert reply.err_code == 1032
        assert reply.headers["ratelimit-remaining"] == "0"
        reset_ms = int(reply.headers["ratelimit-reset"])
        assert abs(reset_ms - ex.server_time() * 1000 - 300) <= 2
        await clock.advance(0.3)  # t=1.0: a new window, although 3 arrived 0.3 s ago
        for _ in range(3):
            assert (await api.post("swap_cancel", BTC)).err_code != 1032
        assert (await api.post("swap_cancel", BTC)).err_code == 1032
        assert ex.rejected_1032 == 2
        assert ex.max_in_window() == 6  # what a sliding-window exchange would have refused


async def test_headers_on_every_private_answer(make_api) -> None:
    _, ex = fake_clock_exchange(trade_limit=(3, 0.3))
    async with ex:
        api = make_api(ex)
        remaining = []
        for _ in range(4):
            reply = await api.post("swap_cancel", BTC)
            assert reply.headers["ratelimit-limit"] == "3"
            assert reply.headers["ratelimit-interval"] == "300"
            remaining.append(reply.headers["ratelimit-remaining"])
            reset = int(reply.headers["ratelimit-reset"])
            assert 0 <= reset - ex.server_time() * 1000 <= 301
        assert remaining == ["2", "1", "0", "0"]
        bad = await api.post("swap_cancel", BTC, secret="nope")
        assert "ratelimit-remaining" in bad.headers


async def test_strategy_pool_and_trade_pool(make_api) -> None:
    clock, ex = fake_clock_exchange(trade_limit=(4, 10.0), strategy_limit=(2, 1.0))
    async with ex:
        api = make_api(ex)
        first = await api.post("swap_trigger_cancel", BTC)
        assert first.headers["ratelimit-limit"] == "2"
        assert first.headers["ratelimit-interval"] == "1000"
        assert first.headers["ratelimit-remaining"] == "1"
        assert (await api.post("swap_trigger_cancel", BTC)).err_code != 1032
        assert (await api.post("swap_trigger_cancel", BTC)).err_code == 1032
        # Another strategy endpoint has its own pool; both draw on the trade pool.
        assert (await api.post("swap_tpsl_cancel", BTC)).err_code != 1032
        regular = await api.post("swap_cancel", BTC)
        assert regular.err_code != 1032
        assert regular.headers["ratelimit-limit"] == "4"
        assert regular.headers["ratelimit-remaining"] == "0"
        await clock.advance(1.0)
        # the trigger pool has room again, the trade pool does not: still refused
        assert (await api.post("swap_trigger_cancel", BTC)).err_code == 1032
        assert ex.max_in_window("trade") == 4
        assert ex.max_in_window("swap_trigger_cancel") == 2


async def test_rate_limits_off_counts_but_never_rejects(make_api) -> None:
    async with FakeExchange(trade_limit=(2, 5.0), rate_limits=False) as ex:
        api = make_api(ex)
        replies = await asyncio.gather(*(api.post("swap_cancel", BTC) for _ in range(5)))
        assert all(r.err_code != 1032 for r in replies)
        assert ex.max_in_window() == 5


async def test_latency_delays_arrival(make_api) -> None:
    calls = []

    def jitter() -> float:
        calls.append(1)
        return 0.05

    async with FakeExchange(latency=jitter) as ex:
        api = make_api(ex)
        loop = asyncio.get_running_loop()
        sent = loop.time()
        await api.post("swap_cancel", BTC)
        assert ex.requests[0].arrival - sent >= 0.05
        assert calls == [1]


def test_max_in_window_helper() -> None:
    assert max_in_window([], 1.0) == 0
    assert max_in_window([0.0, 0.5, 1.0, 1.4, 1.9], 1.0) == 3
    assert max_in_window([0.0, 1.0, 2.0], 1.0) == 1
    pool = Pool("trade", 2, 1.0, "fixed")
    pool.add(0.9)
    pool.add(0.95)
    assert not pool.has_room(0.99)
    assert pool.has_room(1.0)
    assert pool.reset_at(0.5) == 1.0
