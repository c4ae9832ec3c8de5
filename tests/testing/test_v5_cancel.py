"""v5 cancels: one order, batches (arrays only), cancel-all, and algo orders."""

from __future__ import annotations

import pytest

from htx_cancel.testing import FakeExchange

BATCH = "/v5/trade/cancel_batch_orders"
ONE = "/v5/trade/cancel_order"
ALL = "/v5/trade/cancel_all_orders"
ALGO = "/v5/algo/cancel_orders"
BTC = {"contract_code": "BTC-USDT"}


async def test_cancel_order_by_id_and_by_client_id(v5, fake_exchange: FakeExchange) -> None:
    a, b = fake_exchange.seed("BTC-USDT", n=2, with_client_ids=True)
    reply = await v5.post(ONE, {**BTC, "order_id": a})
    assert reply.status == 200
    assert reply.json == {"code": 200, "message": "Success", "ts": reply.json["ts"],
                          "data": {"order_id": a, "client_order_id": fake_exchange.client_id_of(a)}}
    cid = fake_exchange.client_id_of(b)
    reply = await v5.post(ONE, {**BTC, "client_order_id": cid})
    assert reply.data == {"order_id": b, "client_order_id": cid}
    assert fake_exchange.order_state(a) == fake_exchange.order_state(b) == "cancelled"
    record = fake_exchange.requests[-1]
    assert record.endpoint == ONE and record.method == "POST" and record.cancelled == (b,)
    assert record.id_field == "client_order_id" and record.ids == (cid,)


async def test_cancel_order_failures_are_whole_request(v5, fake_exchange: FakeExchange) -> None:
    done, filled, eth = fake_exchange.seed("BTC-USDT", n=3, with_client_ids=True)
    fake_exchange.order(eth).contract_code = "ETH-USDT"
    await v5.post(ONE, {**BTC, "order_id": done})
    fake_exchange.fill(filled)
    assert (await v5.post(ONE, {**BTC, "order_id": done})).code == 1071
    assert (await v5.post(ONE, {**BTC, "order_id": filled})).code == 1063
    assert (await v5.post(ONE, {**BTC, "order_id": eth})).code == 1061
    assert (await v5.post(ONE, {**BTC, "order_id": "42"})).code == 1061
    # a finished order's client id is no longer valid: not found, whatever happened to it
    for oid in (done, filled):
        reply = await v5.post(ONE, {**BTC, "client_order_id": fake_exchange.client_id_of(oid)})
        assert reply.code == 1061 and "data" not in reply.json
    assert fake_exchange.find(ONE, err_code=1061)[-1].cancelled == ()


@pytest.mark.parametrize("body, code", [
    ({"order_id": "1"}, 1066),                                   # no contract
    ({"contract_code": "NOPE-USDT", "order_id": "1"}, 1014),
    (BTC, 1066),                                                 # no id
    ({**BTC, "order_id": "1", "client_order_id": "2"}, 1067),    # both
    ({**BTC, "order_id": 123456789012345678}, 1067),             # a JSON number
    ({**BTC, "order_id": ["1"]}, 1067),                          # an array
])  # fmt: skip
async def test_cancel_order_checks_its_body(v5, body, code) -> None:
    reply = await v5.post(ONE, body)
    assert reply.status == 200 and reply.code == code
    assert set(reply.json) == {"code", "message", "ts"}


async def test_batch_cancels_by_arrays_in_shuffled_order(v5, fake_exchange: FakeExchange) -> None:
    ids = fake_exchange.seed("BTC-USDT", n=10)
    reply = await v5.post(BATCH, {**BTC, "order_id": ids})
    assert reply.code == 200 and reply.json["message"] == "Success"
    assert [i["order_id"] for i in reply.data] != ids              # HTX's order, not ours
    assert sorted(i["order_id"] for i in reply.data) == sorted(ids)
    assert {i["message"] for i in reply.data} == {"成功"}
    assert reply.items() == dict.fromkeys(ids, 200)
    assert fake_exchange.open_ids() == set()
    assert set(fake_exchange.requests[-1].cancelled) == set(ids)


