"""The v5 API over MockTransport and FakeClock: every answer shape the facts list, as tables."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
import pytest

from htx_cancel import (
    APIError,
    CancelClient,
    Credentials,
    DecodeError,
    Failure,
    MigratedAccountError,
    OrderState,
    RetryPolicy,
    VerifyPolicy,
)
from htx_cancel._signing import Signer
from htx_cancel.testing import FakeClock, MockRequest, MockTransport

from ._replies import LOST, replying

BASE = "http://127.0.0.1:8080"
CREDS = Credentials("my-access", "my-secret")
FAST = RetryPolicy(max_attempts=3, backoff=1.0, backoff_max=2.0, deadline=60.0)
BIG = "9223372036854775807"  # past 2**53: a float would round it into another id
T = TypeVar("T")


class Rig:
    """A v5 client (the default) on a mock transport and a fake clock."""

    def __init__(self, handler: Callable[[MockRequest], Any], **kw: Any) -> None:
        self.clock = FakeClock()
        self.transport = MockTransport(replying(handler))
        kw.setdefault("rate_limits", None)
        kw.setdefault("retry", FAST)
        kw.setdefault("seed", 0)
        self.client = CancelClient(CREDS, base_url=BASE, transport=self.transport,
                                   clock=self.clock, **kw)

    @property
    def sent(self) -> list[MockRequest]:
        return [r for r in self.transport.requests if r.path.startswith(("/v5/", "/linear"))]

    async def run(self, call: Awaitable[T]) -> T:
        task = asyncio.ensure_future(call)
        await self.clock.run_until(task.done)
        return await task


def items(req: MockRequest, field: str = "order_id", code: Any = 200,
          **extra: Any) -> list[dict[str, Any]]:
    """One item per id of a v5 batch request, in reverse order (HTX does not keep it)."""
    ids = req.body[field] if isinstance(req.body, dict) else [i[field] for i in req.body]
    return [{field: i, "code": code, "message": "成功", **extra} for i in reversed(ids)]


def ok(data: Any, **head: Any) -> dict[str, Any]:
    return {"code": 200, "message": "Success", "data": data, "ts": 1737104050245, **head}


# -- requests: what goes on the wire ------------------------------------------------------------


async def test_ids_travel_as_arrays_of_strings_ten_a_request_one_field_each() -> None:
    rig = Rig(lambda req: ok(items(req, "order_id" if "order_id" in req.body
                                   else "client_order_id")))
    oids = [str(10**17 + i) for i in range(23)]
    cids = [str(i + 1) for i in range(12)]
    report = await rig.run(rig.client.cancel_orders("btc-usdt", oids, cids))
    assert report.cancelled == [*oids, *cids] and report.ok
    assert {r.path for r in rig.sent} == {"/v5/trade/cancel_batch_orders"}
    bodies = [r.body for r in rig.sent]
    assert all(b["contract_code"] == "BTC-USDT" for b in bodies)
    assert all(len([k for k in b if k != "contract_code"]) == 1 for b in bodies)
    sizes = sorted(len(b.get("order_id") or b["client_order_id"]) for b in bodies)
    assert sizes == [2, 3, 10, 10, 10] and max(sizes) <= 10
    assert all(isinstance(i, str) for b in bodies for v in b.values() if isinstance(v, list)
               for i in v)


async def test_algo_cancels_send_an_array_of_objects_by_algo_id() -> None:
    rig = Rig(lambda req: ok(items(req, "algo_id")))
    ids = [str(500 + i) for i in range(13)]
    report = await rig.run(rig.client.cancel_algo_orders("ETH-USDT", ids))
    assert report.cancelled == ids
    first = rig.sent[0]
    assert first.path == "/v5/algo/cancel_orders" and isinstance(first.body, list)
    assert first.body[0] == {"contract_code": "ETH-USDT", "algo_id": ids[0]}
    assert [len(r.body) for r in rig.sent] == [10, 3]


@pytest.mark.parametrize("method", ["cancel_trigger_orders", "cancel_tpsl_orders",
                                    "cancel_track_orders"])
async def test_v1_strategy_kinds_cancel_algo_orders_on_v5(method: str) -> None:
    rig = Rig(lambda req: ok(items(req, "algo_id")))
    report = await rig.run(getattr(rig.client, method)("BTC-USDT", ["77"]))
    assert report.cancelled == ["77"] and rig.sent[0].path == "/v5/algo/cancel_orders"


async def test_algo_client_ids_go_by_their_own_field() -> None:
    rig = Rig(lambda req: ok(items(req, "algo_client_order_id")))
    report = await rig.run(rig.client.cancel_algo_orders("BTC-USDT",
                                                         algo_client_order_ids=["8", "9"]))
    assert report.cancelled == ["8", "9"]
    assert rig.sent[0].body == [{"contract_code": "BTC-USDT", "algo_client_order_id": "8"},
                                {"contract_code": "BTC-USDT", "algo_client_order_id": "9"}]


@pytest.mark.parametrize("call", [
    lambda c: c.cancel_orders("BTC-USDT", ["1"], margin="cross"),
    lambda c: c.cancel_all_orders("BTC-USDT", direction="buy"),
    lambda c: c.cancel_all_orders("BTC-USDT", offset="open"),
    lambda c: c.cancel_all_orders(margin="isolated"),
    lambda c: c.cancel_all_orders(side="long"),
    lambda c: c.cancel_all_orders(position_side="up"),
    lambda c: c.cancel_all_trigger_orders("BTC-USDT"),
    lambda c: c.cancel_algo_orders("BTC-USDT", ["1,2"]),
    lambda c: c.cancel_algo_orders("BTC-USDT", ["5"], ["5"]),
    lambda c: c.cancel_orders("BTC-USDT", "123"),
])
async def test_v1_only_words_and_bad_input_are_refused_before_anything_is_sent(
        call: Callable[[CancelClient], Awaitable[Any]]) -> None:
    rig = Rig(lambda req: pytest.fail("nothing may be sent"))
    with pytest.raises(ValueError):
        await rig.run(call(rig.client))
    assert rig.transport.requests == []


@pytest.mark.parametrize("call", [
    lambda c: c.cancel_all_orders("BTC-USDT", side="buy"),
    lambda c: c.cancel_all_orders("BTC-USDT", position_side="long"),
    lambda c: c.cancel_algo_orders("BTC-USDT", ["1"]),
    lambda c: c.cancel_all_orders(),
])
async def test_v5_only_words_are_refused_on_v1(
        call: Callable[[CancelClient], Awaitable[Any]]) -> None:
    client = CancelClient(CREDS, api="v1", base_url=BASE, rate_limits=None,
                          transport=MockTransport(replying(lambda req: pytest.fail("sent"))))
    with pytest.raises(ValueError):
        await call(client)


# -- answers: every shape, matched by id ----------------------------------------------------------


@pytest.mark.parametrize("head", [
    {}, {"message": None}, {"msg": "Success", "message": None}, {"success": True},
    {"code": "200"}, {"ts": None}, {"ts": "1737104050245"},
])
async def test_every_success_envelope(head: dict[str, Any]) -> None:
    def handler(req: MockRequest) -> Any:
        answer = ok(items(req))
        answer.update(head)
        if head.get("ts", 0) is None:
            del answer["ts"]
        return answer

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1", "2"]))
    assert report.cancelled == ["1", "2"] and not report.failed


ITEM_TABLE = [
    # (item fields, where the id ends, code kept)
    ({"code": 200}, "cancelled", None),
    ({"code": "200"}, "cancelled", None),
    ({"code": 0}, "cancelled", None),
    ({"code": 1071, "message": "Repeated cancellation."}, "cancelled", None),
    ({"code": 1061, "message": "This order doesn't exist."}, "failed", 1061),
    ({"code": 1063, "message": "The order has been executed."}, "failed", 1063),
    ({"code": "1062", "message": "Cancelling."}, "failed", 1062),
    ({"success": True}, "cancelled", None),
    ({"success": False, "error_code": 1061, "error_msg": "gone"}, "failed", 1061),
    ({"success": False}, "failed", "failed"),
    ({"code": "order-not-found", "message": "?"}, "failed", "order-not-found"),
]


@pytest.mark.parametrize(("fields", "where", "code"), ITEM_TABLE)
async def test_item_results(fields: dict[str, Any], where: str, code: Any) -> None:
    def handler(req: MockRequest) -> Any:
        return ok([{"order_id": "2", "client_order_id": "2", "code": 200},
                   {"order_id": "1", "client_order_id": "1", **fields}])

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1", "2"]))
    assert "2" in report.cancelled
    assert ("1" in getattr(report, where))
    if code is not None:
        assert report.failed["1"].code == code
        assert report.failed["1"].message != "Success"  # the item's words, not the envelope's


async def test_an_id_the_answer_does_not_name_is_not_cancelled() -> None:
    rig = Rig(lambda req: ok([{"order_id": "1", "code": 200},
                              {"order_id": "99", "code": 200}]))  # 99 was never asked
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1", "2"]))
    assert report.cancelled == ["1"] and report.unknown == ["2"]
    assert "not named" in report.unknown_reasons["2"] and "99" not in report.failed


async def test_items_match_by_the_request_s_field_not_by_position() -> None:
    # cancel by client id: the answer names both ids of each order, in another order
    def handler(req: MockRequest) -> Any:
        return ok([{"order_id": "70", "client_order_id": "7", "code": 1061, "message": "no"},
                   {"order_id": "8", "client_order_id": "6", "code": 200}])

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", client_order_ids=["6", "7"]))
    assert report.cancelled == ["6"] and report.failed["7"].code == 1061
    assert "8" not in report.cancelled


async def test_big_numeric_ids_are_never_rounded_into_another_id() -> None:
    def handler(req: MockRequest) -> Any:
        raw = '{"code":200,"message":"Success","data":[{"order_id":' + BIG + ',"code":200}]}'
        return (200, raw.encode())

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", [BIG]))
    assert report.cancelled == [BIG]


async def test_ids_sent_as_floats_are_not_trusted() -> None:
    rig = Rig(lambda req: (200, b'{"code":200,"data":[{"order_id":1.3298546250386514e18,'
                                b'"code":200}]}'))
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1329854625038651392"]))
    assert report.unknown == ["1329854625038651392"] and not report.cancelled


@pytest.mark.parametrize(("answer", "code"), [
    ({"code": 1061, "message": "This order doesn't exist.", "ts": 1}, 1061),
    ({"code": "1067", "msg": "Illegal parameter", "data": None}, 1067),
    ({"code": 1014, "message": "This contract doesn't exist."}, 1014),
])
async def test_a_whole_request_error_fails_its_batch_not_the_call(answer: dict[str, Any],
                                                                  code: int) -> None:
    def handler(req: MockRequest) -> Any:
        return answer if "1" in req.body["order_id"] else ok(items(req))

    rig = Rig(handler)
    ids = [str(i) for i in range(1, 21)]
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ids))
    assert {f.code for f in report.failed.values()} == {code} and len(report.failed) == 10
    assert report.cancelled == ids[10:]


async def test_rate_limited_v5_answers_pause_and_are_sent_again() -> None:
    def handler(req: MockRequest) -> Any:
        if req.n == 1:
            return {"code": 1032, "message": "The number of access exceeded the limit."}
        return ok(items(req))

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert report.cancelled == ["1"] and report.batches[0].attempts == 2


async def test_cancel_all_of_the_account_names_every_id() -> None:
    def handler(req: MockRequest) -> Any:
        assert req.body == {}
        return ok([{"order_id": BIG, "client_order_id": "1", "code": 200},
                   {"order_id": "5", "code": 200},
                   {"order_id": "6", "code": 1063, "message": "executed"}])

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_all_orders())
    assert report.cancelled == [BIG, "5"] and report.failed["6"].code == 1063
    assert rig.sent[0].path == "/v5/trade/cancel_all_orders"


async def test_cancel_all_filters_travel_as_given() -> None:
    rig = Rig(lambda req: ok([]))
    report = await rig.run(rig.client.cancel_all_orders("btc-usdt", side="sell",
                                                        position_side="short"))
    assert report.ok and report.total == 0
    assert rig.sent[0].body == {"contract_code": "BTC-USDT", "side": "sell",
                                "position_side": "short"}


# -- migrated accounts ----------------------------------------------------------------------------

MIGRATED = {"status": "error", "err_code": 6023,
            "err_msg": "The new feature is temporarily unavailable.", "ts": 1}


@pytest.mark.parametrize("code", [6023, 6002])
async def test_a_migrated_account_costs_one_v1_request_and_says_use_v5(code: int) -> None:
    transport = MockTransport(replying(lambda req: {**MIGRATED, "err_code": code}))
    clock = FakeClock()
    client = CancelClient(CREDS, api="v1", base_url=BASE, transport=transport, clock=clock,
                          rate_limits=None, retry=FAST)
    ids = [str(i) for i in range(1, 200)]
    task = asyncio.ensure_future(client.cancel_orders("BTC-USDT", ids))
    await clock.run_until(task.done)
    report = task.result()
    assert len(transport.requests) == 1
    assert set(report.failed) == set(ids) and not report.cancelled and not report.unknown
    assert all(f.code == code and 'api="v5"' in f.message for f in report.failed.values())
    assert report.auth_failure is None
    with pytest.raises(MigratedAccountError, match='api="v5"') as raised:
        await client.request("/linear-swap-api/v1/swap_order", {"contract_code": "BTC-USDT"})
    assert raised.value.code == code and isinstance(raised.value, APIError)
    assert len(transport.requests) == 2  # the request is never sent twice


# -- request(), the switch, verification ----------------------------------------------------------


async def test_get_requests_sign_their_parameters() -> None:
    def handler(req: MockRequest) -> Any:
        params = {k: v for k, v in req.query.items()
                  if k not in ("AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp",
                               "Signature")}
        expected = Signer("my-access", "my-secret", "127.0.0.1:8080").params(
            "GET", req.path, req.query["Timestamp"], params)
        assert expected["Signature"] == req.query["Signature"]
        return ok({"order_id": params["order_id"], "state": "canceled"})

    rig = Rig(handler)
    answer = await rig.run(rig.client.request("/v5/trade/order", {"order_id": BIG,
                                                                  "contract_code": "BTC-USDT"},
                                              method="GET"))
    assert answer["data"]["state"] == "canceled" and rig.sent[0].method == "GET"
    assert rig.sent[0].query["order_id"] == BIG and rig.sent[0].body is None


async def test_a_placement_is_never_sent_twice_once_it_may_have_arrived() -> None:
    rig = Rig(lambda req: LOST)
    with pytest.raises(Exception, match="closed"):
        await rig.run(rig.client.request("/v5/trade/order", {"contract_code": "BTC-USDT"}))
    assert len(rig.sent) == 1


async def test_the_switch_arms_v5_cancel_after_with_string_flags() -> None:
    def handler(req: MockRequest) -> Any:
        return ok({"current_time": 1000, "trigger_time": 11000})

    rig = Rig(handler)

    async def arm_and_leave() -> Any:
        async with rig.client.cancel_after(10.0) as switch:
            return switch.trigger_time

    assert await rig.run(arm_and_leave()) == 11000
    arm, disarm = rig.sent[0], rig.sent[-1]
    assert arm.path == "/v5/trade/cancel-after"
    assert arm.body == {"on_off": "1", "time_out": 10000} and disarm.body == {"on_off": "0"}


STATES = {"1": "canceled", "2": "filled", "3": "partially_canceled"}


async def test_verify_on_v5_reads_the_listings_then_order_info_for_the_rest() -> None:
    def handler(req: MockRequest) -> Any:
        if req.path == "/v5/trade/order/history":
            if req.query["margin_mode"] != "cross":
                return ok([])
            return ok([{"order_id": oid, "state": state, "contract_code": "BTC-USDT"}
                       for oid, state in STATES.items()])
        if req.path == "/v5/trade/order/opens":
            return ok([])
        if req.method == "GET":
            assert req.query["order_id"] == "4"
            return {"code": 1061, "message": "This order doesn't exist.", "ts": 1}
        return ok(items(req))

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1", "2", "3", "4"],
                                                    verify=True))
    assert report.states == {"1": OrderState.CANCELLED, "2": OrderState.FILLED,
                             "3": OrderState.PARTIALLY_FILLED_CANCELLED,
                             "4": OrderState.NOT_FOUND}
    assert report.cancelled == ["1", "3", "4"] and list(report.failed) == ["2"]
    reads = [r.path for r in rig.sent if r.method == "GET"]
    # the history of each margin mode; the one id left is one order info (cheaper than a page)
    assert sorted(reads) == ["/v5/trade/order", "/v5/trade/order/history",
                             "/v5/trade/order/history"]


async def test_verify_on_v5_cancels_again_what_is_still_open() -> None:
    cancels: list[list[str]] = []
    state = {"1": "new"}

    def handler(req: MockRequest) -> Any:
        if req.method == "GET":
            return ok({"order_id": "1", "state": state["1"]})
        cancels.append(req.body["order_id"])
        if len(cancels) == 2:
            state["1"] = "canceled"
        return ok(items(req))

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"], verify=True))
    assert cancels == [["1"], ["1"]] and report.states["1"] is OrderState.CANCELLED
    assert report.cancelled == ["1"]



async def test_verify_algo_orders_on_v5_walks_every_type_s_listing() -> None:
    still_open = {"tpsl": [str(1000 + i) for i in range(100)] + ["2000"],
                  "trigger": ["2001"]}
    pages: list[dict[str, str]] = []

    def handler(req: MockRequest) -> Any:
        if req.method == "GET":
            assert req.path == "/v5/algo/order/opens"
            pages.append(dict(req.query))
            listed = [i for i in still_open.get(req.query["type"], [])
                      if int(i) > int(req.query.get("from", "0"))][:100]
            return ok([{"algo_id": i, "type": req.query["type"]} for i in listed])
        return ok(items(req, "algo_id"))

    rig = Rig(handler)
    ids = ["1050", "2000", "3000", "4000"]
    report = await rig.run(rig.client.cancel_algo_orders(
        "BTC-USDT", ids, verify=VerifyPolicy(max_recancels=1, backoff=0.1, max_rounds=2)))
    assert report.states == {"1050": OrderState.OPEN, "2000": OrderState.OPEN,
                             "3000": OrderState.GONE, "4000": OrderState.GONE}
    assert report.cancelled == ["3000", "4000"]
    assert set(report.failed) == {"1050", "2000"}  # still listed after every re-cancel
    first_pass = pages[:6]
    assert [p["type"] for p in first_pass] == ["trigger", "tp", "sl", "tpsl", "tpsl",
                                              "trailing_stop"]
    assert first_pass[4]["from"] == "1099"  # the second tp/sl page starts after the first


# -- one attempt machine for every request --------------------------------------------------------


REFUSED_READ = {"code": 1014, "message": "This contract doesn't exist."}


@pytest.mark.parametrize(("first", "reads", "learned"), [
    ([LOST, {"code": 1004, "message": "busy"},
      {"code": 1431, "message": "maintenance"}], 4, True),
    ([{"code": "timeout", "message": "timeout"}], 2, True),
    ([REFUSED_READ] * 9, 2, False),  # never repeated: one read, and one more when it runs
])
async def test_verification_reads_are_repeated_by_the_attempt_machine(
        first: list[Any], reads: int, learned: bool) -> None:
    script = list(first)

    def handler(req: MockRequest) -> Any:
        if req.method == "GET":
            return script.pop(0) if script else ok({"order_id": "1", "state": "canceled"})
        return ok(items(req))

    rig = Rig(handler, retry=RetryPolicy(max_attempts=2, backoff=0.1, deadline=60.0))
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"],
                                                    verify=VerifyPolicy(attempts=4)))
    assert len([r for r in rig.sent if r.method == "GET"]) == reads
    assert (report.states == {"1": OrderState.CANCELLED}) is learned
    assert report.cancelled == ["1"]


async def test_the_switch_s_first_arm_is_repeated_by_the_attempt_machine() -> None:
    script: list[Any] = [LOST, {"code": 1004, "message": "busy"}]

    def handler(req: MockRequest) -> Any:
        return script.pop(0) if script else ok({"current_time": 1, "trigger_time": 2})

    rig = Rig(handler)
    switch = rig.client.cancel_after(5.0)
    await rig.run(switch.start())
    # lost, busy, armed: the first arm took three attempts (then maybe a re-arm, on time)
    assert switch.trigger_time == 2 and len(rig.sent) == 3 + switch.rearms
    await switch.stop(disarm=False)


async def test_a_placement_is_not_repeated_after_maintenance_or_busy() -> None:
    rig = Rig(lambda req: {"code": 1431, "message": "maintenance"})
    with pytest.raises(APIError, match="1431"):
        await rig.run(rig.client.request("/v5/trade/order", {"contract_code": "BTC-USDT"}))
    assert len(rig.sent) == 1


class Placed(msgspec.Struct):
    order_id: str
    client_order_id: str | None = None


async def test_request_decodes_the_answer_s_data_into_a_type() -> None:
    rig = Rig(lambda req: ok({"order_id": BIG, "client_order_id": "7"}))
    placed = await rig.run(rig.client.request("/v5/trade/order", {"contract_code": "BTC-USDT"},
                                              type=Placed))
    assert placed == Placed(BIG, "7")
    whole = await rig.run(rig.client.request("/v5/trade/order", {}))
    assert whole["data"]["order_id"] == BIG
    with pytest.raises(DecodeError, match="data"):
        await rig.run(rig.client.request("/v5/trade/order", {}, type=list[int]))


def test_a_failure_s_numeric_view() -> None:
    assert Failure(1061, "no").number == 1061
    assert Failure("not-sent", "refused").number is None


async def test_a_cancel_by_client_ids_keeps_the_order_ids_the_answer_names() -> None:
    def handler(req: MockRequest) -> Any:
        if "order_id" in req.body:
            return ok(items(req))
        return ok([{"order_id": "9" + c, "client_order_id": c, "code": 200}
                   for c in req.body["client_order_id"]])

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", client_order_ids=["1", "2"]))
    assert report.order_ids == {"1": "91", "2": "92"}
    by_order = await rig.run(rig.client.cancel_orders("BTC-USDT", ["5"]))
    assert by_order.order_ids == {}  # asked by order id: nothing to map


async def test_a_retried_cancel_by_client_ids_that_finds_nothing_is_unknown_not_failed() -> None:
    # the lost first attempt may have cancelled them, and v5 then forgets their client ids
    def handler(req: MockRequest) -> Any:
        if req.n == 1:
            return LOST
        return ok(items(req, "client_order_id", code=1061, message="not found"))

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", client_order_ids=["7"]))
    assert report.unknown == ["7"] and not report.failed
    assert "earlier attempt" in report.unknown_reasons["7"]
    fresh = Rig(lambda req: ok(items(req, "client_order_id", code=1061, message="no")))
    first = await fresh.run(fresh.client.cancel_orders("BTC-USDT", client_order_ids=["7"]))
    assert first.failed["7"].code == 1061  # asked once: not found is a failure
