"""The v5 WebSockets with aiohttp's real client: /ws/v5/notification and /linear-swap-trade."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from htx_cancel._signing import canonical_query, format_timestamp, pre_sign_string, sign
from htx_cancel.testing import FakeClock, FakeExchange

NOTIFY = "/ws/v5/notification"
TRADE = "/linear-swap-trade"
BTC = {"contract_code": "BTC-USDT"}
WAIT = 5.0  # a guard against a hang, never a timing assertion


def auth_op(ex: FakeExchange, path: str, *, secret: str = "test-secret",
            stamp: str | None = None, signed_path: str | None = None) -> dict[str, str]:
    """An ``auth`` op signed over ``GET\\n<host>\\n<path>\\n<sorted params>``."""
    params = {"AccessKeyId": "test-access", "SignatureMethod": "HmacSHA256",
              "SignatureVersion": "2", "Timestamp": stamp or format_timestamp(time.time())}
    payload = pre_sign_string("GET", f"127.0.0.1:{ex.port}", signed_path or path,
                              canonical_query(params))
    return {"op": "auth", "type": "api", **params, "Signature": sign(secret, payload)}


async def frames(ws: aiohttp.ClientWebSocketResponse) -> AsyncIterator[dict[str, Any]]:
    """Every message the server sends (text or gzip binary), until the connection ends."""
    while True:
        msg = await asyncio.wait_for(ws.receive(), WAIT)
        if msg.type is aiohttp.WSMsgType.TEXT:
            yield json.loads(msg.data)
        elif msg.type is aiohttp.WSMsgType.BINARY:
            yield json.loads(gzip.decompress(msg.data))
        else:
            return


async def next_where(ws: aiohttp.ClientWebSocketResponse, **match: Any) -> dict[str, Any]:
    """The next message with these fields (others, pings included, are skipped)."""
    async for message in frames(ws):
        if all(message.get(k) == v for k, v in match.items()):
            return message
    raise AssertionError(f"connection ended before a message with {match}")


async def connect(session: aiohttp.ClientSession, ex: FakeExchange,
                  path: str = NOTIFY) -> aiohttp.ClientWebSocketResponse:
    """An authenticated connection."""
    ws = await session.ws_connect(ex.ws_url(path))
    await ws.send_json(auth_op(ex, path))
    ack = await next_where(ws, op="auth")
    assert ack["err-code"] == 0, ack
    return ws


async def subscribe(ws: aiohttp.ClientWebSocketResponse, code: str = "BTC-USDT",
                    topic: str = "orders") -> dict[str, Any]:
    await ws.send_json({"op": "sub", "cid": "s1", "topic": topic, "contract_code": code})
    return await next_where(ws, op="sub")


async def test_auth_ack_and_failures(session, fake_exchange: FakeExchange) -> None:
    ex = fake_exchange
    async with session.ws_connect(ex.ws_url()) as ws:
        await ws.send_json({"op": "sub", "topic": "orders", "contract_code": "*"})
        assert (await next_where(ws, op="sub"))["err-code"] == 2002
        await ws.send_json(auth_op(ex, NOTIFY, secret="wrong"))
        assert (await next_where(ws, op="auth"))["err-code"] == 2003
        await ws.send_json(auth_op(ex, NOTIFY, signed_path=TRADE))   # another path's signature
        assert (await next_where(ws, op="auth"))["err-code"] == 2003
        await ws.send_json(auth_op(ex, NOTIFY, stamp="2020-01-01T00:00:00"))
        stale = await next_where(ws, op="auth")
        assert stale["err-code"] == 2003 and "time" in stale["err-msg"]
        await ws.send_json({**auth_op(ex, NOTIFY), "type": "user"})
        assert (await next_where(ws, op="auth"))["err-code"] == 2001
        await ws.send_json(auth_op(ex, NOTIFY))
        ack = await next_where(ws, op="auth")
        assert ack == {"op": "auth", "type": "api", "err-code": 0, "ts": ack["ts"],
                       "data": {"user-id": ex.uid}}
        await ws.send_json(auth_op(ex, NOTIFY))
        assert (await next_where(ws, op="auth"))["err-code"] == 2005
        await ws.send_str("not json")
        assert (await next_where(ws, op="error"))["err-code"] == 2040
        (stream,) = ex.streams
        assert stream.path == NOTIFY and stream.access_key == "test-access"
        assert stream.received[-1] is None


async def test_order_pushes_follow_every_change(session, v5, fake_exchange: FakeExchange) -> None:
    ex = fake_exchange
    ws = await connect(session, ex)
    ack = await subscribe(ws)
    assert ack == {"op": "sub", "cid": "s1", "topic": "orders", "contract_code": "BTC-USDT",
                   "err-code": 0, "ts": ack["ts"]}
    eth = ex.seed("ETH-USDT")[0]                                     # not subscribed
    placed = await v5.post("/v5/trade/order", {**BTC, "margin_mode": "cross", "side": "buy",
                                               "type": "limit", "volume": "2", "price": "10"})
    oid = placed.data["order_id"]
    push = await next_where(ws, op="notify")
    assert {k: push[k] for k in ("topic", "contract_code", "uid")} == {
        "topic": "orders", "contract_code": "BTC-USDT", "uid": ex.uid}
    assert push["data"]["order_id"] == oid and push["data"]["state"] == "new"
    assert isinstance(push["ts"], int)
    ex.fill(oid, volume=1)
    push = await next_where(ws, op="notify")
    assert (push["data"]["state"], push["data"]["trade_volume"]) == ("partially_filled", "1")
    await v5.post("/v5/trade/cancel_batch_orders", {**BTC, "order_id": [oid]})
    await v5.post("/v5/trade/cancel_order", {"contract_code": "ETH-USDT", "order_id": eth})
    push = await next_where(ws, op="notify")
    assert push["data"]["state"] == "partially_canceled"
    assert push["data"]["cancel_reason"] == "Limit order cancelation by the client"
    pushed = [m["data"]["order_id"] for m in ex.streams[0].sent if m.get("op") == "notify"]
    assert pushed == [oid, oid, oid]                               # nothing of ETH-USDT
    await ws.close()


async def test_star_and_unsub(session, fake_exchange: FakeExchange) -> None:
    ex = fake_exchange
    ws = await connect(session, ex)
    assert (await subscribe(ws, "*"))["err-code"] == 0
    (eth,) = ex.seed("ETH-USDT")
    assert (await next_where(ws, op="notify"))["data"]["order_id"] == eth
    assert (await subscribe(ws, "NOPE-USDT"))["err-code"] == 2011
    assert (await subscribe(ws, topic="candles"))["err-code"] == 2010
    await ws.send_json({"op": "sub", "cid": "x", "topic": "orders"})
    assert (await next_where(ws, op="sub", cid="x"))["err-code"] == 2040
    await ws.send_json({"op": "unsub", "cid": "u", "topic": "orders", "contract_code": "BTC-USDT"})
    assert (await next_where(ws, op="unsub"))["err-code"] == 2012     # only * was subscribed
    await ws.send_json({"op": "unsub", "cid": "u", "topic": "orders", "contract_code": "*"})
    assert (await next_where(ws, op="unsub"))["err-code"] == 0
    assert ex.streams[0].subscriptions == {"orders": set()}
    await ws.send_json({"op": "whatever", "cid": "w"})
    assert (await next_where(ws, cid="w"))["err-code"] == 2040
    await ws.close()


async def test_algo_orders_topic(session, v5, fake_exchange: FakeExchange) -> None:
    ws = await connect(session, fake_exchange)
    await subscribe(ws, "BTC-USDT", "algo_orders")
    await subscribe(ws, "BTC-USDT", "orders")
    (algo,) = fake_exchange.seed("BTC-USDT", "sl")
    push = await next_where(ws, op="notify")
    assert push["topic"] == "algo_orders" and push["data"]["algo_id"] == algo
    assert push["data"]["type"] == "sl" and push["data"]["state"] == "active"
    await v5.post("/v5/algo/cancel_orders", [{**BTC, "algo_id": algo}])
    assert (await next_where(ws, op="notify"))["data"]["state"] == "canceled"
    await ws.close()


def clocked(**kwargs: Any) -> tuple[FakeClock, FakeExchange]:
    clock = FakeClock(wall=time.time())
    return clock, FakeExchange(clock=clock, **kwargs)


async def synced(ws: aiohttp.ClientWebSocketResponse, message: dict[str, Any]) -> None:
    """Send a message, then wait until the exchange has read it (its next op's ack)."""
    await ws.send_json(message)
    await ws.send_json({"op": "sub", "cid": "sync", "topic": "orders", "contract_code": "*"})
    await next_where(ws, op="sub", cid="sync")


async def test_ping_pong_and_close_after_two_unanswered(session) -> None:
    clock, ex = clocked(ws_ping_interval=5.0)
    async with ex:
        ws = await connect(session, ex)
        await clock.advance(5.0)
        ping = await next_where(ws, op="ping")
        assert set(ping) == {"op", "ts"} and isinstance(ping["ts"], int)
        await synced(ws, {"op": "pong", "ts": ping["ts"]})
        assert ex.streams[0].unanswered == 0
        await clock.advance(5.0)
        await next_where(ws, op="ping")
        await synced(ws, {"op": "pong", "ts": 12345})   # not a ping's ts: it does not count
        assert ex.streams[0].unanswered == 1
        await clock.advance(5.0)
        await next_where(ws, op="ping")
        await clock.advance(5.0)                          # two unanswered: closed
        assert (await next_where(ws, op="close"))["ts"] > 0
        assert [m async for m in frames(ws)] == []
        assert ws.closed and ex.streams == []


async def test_unanswered_pings_close_the_connection(session) -> None:
    clock, ex = clocked(ws_ping_interval=1.0)
    async with ex:
        ws = await connect(session, ex)
        for _ in range(3):
            await clock.advance(1.0)
        seen = [m["op"] async for m in frames(ws)]
        assert seen == ["ping", "ping", "close"]
        assert ex.streams == []


async def test_pong_keeps_it_open(session) -> None:
    clock, ex = clocked(ws_ping_interval=1.0)
    async with ex:
        ws = await connect(session, ex)
        for _ in range(4):
            await clock.advance(1.0)
            ping = await next_where(ws, op="ping")
            await synced(ws, {"op": "pong", "ts": str(ping["ts"])})   # a string ts works too
        assert not ws.closed and len(ex.streams) == 1 and ex.streams[0].unanswered == 0
        await ws.close()


async def test_push_delay_and_cancel_lag(session, make_v5) -> None:
    clock, ex = clocked(ws_push_delay=1.0, cancel_lag=2.0)
    async with ex:
        v5 = make_v5(ex)
        ws = await connect(session, ex)
        await subscribe(ws, "*")
        (oid,) = ex.seed("BTC-USDT")
        stream = ex.streams[0]
        assert not any(m.get("op") == "notify" for m in stream.sent)
        await clock.advance(1.0)
        assert (await next_where(ws, op="notify"))["data"]["state"] == "new"
        await v5.post("/v5/trade/cancel_order", {**BTC, "order_id": oid})
        await clock.advance(2.9)                          # the lag plus the delay: not yet
        assert sum(m.get("op") == "notify" for m in stream.sent) == 1
        await clock.advance(0.1)
        push = await next_where(ws, op="notify")
        assert push["data"]["state"] == "canceled"
        lag_ended = int(push["data"]["updated_time"]) + 2000
        assert abs(push["ts"] - lag_ended) <= 1             # stamped when the lag ended
        await ws.close()


async def test_cancelling_phase_pushes_when_it_ends(session, make_v5) -> None:
    clock, ex = clocked(cancelling_seconds=3.0)
    async with ex:
        v5 = make_v5(ex)
        (oid,) = ex.seed("BTC-USDT")
        ws = await connect(session, ex)
        await subscribe(ws)
        await v5.post("/v5/trade/cancel_batch_orders", {**BTC, "order_id": [oid]})
        await clock.advance(3.0)                          # no request needed to end it
        assert (await next_where(ws, op="notify"))["data"]["state"] == "canceled"
        await ws.close()


async def test_gzip_frames(session) -> None:
    async with FakeExchange(ws_gzip=True) as ex:
        ws = await ex_connect_binary(session, ex)
        await ws.send_json({"op": "sub", "cid": "z", "topic": "orders", "contract_code": "*"})
        msg = await asyncio.wait_for(ws.receive(), WAIT)
        assert msg.type is aiohttp.WSMsgType.BINARY
        assert json.loads(gzip.decompress(msg.data))["err-code"] == 0
        await ws.close()


async def ex_connect_binary(session: aiohttp.ClientSession,
                            ex: FakeExchange) -> aiohttp.ClientWebSocketResponse:
    """Connect and authenticate with a gzip binary frame (the exchange reads both)."""
    ws = await session.ws_connect(ex.ws_url())
    await ws.send_bytes(gzip.compress(json.dumps(auth_op(ex, NOTIFY)).encode()))
    msg = await asyncio.wait_for(ws.receive(), WAIT)
    assert msg.type is aiohttp.WSMsgType.BINARY
    assert json.loads(gzip.decompress(msg.data))["err-code"] == 0
    return ws


async def test_drop_streams(session, fake_exchange: FakeExchange) -> None:
    ws = await connect(session, fake_exchange)
    other = await connect(session, fake_exchange, TRADE)
    assert fake_exchange.drop_streams() == 2
    assert [m async for m in frames(ws)] == [] and [m async for m in frames(other)] == []
    assert ws.close_code != 1000
    again = await connect(session, fake_exchange)            # a new one works
    assert len(fake_exchange.streams) == 1
    await again.close()


async def test_close_closes_streams(session) -> None:
    async with FakeExchange() as ex:
        ws = await connect(session, ex)
    closing = await asyncio.wait_for(ws.receive(), WAIT)
    assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 1001)   # going away


