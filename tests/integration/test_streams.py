"""The order stream, v5 verification and the trade socket against the fake exchange (real time,
real sockets on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from htx_cancel import (
    CancelClient,
    Credentials,
    OrderState,
    OrderUpdate,
    RetryPolicy,
    StreamGap,
    VerifyPolicy,
)
from htx_cancel.testing import FakeExchange

KEY = {"test-access": "test-secret"}
CREDS = Credentials("test-access", "test-secret")
BTC = "BTC-USDT"
WAIT = 20.0  # a guard against a hang, never a timing assertion
READ_PATHS = ("/v5/trade/order", "/v5/trade/order/opens", "/v5/trade/order/history")


def reads(ex: FakeExchange) -> list[str]:
    """The read requests the exchange received (v5 order info and listings)."""
    return [r.path for r in ex.requests if r.path in READ_PATHS and r.method == "GET"]


def v5_truth(ex: FakeExchange, ids: list[str]) -> dict[str, OrderState]:
    """Each order's state as the exchange knows it now (after any lag)."""
    from htx_cancel._order_state import state_for_status

    out = {}
    for i in ids:
        raw = ex.v5_state_of(i)
        assert raw is not None
        state = state_for_status(raw)
        assert state is not None
        out[i] = state
    return out


@pytest.fixture
async def exchange(request: pytest.FixtureRequest) -> AsyncIterator[FakeExchange]:
    options: dict[str, Any] = getattr(request, "param", {})
    async with FakeExchange(KEY, **options) as ex:
        yield ex


def client(ex: FakeExchange, **options: Any) -> CancelClient:
    return CancelClient(CREDS, base_url=ex.base_url, rate_limits=None, **options)


