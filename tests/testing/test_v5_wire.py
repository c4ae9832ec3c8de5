"""v5 on the wire: signing (GET parameters signed), envelope, styles, pools, headers, faults,
the migrated account and the families served."""

from __future__ import annotations

import time

import msgspec
import pytest

from htx_cancel.testing import FakeClock, FakeExchange, Fault, FaultKind

BTC = {"contract_code": "BTC-USDT"}
BATCH = "/v5/trade/cancel_batch_orders"
INFO = "/v5/trade/order"


async def test_get_parameters_are_signed(v5, fake_exchange: FakeExchange) -> None:
    (oid,) = fake_exchange.seed("BTC-USDT")
    assert (await v5.get(INFO, {"order_id": oid})).code == 200
    # the same query, signed without its own parameter: refused
    url = v5.url("GET", INFO) + f"&order_id={oid}"
    async with v5.session.get(url) as resp:
        assert resp.status == 200
        assert msgspec.json.decode(await resp.read())["code"] == 1253
    record = fake_exchange.requests[-1]
    assert record.body == {"order_id": oid} and not record.accepted
    assert "order_id" in record.query and "Signature" not in record.query


async def test_auth_failures_in_v5_envelope(v5, fake_exchange: FakeExchange) -> None:
    bad = await v5.post(BATCH, {**BTC, "order_id": ["1"]}, secret="wrong")
    assert bad.status == 200 and set(bad.json) == {"code", "message", "ts"}
    assert bad.code == 1253
    unknown = await v5.post(BATCH, {**BTC, "order_id": ["1"]}, access="nobody")
    assert unknown.status == 403 and unknown.code == 403
    stale = await v5.post(BATCH, {**BTC, "order_id": ["1"]}, timestamp="2020-01-01T00:00:00")
    assert stale.code == 12001
    other = await v5.post(BATCH, {**BTC, "order_id": ["1"]}, signed_path="/v5/trade/order")
    assert other.code == 1253
    assert fake_exchange.max_in_window() == 0                # none of them counted


async def test_envelope_and_not_found(v5, fake_exchange: FakeExchange) -> None:
    reply = await v5.post(BATCH, {**BTC, "order_id": ["1"]})
    assert set(reply.json) == {"code", "message", "data", "ts"}
    assert isinstance(reply.json["ts"], int)
    for method, path in (("GET", "/v5/trade/nothing"), ("GET", "/v5/trade/cancel_order"),
                         ("POST", "/v5/trade/order/opens")):
        async with v5.session.request(method, fake_exchange.base_url + path) as resp:
            assert resp.status == 404
            body = msgspec.json.decode(await resp.read())
            assert body["code"] == 404 and body["message"] == "Resources do not exist"
    assert (await v5.post(BATCH, raw=b"{not json")).code == 1030


async def test_v5_shares_the_pools_with_v1(make_v5, make_api) -> None:
    async with FakeExchange(trade_limit=(3, 60.0), read_limit=(2, 60.0)) as ex:
        v5, api = make_v5(ex), make_api(ex)
        assert (await api.post("swap_cancel", {**BTC, "order_id": "1"})).err_code is None
        assert (await v5.post(BATCH, {**BTC, "order_id": ["1"]})).code == 200
        assert (await v5.post("/v5/trade/cancel-after", {"on_off": "0"})).code == 200
        over = await v5.post("/v5/trade/cancel_order", {**BTC, "order_id": "1"})
        assert over.code == 1032 and over.json["message"]
        assert (await v5.get(INFO, {"order_id": "1"})).code == 1061     # the read pool
        assert (await v5.get("/v5/trade/order/opens")).code == 200
        assert (await v5.get(INFO, {"order_id": "1"})).code == 1032
        assert ex.rejected_1032 == 2 and ex.max_in_window() == 3
        assert ex.max_in_window("read") == 2
        assert [r.err_code for r in ex.find(err_code=1032)] == [1032, 1032]