async def test_not_served_for_v1_only(session) -> None:
    async with FakeExchange(api="v1") as ex:
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(ex.ws_url())


# -- /linear-swap-trade ------------------------------------------------------------------------


async def op(ws: aiohttp.ClientWebSocketResponse, name: str, data: Any,
             cid: str) -> dict[str, Any]:
    await ws.send_json({"op": name, "cid": cid, "data": data})
    return await next_where(ws, cid=cid)


async def test_trade_channel_ops(session, fake_exchange: FakeExchange) -> None:
    ex = fake_exchange
    ws = await connect(session, ex, TRADE)
    a, b, c, d = ex.seed("BTC-USDT", n=4)
    batch = await op(ws, "cancel_batch_orders", {**BTC, "order_id": [a, b, "7"]}, "c1")
    assert batch["code"] == 200 and batch["message"] == "Success" and "op" not in batch
    codes = {i["order_id"] or i["client_order_id"]: i["code"] for i in batch["data"]}
    assert codes == {a: 200, b: 200, "7": 1061}
    array = await op(ws, "cancel_batch_orders", [{**BTC, "order_id": c}], "c2")
    assert [(i["order_id"], i["code"]) for i in array["data"]] == [(c, 200)]
    one = await op(ws, "cancel_order", {**BTC, "order_id": a}, "c3")
    assert one == {"code": 1071, "message": "Repeated withdraw.", "ts": one["ts"], "cid": "c3"}
    placed = await op(ws, "place_order", {**BTC, "margin_mode": "cross", "side": "sell",
                                          "type": "market", "volume": "1"}, "c4")
    new = placed["data"]["order_id"]
    everything = await op(ws, "cancel_all_orders", {}, "c5")
    assert sorted(i["order_id"] for i in everything["data"]) == sorted([d, new])
    assert ex.open_ids() == set()
    records = [r for r in ex.requests if r.method == "WS"]
    assert [r.endpoint for r in records] == ["cancel_batch_orders"] * 2 + [
        "cancel_order", "place_order", "cancel_all_orders"]
    assert set(records[0].cancelled) == {a, b} and records[0].path == TRADE
    assert records[2].err_code == 1071 and records[3].placed == (new,)
    await ws.close()