async def test_batch_item_codes(v5, fake_exchange: FakeExchange) -> None:
    live, filled, done, marked, part = fake_exchange.seed("BTC-USDT", n=5)
    algo = fake_exchange.seed("BTC-USDT", "trigger")[0]
    cross = fake_exchange.seed("BTC-USDT", "order", "cross")[0]       # v5 ignores margin
    eth = fake_exchange.seed("ETH-USDT")[0]
    fake_exchange.fill(filled)
    fake_exchange.fill(part, volume=0.5)
    fake_exchange.mark_cancelling(marked)
    await v5.post(ONE, {**BTC, "order_id": done})
    ids = [live, filled, done, marked, part, algo, cross, eth, "999", live]
    reply = await v5.post(BATCH, {**BTC, "order_id": ids})
    assert reply.items() == {live: 200, filled: 1063, done: 1071, marked: 1062, part: 200,
                             algo: 1061, cross: 200, eth: 1061, "999": 1061}
    assert len(reply.data) == 9                                        # the repeat once
    assert fake_exchange.v5_state_of(part) == "partially_canceled"
    assert fake_exchange.v5_state_of(marked) == "canceled"
    assert fake_exchange.order_state(algo) == "open"


async def test_batch_by_client_ids(v5, fake_exchange: FakeExchange) -> None:
    a, b, c = fake_exchange.seed("BTC-USDT", n=3, with_client_ids=True)
    cids = [fake_exchange.client_id_of(i) for i in (a, b, c)]
    fake_exchange.fill(c)
    reply = await v5.post(BATCH, {**BTC, "client_order_id": [*cids, "77"]})
    by_cid = {i["client_order_id"]: i for i in reply.data}
    assert by_cid[cids[0]] == {"order_id": a, "client_order_id": cids[0], "code": 200,
                               "message": "成功"}
    assert by_cid[cids[1]]["code"] == 200
    assert by_cid[cids[2]] == {"order_id": "", "client_order_id": cids[2], "code": 1061,
                               "message": "This order doesn't exist."}
    assert by_cid["77"]["code"] == 1061


@pytest.mark.parametrize("body, code", [
    ({**BTC, "order_id": "1,2"}, 1067),              # v1's comma string
    ({**BTC, "order_id": "1"}, 1067),                # a string, not an array
    ({**BTC, "order_id": [1, 2]}, 1067),             # numbers
    ({**BTC, "order_id": ["1", ""]}, 1067),
    ({**BTC, "order_id": ["1"], "client_order_id": ["2"]}, 1067),
    ({**BTC, "order_id": []}, 1066),
    ({**BTC, "order_id": [str(i) for i in range(11)]}, 1052),
    ({"order_id": ["1"]}, 1066),
    (["1"], 1067),
])  # fmt: skip
async def test_batch_refuses_other_shapes(v5, fake_exchange: FakeExchange, body, code) -> None:
    ids = fake_exchange.seed("BTC-USDT", n=2)
    reply = await v5.post(BATCH, body)
    assert reply.code == code and "data" not in reply.json
    assert fake_exchange.open_ids() == set(ids)
    assert fake_exchange.requests[-1].err_code == code


async def test_cancel_all_filters(v5, fake_exchange: FakeExchange) -> None:
    longs = fake_exchange.seed("BTC-USDT", n=2, direction="buy", offset="open")
    shorts = fake_exchange.seed("BTC-USDT", n=2, direction="sell", offset="open")
    eth = fake_exchange.seed("ETH-USDT", n=2)
    algo = fake_exchange.seed("BTC-USDT", "tp")
    reply = await v5.post(ALL, {**BTC, "side": "buy", "position_side": "long"})
    assert reply.items() == dict.fromkeys(longs, 200)
    reply = await v5.post(ALL, BTC)
    assert reply.items() == dict.fromkeys(shorts, 200)
    reply = await v5.post(ALL, {})
    assert reply.items() == dict.fromkeys(eth, 200)
    assert fake_exchange.open_ids() == set(algo)                  # algo orders stay
    again = await v5.post(ALL)                                    # no body at all
    assert again.code == 200 and again.data == []
    for body in ({"side": "long"}, {"position_side": "up"}, {"contract_code": "X-USDT"}):
        assert (await v5.post(ALL, body)).code in (1067, 1014)


