"""v5 placements: one order, a batch (a bare array), algo orders, position mode, client ids."""

from __future__ import annotations

import pytest

from htx_cancel.testing import FakeExchange

ORDER = "/v5/trade/order"
BATCH = "/v5/trade/batch_orders"
ALGO = "/v5/algo/order"
LIMIT = {"contract_code": "BTC-USDT", "margin_mode": "cross", "side": "buy", "type": "limit",
         "volume": "2", "price": "30000"}


async def test_place_order(v5, fake_exchange: FakeExchange) -> None:
    reply = await v5.post(ORDER, {**LIMIT, "client_order_id": "7", "time_in_force": "IOC",
                                  "reduce_only": True, "tp_trigger_price": "35000"})
    assert reply.code == 200
    oid = reply.data["order_id"]
    assert reply.data == {"order_id": oid, "client_order_id": "7"}
    assert oid.isdigit() and 2**53 < int(oid) < 2**63
    order = fake_exchange.order(oid)
    assert (order.margin, order.direction, order.position_side, order.volume,
            order.price) == ("cross", "buy", "both", 2, 30000)
    assert fake_exchange.client_id_of(oid) == "7" and order.reduce_only
    assert fake_exchange.v5_state_of(oid) == "new" and fake_exchange.status_of(oid) == 3
    assert fake_exchange.requests[-1].placed == (oid,)
    info = await v5.get(ORDER, {"order_id": oid})
    assert (info.data["type"], info.data["time_in_force"], info.data["tp_trigger_price"],
            info.data["tp_type"]) == ("limit", "ioc", "35000", "market")
    plain = await v5.post(ORDER, {**LIMIT, "type": "market", "price": None})
    assert plain.data["client_order_id"] == plain.data["order_id"]   # as HTX's examples show


async def test_placed_order_ids_grow(v5) -> None:
    ids = [(await v5.post(ORDER, LIMIT)).data["order_id"] for _ in range(3)]
    assert [int(i) for i in ids] == sorted(int(i) for i in ids) and len(set(ids)) == 3


@pytest.mark.parametrize("change, code", [
    ({"contract_code": None}, 1066),
    ({"contract_code": "NOPE-USDT"}, 1014),
    ({"margin_mode": None}, 1066),
    ({"margin_mode": "portfolio"}, 1067),
    ({"side": "long"}, 1067),
    ({"type": "stop"}, 1067),
    ({"type": None}, 1066),
    ({"volume": "0"}, 1040),
    ({"volume": None}, 1066),
    ({"price": None}, 1066),                       # a limit order needs a price ...
    ({"price": "-1"}, 1067),
    ({"position_side": "long"}, 1067),             # one-way mode takes only "both"
    ({"client_order_id": "abc"}, 1065),
    ({"client_order_id": str(2**63)}, 1065),
    ({"time_in_force": "day"}, 1067),
    ({"reduce_only": "maybe"}, 1067),
    ({"price_match": "best"}, 1067),
])  # fmt: skip
async def test_place_order_checks(v5, fake_exchange: FakeExchange, change, code) -> None:
    body = {k: v for k, v in {**LIMIT, **change}.items() if v is not None}
    reply = await v5.post(ORDER, body)
    assert reply.code == code, reply.json
    assert fake_exchange.open_ids() == set()


async def test_price_match_or_market_needs_no_price(v5) -> None:
    body = {k: v for k, v in LIMIT.items() if k != "price"}
    assert (await v5.post(ORDER, {**body, "price_match": "optimal_5"})).code == 200
    assert (await v5.post(ORDER, {**body, "type": "market"})).code == 200


async def test_hedge_mode_needs_long_or_short(v5, fake_exchange: FakeExchange) -> None:
    assert (await v5.get("/v5/position/mode")).data == {"position_mode": "single_side"}
    switched = await v5.post("/v5/position/mode", {"position_mode": "dual_side"})
    assert switched.data == {"position_mode": "dual_side"}
    assert (await v5.post(ORDER, LIMIT)).code == 1066
    assert (await v5.post(ORDER, {**LIMIT, "position_side": "both"})).code == 1067
    reply = await v5.post(ORDER, {**LIMIT, "side": "sell", "position_side": "long"})
    order = fake_exchange.order(reply.data["order_id"])
    assert (order.position_side, order.offset) == ("long", "close")   # v1 sees a close
    assert (await v5.post("/v5/position/mode", {"position_mode": "x"})).code == 1067


