"""Verification against the fake exchange: fills, lost answers, orders that stay open."""

from __future__ import annotations

import random

import pytest

from htx_cancel import (
    CancelClient,
    CancelReport,
    Credentials,
    OrderState,
    RateLimiter,
    RateLimits,
    RetryPolicy,
    VerifyPolicy,
)
from htx_cancel._order_state import state_for_status
from htx_cancel.testing import FakeExchange

CREDS = Credentials("test-access", "test-secret")
LIMITS = RateLimits(trade=(30, 0.3), strategy=(5, 0.1), read=(30, 0.3), guard=0.002)
FAST = RetryPolicy(backoff=0.01, backoff_max=0.05, deadline=20.0)


def client(ex: FakeExchange, **kw: object) -> CancelClient:
    return CancelClient(CREDS, api="v1", base_url=ex.base_url, rate_limits=LIMITS,
                        limiter=RateLimiter(LIMITS), retry=FAST, **kw)  # type: ignore[arg-type]


def exchange(**kw: object) -> FakeExchange:
    return FakeExchange({"test-access": "test-secret"}, trade_limit=(30, 0.3),
                        strategy_limit=(5, 0.1), read_limit=(30, 0.3),
                        **kw)  # type: ignore[arg-type]


def truth(ex: FakeExchange, id_: str) -> OrderState:
    status = ex.status_of(id_)
    if status is None:
        return OrderState.NOT_FOUND
    state = state_for_status(status)
    assert state is not None
    return state


def check(report: CancelReport, asked: list[str], ex: FakeExchange) -> None:
    """Every id in one list; every state what the exchange holds; nothing live called gone."""
    lists = [set(report.cancelled), set(report.failed), set(report.unknown)]
    assert sum(map(len, lists)) == len(asked) and set().union(*lists) == set(asked)
    live = ex.open_ids()
    assert not live & set(report.cancelled), "a live order reported cancelled"
    for id_, state in report.states.items():
        assert state == truth(ex, id_), (id_, state, ex.status_of(id_))
    for id_ in report.cancelled:
        assert report.states.get(id_) in (OrderState.CANCELLED,
                                          OrderState.PARTIALLY_FILLED_CANCELLED, None)
    for id_ in report.unknown:
        assert id_ not in report.states or report.states[id_] is OrderState.CANCELLING


async def test_fills_before_and_during_the_cancel_are_reported_failed() -> None:
    async with exchange(seed=2, fill_before_cancel=0.1, fill_during_cancel=0.2) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 300)
        async with client(ex) as c:
            report = await c.cancel_orders("BTC-USDT", order_ids=ids, verify=True)
        filled = {i for i in ids if ex.status_of(i) == 6}
        assert filled and filled == set(report.failed)
        assert all(report.states[i] is OrderState.FILLED for i in filled)
        assert all(report.failed[i].code == 1061 for i in filled)
        check(report, ids, ex)
        assert len(ex.find("swap_order_info")) == 6  # 50 ids a read


async def test_verification_takes_no_trade_slot() -> None:
    async with exchange(seed=3) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 100)
        async with client(ex) as c:
            report = await c.cancel_orders("BTC-USDT", order_ids=ids, verify=True)
        assert report.states == dict.fromkeys(ids, OrderState.CANCELLED)
        assert len(ex.find("swap_cancel")) == 4 and len(ex.find("swap_order_info")) == 2
        assert ex.max_in_window("trade") == 4 and ex.max_in_window("read") == 2


async def test_lost_answers_are_resolved_and_open_orders_cancelled_again() -> None:
    async with exchange(seed=4) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 50)
        # the first batch is processed and its answer lost every time; the second never
        # reaches the book (500 before) so its orders stay open
        ex.faults.script("swap_cancel", ["drop_after"] * 4 + ["error_500_before"] * 4)
        async with client(ex, max_in_flight=1) as c:
            report = await c.cancel_orders("BTC-USDT", order_ids=ids, verify=True)
        assert set(report.cancelled) == set(ids) and not report.unknown
        assert report.states == dict.fromkeys(ids, OrderState.CANCELLED)
        assert ex.open_ids() == set()
        assert len(ex.find("swap_cancel")) == 9  # 8 tries, then one re-cancel of 25


async def test_an_order_that_stays_open_is_failed() -> None:
    async with exchange(seed=5) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 3)
        ex.faults.script("swap_cancel", ["error_500_before"] * 12)
        async with client(ex) as c:
            report = await c.cancel_orders("BTC-USDT", order_ids=ids,
                                           verify=VerifyPolicy(max_recancels=2))
        assert report.states == dict.fromkeys(ids, OrderState.OPEN)
        assert {f.message for f in report.failed.values()} == {"still open after 2 more cancels"}
        check(report, ids, ex)


async def test_client_order_ids_and_cross_margin() -> None:
    async with exchange(seed=6, fill_during_cancel=0.3) as ex:
        oids = ex.seed("BTC-USDT", "order", "cross", 40, with_client_ids=True)
        cids = [ex.client_id_of(i) for i in oids]
        async with client(ex) as c:
            report = await c.cancel_orders("BTC-USDT", client_order_ids=cids, margin="cross",
                                           verify=True)
        assert set(report.states) == set(cids)
        for oid, cid in zip(oids, cids, strict=True):
            assert report.states[cid] == truth(ex, oid)
        assert {b["client_order_id"] is not None for b in
                (r.body for r in ex.find("swap_cross_order_info"))} == {True}