async def test_rate_headers(make_v5) -> None:
    async with FakeExchange(trade_limit=(5, 3.0), read_limit=(7, 3.0)) as ex:
        v5 = make_v5(ex)
        reply = await v5.post(BATCH, {**BTC, "order_id": ["1"]})
        assert reply.headers["ratelimit-limit"] == "5"
        assert reply.headers["ratelimit-remaining"] == "4"
        assert reply.headers["ratelimit-interval"] == "3000"
        assert (await v5.get("/v5/trade/order/opens")).headers["ratelimit-limit"] == "7"
    for choice, v1_has, v5_has in (("v1", True, False), ("none", False, False)):
        async with FakeExchange(rate_headers=choice) as ex:
            v5 = make_v5(ex)
            assert ("ratelimit-limit" in (await v5.get("/v5/trade/order/opens")).headers) is (
                v5_has)
            async with v5.session.post(ex.base_url + "/linear-swap-api/v1/swap_cancel") as r:
                assert ("ratelimit-limit" in r.headers) is v1_has
    with pytest.raises(ValueError, match="rate_headers"):
        FakeExchange(rate_headers="some")  # type: ignore[arg-type]


async def test_algo_pool_when_asked(make_v5) -> None:
    async with FakeExchange(algo_limit=(1, 60.0)) as ex:
        v5 = make_v5(ex)
        first = await v5.post("/v5/algo/cancel_orders", {**BTC, "algo_id": "1"})
        assert first.code == 200 and first.headers["ratelimit-limit"] == "1"
        assert (await v5.post("/v5/algo/cancel_orders", {**BTC, "algo_id": "1"})).code == 1032
        assert (await v5.post(BATCH, {**BTC, "order_id": ["1"]})).code == 200
        assert ex.max_in_window("algo") == 1 and ex.max_in_window("trade") == 2


@pytest.mark.parametrize("styles, check", [
    (["msg"], lambda j: "msg" in j and "message" not in j),
    (["success"], lambda j: j["success"] is True),
    (["null_message"], lambda j: j["message"] is None),
    (["no_ts"], lambda j: "ts" not in j),
    (["string_codes"], lambda j: j["code"] == "200" and j["data"][0]["code"] == "200"),
    (["number_ids"], lambda j: isinstance(j["data"][0]["order_id"], int)
                               and j["data"][0]["order_id"] > 2**53),
])  # fmt: skip
async def test_v5_styles(make_v5, styles, check) -> None:
    async with FakeExchange(v5_styles=styles, seed=1) as ex:
        (oid,) = ex.seed("BTC-USDT")
        reply = await make_v5(ex).post(BATCH, {**BTC, "order_id": [oid]})
        assert check(reply.json), reply.raw
        assert ex.requests[-1].err_code is None
        if "number_ids" in styles:
            assert str(reply.json["data"][0]["order_id"]) == oid     # no digit lost


async def test_v5_styles_on_errors(make_v5) -> None:
    async with FakeExchange(v5_styles=["msg", "success", "string_codes", "null_message"],
                            ts_as_string=True) as ex:
        reply = await make_v5(ex).post(BATCH, {"order_id": ["1"]})
        assert reply.json == {"code": "1066", "msg": "contract_code cannot be empty.",
                              "success": False, "ts": reply.json["ts"]}
        assert isinstance(reply.json["ts"], str)
        assert ex.requests[-1].err_code == 1066
    with pytest.raises(ValueError, match="v5 style"):
        FakeExchange(v5_styles=["loud"])  # type: ignore[list-item]


async def test_error_style_leaves_v5_alone(make_v5, make_api) -> None:
    async with FakeExchange(error_style="err-code") as ex:
        assert (await make_v5(ex).post(BATCH, {"order_id": ["1"]})).code == 1066
        assert "err-code" in (await make_api(ex).post("swap_cancel", {})).json


