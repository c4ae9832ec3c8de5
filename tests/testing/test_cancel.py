"""Cancel semantics: every endpoint family, per-id errors, whole-request errors."""

from __future__ import annotations

import pytest

from htx_cancel._catalog import CATALOG
from htx_cancel.testing import FakeExchange

BTC = {"contract_code": "BTC-USDT"}


BY_IDS = [n for n, e in CATALOG.items() if e.api == "v1" and e.is_cancel and not e.cancel_all]


@pytest.mark.parametrize("name", BY_IDS)
async def test_by_ids_every_endpoint(api, fake_exchange: FakeExchange, name: str) -> None:
    ep = CATALOG[name]
    ids = fake_exchange.seed("BTC-USDT", ep.kind, ep.margin, 3)
    reply = await api.post(name, {**BTC, "order_id": ",".join(ids)})
    assert reply.json["status"] == "ok"
    assert sorted(reply.successes) == sorted(ids)
    assert reply.errors == {}
    assert all(fake_exchange.order_state(i) == "cancelled" for i in ids)
    assert fake_exchange.cancelled_ids() == set(ids)
    record = fake_exchange.requests[-1]
    assert fake_exchange.cancellations() == dict.fromkeys(ids, record)
    assert record.ids == tuple(ids) and record.id_field == "order_id"


@pytest.mark.parametrize("name", [n for n, e in CATALOG.items() if e.api == "v1" and e.cancel_all])
async def test_cancel_all_every_endpoint(api, fake_exchange: FakeExchange, name: str) -> None:
    ep = CATALOG[name]
    ids = fake_exchange.seed("BTC-USDT", ep.kind, ep.margin, 4)
    other_kind = "trigger" if ep.kind == "order" else "order"
    untouched = fake_exchange.seed("BTC-USDT", other_kind, ep.margin, 2)
    untouched += fake_exchange.seed("ETH-USDT", ep.kind, ep.margin, 2)
    reply = await api.post(name, BTC)
    assert sorted(reply.successes) == sorted(ids)
    assert fake_exchange.open_ids() == set(untouched)
    again = await api.post(name, BTC)
    assert again.json["status"] == "error"
    assert again.err_code == 1051


async def test_per_id_errors_1061_1071_1062(api, fake_exchange: FakeExchange) -> None:
    live, filled, done, busy = fake_exchange.seed("BTC-USDT", "order", "isolated", 4)
    trigger = fake_exchange.seed("BTC-USDT", "trigger", "isolated", 1)[0]
    cross = fake_exchange.seed("BTC-USDT", "order", "cross", 1)[0]
    eth = fake_exchange.seed("ETH-USDT", "order", "isolated", 1)[0]
    fake_exchange.fill(filled)
    fake_exchange.mark_cancelling(busy)
    await api.post("swap_cancel", {**BTC, "order_id": done})
    ids = [live, filled, done, busy, trigger, cross, eth, "999"]
    reply = await api.post("swap_cancel", {**BTC, "order_id": ",".join(ids)})
    assert reply.json["status"] == "ok"
    assert reply.successes == [live, busy]
    assert reply.errors == {
        filled: 1061,
        done: 1071,
        busy: 1062,
        trigger: 1061,
        cross: 1061,
        eth: 1061,
        "999": 1061,
    }
    assert fake_exchange.order_state(busy) == "cancelled"
    assert fake_exchange.order_state(filled) == "filled"
    assert fake_exchange.order_state(trigger) == "open"
    again = await api.post("swap_cancel", {**BTC, "order_id": busy})
    assert again.errors == {busy: 1071}


async def test_client_order_ids(api, fake_exchange: FakeExchange) -> None:
    ids = fake_exchange.seed("BTC-USDT", "order", "isolated", 2, with_client_ids=True)
    cids = [fake_exchange.client_id_of(i) for i in ids]
    body = {**BTC, "client_order_id": f"{cids[0]},{cids[1]},42"}
    reply = await api.post("swap_cancel", body)
    assert reply.successes == cids
    (error,) = reply.json["data"]["errors"]
    assert error == {
        "order_id": "",
        "client_order_id": "42",
        "err_code": 1061,
        "err_msg": "This order doesn't exist.",
    }
    assert fake_exchange.cancelled_ids() == set(ids)
    assert fake_exchange.requests[-1].id_field == "client_order_id"


async def test_explicit_orders_and_order_id_wins(api, fake_exchange: FakeExchange) -> None:
    fake_exchange.add_orders(
        "BTC-USDT", "order", "isolated", ["111111111111111111"], client_order_ids=["7"]
    )
    fake_exchange.add_orders("BTC-USDT", "order", "isolated", ["222222222222222222"])
    body = {**BTC, "order_id": "222222222222222222", "client_order_id": "7"}
    reply = await api.post("swap_cancel", body)
    assert reply.successes == ["222222222222222222"]
    assert fake_exchange.order_state("111111111111111111") == "open"


async def test_cross_accepts_pair_and_contract_type(api, fake_exchange: FakeExchange) -> None:
    ids = fake_exchange.seed("BTC-USDT", "order", "cross", 2)
    body = {"pair": "BTC-USDT", "contract_type": "swap", "order_id": ",".join(ids)}
    assert sorted((await api.post("swap_cross_cancel", body)).successes) == sorted(ids)
    # isolated endpoints need contract_code
    iso = fake_exchange.seed("BTC-USDT", "order", "isolated", 1)
    body = {"pair": "BTC-USDT", "contract_type": "swap", "order_id": iso[0]}
    assert (await api.post("swap_cancel", body)).err_code == 1014
    bad_type = {"pair": "BTC-USDT", "contract_type": "weekly", "order_id": ids[0]}
    assert (await api.post("swap_cross_cancel", bad_type)).err_code == 1014