async def test_strategy_orders_are_verified_through_their_listings() -> None:
    async with exchange(seed=7) as ex:
        trig = ex.seed("BTC-USDT", "trigger", "cross", 70)
        tpsl = ex.seed("BTC-USDT", "tpsl", "isolated", 12)
        ex.faults.script("swap_tpsl_cancel", ["drop_after"] * 4)
        async with client(ex) as c:
            r1 = await c.cancel_trigger_orders("BTC-USDT", trig[:60], margin="cross",
                                               verify=True)
            r2 = await c.cancel_tpsl_orders("BTC-USDT", tpsl, verify=True)
        assert r1.states == dict.fromkeys(trig[:60], OrderState.GONE)
        assert set(r1.cancelled) == set(trig[:60])
        assert len(ex.find("swap_cross_trigger_openorders")) == 1  # 10 left: one page
        assert set(r2.cancelled) == set(tpsl) and not r2.unknown  # lost answers resolved


async def test_verify_later_and_what_retention_forgot() -> None:
    async with exchange(seed=8) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 6)
        ex.fill(ids[0])
        async with client(ex) as c:
            report = await c.cancel_orders("BTC-USDT", order_ids=ids[1:4])
            later = await c.verify(ids, "BTC-USDT", recancel=False)
            assert later.states == {ids[0]: OrderState.FILLED, ids[1]: OrderState.CANCELLED,
                                    ids[2]: OrderState.CANCELLED, ids[3]: OrderState.CANCELLED,
                                    ids[4]: OrderState.OPEN, ids[5]: OrderState.OPEN}
            assert set(later.cancelled) == set(ids[1:4]) and set(later.failed) == {
                ids[0], ids[4], ids[5]}
            assert ex.open_ids() == set(ids[4:])  # recancel=False only looks
            ex.settle()  # funding settlement: finished orders are purged
            await c.verify(report, "BTC-USDT")
            assert report.states == dict.fromkeys(ids[1:4], OrderState.NOT_FOUND)
            assert set(report.cancelled) == set(ids[1:4])  # accepted, then forgotten
            gone = await c.verify(ids[:2], "BTC-USDT")
            assert set(gone.failed) == set(ids[:2])
            assert "forgotten" in gone.failed[ids[1]].message


@pytest.mark.parametrize("seed", range(4))
async def test_random_fills_and_faults_every_state_matches_the_exchange(seed: int) -> None:
    rng = random.Random(seed)
    async with exchange(seed=seed, fill_before_cancel=0.05, fill_during_cancel=0.1,
                        hang_seconds=0.3, latency=lambda: rng.uniform(0, 0.003)) as ex:
        ex.faults.randomize(seed, 0.2, kinds=["busy", "error_500_before", "drop_after",
                                              "gateway_504_after", "garbled_after"])
        ids = ex.seed("BTC-USDT", "order", "isolated", 200)
        async with client(ex) as c:
            report = await c.cancel_orders("BTC-USDT", order_ids=ids, verify=True)
        check(report, ids, ex)
        assert len(report.states) + len(report.unknown) >= len(ids) - len(report.unknown)


async def test_reads_start_while_the_cancel_goes_on() -> None:
    async with exchange(seed=9) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 500)
        async with client(ex, max_in_flight=2) as c:
            report = await c.cancel_orders("BTC-USDT", order_ids=ids, verify=True)
        assert report.states == dict.fromkeys(ids, OrderState.CANCELLED)
        cancels = [r.seq for r in ex.find("swap_cancel")]
        reads = [r.seq for r in ex.find("swap_order_info")]
        assert len(reads) == 10 and min(reads) < max(cancels)


async def test_a_cancel_all_report_is_verified_later() -> None:
    async with exchange(seed=10, fill_during_cancel=0.25) as ex:
        ids = ex.seed("ETH-USDT", "order", "cross", 30)
        async with client(ex) as c:
            report = await c.cancel_all_orders("ETH-USDT", margin="cross")
            assert set(report.cancelled) == set(ids)  # accepted: fills are not known yet
            await c.verify(report, "ETH-USDT")
        check(report, ids, ex)
        assert {i for i in ids if ex.status_of(i) == 6} == set(report.failed)
        assert len(ex.find("swap_cross_order_info")) == 1


async def test_a_wrong_key_costs_one_request_even_with_verify() -> None:
    async with exchange(seed=11) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 80)
        wrong = Credentials("test-access", "not-the-secret")
        async with CancelClient(wrong, api="v1", base_url=ex.base_url, rate_limits=LIMITS,
                                limiter=RateLimiter(LIMITS)) as c:
            report = await c.cancel_orders("BTC-USDT", order_ids=ids, verify=True)
        assert report.auth_failure is not None and len(report.failed) == 80
        assert report.states == {} and len(ex.requests) == 1


async def test_a_partly_filled_order_left_open_is_cancelled_again() -> None:
    async with exchange(seed=12) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 2)
        ex.fill(ids[0], volume=0.5)  # status 4: still in the book
        ex.faults.script("swap_cancel", ["error_500_before"] * 4)  # never reaches the book
        async with client(ex) as c:
            report = await c.cancel_orders("BTC-USDT", order_ids=ids, verify=True)
        assert report.states == {ids[0]: OrderState.PARTIALLY_FILLED_CANCELLED,
                                 ids[1]: OrderState.CANCELLED}
        assert report.cancelled == ids and ex.status_of(ids[0]) == 5
        check(report, ids, ex)
