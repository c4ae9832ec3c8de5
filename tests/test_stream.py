"""The order stream without a network: a scripted connector, the watch, the ratio guard."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from htx_cancel import ConnectError, OrderState, OrderUpdate
from htx_cancel._clock import LoopClock
from htx_cancel._ratio import BAN_ORDERS, CancelRatio, placed_ids
from htx_cancel._signing import Signer
from htx_cancel._stream import OrderStream, Watch
from htx_cancel._transports._ws import ws_url

WAIT = 5.0


class Conn:
    """A scripted connection: frames the server sends, and what the client sent."""

    def __init__(self, replies: Callable[[dict[str, Any]], list[dict[str, Any]]]) -> None:
        self.replies = replies
        self.inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.closed = False

    async def send(self, payload: str | bytes) -> None:
        message = json.loads(payload)
        self.sent.append(message)
        for reply in self.replies(message):
            self.inbox.put_nowait(json.dumps(reply))

    async def receive(self, within: float | None = None) -> str | bytes | None:
        return await asyncio.wait_for(self.inbox.get(), within)

    def push(self, message: dict[str, Any] | None) -> None:
        self.inbox.put_nowait(None if message is None else json.dumps(message))

    async def close(self) -> None:
        self.closed = True


def exchange(message: dict[str, Any]) -> list[dict[str, Any]]:
    """HTX's side: auth and sub acknowledged."""
    if message["op"] == "auth":
        assert message["Signature"] and message["AccessKeyId"] == "k"
        return [{"op": "auth", "type": "api", "err-code": 0, "data": {"user-id": 1}}]
    if message["op"] == "sub":
        return [{"op": "sub", "cid": message["cid"], "topic": "orders",
                 "contract_code": message["contract_code"], "err-code": 0}]
    return []


