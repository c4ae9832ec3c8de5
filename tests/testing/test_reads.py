"""Read endpoints: order info, open orders, strategy listings, the read pool and its headers."""

from __future__ import annotations

import time

import pytest

from htx_cancel._catalog import CATALOG
from htx_cancel.testing import FakeClock, FakeExchange

BTC = {"contract_code": "BTC-USDT"}
INFO_FIELDS = {
    "order_id", "order_id_str", "client_order_id", "contract_code", "volume", "price",
    "direction", "offset", "status", "trade_volume", "canceled_at", "canceled_source",
    "created_at", "lever_rate", "order_price_type", "margin_mode", "pair", "contract_type",
}  # fmt: skip


def fake_clock_exchange(**kwargs: object) -> tuple[FakeClock, FakeExchange]:
    """An exchange on a FakeClock, its wall clock lined up with the real one."""
    clock = FakeClock(start=0.0)
    ex = FakeExchange(clock=clock, clock_skew=time.time() - clock.wall(), **kwargs)  # type: ignore[arg-type]
    return clock, ex


async def test_order_info_by_ids(api, fake_exchange: FakeExchange) -> None:
    ex = fake_exchange
    live, filled, part, cancelled = ex.seed("BTC-USDT", "order", "isolated", 4)
    for oid in (live, filled, part, cancelled):
        ex.order(oid).volume = 10
    ex.fill(filled)
    ex.fill(part, volume=3)
    await api.post("swap_cancel", {**BTC, "order_id": cancelled})
    asked = [cancelled, "123456789012345678", live, part, filled]
    reply = await api.post("swap_order_info", {**BTC, "order_id": ",".join(asked)})
    assert reply.json["status"] == "ok"
    orders = reply.json["data"]
    assert [o["order_id_str"] for o in orders] == [cancelled, live, part, filled]
    assert set(orders[0]) >= INFO_FIELDS
    assert [o["status"] for o in orders] == [7, 3, 4, 6]
    assert orders[0]["canceled_at"] > 0 and orders[0]["canceled_source"] == "api"
    assert orders[1]["canceled_at"] == 0
    assert orders[2]["trade_volume"] == 3
    assert all(o["order_id"] == int(o["order_id_str"]) for o in orders)
    record = ex.requests[-1]
    assert record.ids == tuple(asked) and record.id_field == "order_id"


async def test_partial_fill_then_cancel_is_5(api, fake_exchange: FakeExchange) -> None:
    (oid,) = fake_exchange.seed("BTC-USDT", "order", "isolated", 1)
    fake_exchange.order(oid).volume = 4
    fake_exchange.fill(oid, volume=1)
    assert fake_exchange.status_of(oid) == 4
    assert (await api.post("swap_cancel", {**BTC, "order_id": oid})).successes == [oid]
    assert fake_exchange.status_of(oid) == 5
    info = await api.post("swap_order_info", {**BTC, "order_id": oid})
    assert info.json["data"][0]["status"] == 5
    with pytest.raises(ValueError):
        fake_exchange.fill(oid)  # cancelled orders do not fill


async def test_order_info_by_client_ids_and_cross_pair(api, fake_exchange: FakeExchange) -> None:
    ids = fake_exchange.seed("BTC-USDT", "order", "cross", 2, with_client_ids=True)
    cids = [fake_exchange.client_id_of(i) for i in ids]
    body = {"pair": "BTC-USDT", "client_order_id": ",".join(cids)}  # type: ignore[arg-type]
    reply = await api.post("swap_cross_order_info", body)
    assert [str(o["client_order_id"]) for o in reply.json["data"]] == cids
    # order_id wins when both are sent; isolated orders are not cross orders
    both = {**BTC, "order_id": ids[1], "client_order_id": cids[0]}
    assert [o["order_id_str"] for o in (await api.post("swap_cross_order_info", both)).json[
        "data"]] == [ids[1]]
    assert (await api.post("swap_order_info", {**BTC, "order_id": ids[0]})).err_code == 1061


async def test_order_info_none_found_and_limits(api, fake_exchange: FakeExchange) -> None:
    reply = await api.post("swap_order_info", {**BTC, "order_id": "123456789012345678"})
    assert reply.json["status"] == "error" and reply.err_code == 1061
    ids = fake_exchange.seed("BTC-USDT", "order", "isolated", 51)
    assert (await api.post("swap_order_info", {**BTC, "order_id": ",".join(ids)})).err_code == (
        1067
    )
    ok = await api.post("swap_order_info", {**BTC, "order_id": ",".join(ids[:50])})
    assert len(ok.json["data"]) == 50
    assert (await api.post("swap_order_info", {"order_id": ids[0]})).err_code == 1014
    assert (await api.post("swap_order_info", BTC)).err_code == 1030


