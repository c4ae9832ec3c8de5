"""v5 reads: order info, open orders and history (paged by an id cursor), algo reads, lag."""

from __future__ import annotations

import asyncio
import time

import pytest

from htx_cancel.testing import FakeClock, FakeExchange

INFO = "/v5/trade/order"
OPENS = "/v5/trade/order/opens"
HISTORY = "/v5/trade/order/history"
BTC = {"contract_code": "BTC-USDT"}
FIELDS = {"id", "order_id", "client_order_id", "contract_code", "contract_type", "side",
          "position_side", "type", "price_match", "price", "volume", "lever_rate", "state",
          "order_source", "reduce_only", "time_in_force", "trade_avg_price", "trade_volume",
          "trade_turnover", "fee_currency", "fee", "price_protect", "profit", "margin_mode",
          "cancel_reason", "created_time", "updated_time", "self_match_prevent"}


async def test_order_info_fields_and_states(v5, fake_exchange: FakeExchange) -> None:
    fake_exchange.add_orders("BTC-USDT", "order", "isolated", ["1000000000000000001"],
                             client_order_ids=["42"], direction="sell", offset="open",
                             volume=4, price=100)
    oid = "1000000000000000001"
    info = await v5.get(INFO, {"order_id": oid})
    assert info.code == 200 and set(info.data) >= FIELDS
    assert {k: info.data[k] for k in ("order_id", "client_order_id", "side", "position_side",
                                      "type", "state", "volume", "price", "trade_volume",
                                      "margin_mode", "cancel_reason")} == {
        "order_id": oid, "client_order_id": "42", "side": "sell", "position_side": "short",
        "type": "limit", "state": "new", "volume": "4", "price": "100", "trade_volume": "0",
        "margin_mode": "isolated", "cancel_reason": None}
    fake_exchange.fill(oid, volume=1.5)
    info = await v5.get(INFO, {"client_order_id": "42", **BTC})
    assert (info.data["state"], info.data["trade_volume"]) == ("partially_filled", "1.5")
    await v5.post("/v5/trade/cancel_order", {**BTC, "order_id": oid})
    info = await v5.get(INFO, {"order_id": oid, "margin_mode": "isolated"})
    assert info.data["state"] == "partially_canceled"
    assert info.data["cancel_reason"] == "Limit order cancelation by the client"
    # the client id died with the order: only the order id finds it now
    assert (await v5.get(INFO, {"client_order_id": "42"})).code == 1061
    assert fake_exchange.requests[-1].method == "GET"
    assert fake_exchange.max_in_window("read") == 4 and fake_exchange.max_in_window() == 1


async def test_order_info_lookups(v5, fake_exchange: FakeExchange) -> None:
    a, b = fake_exchange.seed("BTC-USDT", n=2, with_client_ids=True)
    both = {"order_id": a, "client_order_id": fake_exchange.client_id_of(b)}
    assert (await v5.get(INFO, both)).data["order_id"] == a          # order_id wins
    assert (await v5.get(INFO, {"order_id": a, "contract_code": "ETH-USDT"})).code == 1061
    assert (await v5.get(INFO, {"order_id": a, "margin_mode": "cross"})).code == 1061
    assert (await v5.get(INFO, {"order_id": "5"})).code == 1061
    assert (await v5.get(INFO, {})).code == 1066
    assert (await v5.get(INFO, {"order_id": f"{a},{b}"})).code == 1067
    fake_exchange.fill(b)
    assert (await v5.get(INFO, {"order_id": b})).data["state"] == "filled"


async def test_listings_page_by_id_cursor(v5, fake_exchange: FakeExchange) -> None:
    ids = fake_exchange.seed("BTC-USDT", n=25)
    fake_exchange.seed("ETH-USDT", n=3)
    first = await v5.get(OPENS, BTC)
    assert [o["order_id"] for o in first.data] == ids[:10]           # default limit 10
    seen, cursor = [], "0"
    while True:
        page = await v5.get(OPENS, {**BTC, "from": cursor, "limit": 7, "direct": "next"})
        if not page.data:
            break
        seen += [o["order_id"] for o in page.data]
        cursor = page.data[-1]["order_id"]
    assert seen == ids
    back = await v5.get(OPENS, {**BTC, "from": ids[10], "direct": "prev", "limit": 3})
    assert [o["order_id"] for o in back.data] == ids[7:10]
    last = await v5.get(OPENS, {**BTC, "direct": "prev", "limit": 2})
    assert [o["order_id"] for o in last.data] == ids[-2:]
    assert len((await v5.get(OPENS, {"limit": 100})).data) == 28
    for bad in ({"limit": 101}, {"limit": 0}, {"from": "x"}, {"direct": "up"}):
        assert (await v5.get(OPENS, bad)).code == 1067
    only = await v5.get(OPENS, {"order_id": ids[3]})
    assert [o["order_id"] for o in only.data] == [ids[3]]