async def test_trade_answers_match_by_cid(session, fake_exchange: FakeExchange) -> None:
    ws = await connect(session, fake_exchange, TRADE)
    ids = fake_exchange.seed("BTC-USDT", n=3)
    for n, oid in enumerate(ids):
        await ws.send_json({"op": "cancel_order", "cid": f"k{n}", "data": {**BTC,
                                                                           "order_id": oid}})
    answers = {}
    async for message in frames(ws):
        if "cid" in message:
            answers[message["cid"]] = message["data"]["order_id"]
        if len(answers) == 3:
            break
    assert answers == {f"k{n}": oid for n, oid in enumerate(ids)}
    await ws.close()


async def test_trade_channel_refusals(session, fake_exchange: FakeExchange) -> None:
    ex = fake_exchange
    async with session.ws_connect(ex.ws_url(TRADE)) as ws:
        assert (await op(ws, "cancel_order", {**BTC, "order_id": "1"}, "n1"))["code"] == 2002
        await ws.send_json(auth_op(ex, TRADE, signed_path=NOTIFY))
        assert (await next_where(ws, op="auth"))["err-code"] == 2003
        await ws.send_json(auth_op(ex, TRADE))
        assert (await next_where(ws, op="auth"))["err-code"] == 0
        assert (await op(ws, "cancel", {**BTC, "order_id": "1"}, "n2"))["code"] == 2040
        assert (await op(ws, "cancel_batch_orders", {**BTC, "order_id": "1,2"}, "n3"))[
            "code"] == 1067
        too_many = [{**BTC, "order_id": str(i)} for i in range(11)]
        assert (await op(ws, "cancel_batch_orders", too_many, "n4"))["code"] == 1052
    assert [r.endpoint for r in ex.requests] == ["cancel_batch_orders"] * 2


