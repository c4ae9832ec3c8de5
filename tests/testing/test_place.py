"""Placement endpoints: single and batch orders, strategy orders, HTX's checks and codes."""

from __future__ import annotations

import pytest

from htx_cancel._catalog import CATALOG
from htx_cancel.testing import FakeExchange

ORDER = {
    "contract_code": "BTC-USDT",
    "volume": 2,
    "price": 30000.5,
    "direction": "buy",
    "offset": "open",
    "lever_rate": 5,
    "order_price_type": "limit",
}


@pytest.mark.parametrize("name", ["swap_order", "swap_cross_order"])
async def test_single_order_then_cancel(api, fake_exchange: FakeExchange, name: str) -> None:
    reply = await api.post(name, {**ORDER, "client_order_id": 77})
    assert reply.json["status"] == "ok"
    data = reply.json["data"]
    oid = data["order_id_str"]
    assert data == {"order_id": int(oid), "order_id_str": oid, "client_order_id": 77}
    assert oid.isdigit() and 18 <= len(oid) <= 19
    assert b'"order_id":' + oid.encode() in reply.raw  # a JSON number, never a float
    order = fake_exchange.order(oid)
    assert (order.margin, order.volume, order.price) == (CATALOG[name].margin, 2, 30000.5)
    assert fake_exchange.status_of(oid) == 3
    assert fake_exchange.requests[-1].placed == (oid,)
    cancel = "swap_cancel" if name == "swap_order" else "swap_cross_cancel"
    done = await api.post(cancel, {"contract_code": "BTC-USDT", "client_order_id": "77"})
    assert done.successes == ["77"]
    assert fake_exchange.status_of(oid) == 7


async def test_no_client_id_means_no_client_id_field(api) -> None:
    reply = await api.post("swap_order", ORDER)
    assert set(reply.json["data"]) == {"order_id", "order_id_str"}


async def test_cross_order_by_pair(api, fake_exchange: FakeExchange) -> None:
    body = {**ORDER, "pair": "BTC-USDT", "contract_type": "swap"}
    del body["contract_code"]
    reply = await api.post("swap_cross_order", body)
    assert fake_exchange.order(reply.json["data"]["order_id_str"]).contract_code == "BTC-USDT"
    assert (await api.post("swap_order", body)).err_code == 1014


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"contract_code": None}, 1014),
        ({"contract_code": "NOPE-USDT"}, 1014),
        ({"volume": None}, 1066),
        ({"volume": 0}, 1040),
        ({"volume": "x"}, 1040),
        ({"direction": None}, 1066),
        ({"direction": "up"}, 1035),
        ({"offset": None}, 1066),
        ({"offset": "sideways"}, 1036),
        ({"lever_rate": None}, 1066),
        ({"lever_rate": 0}, 1037),
        ({"lever_rate": "abc"}, 1037),
        ({"order_price_type": None}, 1066),
        ({"order_price_type": "cheap"}, 1034),
        ({"price": None}, 1066),
        ({"price": -1}, 1067),
        ({"client_order_id": "abc"}, 1065),
        ({"client_order_id": 2**63}, 1065),
    ],
)
async def test_required_fields_and_codes(
    api, fake_exchange: FakeExchange, change: dict[str, object], code: int
) -> None:
    body = {k: v for k, v in {**ORDER, **change}.items() if v is not None}
    reply = await api.post("swap_order", body)
    assert reply.json["status"] == "error"
    assert reply.err_code == code
    assert fake_exchange.book.orders == {}


async def test_market_like_orders_need_no_price(api) -> None:
    body = {**ORDER, "order_price_type": "optimal_5"}
    del body["price"]
    assert (await api.post("swap_order", body)).json["status"] == "ok"


async def test_duplicate_client_order_id_is_1050(api, fake_exchange: FakeExchange) -> None:
    assert (await api.post("swap_order", {**ORDER, "client_order_id": "5"})).err_code is None
    again = await api.post("swap_order", {**ORDER, "client_order_id": "5"})
    assert again.err_code == 1050
    assert len(fake_exchange.book.orders) == 1


@pytest.mark.parametrize("name", ["swap_batchorder", "swap_cross_batchorder"])
async def test_batch_order(api, fake_exchange: FakeExchange, name: str) -> None:
    orders = [
        {**ORDER, "client_order_id": 1},
        {**ORDER, "direction": "nope"},
        {**ORDER, "client_order_id": 1},
        ORDER,
    ]
    reply = await api.post(name, {"orders_data": orders})
    data = reply.json["data"]
    assert [e["index"] for e in data["errors"]] == [2, 3]
    assert [e["err_code"] for e in data["errors"]] == [1035, 1050]
    assert [s["index"] for s in data["success"]] == [1, 4]
    first, fourth = data["success"]
    assert first["client_order_id"] == 1 and "client_order_id" not in fourth
    assert first["order_id"] == int(first["order_id_str"])
    assert fake_exchange.requests[-1].placed == (first["order_id_str"], fourth["order_id_str"])
    assert fake_exchange.open_ids() == {first["order_id_str"], fourth["order_id_str"]}