async def test_contract_missing_or_unknown_is_1014(api, fake_exchange: FakeExchange) -> None:
    ids = fake_exchange.seed("BTC-USDT", "order", "isolated", 1)
    assert (await api.post("swap_cancel", {"order_id": ids[0]})).err_code == 1014
    unknown = {"contract_code": "NOPE-USDT", "order_id": ids[0]}
    assert (await api.post("swap_cancel", unknown)).err_code == 1014
    assert (await api.post("swap_cancelall", {})).err_code == 1014
    assert fake_exchange.order_state(ids[0]) == "open"


async def test_over_max_ids_cancels_nothing(api, fake_exchange: FakeExchange) -> None:
    ids = fake_exchange.seed("BTC-USDT", "order", "isolated", 26)
    reply = await api.post("swap_cancel", {**BTC, "order_id": ",".join(ids)})
    assert reply.json["status"] == "error"
    assert reply.err_code == 1067
    assert fake_exchange.cancelled_ids() == set()
    trig = fake_exchange.seed("BTC-USDT", "trigger", "cross", 11)
    reply = await api.post("swap_cross_trigger_cancel", {**BTC, "order_id": ",".join(trig)})
    assert reply.err_code == 1067
    ok = await api.post("swap_cross_trigger_cancel", {**BTC, "order_id": ",".join(trig[:10])})
    assert len(ok.successes) == 10


async def test_bad_input_is_whole_request_error(api, fake_exchange: FakeExchange) -> None:
    ids = fake_exchange.seed("BTC-USDT", "order", "isolated", 2)
    for body in (
        BTC,
        {**BTC, "order_id": ""},
        {**BTC, "order_id": f"{ids[0]},,{ids[1]}"},
        {**BTC, "order_id": [ids[0]]},
        {**BTC, "client_order_id": None},
    ):
        assert (await api.post("swap_cancel", body)).err_code == 1030, body
    async with api.session.post(api.url("swap_cancel"), data=b"{not json") as r:
        assert b"1030" in await r.read()
    assert fake_exchange.open_ids() == set(ids)


async def test_duplicates_are_cancelled_once(api, fake_exchange: FakeExchange) -> None:
    (oid,) = fake_exchange.seed("BTC-USDT", "order", "isolated", 1)
    reply = await api.post("swap_cancel", {**BTC, "order_id": f"{oid},{oid}"})
    assert reply.successes == [oid]
    assert reply.errors == {}


async def test_cancel_all_filters(api, fake_exchange: FakeExchange) -> None:
    ex = fake_exchange
    buy_open = ex.seed("BTC-USDT", "order", "isolated", 2, direction="buy", offset="open")
    buy_close = ex.seed("BTC-USDT", "order", "isolated", 2, direction="buy", offset="close")
    sell = ex.seed("BTC-USDT", "order", "isolated", 2, direction="sell", offset="open")
    reply = await api.post("swap_cancelall", {**BTC, "direction": "buy", "offset": "close"})
    assert sorted(reply.successes) == sorted(buy_close)
    reply = await api.post("swap_cancelall", {**BTC, "direction": "buy"})
    assert sorted(reply.successes) == sorted(buy_open)
    assert (await api.post("swap_cancelall", {**BTC, "direction": "up"})).err_code == 1030
    assert (await api.post("swap_cancelall", {**BTC, "offset": "both"})).err_code == 1030
    assert ex.open_ids() == set(sell)
    reply = await api.post("swap_cancelall", {**BTC, "offset": "open"})
    assert sorted(reply.successes) == sorted(sell)


async def test_tpsl_cancel_all_ignores_offset(api, fake_exchange: FakeExchange) -> None:
    ids = fake_exchange.seed("BTC-USDT", "tpsl", "cross", 3, direction="sell")
    reply = await api.post("swap_cross_tpsl_cancelall", {**BTC, "offset": "bogus"})
    assert sorted(reply.successes) == sorted(ids)


async def test_content_type_alternates(api, fake_exchange: FakeExchange) -> None:
    seen = set()
    for _ in range(4):
        async with api.session.post(api.url("swap_cancel"), json=BTC) as r:
            seen.add(r.content_type)
    assert seen == {"application/json", "text/plain"}


async def test_add_orders_validates(fake_exchange: FakeExchange) -> None:
    with pytest.raises(ValueError, match="digit"):
        fake_exchange.add_orders("BTC-USDT", order_ids=["12a"])
    with pytest.raises(ValueError, match="client"):
        fake_exchange.add_orders("BTC-USDT", "trigger", order_ids=["1"], client_order_ids=["2"])
    fake_exchange.add_orders("BTC-USDT", order_ids=["5"])
    with pytest.raises(ValueError, match="exists"):
        fake_exchange.add_orders("BTC-USDT", order_ids=["5"])
    fake_exchange.reset_orders()
    assert fake_exchange.order_state("5") is None


def test_seeded_ids_are_reproducible_and_long() -> None:
    a = FakeExchange(seed=7).seed("BTC-USDT", "order", "isolated", 50)
    b = FakeExchange(seed=7).seed("BTC-USDT", "order", "isolated", 50)
    assert a == b
    assert len(set(a)) == 50
    assert all(i.isdigit() and 18 <= len(i) <= 19 and 2**53 < int(i) < 2**63 for i in a)