async def test_opens_and_history_after_cancels(v5, fake_exchange: FakeExchange) -> None:
    live, gone, part, filled = fake_exchange.seed("BTC-USDT", "order", "cross", 4)
    fake_exchange.fill(part, volume=0.5)
    fake_exchange.fill(filled)
    await v5.post("/v5/trade/cancel_batch_orders", {**BTC, "order_id": [gone, part]})
    opens = await v5.get(OPENS, BTC)
    assert [o["order_id"] for o in opens.data] == [live]
    history = await v5.get(HISTORY, {**BTC, "margin_mode": "cross"})
    assert {o["order_id"]: o["state"] for o in history.data} == {
        gone: "canceled", part: "partially_canceled", filled: "filled"}
    for name in ("state", "states"):
        chosen = await v5.get(HISTORY, {**BTC, "margin_mode": "cross",
                                        name: "canceled,partially_canceled"})
        assert {o["order_id"] for o in chosen.data} == {gone, part}
    assert (await v5.get(HISTORY, {**BTC, "margin_mode": "isolated"})).data == []
    assert (await v5.get(HISTORY, BTC)).code == 1066
    assert (await v5.get(HISTORY, {"margin_mode": "cross"})).code == 1066
    assert (await v5.get(HISTORY, {**BTC, "margin_mode": "cross", "state": "new"})).code == 1067
    future = {"start_time": "9999999999999", "end_time": "9999999999999"}
    assert (await v5.get(HISTORY, {**BTC, "margin_mode": "cross", **future})).data == []
    assert (await v5.get(HISTORY, {**BTC, "margin_mode": "cross", "start_time": "2",
                                   "end_time": "1"})).code == 1067


async def test_cancel_lag_shows_new_for_a_while(make_v5) -> None:
    clock = FakeClock(wall=time.time())
    async with FakeExchange(clock=clock, cancel_lag=0.05) as ex:
        v5 = make_v5(ex)
        (oid,) = ex.seed("BTC-USDT", with_client_ids=True)
        cid = ex.client_id_of(oid)
        reply = await v5.post("/v5/trade/cancel_order", {**BTC, "order_id": oid})
        assert reply.code == 200
        assert ex.order_state(oid) == "cancelled"              # the engine knows
        assert (await v5.get(INFO, {"order_id": oid})).data["state"] == "new"
        assert (await v5.get(INFO, {"client_order_id": cid})).data["state"] == "new"
        assert [o["order_id"] for o in (await v5.get(OPENS, BTC)).data] == [oid]
        assert ex.v5_state_of(oid) == "new"
        again = await v5.post("/v5/trade/cancel_order", {**BTC, "order_id": oid})
        assert again.code == 1071                              # the engine answers
        await clock.advance(0.05)
        assert (await v5.get(INFO, {"order_id": oid})).data["state"] == "canceled"
        assert (await v5.get(INFO, {"client_order_id": cid})).code == 1061
        assert (await v5.get(OPENS, BTC)).data == []


async def test_fills_around_cancels_show_on_v5(make_v5) -> None:
    async with FakeExchange(seed=3, fill_before_cancel=0.5, fill_during_cancel=0.5) as ex:
        v5 = make_v5(ex)
        ids = ex.seed("BTC-USDT", n=10)
        reply = await v5.post("/v5/trade/cancel_batch_orders", {**BTC, "order_id": ids})
        codes = reply.items()
        assert set(codes.values()) == {200, 1063}                 # both draws happened
        states = {i: (await v5.get(INFO, {"order_id": i})).data["state"] for i in ids}
        for oid, code in codes.items():
            assert states[oid] in (("canceled", "filled") if code == 200 else ("filled",))
        assert "filled" in {states[i] for i, c in codes.items() if c == 200}
        assert set(ex.cancelled_ids()) == {i for i, s in states.items() if s == "canceled"}