async def test_batch_limit_is_10(api, fake_exchange: FakeExchange) -> None:
    reply = await api.post("swap_batchorder", {"orders_data": [ORDER] * 11})
    assert reply.err_code == 1052
    assert fake_exchange.book.orders == {}
    assert len((await api.post("swap_batchorder", {"orders_data": [ORDER] * 10})).json[
        "data"]["success"]) == 10
    assert (await api.post("swap_batchorder", {"orders_data": []})).err_code == 1066


TRIGGER = {
    "contract_code": "BTC-USDT", "trigger_type": "ge", "trigger_price": 31000,
    "order_price": 31010, "order_price_type": "limit", "volume": 1, "direction": "buy",
    "offset": "open", "lever_rate": 10,
}  # fmt: skip
TPSL = {"contract_code": "BTC-USDT", "direction": "sell", "volume": 1,
        "tp_trigger_price": 32000, "tp_order_price": 32000,
        "sl_trigger_price": 28000, "sl_order_price_type": "optimal_5"}  # fmt: skip
TRACK = {"contract_code": "BTC-USDT", "direction": "sell", "offset": "close", "lever_rate": 5,
         "volume": 1, "callback_rate": 0.01, "active_price": 31000,
         "order_price_type": "optimal_5"}  # fmt: skip


@pytest.mark.parametrize("margin", ["", "_cross"])
async def test_place_then_cancel_every_strategy_kind(
    api, fake_exchange: FakeExchange, margin: str
) -> None:
    trig = (await api.post(f"swap{margin}_trigger_order", TRIGGER)).json["data"]
    assert set(trig) == {"order_id", "order_id_str"}
    tpsl = (await api.post(f"swap{margin}_tpsl_order", TPSL)).json["data"]
    assert set(tpsl) == {"tp_order", "sl_order"}
    track = (await api.post(f"swap{margin}_track_order", TRACK)).json["data"]
    assert fake_exchange.order(trig["order_id_str"]).kind == "trigger"
    assert fake_exchange.order(tpsl["sl_order"]["order_id_str"]).kind == "tpsl"
    assert fake_exchange.order(track["order_id_str"]).kind == "track"
    btc = {"contract_code": "BTC-USDT"}
    for kind, ids in (
        ("trigger", [trig["order_id_str"]]),
        ("tpsl", [tpsl["tp_order"]["order_id_str"], tpsl["sl_order"]["order_id_str"]]),
        ("track", [track["order_id_str"]]),
    ):
        reply = await api.post(f"swap{margin}_{kind}_cancel", {**btc, "order_id": ",".join(ids)})
        assert sorted(reply.successes) == sorted(ids)
    assert fake_exchange.open_ids() == set()


async def test_tpsl_one_side_and_none(api) -> None:
    only_tp = {k: v for k, v in TPSL.items() if not k.startswith("sl_")}
    data = (await api.post("swap_tpsl_order", only_tp)).json["data"]
    assert data["sl_order"] is None and data["tp_order"]["order_id_str"]
    neither = {k: v for k, v in only_tp.items() if not k.startswith("tp_")}
    assert (await api.post("swap_tpsl_order", neither)).err_code == 1066


@pytest.mark.parametrize(
    ("name", "body", "field", "code"),
    [
        ("swap_trigger_order", TRIGGER, "trigger_type", 1066),
        ("swap_trigger_order", {**TRIGGER, "trigger_type": "eq"}, None, 1082),
        ("swap_trigger_order", TRIGGER, "trigger_price", 1066),
        ("swap_trigger_order", TRIGGER, "lever_rate", 1066),
        ("swap_track_order", TRACK, "callback_rate", 1066),
        ("swap_track_order", {**TRACK, "order_price_type": "limit"}, None, 1034),
        ("swap_tpsl_order", TPSL, "direction", 1066),
    ],
)
async def test_strategy_checks(api, name: str, body: dict[str, object], field: str | None,
                               code: int) -> None:
    sent = {k: v for k, v in body.items() if k != field}
    assert (await api.post(name, sent)).err_code == code


async def test_other_trade_endpoints_answer_ok(api, fake_exchange: FakeExchange) -> None:
    for name in ("swap_switch_lever_rate", "swap_cross_lightning_close_position"):
        reply = await api.post(name, {"contract_code": "BTC-USDT"})
        assert reply.json["status"] == "ok"
        assert reply.headers["ratelimit-limit"] == "72"