@pytest.mark.parametrize("kind, status, code", [
    ("busy", 200, 1004),
    ("rate_limit", 200, 1032),
    ("maintenance_1431", 200, 1431),
    ("code_1067", 200, 1067),
    ("error_500_before", 500, None),
    ("html_before", 502, None),
])  # fmt: skip
async def test_faults_before_on_v5(v5, fake_exchange: FakeExchange, kind, status, code) -> None:
    (oid,) = fake_exchange.seed("BTC-USDT")
    fake_exchange.faults.script(BATCH, [kind])
    reply = await v5.post(BATCH, {**BTC, "order_id": [oid]})
    assert reply.status == status
    if code is not None:
        assert reply.code == code and "status" not in reply.json
    assert fake_exchange.order_state(oid) == "open"
    assert fake_exchange.requests[-1].fault == kind


async def test_faults_after_and_by_method(v5, fake_exchange: FakeExchange) -> None:
    a, b = fake_exchange.seed("BTC-USDT", n=2)
    fake_exchange.faults.script("GET /v5/trade/order", ["maintenance"])
    fake_exchange.faults.script("/v5/trade/cancel_order", ["gateway_504_after"])
    assert (await v5.get(INFO, {"order_id": a})).json == {"status": "maintain"}
    lost = await v5.post("/v5/trade/cancel_order", {**BTC, "order_id": a})
    assert lost.status == 504 and fake_exchange.order_state(a) == "cancelled"
    fake_exchange.faults.script(None, [Fault(FaultKind.API_ERROR, err_code=1056)])
    assert (await v5.post(BATCH, {**BTC, "order_id": [b]})).code == 1056
    assert fake_exchange.faults.pending == 0 and fake_exchange.order_state(b) == "open"


async def test_migrated_account_refuses_v1(make_v5, make_api) -> None:
    async with FakeExchange(migrated=True, trade_limit=(2, 60.0)) as ex:
        api, v5 = make_api(ex), make_v5(ex)
        (oid,) = ex.seed("BTC-USDT")
        reply = await api.post("swap_cancel", {**BTC, "order_id": oid})
        assert reply.status == 200
        assert reply.json == {"status": "error", "err_code": 6023,
                              "err_msg": "The new feature is temporarily unavailable.",
                              "ts": reply.json["ts"]}
        assert ex.order_state(oid) == "open" and ex.requests[-1].err_code == 6023
        assert ex.requests[-1].accepted                         # counted like any request
        assert (await v5.post(BATCH, {**BTC, "order_id": [oid]})).items() == {oid: 200}
        assert (await v5.post(BATCH, {**BTC, "order_id": [oid]})).code == 1032
    async with FakeExchange(migrated=True, migrated_code=6002) as ex:
        reply = await make_api(ex).post("swap_order_info", {**BTC, "order_id": "1"})
        assert reply.err_code == 6002 and ex.max_in_window("read") == 1
    with pytest.raises(ValueError, match="migrated_code"):
        FakeExchange(migrated_code=1234)


async def test_api_serves_one_family(make_v5, make_api) -> None:
    async with FakeExchange(api="v5") as ex:
        assert (await make_api(ex).post("swap_cancel", BTC)).status == 404
        assert (await make_v5(ex).post(BATCH, {**BTC, "order_id": ["1"]})).code == 200
    async with FakeExchange(api="v1") as ex:
        assert (await make_v5(ex).post(BATCH, {**BTC, "order_id": ["1"]})).status == 404
        assert (await make_api(ex).post("swap_cancel", BTC)).status == 200
    assert not FakeExchange().migrated and FakeExchange().api == "both"
    with pytest.raises(ValueError, match="api"):
        FakeExchange(api="v6")  # type: ignore[arg-type]