class Connector:
    """Fails ``failures`` times, then hands out scripted connections."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.attempts: list[float] = []
        self.conns: list[Conn] = []

    async def connect(self, url: str) -> Conn:
        self.attempts.append(asyncio.get_running_loop().time())
        if self.failures > 0:
            self.failures -= 1
            raise ConnectError("refused")
        conn = Conn(exchange)
        self.conns.append(conn)
        return conn

    async def close(self) -> None:
        pass


def stream(connector: Connector) -> OrderStream:
    signer = Signer("k", "s", "api.hbdm.com")
    return OrderStream("wss://api.hbdm.com/ws/v5/notification", signer,
                       connector, LoopClock(), lambda: 1.7e9,  # type: ignore[arg-type]
                       backoff=0.01, backoff_max=0.04)


def order(oid: str, state: str, **extra: Any) -> dict[str, Any]:
    return {"op": "notify", "topic": "orders", "contract_code": "BTC-USDT", "ts": 1,
            "data": {"order_id": oid, "client_order_id": f"c{oid}", "state": state,
                     "contract_code": "BTC-USDT", **extra}}


async def test_it_backs_off_connects_authenticates_and_subscribes() -> None:
    connector = Connector(failures=3)
    s = stream(connector)
    try:
        assert await s.ensure("BTC-USDT", WAIT)
        gaps = [b - a for a, b in zip(connector.attempts, connector.attempts[1:], strict=False)]
        assert len(gaps) == 3 and gaps[-1] > gaps[0]  # the backoff grew
        sent = connector.conns[0].sent
        assert [m["op"] for m in sent] == ["auth", "sub"]
        assert sent[1]["topic"] == "orders" and sent[1]["contract_code"] == "BTC-USDT"
        health = s.health()
        assert health.connected and health.subscribed == ("BTC-USDT",)
        assert health.reconnects == 0
    finally:
        await s.close()


async def test_pings_are_answered_pushes_delivered_and_a_drop_breaks_watches() -> None:
    connector = Connector()
    s = stream(connector)
    try:
        assert await s.ensure("*", WAIT)
        conn = connector.conns[0]
        watch = s.watch()
        assert watch.intact("BTC-USDT")
        conn.push({"op": "ping", "ts": 99})
        conn.push(order("1", "new"))
        conn.push(order("1", "canceled"))
        conn.push(order("1", "new"))  # late and stale: a final state is kept
        await watch.wait_final("BTC-USDT", "order_id", ["1"], WAIT)
        assert watch.state("order_id", "1") is OrderState.CANCELLED
        assert watch.state("client_order_id", "c1") is OrderState.CANCELLED
        await asyncio.sleep(0.01)
        assert {"op": "pong", "ts": 99} in conn.sent
        assert watch.state("order_id", "1") is OrderState.CANCELLED
        conn.push(None)  # the connection ends
        await watch.wait_final("BTC-USDT", "order_id", ["2"], WAIT)  # returns on the break
        assert watch.broken and not watch.intact("BTC-USDT")
        assert await s.ensure("*", WAIT)
        assert s.health().reconnects == 1 and len(connector.conns) == 2
        assert [m["op"] for m in connector.conns[1].sent] == ["auth", "sub"]  # resubscribed
        assert s.watch().intact("ETH-USDT")  # "*" covers every contract
        watch.close()
    finally:
        await s.close()


async def test_order_updates_of_a_contract_only() -> None:
    connector = Connector()
    s = stream(connector)
    updates = s.updates("BTC-USDT")
    try:
        first = asyncio.ensure_future(anext(updates))
        await s.ensure("BTC-USDT", WAIT)
        conn = connector.conns[0]
        conn.push({**order("1", "new"), "contract_code": "ETH-USDT",
                   "data": {"order_id": "1", "state": "new", "contract_code": "ETH-USDT"}})
        conn.push(order("2", "filled", volume="1", trade_volume="1"))
        update = await asyncio.wait_for(first, WAIT)
        assert isinstance(update, OrderUpdate) and update.order_id == "2"
        assert update.state is OrderState.FILLED and update.complete
    finally:
        await updates.aclose()
        await s.close()


async def test_a_refused_key_stops_waiting_at_once(caplog: pytest.LogCaptureFixture) -> None:
    connector = Connector()
    s = stream(connector)

    def refuse(message: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"op": "auth", "err-code": 2003, "err-msg": "Authentication failed."}]

    async def connect(url: str) -> Conn:
        return Conn(refuse)

    connector.connect = connect  # type: ignore[method-assign]
    try:
        with caplog.at_level(logging.ERROR, "htx_cancel"):
            assert not await s.ensure("*", WAIT)
        assert s.health().auth_error == "2003: Authentication failed."
    finally:
        await s.close()


def test_a_watch_starts_broken_without_a_connection() -> None:
    s = stream(Connector())
    assert Watch(s).broken


def test_ws_url_follows_the_base_url() -> None:
    assert ws_url("https://api.hbdm.com", "/ws/v5/notification") == (
        "wss://api.hbdm.com/ws/v5/notification")
    assert ws_url("http://127.0.0.1:8080/", "/linear-swap-trade") == (
        "ws://127.0.0.1:8080/linear-swap-trade")
    with pytest.raises(ValueError):
        ws_url("ftp://x", "/a")


# -- the cancellation-ratio guard ----------------------------------------------------------------


def test_the_ratio_counts_quick_cancels_in_the_rolling_window() -> None:
    ratio = CancelRatio()
    ratio.placed(["1", "2", "3", "4"], 0.0)
    ratio.cancelled(["1", "2"], 1.0)
    ratio.cancelled(["3"], 10.0)  # too late to count
    stats = ratio.stats(10.0)
    assert (stats.placed, stats.quick_cancels, stats.ratio) == (4, 2, 0.5)
    ratio.filled(["2"])
    assert ratio.stats(10.0).quick_cancels == 1
    assert ratio.stats(601.0).placed == 0 and ratio.stats(601.0).ratio == 0.0


def test_the_ratio_warns_near_the_line_and_never_blocks(caplog: pytest.LogCaptureFixture) -> None:
    ratio = CancelRatio()
    ids = [str(i) for i in range(BAN_ORDERS)]
    ratio.placed(ids, 0.0)
    with caplog.at_level(logging.WARNING, "htx_cancel"):
        ratio.cancelled(ids[:2900], 0.5)
        assert not caplog.records  # 96.7%: not near yet
        ratio.cancelled(ids[2900:], 0.6)
    stats = ratio.stats(1.0)
    assert stats.near and stats.over and stats.ratio == 1.0
    assert len(caplog.records) == 1 and "bans placements" in caplog.text
    ratio.cancelled([], 1.0)
    assert len(caplog.records) == 1  # once a minute at most


@pytest.mark.parametrize(("path", "answer", "ids"), [
    ("/v5/trade/order", {"code": 200, "data": {"order_id": "5", "client_order_id": "5"}},
     ["5"]),
    ("/v5/trade/batch_orders", {"code": 200, "data": [
        {"order_id": "6", "code": 200}, {"order_id": None, "code": 1047}]}, ["6"]),
    ("/linear-swap-api/v1/swap_order", {"status": "ok", "data": {"order_id": 7,
                                                                  "order_id_str": "7"}}, ["7"]),
    ("/linear-swap-api/v1/swap_batchorder", {"status": "ok", "data": {"success": [
        {"order_id_str": "8"}], "errors": []}}, ["8"]),
    ("/v5/trade/order/opens", {"code": 200, "data": [{"order_id": "9"}]}, []),
    ("/v5/trade/order", "not a dict", []),
])
def test_placed_ids(path: str, answer: Any, ids: list[str]) -> None:
    assert placed_ids(path, answer) == ids


async def test_metrics_read_the_client_s_stats() -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from htx_cancel import CancelClient, Credentials
    from htx_cancel.metrics import Metrics

    registry = CollectorRegistry()
    metrics = Metrics(registry)
    async with CancelClient(Credentials("k", "s"), rate_limits=None) as client:
        metrics.watch_client(client, "uid-1")
        client._ratio.placed(["1", "2"], client._clock.now())
        text = generate_latest(registry).decode()
    assert 'htx_cancel_cancel_ratio_placed{account="uid-1"} 2.0' in text
    assert 'htx_cancel_cancel_ratio{account="uid-1"} 0.0' in text
    assert "htx_cancel_stream_connected{" not in text  # no stream opened


def test_trade_socket_answers_read_as_rest_answers() -> None:
    from htx_cancel._transports._trade_ws import _path_of, _rate_limit, _rekey

    body = {"code": 200, "cid": "4", "data": [{"orderId": "1", "clientOrderId": "2",
                                               "code": 200}],
            "rate_limit": {"limit": 24, "interval": 3000, "remaining": 20, "reset": 1500}}
    assert _rekey(body) == {"code": 200, "data": [{"order_id": "1", "client_order_id": "2",
                                                   "code": 200}]}
    rl = _rate_limit(body["rate_limit"])
    assert rl is not None and (rl.limit, rl.interval_ms, rl.remaining) == (24, 3000, 20)
    assert _rate_limit({"limit": "x"}) is None and _rate_limit(None) is None
    assert _rekey({"code": 200, "data": {"orderId": "1"}}) == {"code": 200,
                                                               "data": {"order_id": "1"}}
    assert _path_of("https://h:1/v5/trade/cancel_order?a=b") == "/v5/trade/cancel_order"
    assert _path_of("https://h") == "/"
