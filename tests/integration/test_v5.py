"""Every v5 call of the client on real HTTP against the fake exchange (its v5 side)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from htx_cancel import (
    CancelClient,
    Credentials,
    MigratedAccountError,
    OrderState,
    RateLimits,
    RetryPolicy,
    VerifyPolicy,
)
from htx_cancel.testing import FakeExchange

CREDS = Credentials("test-access", "test-secret")
SMALL = RateLimits(trade=(72, 3.0), read=(72, 3.0), probe=False)


def exchange(**kw: Any) -> FakeExchange:
    kw.setdefault("seed", 5)
    return FakeExchange({"test-access": "test-secret"}, **kw)


def client(ex: FakeExchange, **kw: Any) -> CancelClient:
    kw.setdefault("rate_limits", None)
    kw.setdefault("retry", RetryPolicy(max_attempts=4, backoff=0.01, backoff_max=0.05))
    return CancelClient(CREDS, base_url=ex.base_url, **kw)


async def test_cancel_orders_by_order_and_client_ids_ten_a_request() -> None:
    async with exchange() as ex, client(ex) as c:
        ids = ex.seed("BTC-USDT", "order", "cross", 37, with_client_ids=True)
        cids = [ex.client_id_of(i) or "" for i in ids[30:]]
        report = await c.cancel_orders("BTC-USDT", ids[:30], cids)
        assert report.ok and report.cancelled == [*ids[:30], *cids]
        sent = [r for r in ex.requests if r.path == "/v5/trade/cancel_batch_orders"]
        assert len(sent) == 4 and all(r.status == 200 for r in sent)
        assert ex.open_ids() == set()


async def test_outcomes_of_every_sort_on_v5() -> None:
    async with exchange() as ex, client(ex) as c:
        ids = ex.seed("ETH-USDT", "order", "cross", 6)
        ex.fill(ids[0])
        first = await c.cancel_orders("ETH-USDT", [ids[1]])
        assert first.cancelled == [ids[1]]
        missing = "999999999999999999"
        report = await c.cancel_orders("ETH-USDT", [*ids, missing])
        assert set(report.cancelled) == set(ids[1:])  # ids[1] again: "already cancelled"
        assert set(report.failed) == {ids[0], missing} and not report.unknown
        assert all(f.code != 200 for f in report.failed.values())


async def test_algo_orders_of_every_kind_by_algo_id_and_algo_client_id() -> None:
    async with exchange() as ex, client(ex) as c:
        trig = ex.seed("BTC-USDT", "trigger", "cross", 12)
        tpsl = ex.seed("BTC-USDT", "tpsl", "cross", 3)
        trail = ex.seed("BTC-USDT", "track", "cross", 2, with_client_ids=True)
        acids = [ex.order(i).algo_client_order_id or "" for i in trail]
        report = await c.cancel_algo_orders("BTC-USDT", [*trig, *tpsl], acids)
        assert report.ok and report.cancelled == [*trig, *tpsl, *acids]
        by_alias = await c.cancel_trigger_orders("BTC-USDT", trig[:1])
        assert by_alias.cancelled == trig[:1]  # already cancelled: gone, as asked
        sent = [r for r in ex.requests if r.path == "/v5/algo/cancel_orders"]
        assert all(r.status == 200 for r in sent) and len(sent) == 4  # 10 + 5 + 2 + 1
        assert ex.open_ids() == set()


async def test_cancel_all_of_the_account_and_of_one_contract_side() -> None:
    async with exchange() as ex, client(ex) as c:
        btc_buy = ex.seed("BTC-USDT", "order", "cross", 3, direction="buy")
        btc_sell = ex.seed("BTC-USDT", "order", "cross", 2, direction="sell")
        eth = ex.seed("ETH-USDT", "order", "cross", 4)
        one = await c.cancel_all_orders("BTC-USDT", side="buy")
        assert set(one.cancelled) == set(btc_buy) and one.ok
        everything = await c.cancel_all_orders()
        assert set(everything.cancelled) == {*btc_sell, *eth} and everything.ok
        assert ex.open_ids() == set()
        nothing = await c.cancel_all_orders()
        assert nothing.ok and nothing.total == 0


async def test_verify_learns_every_state_with_fills_and_a_cancel_lag() -> None:
    async with exchange(cancel_lag=0.05) as ex, client(ex) as c:
        ids = ex.seed("BTC-USDT", "order", "cross", 8)
        ex.fill(ids[0])
        ex.fill(ids[1], volume=0.5)
        report = await c.cancel_orders("BTC-USDT", ids, verify=VerifyPolicy(backoff=0.05))
        assert report.states[ids[0]] is OrderState.FILLED
        assert report.states[ids[1]] is OrderState.PARTIALLY_FILLED_CANCELLED
        assert all(report.states[i] is OrderState.CANCELLED for i in ids[2:])
        assert set(report.cancelled) == set(ids[1:]) and list(report.failed) == [ids[0]]
        for id_, state in report.states.items():  # what the exchange says, id by id
            assert ex.v5_state_of(id_) == {"filled": "filled", "cancelled": "canceled",
                                            "partially_filled_cancelled":
                                            "partially_canceled"}[state.value]


async def test_verify_algo_orders_through_their_listing() -> None:
    async with exchange() as ex, client(ex) as c:
        ids = ex.seed("BTC-USDT", "tpsl", "cross", 3)
        report = await c.cancel_algo_orders("BTC-USDT", ids, verify=True)
        assert report.states == dict.fromkeys(ids, OrderState.GONE) and report.ok


async def test_the_switch_arms_v5_cancel_after_and_fires_on_a_real_timer() -> None:
    async with exchange() as ex, client(ex) as c:
        ids = ex.seed("BTC-USDT", "order", "cross", 3)
        switch = c.cancel_after(5.0, stay_armed=True)
        async with switch:
            assert switch.trigger_time is not None and switch.current_time is not None
            assert switch.trigger_time - switch.current_time == 5000
        arms = [r for r in ex.requests if r.path == "/v5/trade/cancel-after"]
        assert arms and arms[0].body == {"on_off": "1", "time_out": 5000}
        assert ex.open_ids() == set(ids)  # still armed: it has not fired yet
        disarm = c.cancel_after(5.0)
        async with disarm:
            pass
        assert [r.body for r in ex.requests if r.path == "/v5/trade/cancel-after"][-1] == {
            "on_off": "0"}


async def test_placements_and_reads_through_request_on_v5() -> None:
    async with exchange() as ex, client(ex) as c:
        placed = await c.request("/v5/trade/order", {
            "contract_code": "BTC-USDT", "margin_mode": "cross", "side": "buy", "type": "limit",
            "price": "30000", "volume": "1", "client_order_id": "77"}, priority="low")
        oid = str(placed["data"]["order_id"])
        info = await c.request("/v5/trade/order", {"order_id": oid,
                                                   "contract_code": "BTC-USDT"}, method="GET")
        assert info["data"]["state"] == "new"
        opens = await c.request("/v5/trade/order/opens", {"contract_code": "BTC-USDT",
                                                          "limit": 100}, method="GET")
        assert [str(o["order_id"]) for o in opens["data"]] == [oid]
        report = await c.cancel_orders("BTC-USDT", client_order_ids=["77"])
        assert report.cancelled == ["77"]
        reads = [r for r in ex.requests if r.method == "GET" and r.path.startswith("/v5/")]
        assert all(r.status == 200 for r in reads) and len(reads) == 2


async def test_a_migrated_account_costs_one_v1_request() -> None:
    async with exchange(migrated=True) as ex, CancelClient(
            CREDS, api="v1", base_url=ex.base_url, rate_limits=None) as c:
        ids = ex.seed("BTC-USDT", "order", "isolated", 120)
        report = await c.cancel_orders("BTC-USDT", ids)
        assert set(report.failed) == set(ids)
        assert {f.code for f in report.failed.values()} == {6023}
        assert all('api="v5"' in f.message for f in report.failed.values())
        assert len(ex.requests) == 1
        with pytest.raises(MigratedAccountError):
            await c.request("/linear-swap-api/v1/swap_order", {"contract_code": "BTC-USDT"})
        async with client(ex) as v5:  # the same account on v5: it works
            assert (await v5.cancel_orders("BTC-USDT", ids)).ok


async def test_faults_lose_nothing_on_v5() -> None:
    faults = ["drop_after", "error_500_before", "rate_limit", "truncate_after", "busy",
              "gateway_504_after", "html_before"] * 3
    async with exchange(faults=faults) as ex, client(ex, rate_limits=SMALL) as c:
        ids = ex.seed("BTC-USDT", "order", "cross", 300)
        report = await c.cancel_orders("BTC-USDT", ids)
        assert sorted([*report.cancelled, *report.failed, *report.unknown]) == sorted(ids)
        assert report.total == len(ids)
        gone = set(ids) - ex.open_ids()
        assert set(report.cancelled) <= gone  # nothing reported cancelled is still open
        assert len({r.fault for r in ex.requests if r.fault is not None}) == 7
        assert set(report.unknown) | set(report.cancelled) >= gone  # every cancel accounted


async def test_many_tasks_share_one_v5_client_within_the_limits() -> None:
    async with exchange(trade_limit=(20, 1.0)) as ex, client(
            ex, rate_limits=RateLimits(trade=(20, 1.0), probe=False)) as c:
        contracts = ["BTC-USDT", "ETH-USDT", "XRP-USDT"]
        seeded = {code: ex.seed(code, "order", "cross", 60) for code in contracts}
        reports = await asyncio.gather(*(c.cancel_orders(code, ids)
                                         for code, ids in seeded.items()))
        assert all(r.ok for r in reports)
        assert not [r for r in ex.requests if r.err_code == 1032]


async def test_client_ids_are_verified_through_the_order_ids_their_cancel_named() -> None:
    # v5 forgets a client id once its order is done: a lookup by it then finds nothing
    async with exchange() as ex, client(ex) as c:
        ids = ex.seed("BTC-USDT", "order", "cross", 30, with_client_ids=True)
        ex.fill(ids[0])
        cids = [ex.client_id_of(i) or "" for i in ids]
        report = await c.cancel_orders("BTC-USDT", client_order_ids=cids, verify=True)
        named = dict(zip(cids[1:], ids[1:], strict=True))
        assert report.order_ids.items() >= named.items()  # the answer named both ids
        assert all(report.states[cid] is OrderState.CANCELLED for cid in cids[1:])
        assert report.cancelled == cids[1:] and list(report.failed) == [cids[0]]
        reads = [r for r in ex.requests if r.method == "GET"]
        assert len(reads) <= 4  # a page or two of the history, not one read an id