async def test_retention_and_settle(make_api) -> None:
    clock, ex = fake_clock_exchange(cancelled_retention=100.0, client_id_retention=150.0)
    async with ex:
        api = make_api(ex)
        old, kept, live = ex.seed("BTC-USDT", "order", "isolated", 3, with_client_ids=True)
        cid = ex.client_id_of(live)
        await api.post("swap_cancel", {**BTC, "order_id": old})
        await clock.advance(60)
        await api.post("swap_cancel", {**BTC, "order_id": kept})
        await clock.advance(50)  # old: cancelled 110 s ago, kept: 50 s ago
        reply = await api.post("swap_order_info", {**BTC, "order_id": f"{old},{kept},{live}"})
        assert [o["order_id_str"] for o in reply.json["data"]] == [kept, live]
        assert ex.status_of(old) is None
        by_cid = await api.post("swap_order_info", {**BTC, "client_order_id": cid})
        assert by_cid.json["data"][0]["order_id_str"] == live
        await clock.advance(50)  # 160 s after it was created: the client id is forgotten
        assert (await api.post("swap_order_info", {**BTC, "client_order_id": cid})).err_code == (
            1061
        )
        assert (await api.post("swap_order_info", {**BTC, "order_id": live})).err_code is None
        assert ex.status_of(kept) is None  # cancelled 100 s ago
        filled, cancelled = ex.seed("BTC-USDT", "order", "isolated", 2)
        ex.fill(filled)
        await api.post("swap_cancel", {**BTC, "order_id": cancelled})
        assert sorted(ex.settle()) == sorted([filled, cancelled])
        assert ex.open_ids() == {live} and set(ex.book.orders) == {live}


@pytest.mark.parametrize("name", ["swap_openorders", "swap_cross_openorders"])
async def test_open_orders_paged(api, fake_exchange: FakeExchange, name: str) -> None:
    margin = CATALOG[name].margin
    ids = fake_exchange.seed("BTC-USDT", "order", margin, 7)
    for n, oid in enumerate(ids):
        fake_exchange.order(oid).created_at += n  # distinct creation times, newest first
    fake_exchange.seed("ETH-USDT", "order", margin, 2)
    fake_exchange.seed("BTC-USDT", "trigger", margin, 2)
    await api.post(name.replace("openorders", "cancel"), {**BTC, "order_id": ids[0]})
    pages = []
    for index in (1, 2):
        reply = await api.post(name, {**BTC, "page_index": index, "page_size": 4})
        data = reply.json["data"]
        assert (data["total_page"], data["current_page"], data["total_size"]) == (2, index, 6)
        pages += [o["order_id_str"] for o in data["orders"]]
    assert pages == ids[:0:-1]
    assert all(o["status"] == 3 for o in data["orders"])
    assert (await api.post(name, {**BTC, "page_size": 51})).err_code == 1067
    default = await api.post(name, BTC)
    assert default.json["data"]["current_page"] == 1 and len(default.json["data"]["orders"]) == 6


async def test_cross_open_orders_need_no_contract(api, fake_exchange: FakeExchange) -> None:
    fake_exchange.seed("BTC-USDT", "order", "cross", 2)
    fake_exchange.seed("ETH-USDT", "order", "cross", 1)
    assert (await api.post("swap_cross_openorders", {})).json["data"]["total_size"] == 3
    by_pair = await api.post("swap_cross_openorders", {"pair": "ETH-USDT"})
    assert by_pair.json["data"]["total_size"] == 1
    assert (await api.post("swap_openorders", {})).err_code == 1014


@pytest.mark.parametrize("kind", ["trigger", "tpsl", "track"])
@pytest.mark.parametrize("margin", ["isolated", "cross"])
async def test_strategy_listings(api, fake_exchange: FakeExchange, kind: str,
                                 margin: str) -> None:
    ids = fake_exchange.seed("BTC-USDT", kind, margin, 3)
    fake_exchange.seed("BTC-USDT", "order", margin, 2)
    prefix = "swap_cross" if margin == "cross" else "swap"
    await api.post(f"{prefix}_{kind}_cancel", {**BTC, "order_id": ids[0]})
    reply = await api.post(f"{prefix}_{kind}_openorders", {**BTC, "page_size": 50})
    data = reply.json["data"]
    assert sorted(o["order_id_str"] for o in data["orders"]) == sorted(ids[1:])
    assert data["total_size"] == 2 and data["total_page"] == 1
    assert reply.headers["ratelimit-limit"] == "72"  # the read pool
    assert fake_exchange.find(f"{prefix}_{kind}_openorders")[0].accepted


async def test_read_pool_is_separate(make_api) -> None:
    _, ex = fake_clock_exchange(trade_limit=(2, 10.0), read_limit=(3, 10.0))
    async with ex:
        api = make_api(ex)
        for _ in range(2):
            assert (await api.post("swap_cancel", BTC)).err_code != 1032
        assert (await api.post("swap_cancel", BTC)).err_code == 1032
        remaining = []
        for _ in range(3):
            reply = await api.post("swap_openorders", BTC)
            assert reply.err_code is None
            assert reply.headers["ratelimit-limit"] == "3"
            remaining.append(reply.headers["ratelimit-remaining"])
        assert remaining == ["2", "1", "0"]
        assert (await api.post("swap_account_info", {})).err_code == 1032
        assert ex.max_in_window("read") == 3 and ex.max_in_window("trade") == 2


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("swap_account_info", []),
        ("swap_cross_position_info", []),
        ("swap_hisorders", {"orders": [], "total_page": 0, "current_page": 1, "total_size": 0}),
        ("v3/swap_hisorders", []),
        ("swap_matchresults", {"trades": [], "total_page": 0, "current_page": 1,
                               "total_size": 0}),
        ("swap_order_detail", {}),
    ],
)
async def test_unmodelled_reads_answer_empty(api, name: str, data: object) -> None:
    reply = await api.post(name, {})
    assert reply.json["status"] == "ok" and reply.json["data"] == data