async def test_cancelling_phase(make_v5) -> None:
    clock = FakeClock(wall=time.time())
    async with FakeExchange(clock=clock, cancelling_seconds=1.0) as ex:
        v5 = make_v5(ex)
        (oid,) = ex.seed("BTC-USDT")
        assert (await v5.post("/v5/trade/cancel_batch_orders",
                              {**BTC, "order_id": [oid]})).items() == {oid: 200}
        assert (await v5.get(INFO, {"order_id": oid})).data["state"] == "new"
        again = await v5.post("/v5/trade/cancel_batch_orders", {**BTC, "order_id": [oid]})
        assert again.items() == {oid: 1062}
        await clock.advance(1.0)
        assert (await v5.get(INFO, {"order_id": oid})).data["state"] == "canceled"


ALGO_INFO = "/v5/algo/order"


async def test_algo_reads(v5, fake_exchange: FakeExchange) -> None:
    trig = fake_exchange.seed("BTC-USDT", "trigger", n=3, with_client_ids=True)
    tp = fake_exchange.seed("BTC-USDT", "tp")[0]
    acid = fake_exchange.order(trig[0]).algo_client_order_id
    info = await v5.get(ALGO_INFO, {"type": "trigger", "algo_client_order_id": acid})
    assert info.data["algo_id"] == trig[0] and info.data["state"] == "active"
    assert (await v5.get(ALGO_INFO, {"type": "tp", "algo_id": trig[0]})).code == 1061
    assert (await v5.get(ALGO_INFO, {"algo_id": trig[0]})).code == 1066
    assert (await v5.get(ALGO_INFO, {"type": "tp"})).code == 1066
    opens = await v5.get("/v5/algo/order/opens", {"type": "trigger", "limit": 2})
    assert [o["algo_id"] for o in opens.data] == trig[:2]
    assert [o["algo_id"] for o in (await v5.get("/v5/algo/order/opens",
                                                {"algo_type": "tp"})).data] == [tp]
    assert (await v5.get("/v5/algo/order/opens", {})).code == 1066
    await v5.post("/v5/algo/cancel_orders", {**BTC, "algo_id": [trig[1]]})
    fake_exchange.trigger_algo(trig[2])
    history = await v5.get("/v5/algo/order/history", {"type": "trigger"})
    assert {o["algo_id"]: o["state"] for o in history.data} == {trig[1]: "canceled",
                                                                 trig[2]: "effective"}
    chosen = await v5.get("/v5/algo/order/history", {"type": "trigger", "states": "effective"})
    assert [o["algo_id"] for o in chosen.data] == [trig[2]]
    assert (await v5.get(ALGO_INFO, {"type": "trigger",
                                     "algo_client_order_id": acid})).code == 200
    await v5.post("/v5/algo/cancel_orders", {**BTC, "algo_id": trig[0]})
    assert (await v5.get(ALGO_INFO, {"type": "trigger",
                                     "algo_client_order_id": acid})).code == 1061


@pytest.mark.parametrize("path, method, body, data", [
    ("/v5/account/balance", "GET", None, None),
    ("/v5/account/asset_mode", "GET", None, {"assets_mode": 1}),
    ("/v5/account/asset_mode", "POST", {"assets_mode": 0}, {"assets_mode": 0}),
    ("/v5/account/bills", "GET", None, []),
    ("/v5/trade/position/opens", "GET", None, []),
    ("/v5/position/risk/limit", "GET", None, []),
    ("/v5/trade/order/details", "GET", None, []),
    ("/v5/position/lever", "GET", None, []),
    ("/v5/position/lever", "POST", {**BTC, "margin_mode": "cross", "lever_rate": 10},
     {**BTC, "margin_mode": "cross", "lever_rate": 10, "position_side": None}),
])  # fmt: skip
async def test_other_paths(v5, path, method, body, data) -> None:
    reply = await (v5.get(path) if method == "GET" else v5.post(path, body))
    assert reply.code == 200, reply.json
    if data is not None:
        assert reply.data == data
    else:
        assert reply.data["equity"] == "0" and reply.data["details"] == []


async def test_listings_keep_up_with_many_orders(v5, fake_exchange: FakeExchange) -> None:
    ids = fake_exchange.seed("BTC-USDT", n=300)
    pages = await asyncio.gather(*(
        v5.get(OPENS, {"from": ids[i * 100 - 1] if i else 0, "limit": 100}) for i in range(3)))
    assert [o["order_id"] for p in pages for o in p.data] == ids