async def test_client_ids_free_up_once_finished(v5, fake_exchange: FakeExchange) -> None:
    first = (await v5.post(ORDER, {**LIMIT, "client_order_id": 9})).data["order_id"]
    assert (await v5.post(ORDER, {**LIMIT, "client_order_id": "9"})).code == 1050
    fake_exchange.fill(first)
    again = await v5.post(ORDER, {**LIMIT, "client_order_id": "9"})
    assert again.code == 200 and again.data["order_id"] != first
    assert fake_exchange.client_id_of(again.data["order_id"]) == "9"
    found = await v5.get(ORDER, {"client_order_id": "9"})
    assert found.data["order_id"] == again.data["order_id"]


async def test_batch_orders(v5, fake_exchange: FakeExchange) -> None:
    orders = [{**LIMIT, "client_order_id": "1"}, {**LIMIT, "side": "up"},
              {**LIMIT, "client_order_id": "1"}, "junk", LIMIT]
    reply = await v5.post(BATCH, orders)
    assert reply.code == 200
    codes = [(i["code"], bool(i["order_id"])) for i in reply.data]
    assert codes == [(200, True), (1067, False), (1050, False), (1067, False), (200, True)]
    assert reply.data[0]["client_order_id"] == "1" and reply.data[0]["message"] == "成功"
    assert reply.data[2]["client_order_id"] == "1"
    placed = fake_exchange.requests[-1].placed
    assert len(placed) == 2 and fake_exchange.open_ids() == set(placed)


@pytest.mark.parametrize("body, code", [
    ({"orders_data": [LIMIT]}, 1067),   # v1's shape
    ([], 1066),
    ([LIMIT] * 21, 1052),
])  # fmt: skip
async def test_batch_orders_refuses(v5, fake_exchange: FakeExchange, body, code) -> None:
    assert (await v5.post(BATCH, body)).code == code
    assert fake_exchange.open_ids() == set()


ALGO_BASE = {"contract_code": "BTC-USDT", "margin_mode": "cross", "side": "sell"}


@pytest.mark.parametrize("fields, kind", [
    ({"type": "trigger", "trigger_price": "29000", "volume": "1", "price": "28900"}, "trigger"),
    ({"type": "tp", "tp_trigger_price": "31000"}, "tpsl"),
    ({"algo_type": "sl", "sl_trigger_price": "29000", "volume": 1}, "tpsl"),
    ({"type": "tpsl", "tp_trigger_price": "31000", "sl_trigger_price": "29000"}, "tpsl"),
    ({"type": "trailing_stop", "callback_rate": "0.01", "volume": "1",
      "active_price": "31000"}, "track"),
])  # fmt: skip
async def test_algo_orders(v5, fake_exchange: FakeExchange, fields, kind) -> None:
    reply = await v5.post(ALGO, {**ALGO_BASE, **fields, "algo_client_order_id": "55"})
    assert reply.code == 200, reply.json
    algo_id = reply.data["algo_id"]
    assert reply.data == {"algo_id": algo_id, "algo_client_order_id": "55"}
    assert fake_exchange.order(algo_id).kind == kind
    algo_type = fields.get("type") or fields["algo_type"]
    info = await v5.get(ALGO, {"type": algo_type, "algo_id": algo_id})
    assert info.data["state"] == "active" and info.data["type"] == algo_type
    for name, value in fields.items():
        if name.endswith(("price", "rate")):
            assert info.data[name] == value
    assert (await v5.post(ALGO, {**ALGO_BASE, **fields,
                                 "algo_client_order_id": "55"})).code == 1050


@pytest.mark.parametrize("fields, code", [
    ({}, 1066),
    ({"type": "stop"}, 1067),
    ({"type": "trigger", "volume": "1"}, 1066),
    ({"type": "trigger", "trigger_price": "1"}, 1066),
    ({"type": "tpsl", "tp_trigger_price": "1"}, 1066),
    ({"type": "trailing_stop", "volume": "1", "callback_rate": "2"}, 1067),
    ({"type": "tp", "tp_trigger_price": "1", "algo_client_order_id": "x"}, 1065),
])  # fmt: skip
async def test_algo_order_checks(v5, fields, code) -> None:
    assert (await v5.post(ALGO, {**ALGO_BASE, **fields})).code == code