class Answered:
    """An ``on_request`` observer: set once ``n`` cancel attempts were answered."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.event = asyncio.Event()

    def __call__(self, event: Any) -> None:
        if "cancel" in event.endpoint:
            self.n -= 1
            if self.n <= 0:
                self.event.set()


async def next_update(updates: AsyncIterator[Any]) -> Any:
    return await asyncio.wait_for(anext(updates), WAIT)


# -- the bot's stream ----------------------------------------------------------------------------


@pytest.mark.parametrize("exchange", [{}, {"ws_gzip": True}], indirect=True,
                         ids=["text", "gzip"])
async def test_order_updates_yield_every_change_typed(exchange: FakeExchange) -> None:
    ex = exchange
    async with client(ex) as c:
        updates = c.order_updates(BTC)
        first = asyncio.ensure_future(next_update(updates))
        await asyncio.sleep(0)
        assert await c.open_stream(BTC)
        (oid,) = ex.seed(BTC)
        placed = await first
        assert isinstance(placed, OrderUpdate) and placed.state is OrderState.OPEN
        assert placed.order_id == oid and not placed.final
        await c.cancel_orders(BTC, [oid])
        update = await next_update(updates)
        assert isinstance(update, OrderUpdate)
        assert update.order_id == oid and update.contract_code == BTC
        assert update.state is OrderState.CANCELLED and update.final
        assert update.cancel_reason and update.filled_volume == 0
        assert update.updated_time is not None and update.ts is not None
        health = c.stats().stream
        assert health is not None and health.connected and health.pushes >= 1
        assert health.last_message_age is not None and health.reconnects == 0
        await updates.aclose()


async def test_the_stream_answers_pings_and_stays_up(exchange: FakeExchange) -> None:
    async with FakeExchange(KEY, ws_ping_interval=0.05) as ex, client(ex) as c:
        assert await c.open_stream()
        await asyncio.sleep(0.4)  # eight pings; two unanswered would close it
        stream = c.stats().stream
        assert stream is not None and stream.connected and stream.reconnects == 0
        assert any(m.get("op") == "pong" for s in ex.streams for m in s.received
                   if isinstance(m, dict))


async def test_the_stream_reconnects_resubscribes_and_tells_of_the_gap(
        exchange: FakeExchange) -> None:
    ex = exchange
    async with client(ex) as c:
        assert await c.open_stream(BTC)
        updates = c.order_updates(BTC, gaps=True)
        pending = asyncio.ensure_future(next_update(updates))
        await asyncio.sleep(0.05)
        assert ex.drop_streams() == 1
        gap = await pending
        assert isinstance(gap, StreamGap) and gap.until >= gap.since
        (oid,) = ex.seed(BTC)
        assert (await next_update(updates)).state is OrderState.OPEN
        await c.cancel_orders(BTC, [oid])
        update = await next_update(updates)
        assert update.order_id == oid and update.state is OrderState.CANCELLED
        stream = c.stats().stream
        assert stream is not None and stream.reconnects == 1 and stream.connected
        assert ex.streams[0].subscriptions["orders"] == {BTC}
        await updates.aclose()


async def test_a_refused_key_is_told_not_hammered(exchange: FakeExchange,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    ex = exchange
    wrong = CancelClient(Credentials("test-access", "wrong"), base_url=ex.base_url,
                         rate_limits=None)
    async with wrong:
        with caplog.at_level(logging.ERROR, "htx_cancel"):
            assert not await wrong.open_stream(within=2.0)
        stream = wrong.stats().stream
        assert stream is not None and not stream.connected and stream.auth_error
        assert "refused the key" in caplog.text


# -- verify=True on v5 ---------------------------------------------------------------------------


# The fake pushes an order that fills during its cancel's lag as ``new`` (its lagged view) and
# nothing after: lag and fills are tested apart here, together without the stream and below.
@pytest.mark.parametrize("exchange", [{"cancel_lag": 0.05}, {"fill_during_cancel": 0.1,
                                                             "seed": 7}],
                         indirect=True, ids=["lag", "fills"])
async def test_verify_with_the_stream_reads_nothing(exchange: FakeExchange) -> None:
    ex = exchange
    ids = ex.seed(BTC, n=300)
    async with client(ex, stream=True) as c:
        assert await c.open_stream()
        report = await c.cancel_orders(BTC, ids, verify=True)
    assert reads(ex) == []
    assert report.states == v5_truth(ex, ids)
    assert not report.unknown
    filled = {i for i, s in report.states.items() if s is OrderState.FILLED}
    assert set(report.failed) == filled
    assert set(report.cancelled) == set(ids) - filled


@pytest.mark.parametrize("exchange", [{"cancel_lag": 0.05, "fill_during_cancel": 0.1,
                                       "seed": 7}], indirect=True)
async def test_verify_with_the_stream_reads_rest_for_what_no_push_settled(
        exchange: FakeExchange) -> None:
    ex = exchange
    ids = ex.seed(BTC, n=300)
    async with client(ex, stream=True) as c:
        assert await c.open_stream()
        report = await c.cancel_orders(BTC, ids, verify=VerifyPolicy(stream_wait=0.5))
    assert report.states == v5_truth(ex, ids)
    assert not report.unknown
    filled = {i for i, s in report.states.items() if s is OrderState.FILLED}
    assert filled and set(report.failed) == filled
    assert 0 < len(reads(ex)) <= len(ids) // 100 + 4


@pytest.mark.parametrize("exchange", [{"cancel_lag": 0.05, "fill_during_cancel": 0.1,
                                       "seed": 3}], indirect=True)
async def test_verify_without_the_stream_reads_a_page_per_100_ids(
        exchange: FakeExchange) -> None:
    ex = exchange
    ids = ex.seed(BTC, n=1000)
    async with client(ex) as c:
        report = await c.cancel_orders(BTC, ids, verify=True)
    assert report.states == v5_truth(ex, ids)
    assert not report.unknown
    assert len(reads(ex)) <= len(ids) // 100 + 6, reads(ex)
    filled = {i for i, s in report.states.items() if s is OrderState.FILLED}
    assert set(report.failed) == filled


@pytest.mark.parametrize("exchange", [{"cancel_lag": 0.3}], indirect=True)
async def test_an_order_shown_open_by_the_lag_is_read_again_not_cancelled_again(
        exchange: FakeExchange) -> None:
    ex = exchange
    ids = ex.seed(BTC, n=5)
    policy = VerifyPolicy(backoff=0.2)
    async with client(ex) as c:
        report = await c.cancel_orders(BTC, ids, verify=policy)
    cancels = [r for r in ex.requests if r.path == "/v5/trade/cancel_batch_orders"]
    assert len(cancels) == 1  # never cancelled again: the second read saw it cancelled
    assert report.states == dict.fromkeys(ids, OrderState.CANCELLED)
    assert report.cancelled == ids


@pytest.mark.parametrize("exchange", [{"cancelling_seconds": 0.5}], indirect=True)
async def test_an_order_still_open_after_the_backoff_is_cancelled_again_and_verified(
        exchange: FakeExchange) -> None:
    ex = exchange
    ids = ex.seed(BTC, n=4)
    async with client(ex) as c:
        report = await c.cancel_orders(BTC, ids, verify=VerifyPolicy(backoff=0.1))
    cancels = [r for r in ex.requests if r.path == "/v5/trade/cancel_batch_orders"]
    assert len(cancels) >= 2 and set(cancels[1].ids) == set(ids)  # shown new twice: again
    assert report.states == dict.fromkeys(ids, OrderState.CANCELLED)
    assert sorted(report.cancelled) == sorted(ids)


@pytest.mark.parametrize("exchange", [{"fill_before_cancel": 0.3, "seed": 5}], indirect=True)
async def test_filled_before_the_cancel_is_a_failure_with_its_state(
        exchange: FakeExchange) -> None:
    ex = exchange
    ids = ex.seed(BTC, n=40)
    async with client(ex, stream=True) as c:
        assert await c.open_stream()
        report = await c.cancel_orders(BTC, ids, verify=True)
    truth = v5_truth(ex, ids)
    filled = {i for i, s in truth.items() if s is OrderState.FILLED}
    assert filled and filled <= set(report.failed)
    assert not report.unknown
    for i in set(ids) - filled:
        assert report.states[i] is OrderState.CANCELLED


@pytest.mark.parametrize("stream", [False, True], ids=["rest", "stream"])
async def test_client_ids_forgotten_after_the_cancel_are_settled(
        exchange: FakeExchange, stream: bool) -> None:
    ex = exchange
    ids = ex.seed(BTC, n=30, with_client_ids=True)
    cids = [str(ex.client_id_of(i)) for i in ids]
    async with client(ex, stream=stream) as c:
        if stream:
            assert await c.open_stream()
        report = await asyncio.wait_for(
            c.cancel_orders(BTC, client_order_ids=cids, verify=True), WAIT)
    assert sorted(report.cancelled) == sorted(cids) and not report.unknown
    assert all(report.states[c] in (OrderState.CANCELLED, OrderState.NOT_FOUND) for c in cids)
    assert len(reads(ex)) <= 5 if not stream else reads(ex) == []


@pytest.mark.parametrize("exchange", [{"cancel_lag": 0.05, "fill_during_cancel": 0.1,
                                       "ws_push_delay": 0.02, "seed": 11}], indirect=True)
async def test_a_stream_that_drops_mid_cancel_misses_no_state(exchange: FakeExchange) -> None:
    ex = exchange
    ids = ex.seed(BTC, n=400)
    answered = Answered(3)
    async with client(ex, stream=True, retry=RetryPolicy(deadline=60.0),
                      on_request=answered, max_in_flight=4) as c:
        assert await c.open_stream()
        task = asyncio.ensure_future(c.cancel_orders(BTC, ids, verify=True))
        await asyncio.wait_for(answered.event.wait(), WAIT)
        assert ex.drop_streams() >= 1
        report = await asyncio.wait_for(task, WAIT)
        stream = c.stats().stream
        assert stream is not None and stream.reconnects >= 1
    assert report.states == v5_truth(ex, ids)
    assert not report.unknown
    assert 0 < len(reads(ex)) <= len(ids) // 100 + 8


async def test_a_cold_stream_never_delays_the_cancel(exchange: FakeExchange) -> None:
    ex = exchange
    ids = ex.seed(BTC, n=20)
    async with client(ex, stream=True) as c:
        report = await c.cancel_orders(BTC, ids, verify=True)  # the stream is still connecting
        assert sorted(report.cancelled) == sorted(ids)
        assert reads(ex)  # so this call read REST
        assert await c.open_stream()  # and by now the stream is up for the next one
        more = ex.seed(BTC, n=20)
        ex.clear_records()
        again = await c.cancel_orders(BTC, more, verify=True)
    assert sorted(again.cancelled) == sorted(more) and reads(ex) == []


# -- the trade socket ----------------------------------------------------------------------------


@pytest.mark.parametrize("exchange", [{}, {"ws_trade_keys": "camel"}], indirect=True,
                         ids=["snake", "camel"])
async def test_cancels_go_on_the_trade_socket(exchange: FakeExchange) -> None:
    ex = exchange
    ids = ex.seed(BTC, n=35)
    async with client(ex, trade_socket=True) as c:
        report = await c.cancel_orders(BTC, ids)
        swept = ex.seed(BTC, n=3)
        report_all = await c.cancel_all_orders(BTC)
        stats = c.stats().trade_socket
    assert sorted(report.cancelled) == sorted(ids) and not report.failed
    assert sorted(report_all.cancelled) == sorted(swept)
    on_socket = [r for r in ex.requests if r.method == "WS"]
    assert [r.endpoint for r in on_socket].count("cancel_batch_orders") == 4
    assert not [r for r in ex.requests if r.path.startswith("/v5/trade/cancel")]
    assert stats is not None and stats.on_socket == 5 and stats.over_http == 0


async def test_the_trade_socket_falls_back_to_http_when_it_drops(
        exchange: FakeExchange) -> None:
    ex = exchange
    ids = ex.seed(BTC, n=200)
    answered = Answered(5)
    async with client(ex, trade_socket=True, max_in_flight=4, on_request=answered) as c:
        await c.cancel_orders(BTC, ids[:10])  # the socket is up
        task = asyncio.ensure_future(c.cancel_orders(BTC, ids[10:], verify=True))
        await asyncio.wait_for(answered.event.wait(), WAIT)
        ex.drop_streams()
        report = await asyncio.wait_for(task, WAIT)
        stats = c.stats().trade_socket
    assert sorted(report.cancelled) == sorted(ids[10:]) and not report.unknown
    assert stats is not None and stats.over_http > 0
    assert all(ex.order_state(i) == "cancelled" for i in ids)


async def test_the_trade_socket_down_from_the_start_means_http(
        exchange: FakeExchange) -> None:
    ex = exchange
    ids = ex.seed(BTC, n=12)
    c = client(ex, trade_socket=True)
    assert c._trade is not None
    c._trade._url = "ws://127.0.0.1:9/linear-swap-trade"  # nothing listens there
    async with c:
        report = await asyncio.wait_for(c.cancel_orders(BTC, ids), 2.0)  # no 3 s wait
        stats = c.stats().trade_socket
    assert sorted(report.cancelled) == sorted(ids)
    assert stats is not None and stats.on_socket == 0 and stats.over_http == 2


# -- the cancellation ratio ----------------------------------------------------------------------


async def test_the_cancellation_ratio_counts_placements_and_quick_cancels(
        exchange: FakeExchange) -> None:
    ex = exchange
    async with client(ex) as c:
        placed = []
        for _ in range(5):
            answer = await c.request("/v5/trade/order", {
                "contract_code": BTC, "margin_mode": "cross", "side": "buy", "type": "limit",
                "price": "100", "volume": "1"})
            placed.append(str(answer["data"]["order_id"]))
        await c.cancel_orders(BTC, placed[:4])
        ratio = c.stats().cancel_ratio
        assert ratio.placed == 5 and ratio.quick_cancels == 4 and ratio.ratio == 0.8
        assert not ratio.near and not ratio.over
        await c.cancel_all_orders(BTC)  # a cancel-all's ids count too
        assert c.stats().cancel_ratio.quick_cancels == 5


async def test_the_trade_socket_draws_on_the_same_limiter() -> None:
    from htx_cancel import RateLimiter, RateLimits

    limits = RateLimits(trade=(24, 1.0), read=(24, 1.0))
    async with FakeExchange(KEY, trade_limit=(24, 1.0)) as ex:
        ids = ex.seed(BTC, n=300)  # 30 requests: more than one window of the pool
        c = CancelClient(CREDS, base_url=ex.base_url, rate_limits=limits,
                         limiter=RateLimiter(limits), trade_socket=True)
        async with c:
            report = await asyncio.wait_for(c.cancel_orders(BTC, ids), WAIT)
            stats = c.stats().trade_socket
        assert sorted(report.cancelled) == sorted(ids)
        assert ex.rejected_1032 == 0  # the socket's ops counted in the exchange's trade pool
        assert stats is not None and stats.on_socket == 30