async def test_cancel_all_nothing_as_1051(make_v5) -> None:
    async with FakeExchange(cancel_all_nothing="1051") as ex:
        reply = await make_v5(ex).post(ALL, {})
        assert reply.code == 1051 and ex.requests[-1].err_code == 1051
    with pytest.raises(ValueError, match="cancel_all_nothing"):
        FakeExchange(cancel_all_nothing="nothing")  # type: ignore[arg-type]


async def test_algo_cancel_takes_every_body_shape(v5, fake_exchange: FakeExchange) -> None:
    trig, tp, sl, trail, pair = (fake_exchange.seed("BTC-USDT", kind)[0]
                                 for kind in ("trigger", "tp", "sl", "trailing_stop", "tpsl"))
    array = await v5.post(ALGO, [{**BTC, "algo_id": trig}, {**BTC, "algo_id": tp}])
    assert array.items(algo=True) == {trig: 200, tp: 200}
    single = await v5.post(ALGO, {**BTC, "algo_id": sl})
    assert single.items(algo=True) == {sl: 200}
    arrays = await v5.post(ALGO, {**BTC, "algo_id": [trail, pair, trig, "5"]})
    assert arrays.items(algo=True) == {trail: 200, pair: 200, trig: 1071, "5": 1061}
    assert set(arrays.data[0]) == {"algo_id", "algo_client_order_id", "code", "message"}
    assert fake_exchange.open_ids() == set()


async def test_algo_cancel_by_client_id_and_limits(v5, fake_exchange: FakeExchange) -> None:
    algo = fake_exchange.seed("BTC-USDT", "trigger", with_client_ids=True)[0]
    acid = fake_exchange.order(algo).algo_client_order_id
    assert acid is not None
    regular = fake_exchange.seed("BTC-USDT")[0]
    reply = await v5.post(ALGO, [{**BTC, "algo_client_order_id": acid},
                                 {**BTC, "algo_id": regular}])
    assert reply.items(algo=True) == {algo: 200, regular: 1061}
    again = await v5.post(ALGO, {**BTC, "algo_client_order_id": acid})
    assert again.data == [{"algo_id": "", "algo_client_order_id": acid, "code": 1061,
                           "message": "This order doesn't exist."}]
    too_many = [{**BTC, "algo_id": str(i)} for i in range(11)]
    assert (await v5.post(ALGO, too_many)).code == 1052
    for bad in ([], [{"algo_id": "1"}], [{**BTC}], [{**BTC, "algo_id": "1",
                                                     "algo_client_order_id": "2"}],
                {**BTC, "algo_id": "1,2"}, [{**BTC, "algo_id": 1}], ["1"]):
        assert (await v5.post(ALGO, bad)).code in (1066, 1067), bad


async def test_triggered_algo_orders_answer_1063(v5, fake_exchange: FakeExchange) -> None:
    ok, failed = fake_exchange.seed("BTC-USDT", "trigger", n=2)
    fake_exchange.trigger_algo(ok)
    fake_exchange.trigger_algo(failed, failed=True)
    reply = await v5.post(ALGO, {**BTC, "algo_id": [ok, failed]})
    assert reply.items(algo=True) == {ok: 1063, failed: 1061}
    assert fake_exchange.algo_state_of(ok) == "effective"
    assert fake_exchange.algo_state_of(failed) == "failed"


async def test_one_account_both_families(v5, api, fake_exchange: FakeExchange) -> None:
    a, b = fake_exchange.seed("BTC-USDT", n=2)
    assert (await api.post("swap_cancel", {**BTC, "order_id": a})).successes == [a]
    reply = await v5.post(BATCH, {**BTC, "order_id": [a, b]})
    assert reply.items() == {a: 1071, b: 200}
    assert fake_exchange.status_of(b) == 7
