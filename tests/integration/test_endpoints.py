"""The real client over real aiohttp against the fake exchange on 127.0.0.1, every endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from htx_cancel import (
    APIError,
    AuthenticationError,
    CancelClient,
    Credentials,
    RateLimits,
    RetryPolicy,
    Timeouts,
)
from htx_cancel.testing import FakeExchange, Fault

CREDS = Credentials("test-access", "test-secret")
SMALL = RateLimits(trade=(12, 0.3), strategy=(3, 0.1), guard=0.002)


def exchange(**kw: Any) -> FakeExchange:
    kw.setdefault("trade_limit", SMALL.trade)
    kw.setdefault("strategy_limit", SMALL.strategy)
    return FakeExchange({"test-access": "test-secret"}, **kw)


def client(ex: FakeExchange, **kw: Any) -> CancelClient:
    kw.setdefault("rate_limits", SMALL)
    kw.setdefault("retry", RetryPolicy(max_attempts=4, backoff=0.005, backoff_max=0.02))
    return CancelClient(CREDS, api="v1", base_url=ex.base_url, **kw)


def assert_within_limits(ex: FakeExchange) -> None:
    assert ex.rejected_1032 == 0
    assert ex.max_in_window("trade") <= SMALL.trade[0]
    for name in ("swap_trigger_cancel", "swap_cross_trigger_cancel", "swap_tpsl_cancel",
                 "swap_cross_tpsl_cancel", "swap_track_cancel", "swap_cross_track_cancel"):
        assert ex.max_in_window(name) <= SMALL.strategy[0]


@pytest.mark.parametrize("margin", ["isolated", "cross"])
@pytest.mark.parametrize(("kind", "method", "per_call"), [
    ("order", "cancel_orders", 25), ("trigger", "cancel_trigger_orders", 20),
    ("tpsl", "cancel_tpsl_orders", 10), ("track", "cancel_track_orders", 10)])
async def test_every_by_id_endpoint(kind: str, method: str, per_call: int, margin: str) -> None:
    window = "fixed" if margin == "cross" else "sliding"
    async with exchange(window=window) as ex, client(ex) as c:
        ids = ex.seed("BTC-USDT", kind, margin, 60)  # type: ignore[arg-type]
        report = await getattr(c, method)("BTC-USDT", ids, margin=margin)
        assert report.cancelled == ids and report.ok
        assert ex.cancelled_ids() == set(ids) and not ex.open_ids()
        limit = 10 if (kind, margin) == ("trigger", "cross") else per_call
        assert max(len(r.ids) for r in ex.requests) == limit
        assert all(r.endpoint == report.batches[0].endpoint for r in ex.requests)
        assert_within_limits(ex)


async def test_client_order_ids_and_outcomes_of_every_sort() -> None:
    async with exchange() as ex, client(ex) as c:
        ids = ex.seed("ETH-USDT", "order", "isolated", 8, with_client_ids=True)
        cids = [ex.client_id_of(i) for i in ids]
        ex.fill(ids[0])
        ex.mark_cancelling(ids[1])
        first = await c.cancel_orders("ETH-USDT", client_order_ids=[cids[2]])
        assert first.cancelled == [cids[2]]
        unknown_id = "999999999999999999"
        report = await c.cancel_orders("ETH-USDT", order_ids=[*ids[:2], unknown_id],
                                       client_order_ids=cids[2:])
        # 1062 in both lists: cancelled; 1071 (cancelled by the first call): cancelled
        assert report.cancelled == [ids[1], *cids[2:]]
        assert {k: v.code for k, v in report.failed.items()} == {
            ids[0]: 1061, unknown_id: 1061}
        assert not report.unknown
        assert {r.id_field for r in ex.requests} == {"order_id", "client_order_id"}


@pytest.mark.parametrize("margin", ["isolated", "cross"])
async def test_every_cancel_all_endpoint(margin: str) -> None:
    async with exchange() as ex, client(ex) as c:
        buys = ex.seed("BTC-USDT", "order", margin, 3, direction="buy",  # type: ignore[arg-type]
                       offset="open")
        sells = ex.seed("BTC-USDT", "order", margin, 2, direction="sell",  # type: ignore[arg-type]
                        offset="close")
        r = await c.cancel_all_orders("BTC-USDT", direction="buy", margin=margin)  # type: ignore[arg-type]
        assert sorted(r.cancelled) == sorted(buys) and ex.open_ids() == set(sells)
        for kind, method in (("trigger", "cancel_all_trigger_orders"),
                             ("tpsl", "cancel_all_tpsl_orders"),
                             ("track", "cancel_all_track_orders")):
            seeded = ex.seed("BTC-USDT", kind, margin, 4)  # type: ignore[arg-type]
            r = await getattr(c, method)("BTC-USDT", margin=margin)
            assert sorted(r.cancelled) == sorted(seeded), kind
        empty = await c.cancel_all_track_orders("BTC-USDT", margin=margin)  # type: ignore[arg-type]
        assert empty.ok and empty.total == 0
        assert_within_limits(ex)


async def test_skewed_server_clock_is_synced_once_then_signed_right() -> None:
    async with exchange(clock_skew=900.0) as ex, client(ex) as c:
        ids = ex.seed("BTC-USDT", "order", "isolated", 3)
        report = await c.cancel_orders("BTC-USDT", ids)
        assert report.cancelled == ids
        assert 899 < c.time_offset < 901
        assert [r.err_code for r in ex.requests] == [12001, None]
        assert await c.sync_time() == pytest.approx(900, abs=1)


async def test_an_answer_lost_to_a_hang_is_retried_and_1071_means_cancelled() -> None:
    async with exchange(hang_seconds=2.0) as ex, client(
            ex, timeouts=Timeouts(total=0.3, connect=0.3)) as c:
        ids = ex.seed("BTC-USDT", "order", "isolated", 5)
        ex.faults.script("swap_cancel", ["hang_after"])
        report = await c.cancel_orders("BTC-USDT", ids)
        assert report.cancelled == ids and report.batches[0].attempts == 2
        assert ex.requests[0].fault == "hang_after"


async def test_bad_keys_fail_every_id_at_the_cost_of_one_request() -> None:
    async with exchange() as ex, CancelClient(Credentials("test-access", "wrong"),
                                              api="v1", base_url=ex.base_url,
                                              rate_limits=SMALL) as c:
        ids = ex.seed("BTC-USDT", "order", "isolated", 80)
        report = await c.cancel_orders("BTC-USDT", ids)
        assert {f.code for f in report.failed.values()} == {1253} and len(report.failed) == 80
        assert len(ex.requests) == 1 and ex.open_ids() == set(ids)
        assert report.auth_failure is not None and report.auth_failure.code == 1253
        with pytest.raises(AuthenticationError):
            report.raise_for_failures()


async def test_signed_request_captured_end_to_end() -> None:
    async with exchange() as ex, client(ex) as c:
        ids = ex.seed("BTC-USDT", "order", "isolated", 1)
        await c.cancel_orders("BTC-USDT", ids)
        rec = ex.requests[0]
        assert rec.query["AccessKeyId"] == "test-access"
        assert rec.query["SignatureMethod"] == "HmacSHA256"  # and the fake checked the signature
        assert rec.status == 200 and rec.err_code is None and rec.body == {
            "contract_code": "BTC-USDT", "order_id": ids[0]}


async def test_a_user_session_is_used_and_left_open() -> None:
    import aiohttp

    async with exchange() as ex, aiohttp.ClientSession() as session:
        async with client(ex, session=session) as c:
            ids = ex.seed("BTC-USDT", "order", "isolated", 2)
            assert (await c.cancel_orders("BTC-USDT", ids)).ok
        assert not session.closed


async def test_a_scripted_1032_pauses_and_retries_the_same_batch() -> None:
    async with exchange() as ex, client(ex) as c:
        ids = ex.seed("BTC-USDT", "order", "isolated", 4)
        ex.faults.script("swap_cancel", [Fault("rate_limit")])
        report = await c.cancel_orders("BTC-USDT", ids)
        assert report.cancelled == ids and report.batches[0].attempts == 2
        assert ex.requests[1].body == ex.requests[0].body


async def test_a_skewed_clock_costs_one_rejection_and_one_sync_for_many_batches() -> None:
    async with exchange(clock_skew=400.0) as ex, client(ex) as c:
        ids = ex.seed("BTC-USDT", "order", "isolated", 275)
        report = await c.cancel_orders("BTC-USDT", ids)
        assert report.cancelled == ids
        assert [r.err_code for r in ex.requests].count(12001) == 1
        assert ex.timestamp_requests == 1 and len(ex.requests) == 12


async def test_request_sends_any_private_request_and_returns_its_json() -> None:
    async with exchange() as ex, client(ex) as c:
        ids = ex.seed("BTC-USDT", "order", "isolated", 2)
        answer = await c.request("/linear-swap-api/v1/swap_cancel",
                                 {"contract_code": "BTC-USDT", "order_id": ",".join(ids)})
        assert answer["status"] == "ok" and answer["data"]["successes"] == ",".join(ids)
        with pytest.raises(APIError) as info:
            await c.request("/linear-swap-api/v1/not_here", {}, pools=("trade",))
        assert info.value.code == 404 and info.value.status == 404
        assert ex.cancelled_ids() == set(ids)


async def test_nothing_listening_fails_every_id_as_not_sent() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with CancelClient(CREDS, api="v1", base_url=f"http://127.0.0.1:{port}", rate_limits=SMALL,
                            retry=RetryPolicy(max_attempts=2, backoff=0.001,
                                              backoff_max=0.002)) as c:
        report = await c.cancel_orders("BTC-USDT", ["1", "2"])
    assert not report.unknown and {f.code for f in report.failed.values()} == {"not-sent"}
