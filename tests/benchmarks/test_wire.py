"""The benchmarks' wire table against the fake exchange: every client of a scenario sends what
the table says, and the table counts what the exchange cancelled."""

from __future__ import annotations

import functools

import pytest

from benchmarks._ccxt import CcxtClient, ccxt_version
from benchmarks._common import library_call, library_client
from benchmarks._floor import FloorClient, LimitedFloor, run_batches, sender
from benchmarks._wire import V1, V5, WIRES, Route, Wire, rate_limited, wire
from htx_cancel.testing import FakeExchange

KEYS = {"bench-access": "bench-secret"}
SEEDED = {"order": "order", "algo": "trigger", "trigger": "trigger", "tpsl": "tpsl",
          "track": "track"}


def test_table() -> None:
    assert V5.order.path == "/v5/trade/cancel_batch_orders" and V5.order.per_request == 10
    assert V1.order.path == "/linear-swap-api/v1/swap_cancel" and V1.order.per_request == 25
    assert V5.order.body("BTC-USDT", ["1", "2"]) == {"contract_code": "BTC-USDT",
                                                      "order_id": ["1", "2"]}
    assert V1.order.body("BTC-USDT", ["1", "2"]) == {"contract_code": "BTC-USDT",
                                                      "order_id": "1,2"}
    assert V5.routes["algo"].body("BTC-USDT", ["7"]) == [{"contract_code": "BTC-USDT",
                                                          "algo_id": "7"}]
    assert V5.strategy_kinds == ("algo",) and V1.strategy_kinds == ("trigger", "tpsl", "track")
    assert V5.order.ccxt_path == "v5/trade/cancel_batch_orders"
    assert wire("v1") is V1
    with pytest.raises(ValueError, match="api must be"):
        wire("v2")


def test_counting_and_rate_limited() -> None:
    v5 = {"code": 200, "data": [{"order_id": "1", "code": 200}, {"order_id": "2", "code": 1061},
                                {"order_id": "3", "code": "200"}]}
    assert V5.order.cancelled(v5) == 2
    assert V5.order.cancelled({"code": 1032, "message": "x"}) == 0
    assert V1.order.cancelled({"status": "ok", "data": {"errors": [], "successes": "1,2"}}) == 2
    assert V1.order.cancelled({"status": "ok", "data": {"errors": [], "successes": ""}}) == 0
    assert V1.order.cancelled({"status": "error", "err_code": 1032, "data": None}) == 0
    assert rate_limited({"status": "error", "err_code": 1032})
    assert rate_limited({"code": 1032}) and rate_limited({"code": "1032"})
    assert not rate_limited({"code": 200}) and not rate_limited({"status": "ok"})


@pytest.mark.parametrize("api", ["v5", "v1"])
async def test_every_client_cancels_every_kind(api: str) -> None:
    w = wire(api)
    async with FakeExchange(KEYS, rate_limits=False, seed=3) as ex:
        async with FloorClient(ex.base_url, *next(iter(KEYS.items()))) as floor:
            for route in w.routes.values():
                ids = ex.seed("BTC-USDT", SEEDED[_kind(w, route)], "isolated",
                              2 * route.per_request + 1)
                send = sender(floor.send, route, "BTC-USDT")
                assert await run_batches(send, ids, route.per_request, 4) == len(ids)
                assert ex.open_ids().isdisjoint(ids)
        assert {r.endpoint for r in ex.requests} == {r.record for r in w.routes.values()}
        assert all(len(r.ids) <= w.routes[_kind_of(w, r.endpoint)].per_request
                   for r in ex.requests)
        async with library_client(ex.base_url, None, api=w.api) as client:
            for kind in w.routes:
                ids = ex.seed("BTC-USDT", SEEDED[kind], "isolated", 3)
                report = await library_call(client, kind, ids)
                assert sorted(report.cancelled) == sorted(ids)


@pytest.mark.parametrize("api", ["v5", "v1"])
async def test_the_limited_floor_retries_1032(api: str) -> None:
    w = wire(api)
    async with FakeExchange(KEYS, trade_limit=(4, 0.05), strategy_limit=(2, 0.05),
                            algo_limit=(2, 0.05), seed=3) as ex:
        async with FloorClient(ex.base_url, *next(iter(KEYS.items()))) as floor:
            limited = LimitedFloor(floor, (8, 0.05), (4, 0.05), max_attempts=100)
            for kind, route in w.routes.items():
                ids = ex.seed("BTC-USDT", SEEDED[kind], "isolated", 6 * route.per_request)
                send = sender(limited.send, route, "BTC-USDT")
                assert await run_batches(send, ids, route.per_request, 6) == len(ids)
        assert limited.rejected == ex.rejected_1032 > 0


def _kind_of(w: Wire, record: str | None) -> str:
    (kind,) = [k for k, r in w.routes.items() if r.record == record]
    return kind


def _kind(w: Wire, route: Route) -> str:
    return _kind_of(w, route.record)


@pytest.mark.skipif(ccxt_version() is None, reason="ccxt is not installed")
@pytest.mark.parametrize("api", sorted(WIRES))
async def test_ccxt_retries_1032_in_both_envelopes(api: str) -> None:
    w = wire(api)
    async with FakeExchange(KEYS, trade_limit=(2, 0.02)) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 5 * w.order.per_request)
        async with CcxtClient(ex.base_url, *next(iter(KEYS.items())), throttle=False) as cc:
            post = functools.partial(cc.send_retrying, max_attempts=500)
            got = await run_batches(sender(post, w.order, "BTC-USDT"), ids,
                                    w.order.per_request, 5)
        assert got == len(ids) and cc.errors == 0
        assert cc.rejected == ex.rejected_1032 > 0
