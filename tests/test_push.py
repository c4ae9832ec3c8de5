"""The push judge: every frame shape HTX_V5_FACTS §7 records, text and compressed."""

from __future__ import annotations

import gzip
import json
import zlib
from decimal import Decimal
from typing import Any

import pytest

from htx_cancel import OrderState
from htx_cancel._protocol._push import (
    AuthAck,
    Close,
    OrderUpdate,
    Other,
    Ping,
    SubAck,
    TradeAnswer,
    Updates,
    algo_state,
    decode_frame,
    judge_push,
    pong_for,
)

ORDER = {
    "order_id": "1329854625038651392", "client_order_id": "77", "contract_code": "BTC-USDT",
    "state": "canceled", "volume": "3", "trade_volume": "0", "cancel_reason":
    "Limit order cancelation by the client", "created_time": "1737104050245",
    "updated_time": 1737104050300, "side": "buy", "margin_mode": "cross",
}


def notify(data: Any, topic: str = "orders", **extra: Any) -> dict[str, Any]:
    return {"op": "notify", "topic": topic, "contract_code": "BTC-USDT", "ts": 1737104050301,
            "uid": 123, "data": data, **extra}


def one(message: Any) -> OrderUpdate:
    push = judge_push(message)
    assert isinstance(push, Updates) and len(push.updates) == 1
    return push.updates[0]


def test_an_orders_push_is_one_typed_update() -> None:
    update = one(notify(ORDER))
    assert update == OrderUpdate(
        order_id="1329854625038651392", client_order_id="77", contract_code="BTC-USDT",
        state=OrderState.CANCELLED, raw_state="canceled", volume=Decimal(3),
        filled_volume=Decimal(0), cancel_reason="Limit order cancelation by the client",
        created_time=1737104050245, updated_time=1737104050300, ts=1737104050301)
    assert update.final and update.complete


@pytest.mark.parametrize(("raw", "state"), [
    ("new", OrderState.OPEN), ("partially_filled", OrderState.PARTIALLY_FILLED),
    ("filled", OrderState.FILLED), ("partially_canceled", OrderState.PARTIALLY_FILLED_CANCELLED),
    ("canceled", OrderState.CANCELLED), ("rejected", OrderState.FAILED),
    (3, OrderState.OPEN), ("7", OrderState.CANCELLED), ("weird", None),
])
def test_every_v5_state_and_the_numeric_one_of_a_doc_example(raw: object,
                                                            state: OrderState | None) -> None:
    update = one(notify({**ORDER, "state": raw}))
    assert update.state is state and update.raw_state == str(raw)


def test_filled_twice_is_complete_only_when_the_volumes_add_up() -> None:
    early = one(notify({**ORDER, "state": "filled", "trade_volume": "2"}))
    last = one(notify({**ORDER, "state": "filled", "trade_volume": 3}))
    assert early.final and not early.complete and last.complete
    assert not one(notify({**ORDER, "state": "new"})).final


def test_match_orders_push_a_list_and_did_replaces_uid() -> None:
    push = judge_push({"op": "notify", "topic": "match_orders", "did": 5, "ts": 9,
                       "data": [ORDER, {**ORDER, "order_id": 42, "state": "filled"}]})
    assert isinstance(push, Updates) and push.topic == "match_orders"
    assert [u.order_id for u in push.updates] == ["1329854625038651392", "42"]
    assert push.updates[1].state is OrderState.FILLED


def test_v1_s_topic_with_the_order_beside_it() -> None:
    message = {"op": "notify", "topic": "orders.btc-usdt", "ts": 5, "order_id": 11,
               "order_id_str": "11", "status": 7}
    update = one(message)
    assert update.order_id == "11" and update.contract_code == "BTC-USDT"
    assert update.state is OrderState.CANCELLED


def test_camel_case_ids_and_ids_never_through_a_float() -> None:
    update = one(notify({"orderId": "9", "clientOrderId": "8", "state": "new"}))
    assert (update.order_id, update.client_order_id) == ("9", "8")
    assert judge_push(notify({"order_id": 1.3298546250386514e18, "state": "new"})) == Updates(
        "orders", (), 1737104050301)
    assert one(notify({**ORDER, "client_order_id": None})).client_order_id is None