async def test_outsider_on_a_v5_path() -> None:
    clock = FakeClock(start=0.0)
    async with FakeExchange(clock=clock, trade_limit=(4, 60.0), read_limit=(2, 60.0)) as ex:
        outsider = ex.start_outsider(10.0, "/v5/trade/order")
        await clock.advance(0.55)                   # arrivals at 0, 0.1, ... 0.5
        await ex.stop_outsider()
        assert (outsider.accepted, outsider.rejected) == (4, 2)
        assert ex.max_in_window() == 4 and ex.max_in_window("read") == 0
        with pytest.raises(ValueError, match="no v5 path"):
            ex.start_outsider(1.0, "/v5/nothing")
        reader = ex.start_outsider(10.0, "GET /v5/trade/order/opens")
        await clock.advance(0.25)
        await ex.stop_outsider()
        assert (reader.accepted, reader.rejected) == (2, 1)


async def test_v5_cancel_after(make_v5, make_api) -> None:
    clock = FakeClock(start=0.0)
    ex = FakeExchange(clock=clock, clock_skew=time.time() - clock.wall())
    async with ex:
        v5, api = make_v5(ex), make_api(ex)
        ids = ex.seed("BTC-USDT", n=2) + ex.seed("ETH-USDT", "order", "cross")
        trig = ex.seed("BTC-USDT", "trigger")
        reply = await v5.post("/v5/trade/cancel-after", {"on_off": "1", "time_out": 6000})
        assert set(reply.json) == {"code", "message", "data", "ts"}
        data = reply.data
        assert set(data) == {"current_time", "trigger_time"}
        assert data["trigger_time"] - data["current_time"] == 6000
        await clock.advance(5.0)
        await api.post("linear-cancel-after", {"on_off": 1, "time_out": 5000})  # one switch
        await clock.advance(4.9)
        assert ex.cancel_after.fired == []
        await clock.advance(0.1)
        (firing,) = ex.cancel_after.fired
        assert sorted(firing.order_ids) == sorted(ids) and ex.open_ids() == set(trig)
        info = await v5.get(INFO, {"order_id": ids[0]})
        assert info.data["cancel_reason"] == "Order cancelation due to API timeout"
        off = await v5.post("/v5/trade/cancel-after", {"on_off": 0})
        assert off.data["trigger_time"] == 0 and not ex.cancel_after.armed
        assert ex.cancel_after.arms == 2
        for body, code in (({}, 1066), ({"on_off": "2"}, 1067), ({"on_off": True}, 1067),
                           ({"on_off": 1, "time_out": 4999}, 1067),
                           ({"on_off": 1, "time_out": "soon"}, 1067)):
            assert (await v5.post("/v5/trade/cancel-after", body)).code == code, body


def test_every_v5_path_of_the_client_catalog_is_served() -> None:
    from htx_cancel._catalog import CATALOG
    from htx_cancel.testing._v5.routes import v5_route

    missing = [(e.method, e.path) for e in CATALOG.values()
               if e.api == "v5" and v5_route(e.method, e.path) is None]
    assert missing == []


async def test_catalog_names_work_for_faults_and_find(v5, fake_exchange: FakeExchange) -> None:
    fake_exchange.faults.script("GET v5/trade/order", ["busy"])
    fake_exchange.faults.script("v5/trade/cancel_batch_orders", ["busy"])
    assert (await v5.post(BATCH, {**BTC, "order_id": ["1"]})).code == 1004
    assert (await v5.get(INFO, {"order_id": "1"})).code == 1004
    assert len(fake_exchange.find("GET /v5/trade/order")) == 1
    assert len(fake_exchange.find("v5/trade/cancel_batch_orders")) == 1
    assert len(fake_exchange.find("/v5/trade/order")) == 1
    assert fake_exchange.find(INFO, err_code=1004)[0].method == "GET"
    for path in ("/v5/trade/position", "/v5/position/margin"):
        assert (await v5.post(path, {})).data == {}
    assert (await v5.post("/v5/trade/position_all", {})).data == []