async def test_trade_channel_shares_the_trade_pool(session, make_v5) -> None:
    async with FakeExchange(trade_limit=(2, 60.0)) as ex:
        v5 = make_v5(ex)
        ws = await connect(session, ex, TRADE)
        assert (await v5.post("/v5/trade/cancel_all_orders", {})).code == 200
        assert (await op(ws, "cancel_all_orders", {}, "p1"))["code"] == 200
        assert (await op(ws, "cancel_all_orders", {}, "p2"))["code"] == 1032
        assert (await v5.post("/v5/trade/cancel_all_orders", {})).code == 1032
        assert ex.rejected_1032 == 2 and ex.max_in_window() == 2
        await ws.close()


async def test_trade_channel_camel_keys_and_pushes(session) -> None:
    async with FakeExchange(ws_trade_keys="camel") as ex:
        notify = await connect(session, ex)
        await subscribe(notify, "*")
        trade = await connect(session, ex, TRADE)
        (oid,) = ex.seed("BTC-USDT")
        await next_where(notify, op="notify")                  # its placement
        batch = await op(trade, "cancel_batch_orders", {**BTC, "order_id": [oid]}, "m1")
        assert batch["data"] == [{"orderId": oid, "clientOrderId": oid, "code": 200,
                                  "message": "成功"}]
        push = await next_where(notify, op="notify")
        assert push["data"]["order_id"] == oid and push["data"]["state"] == "canceled"
        await notify.close()
        await trade.close()
    with pytest.raises(ValueError, match="ws_trade_keys"):
        FakeExchange(ws_trade_keys="kebab")  # type: ignore[arg-type]