def test_algo_orders_push_their_algo_ids() -> None:
    update = one(notify({"algo_id": "5", "algo_client_order_id": "6", "state": "effective",
                         "contract_code": "ETH-USDT"}, topic="algo_orders"))
    assert update.kind == "algo" and update.order_id == "5" and update.client_order_id == "6"
    assert update.state is OrderState.GONE and update.contract_code == "ETH-USDT"
    assert algo_state("ACTIVE") is OrderState.OPEN and algo_state("nope") is None


def test_other_topics_and_shapes_are_other() -> None:
    assert isinstance(judge_push(notify({}, topic="positions")), Other)
    assert isinstance(judge_push(notify({}, topic=None)), Other)
    assert isinstance(judge_push([1, 2]), Other)
    assert isinstance(judge_push({"hello": 1}), Other)
    assert isinstance(judge_push({"op": "mystery"}), Other)


@pytest.mark.parametrize(("message", "ack"), [
    ({"op": "auth", "type": "api", "err-code": 0, "ts": 1, "data": {"user-id": 123}},
     AuthAck(True, 0, "", "123")),
    ({"op": "auth", "type": "api", "err-code": 2003, "err-msg": "Authentication failed.",
      "ts": 1}, AuthAck(False, 2003, "Authentication failed.")),
    ({"op": "auth", "err-code": "2001", "err-msg": None, "cid": 7}, AuthAck(False, 2001, "",
                                                                              None, "7")),
    ({"op": "auth", "err-code": True}, AuthAck(False, -1, "")),
])
def test_auth_acks(message: dict[str, Any], ack: AuthAck) -> None:
    assert judge_push(message) == ack


def test_sub_unsub_and_error_acks() -> None:
    assert judge_push({"op": "sub", "cid": "c1", "topic": "orders", "contract_code": "*",
                       "err-code": 0, "ts": 1}) == SubAck("sub", True, 0, "", "orders", "*",
                                                          "c1")
    refused = judge_push({"op": "unsub", "topic": "orders", "contract_code": "X",
                          "err-code": 2012, "err-msg": "Topic not subscribed."})
    assert isinstance(refused, SubAck) and not refused.ok and refused.code == 2012
    error = judge_push({"op": "error", "err-code": 2040, "err-msg": "Missing"})
    assert isinstance(error, SubAck) and not error.ok and error.op == "error"


def test_pings_get_the_pong_they_ask_for_and_close_is_close() -> None:
    ping = judge_push({"op": "ping", "ts": 1737104050245})
    assert ping == Ping(1737104050245)
    assert json.loads(pong_for(ping)) == {"op": "pong", "ts": 1737104050245}
    assert json.loads(pong_for(judge_push({"op": "ping", "ts": "17"}))) == {"op": "pong",
                                                                            "ts": "17"}
    bare = judge_push({"ping": 5})
    assert bare == Ping(5, "bare") and json.loads(pong_for(bare)) == {"pong": 5}
    assert judge_push({"op": "close", "ts": 1}) == Close()


def test_trade_socket_answers_by_cid() -> None:
    body = {"code": 200, "message": "Success", "data": [{"orderId": "1", "code": 200}],
            "ts": 1, "cid": 12}
    assert judge_push(body) == TradeAnswer("12", body)
    recv = {"op": "recv", "cid": "3", "code": 1032}
    assert judge_push(recv) == TradeAnswer("3", recv)
    assert isinstance(judge_push({"cid": "3"}), Other)


@pytest.mark.parametrize("encode", [
    lambda raw: raw.decode(),
    lambda raw: raw,
    gzip.compress,
    lambda raw: zlib.compress(raw)[2:-4],  # raw deflate
], ids=["text", "binary", "gzip", "deflate"])
def test_frames_text_and_compressed(encode: Any) -> None:
    raw = json.dumps(notify(ORDER)).encode()
    assert one(decode_frame(encode(raw))).order_id == "1329854625038651392"


@pytest.mark.parametrize("frame", ["not json", b"\x1f\x8bnope", b"\x00\x01garbage"])
def test_unreadable_frames_are_value_errors(frame: str | bytes) -> None:
    with pytest.raises(ValueError, match="not JSON"):
        decode_frame(frame)
