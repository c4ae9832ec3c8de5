"""CancelClient over MockTransport and FakeClock: every path of the driver, no real sleeps."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from htx_cancel import (
    APIError,
    AuthenticationError,
    BatchRecord,
    CancelClient,
    CancelFailed,
    CancelReport,
    ConnectError,
    Credentials,
    DecodeError,
    RateLimiter,
    RateLimits,
    RequestEvent,
    RetryPolicy,
    TransportError,
    shared_limiter,
)
from htx_cancel._catalog import Endpoint
from htx_cancel._limits import Ticket
from htx_cancel._signing import Signer, format_timestamp
from htx_cancel.testing import FakeClock, MockRequest, MockTransport

from ._replies import LOST, REFUSED, TIMEOUT, replying

BASE = "http://127.0.0.1:8080"
CREDS = Credentials("my-access", "my-secret")
FAST = RetryPolicy(max_attempts=3, backoff=1.0, backoff_max=2.0, deadline=60.0)
T = TypeVar("T")


def ok_all(req: MockRequest) -> Any:
    ids = req.body.get("order_id") or req.body.get("client_order_id") or ""
    return {"status": "ok", "data": {"errors": [], "successes": ids}, "ts": 1}


def error(code: int | str, msg: str = "msg", status: int = 200) -> Any:
    return (status, {"status": "error", "err_code": code, "err_msg": msg, "ts": 1})


class Rig:
    """A client on a mock transport and a fake clock."""

    def __init__(self, handler: Callable[[MockRequest], Any], **kw: Any) -> None:
        self.clock: FakeClock = kw.pop("clock", None) or FakeClock()
        self.transport = MockTransport(replying(handler))
        kw.setdefault("rate_limits", None)
        kw.setdefault("retry", FAST)
        kw.setdefault("seed", 0)
        self.client = CancelClient(CREDS, api="v1", base_url=BASE, transport=self.transport,
                                   clock=self.clock, **kw)

    @property
    def sent(self) -> list[MockRequest]:
        """The signed requests (not the timestamp requests)."""
        return [r for r in self.transport.requests if r.path.startswith("/linear-swap-api/")]

    async def run(self, call: Awaitable[T]) -> T:
        """Await ``call`` while moving fake time as far as it needs."""
        task = asyncio.ensure_future(call)
        await self.clock.run_until(task.done)
        return await task


def valid_signature(req: MockRequest, method: str = "POST") -> bool:
    own = {k: v for k, v in req.query.items()
           if k not in ("AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp",
                        "Signature")}
    expected = Signer("my-access", "my-secret", "127.0.0.1:8080").params(
        method, req.path, req.query["Timestamp"], own)
    return expected["Signature"] == req.query["Signature"]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.cancel_orders("BTC-USDT", ["1", "2,3"]),
        lambda c: c.cancel_orders("BTC-USDT", ["1", ""]),
        lambda c: c.cancel_orders("BTC-USDT", client_order_ids=["9223372036854775808"]),
        lambda c: c.cancel_orders("", ["1"]),
        lambda c: c.cancel_orders("BTC-USDT", ["5"], ["5"]),
        lambda c: c.cancel_trigger_orders("BTC-USDT", ["1 2"]),
        lambda c: c.cancel_all_orders("BTC-USDT", direction="long"),
        lambda c: c.cancel_all_track_orders("BTC-USDT", offset="both"),
        lambda c: c.cancel_orders("BTC-USDT", ["1"], margin="portfolio"),
        lambda c: c.cancel("trigger", "BTC-USDT", client_order_ids=["1"]),
        lambda c: c.cancel("order", "BTC-USDT", ["1"], priority="urgent"),
        lambda c: c.cancel("stop", "BTC-USDT", ["1"]),
        lambda c: c.request("/linear-swap-api/v1/unknown_thing", {}),
        lambda c: c.request("swap_order", {}, method="DELETE"),
    ],
)
async def test_bad_input_raises_before_anything_is_sent(call: Callable[[Any], Any]) -> None:
    rig = Rig(ok_all)
    with pytest.raises(ValueError):
        await call(rig.client)
    assert rig.transport.requests == []


async def test_chunks_signs_and_merges_in_the_order_given() -> None:
    ids = [str(10**18 + i) for i in range(60)]
    rig = Rig(ok_all)
    report = await rig.run(rig.client.cancel_orders("btc-usdt", ids + ids[:5]))
    assert report.cancelled == ids and not report.failed and not report.unknown
    assert [len(r.body["order_id"].split(",")) for r in rig.sent] == [25, 25, 10]
    for req in rig.sent:
        assert req.endpoint == "swap_cancel" and req.body["contract_code"] == "BTC-USDT"
        assert valid_signature(req)
    assert [len(b.ids) for b in report.batches] == [25, 25, 10]
    assert all(b.attempts == 1 and b.status == 200 and b.outcome == "ok" and not b.errors
               for b in report.batches)


async def test_the_named_methods_are_the_generic_one() -> None:
    rig = Rig(ok_all)
    named = await rig.run(rig.client.cancel_tpsl_orders("ETH-USDT", ["1", "2"], margin="cross"))
    generic = await rig.run(rig.client.cancel("tpsl", "ETH-USDT", ["1", "2"], margin="cross"))
    assert named.cancelled == generic.cancelled == ["1", "2"]
    assert [r.endpoint for r in rig.sent] == ["swap_cross_tpsl_cancel"] * 2
    assert rig.sent[0].body == rig.sent[1].body


async def test_order_ids_and_client_ids_never_share_a_request() -> None:
    rig = Rig(ok_all)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["11", "12"], [1, 2],
                                                    margin="cross"))
    assert report.cancelled == ["11", "12", "1", "2"]
    fields = [sorted(k for k in r.body if k != "contract_code") for r in rig.sent]
    assert fields == [["order_id"], ["client_order_id"]]
    assert {r.endpoint for r in rig.sent} == {"swap_cross_cancel"}


@pytest.mark.parametrize(
    ("kind", "margin", "endpoint", "per_call"),
    [("trigger", "isolated", "swap_trigger_cancel", 20),
     ("trigger", "cross", "swap_cross_trigger_cancel", 10),
     ("tpsl", "isolated", "swap_tpsl_cancel", 10),
     ("track", "cross", "swap_cross_track_cancel", 10)],
)
async def test_strategy_cancels_use_their_endpoint_and_size(kind: str, margin: str,
                                                            endpoint: str,
                                                            per_call: int) -> None:
    rig = Rig(ok_all)
    ids = [str(i) for i in range(1, 31)]
    report = await rig.run(rig.client.cancel(kind, "ETH-USDT", ids, margin=margin))  # type: ignore[arg-type]
    assert report.cancelled == ids
    assert {r.endpoint for r in rig.sent} == {endpoint}
    assert max(len(r.body["order_id"].split(",")) for r in rig.sent) == per_call


async def test_per_id_errors_and_1062_in_both_lists() -> None:
    def handler(req: MockRequest) -> Any:
        return {"status": "ok", "ts": "1603701351602", "data": {"successes": "1,3", "errors": [
            {"order_id": "2", "err_code": 1061, "err_msg": "This order doesn't exist."},
            {"order_id": "3", "err_code": 1062, "err_msg": "Cancelling. Please be patient."},
            {"order_id": "4", "err_code": "1071", "err_msg": "Repeated cancellation."}]}}

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1", "2", "3", "4", "5"]))
    assert report.cancelled == ["1", "3", "4"]  # 1071: already cancelled, gone as asked
    assert {k: v.code for k, v in report.failed.items()} == {"2": 1061}
    assert report.unknown == ["5"] and "not named" in report.unknown_reasons["5"]


async def test_whole_request_error_fails_every_id_of_its_batch_only() -> None:
    def handler(req: MockRequest) -> Any:
        if "1" in req.body["order_id"].split(","):
            return {"code": 1056, "message": "Settlement in progress"}
        return ok_all(req)

    rig = Rig(handler)
    ids = [str(i) for i in range(1, 31)]
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ids))
    assert set(report.failed) == set(ids[:25]) and report.cancelled == ids[25:]
    assert report.failed["1"].code == 1056 and report.failed["1"].message == \
        "Settlement in progress"
    assert len(rig.sent) == 2  # not retried


async def test_lost_answer_is_retried_re_signed_and_1071_then_means_cancelled() -> None:
    def handler(req: MockRequest) -> Any:
        if req.n == 1:
            return (504, "<html>gateway timeout</html>")
        return {"status": "ok", "ts": 1, "data": {"successes": "2", "errors": [
            {"order_id": "1", "err_code": 1071, "err_msg": "Repeated cancellation."}]}}

    rig = Rig(handler, retry=RetryPolicy(backoff=2.0, backoff_max=2.0))
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1", "2"]))
    assert report.cancelled == ["1", "2"] and len(rig.sent) == 2
    record = report.batches[0]
    assert record.attempts == 2 and record.errors == ("HTTP 504 from the exchange",)
    assert record.error is None and record.outcome == "ok"
    first, second = rig.sent
    # the backoff (at least 1 s of fake time) crossed a second: a new timestamp, re-signed
    assert first.query["Timestamp"] != second.query["Timestamp"]
    assert first.query["Signature"] != second.query["Signature"]
    assert valid_signature(first) and valid_signature(second)


async def test_no_answer_after_all_attempts_is_unknown_with_every_reason() -> None:
    rig = Rig(lambda req: TIMEOUT)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1", "2"]))
    assert report.unknown == ["1", "2"] and len(rig.sent) == 3
    assert "timed out" in report.unknown_reasons["1"] and not report.ok
    assert len(report.batches[0].errors) == 3


async def test_the_exchange_timeout_code_is_a_lost_answer() -> None:
    def handler(req: MockRequest) -> Any:
        if req.n == 1:
            return {"status": "error", "err_code": "timeout", "err_msg": "timeout"}
        return {"status": "ok", "data": {"successes": "", "errors": [
            {"order_id": "1", "err_code": 1071, "err_msg": "Repeated cancellation."}]}}

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert report.cancelled == ["1"]  # the first attempt may have cancelled it


async def test_busy_then_not_json_then_ok() -> None:
    answers: list[Any] = [error(1004, "busy"), (200, '{"status": "ok", "da')]

    rig = Rig(lambda req: answers.pop(0) if answers else ok_all(req))
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert report.cancelled == ["1"] and report.batches[0].attempts == 3
    assert report.batches[0].errors == ("1004: busy", "HTTP 200: answer is not HTX's JSON")


async def test_rejection_after_a_lost_answer_is_unknown_not_failed() -> None:
    rig = Rig(lambda req: (500, "oops") if req.n == 1 else error(1004, "busy"))
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert report.unknown == ["1"] and "1004" in report.unknown_reasons["1"]


async def test_refused_connections_are_retried_then_fail_as_not_sent() -> None:
    limiter = RecordingLimiter()
    rig = Rig(lambda req: REFUSED, limiter=limiter)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1", "2"]))
    assert not report.unknown and set(report.failed) == {"1", "2"}
    assert report.failed["1"].code == "not-sent" and "refused" in report.failed["1"].message
    assert len(rig.sent) == 3
    # a slot granted to a request that never left goes straight back
    assert (limiter.unused, limiter.completed) == (3, 0)


async def test_refused_then_answered_is_cancelled_and_a_lost_one_is_not_claimed() -> None:
    answers: list[Any] = [REFUSED, LOST]

    def handler(req: MockRequest) -> Any:
        if answers:
            return answers.pop(0)
        return {"status": "ok", "data": {"successes": "", "errors": [
            {"order_id": "1", "err_code": 1071, "err_msg": "Repeated cancellation."}]}}

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert report.cancelled == ["1"] and report.batches[0].attempts == 3


async def test_a_wrong_key_costs_one_request_and_stops_the_call() -> None:
    rig = Rig(lambda req: error(1253, "Error in signature verification."))
    ids = [str(i) for i in range(1, 2201)]
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ids))
    assert len(rig.sent) == 1
    assert len(report.failed) == 2200 and {f.code for f in report.failed.values()} == {1253}
    assert report.auth_failure is not None and report.auth_failure.code == 1253
    assert report.batches[0].attempts == 1
    assert all(b.attempts == 0 and b.outcome == "failed" and "not sent" in (b.error or "")
               for b in report.batches[1:])
    with pytest.raises(AuthenticationError) as info:
        report.raise_for_failures()
    assert info.value.code == 1253


@pytest.mark.parametrize("answer", [
    error(403, "Incorrect Access key", status=403),
    (200, {"status": "error", "err-code": "api-signature-not-valid", "err-msg": "invalid"}),
    error(12003, "Signature version wrong"),
])
async def test_every_rejected_key_fails_fast(answer: Any) -> None:
    rig = Rig(lambda req: answer)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", [str(i) for i in range(1, 80)]))
    assert len(rig.sent) == 1 and len(report.failed) == 79 and report.auth_failure is not None


async def test_a_key_rejected_later_stops_what_is_not_yet_sent() -> None:
    rejected = False

    def handler(req: MockRequest) -> Any:
        return error(1253, "revoked") if rejected else ok_all(req)

    rig = Rig(handler, max_in_flight=1)
    assert (await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))).ok
    rejected = True
    report = await rig.run(rig.client.cancel_orders("BTC-USDT",
                                                    [str(i) for i in range(1, 101)]))
    assert len(rig.sent) == 2 and len(report.failed) == 100


async def test_one_resync_for_every_batch_in_flight() -> None:
    skew = 0.0

    def handler(req: MockRequest) -> Any:
        if req.path == "/api/v1/timestamp":
            return {"status": "ok", "ts": str(int((rig.clock.wall() + skew) * 1000))}
        if req.query["Timestamp"] != format_timestamp(rig.clock.wall() + skew):
            return error(12001, "Invalid submission time.")
        return ok_all(req)

    rig = Rig(handler)
    assert (await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))).ok  # the key is good
    skew = 400.0
    ids = [str(i) for i in range(1, 1001)]
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ids))
    assert report.cancelled == ids
    syncs = [r for r in rig.transport.requests if r.path == "/api/v1/timestamp"]
    assert len(syncs) == 1 and rig.client.time_offset == pytest.approx(400, abs=1)
    assert len(rig.sent) == 1 + 40 + 40  # every batch in flight was rejected once, not twice


async def test_a_skewed_clock_on_a_new_client_costs_one_rejection() -> None:
    def handler(req: MockRequest) -> Any:
        if req.path == "/api/v1/timestamp":
            return {"status": "ok", "ts": int((rig.clock.wall() - 400) * 1000)}
        if req.query["Timestamp"] != format_timestamp(rig.clock.wall() - 400):
            return error(12001, "Invalid submission time.")
        return ok_all(req)

    rig = Rig(handler)
    ids = [str(i) for i in range(1, 1001)]
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ids))
    assert report.cancelled == ids and len(rig.sent) == 41
    assert len(rig.transport.requests) == 42  # one time request


async def test_a_timestamp_rejected_after_the_resync_stops_the_call() -> None:
    def handler(req: MockRequest) -> Any:
        if req.path == "/api/v1/timestamp":
            return {"status": "ok", "ts": 1_700_000_000_000}
        return error(12001, "Invalid submission time.")

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", [str(i) for i in range(1, 60)]))
    assert len(rig.sent) == 2 and len(report.failed) == 59
    assert report.auth_failure is not None and report.auth_failure.code == 12001


async def test_a_failed_resync_ends_the_batch_with_its_rejection() -> None:
    def handler(req: MockRequest) -> Any:
        if req.path == "/api/v1/timestamp":
            return (502, "<html>bad gateway</html>")
        return error(12001, "Invalid submission time.")

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert report.failed["1"].code == 12001
    assert "re-sync failed" in (report.batches[0].error or "")


async def test_a_failed_resync_is_shared_by_every_batch_waiting_for_it() -> None:
    skew = 0.0

    def handler(req: MockRequest) -> Any:
        if req.path == "/api/v1/timestamp":
            return (502, "<html>bad gateway</html>")
        if skew:
            return error(12001, "Invalid submission time.")
        return ok_all(req)

    rig = Rig(handler)
    assert (await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))).ok
    skew = 400.0
    report = await rig.run(rig.client.cancel_orders("BTC-USDT",
                                                    [str(i) for i in range(1, 76)]))
    assert len(report.failed) == 75 and {f.code for f in report.failed.values()} == {12001}
    assert len(rig.transport.requests) - len(rig.sent) == 1  # one time request for all three


async def test_1032_pauses_the_pool_until_the_reset_then_retries() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(), clock=clock)

    def handler(req: MockRequest) -> Any:
        if req.n == 1:
            return (200, {"status": "error", "err_code": 1032, "err_msg": "limit", "ts": 1},
                    {"ratelimit-limit": "72", "ratelimit-interval": "3000",
                     "ratelimit-remaining": "0", "ratelimit-reset": "1500"})
        return ok_all(req)

    rig = Rig(handler, limiter=limiter, clock=clock)  # one clock for the client and limiter
    start = clock.now()
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert report.cancelled == ["1"] and report.batches[0].attempts == 2
    assert report.batches[0].sent_at - start == pytest.approx(1.5 + limiter.limits.guard)


async def test_without_a_limiter_1032_waits_for_the_reset_before_the_retry() -> None:
    times: list[float] = []

    def handler(req: MockRequest) -> Any:
        times.append(rig.clock.now())
        if req.n == 1:
            return (200, {"status": "error", "err_code": 1032, "err_msg": "limit", "ts": 1},
                    {"ratelimit-limit": "72", "ratelimit-interval": "3000",
                     "ratelimit-remaining": "0", "ratelimit-reset": "1500"})
        if req.n == 2:
            return error(1032, "limit")  # no headers: a backoff
        return ok_all(req)

    rig = Rig(handler, retry=RetryPolicy(max_attempts=4, backoff=0.2, backoff_max=0.2))
    assert not rig.client.limiter.stats().pools  # limiting off: a limiter that never waits
    start = rig.clock.now()
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert report.cancelled == ["1"] and report.batches[0].attempts == 3
    sent = [t - start for t in times]
    assert sent[1] == pytest.approx(1.5) and 1.6 <= sent[2] <= 1.7


async def test_without_a_limiter_a_reset_past_the_deadline_is_not_waited_for() -> None:
    def handler(req: MockRequest) -> Any:
        return (200, {"status": "error", "err_code": 1032, "err_msg": "limit", "ts": 1},
                {"ratelimit-limit": "72", "ratelimit-interval": "3000",
                 "ratelimit-remaining": "0", "ratelimit-reset": "2500"})

    rig = Rig(handler, retry=RetryPolicy(max_attempts=9, deadline=2.0))
    start = rig.clock.now()
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert len(rig.sent) == 1 and report.failed["1"].code == 1032
    assert rig.clock.now() - start < 2.0


async def test_no_retry_starts_after_the_deadline_even_after_a_pause() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(), clock=clock)
    rig = Rig(lambda req: error(1032, "limit"), limiter=limiter, clock=clock,
              retry=RetryPolicy(max_attempts=10, deadline=2.0))
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    # the pool is held a whole window (3 s, no headers): the retry's slot comes after the
    # deadline, so it is handed back and the id fails with the 1032 it got
    assert len(rig.sent) == 1 and report.failed["1"].code == 1032
    assert "deadline" in (report.batches[0].error or "")
    assert limiter.scheduler.pools["trade"].busy == 0


async def test_no_retry_starts_after_the_deadline() -> None:
    policy = RetryPolicy(max_attempts=50, backoff=1.0, backoff_max=1.0, deadline=10.0)
    rig = Rig(lambda req: (500, "oops"), retry=policy)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert report.unknown == ["1"] and "HTTP 500" in report.unknown_reasons["1"]
    assert report.batches[0].sent_at < 1000.0 + 10 and 10 <= len(rig.sent) <= 20


async def test_http_429_from_the_cdn_is_a_rate_limit_not_a_lost_answer() -> None:
    def handler(req: MockRequest) -> Any:
        if req.n == 1:
            return (429, "Too Many Requests")
        return {"status": "ok", "ts": 1, "data": {"successes": "", "errors": [
            {"order_id": "1", "err_code": 1071, "err_msg": "Repeated cancellation."}]}}

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    # the 429 never reached the exchange: paused and sent again, the 1071 means it is gone
    assert report.cancelled == ["1"] and report.batches[0].attempts == 2


async def test_a_cancel_all_retried_into_1051_says_an_attempt_was_lost() -> None:
    def handler(req: MockRequest) -> Any:
        if req.n == 1:
            return (502, "Bad Gateway")  # it may have cancelled everything
        return error(1051, "No orders to cancel.")

    rig = Rig(handler)
    report = await rig.run(rig.client.cancel_all_orders("BTC-USDT"))
    record = report.batches[0]
    assert record.outcome == "ok" and record.attempts == 2 and report.total == 0
    assert "1051" in (record.error or "") and "earlier attempt" in (record.error or "")


async def test_cancel_all_sends_filters_and_reports_what_it_names() -> None:
    def handler(req: MockRequest) -> Any:
        if "tpsl" in req.endpoint:
            return error(1051, "No orders to cancel.")
        return {"status": "ok", "ts": "1", "data": {"successes": "7,8", "errors": []}}

    rig = Rig(handler)
    c = rig.client
    report = await rig.run(c.cancel_all_track_orders("BTC-USDT", direction="buy", offset="open"))
    empty = await rig.run(c.cancel_all_tpsl_orders("BTC-USDT", "sell", margin="cross"))
    await rig.run(c.cancel_all_orders("BTC-USDT"))
    await rig.run(c.cancel_all("trigger", "BTC-USDT", margin="cross"))
    assert report.cancelled == ["7", "8"]
    assert empty.total == 0 and empty.ok and "1051" in (empty.batches[0].error or "")
    assert (rig.sent[0].endpoint, rig.sent[0].body) == (
        "swap_track_cancelall", {"contract_code": "BTC-USDT", "direction": "buy",
                                 "offset": "open"})
    assert [r.endpoint for r in rig.sent[1:]] == ["swap_cross_tpsl_cancelall",
                                                  "swap_cancelall",
                                                  "swap_cross_trigger_cancelall"]


async def test_a_failed_cancel_all_is_not_ok_and_errors_clear_on_success() -> None:
    def handler(req: MockRequest) -> Any:
        if req.endpoint == "swap_cancelall":
            return {"status": "error", "err_code": 1014, "err_msg": "contract doesn't exist"}
        if req.n == 2:
            return error(1004, "busy")
        return ok_all(req)

    rig = Rig(handler)
    failed = await rig.run(rig.client.cancel_all_orders("BTC-USDT"))
    retried = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert failed.total == 0 and not failed.ok
    assert failed.batches[0].outcome == "failed" and "1014" in (failed.batches[0].error or "")
    with pytest.raises(CancelFailed, match="1014"):
        failed.raise_for_failures()
    assert retried.ok and retried.batches[0].attempts == 2
    assert retried.batches[0].outcome == "ok" and retried.batches[0].error is None
    assert retried.batches[0].errors == ("1004: busy",)


def slow_ok(rig_clock: Callable[[], FakeClock], seconds: float) -> Callable[[MockRequest], Any]:
    """A handler that answers ok after ``seconds`` of fake time."""
    async def handler(req: MockRequest) -> Any:
        await rig_clock().sleep(seconds)
        return ok_all(req)
    return handler


async def test_cancelling_the_caller_keeps_what_was_confirmed() -> None:
    rig: Rig
    rig = Rig(slow_ok(lambda: rig.clock, 1.0), max_in_flight=4)
    ids = [str(i) for i in range(1, 501)]  # 20 batches, 4 at a time, 1 s each
    report = CancelReport()
    before = len(asyncio.all_tasks())
    task = asyncio.ensure_future(rig.client.cancel_orders("BTC-USDT", ids, report=report))
    await rig.clock.advance(2.5)  # the probe (1 s), then four more (1 s); four in flight
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    confirmed = [i for r in rig.sent[:5] for i in r.body["order_id"].split(",")]
    assert sorted(report.cancelled, key=int) == sorted(confirmed, key=int)
    assert report.cancelled == ids[:125]  # the first five batches, in the order given
    assert not report.failed and not report.unknown
    assert len(set(report.cancelled)) == len(report.cancelled)
    assert [b.outcome for b in report.batches] == ["ok"] * 5 + ["pending"] * 4
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == before


async def test_a_timeout_around_the_call_keeps_what_was_confirmed_out_of_order() -> None:
    def handler(req: MockRequest) -> Any:
        async def later() -> Any:
            # the second batch is slow; the others answer at once
            await rig.clock.sleep(30.0 if "26" in req.body["order_id"].split(",") else 0.1)
            return ok_all(req)
        return later()

    rig = Rig(handler, max_in_flight=3)
    ids = [str(i) for i in range(1, 101)]
    settled: list[str] = []
    report = CancelReport(on_batch=lambda record: settled.append(record.ids[0]))
    scopes: list[asyncio.Timeout] = []

    async def bounded() -> None:
        async with asyncio.timeout(None) as scope:
            scopes.append(scope)
            await rig.client.cancel_orders("BTC-USDT", ids, report=report)

    task = asyncio.ensure_future(bounded())
    await rig.clock.advance(1.0)
    scopes[0].reschedule(asyncio.get_running_loop().time())  # the caller's timeout fires
    with pytest.raises(TimeoutError):
        await task
    assert report.cancelled == ids[:25] + ids[50:]  # the second batch never answered
    assert not report.unknown and not report.failed
    assert settled[0] == "1" and sorted(settled, key=int) == ["1", "51", "76"]  # as settled


def staggered(rig_clock: Callable[[], FakeClock],
              delays: dict[str, float]) -> Callable[[MockRequest], Any]:
    """A handler that answers ok after a delay chosen by the batch's first id (else 0.1 s)."""
    async def handler(req: MockRequest) -> Any:
        await rig_clock().sleep(delays.get(req.body["order_id"].split(",")[0], 0.1))
        return ok_all(req)
    return handler


async def test_out_of_order_batches_are_in_the_report_as_soon_as_they_settle() -> None:
    rig: Rig
    rig = Rig(staggered(lambda: rig.clock, {"26": 30.0}), max_in_flight=3)
    ids = [str(i) for i in range(1, 101)]  # 4 batches; the second answers after 30 s
    report = CancelReport()
    task = asyncio.ensure_future(rig.client.cancel_orders("BTC-USDT", ids, report=report))
    await rig.clock.advance(5.0)
    assert not task.done()
    # batches 1, 3 and 4 settled while 2 is still out: they are in the report now
    assert sorted(report.cancelled, key=int) == ids[:25] + ids[50:]
    await rig.clock.run_until(task.done)
    assert (await task).cancelled == ids  # once the call returns, in the order given
    assert report.ok and len(report.batches) == 4


async def test_on_batch_sees_its_batch_already_folded_in() -> None:
    rig: Rig
    rig = Rig(staggered(lambda: rig.clock, {"1": 3.0, "26": 2.0}), max_in_flight=4)
    ids = [str(i) for i in range(1, 101)]
    seen: list[tuple[str, bool, int]] = []

    def on_batch(record: BatchRecord) -> None:
        folded = set(report.cancelled)
        seen.append((record.ids[0], folded.issuperset(record.ids), len(report.cancelled)))

    report = CancelReport(on_batch=on_batch)
    await rig.run(rig.client.cancel_orders("BTC-USDT", ids, report=report))
    # the probe (batch 1) goes alone; then 3 and 4 settle before 2
    assert [first for first, _, _ in seen] == ["1", "51", "76", "26"]
    assert all(inside for _, inside, _ in seen)
    assert [n for _, _, n in seen] == [25, 50, 75, 100]
    assert report.cancelled == ids


async def test_a_caller_cancelled_mid_run_finds_every_confirmed_id_once() -> None:
    rig: Rig
    delays = {"26": 50.0, "101": 40.0, "151": 0.5}
    rig = Rig(staggered(lambda: rig.clock, delays), max_in_flight=5)
    ids = [str(i) for i in range(1, 301)]  # 12 batches, out of order
    answered: list[str] = []
    report = CancelReport(on_batch=lambda record: answered.extend(record.ids))
    task = asyncio.ensure_future(rig.client.cancel_orders("BTC-USDT", ids, report=report))
    await rig.clock.advance(10.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "26" not in report.cancelled and "101" not in report.cancelled
    assert len(report.cancelled) == len(set(report.cancelled)) == len(answered)
    assert report.cancelled == [i for i in ids if i in set(answered)]  # in the order given
    assert not report.failed and not report.unknown


async def test_two_calls_sharing_a_report_each_end_in_the_order_given() -> None:
    rig: Rig
    rig = Rig(staggered(lambda: rig.clock, {"26": 5.0, "1026": 3.0}), max_in_flight=3)
    first = [str(i) for i in range(1, 101)]
    second = [str(i) for i in range(1001, 1101)]
    report = CancelReport()
    await rig.run(rig.client.cancel_orders("BTC-USDT", ["7"]))  # the key is known good
    await rig.run(asyncio.gather(
        rig.client.cancel_orders("BTC-USDT", first, report=report),
        rig.client.cancel_orders("BTC-USDT", second, report=report)))
    assert sorted(report.cancelled) == sorted(first + second)
    assert [i for i in report.cancelled if i in first] == first
    assert [i for i in report.cancelled if i in second] == second


async def test_cancelling_the_caller_leaves_no_task_and_no_slot() -> None:
    limiter = RateLimiter(RateLimits(trade=(3, 3.0)))
    gate = asyncio.Event()

    async def hang(req: MockRequest) -> Any:
        if req.n > 1:
            await gate.wait()
        return ok_all(req)

    rig = Rig(hang, limiter=limiter, max_in_flight=10)
    assert (await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))).ok
    before = len(asyncio.all_tasks())
    task = asyncio.ensure_future(rig.client.cancel_orders("BTC-USDT",
                                                          [str(i) for i in range(1, 200)]))
    for _ in range(20):
        await asyncio.sleep(0)
    assert limiter.scheduler.waiting > 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == before
    sched = limiter.scheduler
    assert sched.waiting == 0 and sched.pools["trade"].busy == 0


async def test_request_posts_json_through_the_limiter_and_returns_the_answer() -> None:
    answer = {"status": "ok", "data": {"order_id": 1234567890123456789,
                                       "order_id_str": "1234567890123456789"}, "ts": 1}
    rig = Rig(lambda req: answer)
    got = await rig.run(rig.client.request("/linear-swap-api/v1/swap_order",
                                           {"contract_code": "BTC-USDT", "volume": 1}))
    assert got == answer and got["data"]["order_id"] == 1234567890123456789
    (sent,) = rig.sent
    assert sent.method == "POST" and sent.body == {"contract_code": "BTC-USDT", "volume": 1}
    assert valid_signature(sent)


async def test_request_get_signs_its_parameters() -> None:
    rig = Rig(lambda req: {"status": "ok", "data": []})
    await rig.run(rig.client.request("/linear-swap-api/v1/some_read", {"contract_code": "X",
                                                                      "flag": True},
                                     method="get", pools=("read",)))
    (sent,) = rig.sent
    assert sent.method == "GET" and sent.query["contract_code"] == "X"
    assert sent.query["flag"] == "true" and valid_signature(sent, "GET")


async def test_request_retries_only_what_never_left() -> None:
    answers: list[Any] = [REFUSED, error(1032, "limit")]
    rig = Rig(lambda req: answers.pop(0) if answers else {"status": "ok", "data": 1})
    assert (await rig.run(rig.client.request("swap_order", {})))["data"] == 1
    assert len(rig.sent) == 3


@pytest.mark.parametrize(("reply", "raised"), [
    (LOST, TransportError),
    (TIMEOUT, TransportError),
    ((502, "<html></html>"), DecodeError),
    ((200, "not json"), DecodeError),
    (error(1004, "busy"), APIError),
    ({"status": "error", "err_code": "timeout", "err_msg": "timeout"}, APIError),
])
async def test_request_never_resends_what_may_have_arrived(reply: Any,
                                                           raised: type[Exception]) -> None:
    rig = Rig(lambda req: reply)
    with pytest.raises(raised):
        await rig.run(rig.client.request("swap_order", {"volume": 1}))
    assert len(rig.sent) == 1


async def test_request_raises_typed_errors_with_the_exchange_code() -> None:
    rig = Rig(lambda req: {"code": 1067, "message": "Invalid params"})
    with pytest.raises(APIError) as info:
        await rig.run(rig.client.request("swap_order", {}))
    assert (info.value.code, info.value.message, info.value.status) == (1067, "Invalid params",
                                                                       200)
    assert not isinstance(info.value, AuthenticationError)
    rig = Rig(lambda req: error(403, "Incorrect Access key", status=403))
    with pytest.raises(AuthenticationError):
        await rig.run(rig.client.request("swap_order", {}))
    rig = Rig(lambda req: REFUSED)
    with pytest.raises(ConnectError):
        await rig.run(rig.client.request("swap_order", {}))
    assert len(rig.sent) == 3


class RecordingLimiter:
    """A limiter that grants at once and records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, tuple[str, ...], str]] = []
        self.completed = 0
        self.unused = 0

    async def acquire(self, endpoint: Endpoint, priority: str = "normal") -> Ticket:
        self.asked.append((endpoint.name, endpoint.pools, priority))
        return Ticket(endpoint.name, endpoint.pools)

    def complete(self, ticket: Ticket) -> None:
        self.completed += 1

    def release_unused(self, ticket: Ticket) -> None:
        self.unused += 1

    def observe(self, *args: Any) -> None:
        pass

    def pause(self, *args: Any) -> None:
        pass


async def test_priorities_and_pools_reach_the_limiter() -> None:
    limiter = RecordingLimiter()
    rig = Rig(ok_all, limiter=limiter)
    c = rig.client
    await rig.run(c.cancel_orders("BTC-USDT", ["1"]))
    await rig.run(c.cancel_trigger_orders("BTC-USDT", ["1"], priority="low"))
    await rig.run(c.cancel_all("order", "BTC-USDT", priority="normal"))
    await rig.run(c.request("swap_order_info", {"order_id": "1"}))
    await rig.run(c.request("/linear-swap-api/v1/x", {}, pools=("trade", "x"), priority="high"))
    assert limiter.asked == [
        ("swap_cancel", ("trade",), "high"),
        ("swap_trigger_cancel", ("trade", "swap_trigger_cancel"), "low"),
        ("swap_cancelall", ("trade",), "normal"),
        ("swap_order_info", ("read",), "normal"),
        ("x", ("trade", "x"), "high"),
    ]
    assert limiter.completed == 5 and limiter.unused == 0


async def test_one_event_per_attempt() -> None:
    events: list[RequestEvent] = []
    answers: list[Any] = [REFUSED, TIMEOUT, error(1032, "limit"),
                          (502, "x")]
    rig = Rig(lambda req: answers.pop(0) if answers else ok_all(req), on_request=events.append,
              retry=RetryPolicy(max_attempts=9))
    await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert [(e.outcome, e.status, e.code) for e in events] == [
        ("not_sent", None, None), ("timeout", None, None), ("rate_limited", 200, 1032),
        ("http_error", 502, None), ("ok", 200, None)]
    assert all(e.endpoint == "swap_cancel" and e.priority == "high" and e.wait == 0
               and e.latency == 0 for e in events)


async def test_logs_say_what_happened_and_never_a_secret(caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    skew = 100.0

    def handler(req: MockRequest) -> Any:
        if req.path == "/api/v1/timestamp":
            return {"status": "ok", "ts": int((rig.clock.wall() + skew) * 1000)}
        if req.query["Timestamp"] != format_timestamp(rig.clock.wall() + skew):
            return error(12001, "Invalid submission time.")
        if req.n == 3:
            return error(1032, "limit")
        if req.n == 5:
            return error(1253, "bad signature")
        return ok_all(req)

    caplog.set_level(logging.DEBUG, logger="htx_cancel")
    rig = Rig(handler, max_in_flight=1)
    await rig.run(rig.client.cancel_orders("BTC-USDT", ["1", "2"]))
    await rig.run(rig.client.cancel_orders("BTC-USDT", ["3", "4"]))
    text = caplog.text
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("offset +100" in m for m in info), info
    assert any("1032" in m and "paused" in m for m in info), info
    assert any("rejected" in m and "1253" in m for m in info), info
    assert any("swap_cancel attempt 1: 2 ids" in r.getMessage() for r in caplog.records
               if r.levelno == logging.DEBUG)
    for req in rig.sent:
        assert req.query["Signature"] not in text
    assert "my-secret" not in text and "Signature" not in text and "AccessKeyId" not in text


def test_secrets_stay_out_of_reprs() -> None:
    c = CancelClient(CREDS, api="v1", base_url=BASE, rate_limits=None)
    for text in (repr(CREDS), str(CREDS), repr(c)):
        assert "my-secret" not in text and "my-access" not in text
    with pytest.raises(AttributeError):
        CREDS.secret_key = "x"  # type: ignore[misc]


def test_credentials_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTX_ACCESS_KEY", "a")
    monkeypatch.delenv("HTX_SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match="HTX_SECRET_KEY"):
        Credentials.from_env()
    monkeypatch.setenv("HTX_SECRET_KEY", "s")
    assert Credentials.from_env() == Credentials("a", "s")


def test_signed_host_keeps_only_explicit_non_default_ports() -> None:
    from htx_cancel._client import _signed_host

    assert _signed_host("https://api.hbdm.com/") == ("https://api.hbdm.com", "api.hbdm.com")
    assert _signed_host("https://API.hbdm.vn:443")[1] == "api.hbdm.vn"
    assert _signed_host("http://127.0.0.1:8080")[1] == "127.0.0.1:8080"
    with pytest.raises(ValueError):
        _signed_host("ftp://x")


def test_a_clock_does_not_swap_the_shared_limiter() -> None:
    limits = RateLimits(trade=(70, 3.0))
    c = CancelClient(Credentials("clock-key", "s"), api="v1", base_url=BASE, rate_limits=limits,
                     clock=FakeClock())
    assert c.limiter is shared_limiter("clock-key", limits)


async def test_a_limiter_that_fails_leaves_the_ids_failed_as_not_sent() -> None:
    from htx_cancel import RateLimiterError

    class Broken(RecordingLimiter):
        async def acquire(self, endpoint: Endpoint, priority: str = "normal") -> Ticket:
            raise RateLimiterError("redis is down")

    rig = Rig(ok_all, limiter=Broken())
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert report.failed["1"].code == "not-sent" and "redis is down" in report.failed["1"].message
    with pytest.raises(RateLimiterError):
        await rig.run(rig.client.request("swap_order", {}))
    assert rig.sent == []


async def test_verifications_recancels_keep_the_calls_retry_deadline() -> None:
    """An order still open after its cancel was accepted is cancelled again, but its retries
    stop at the deadline of the call that asked for verification, not at a fresh one."""
    clock = FakeClock()
    cancels: list[float] = []

    async def handler(req: MockRequest) -> Any:
        if req.endpoint == "swap_order_info":
            await clock.sleep(1.5)  # slow reads: the call's 1 s deadline passes meanwhile
            return {"status": "ok", "data": [{"order_id": 7, "order_id_str": "7",
                                              "status": 3}], "ts": 1}
        cancels.append(clock.now())
        return ok_all(req) if len(cancels) == 1 else error(1004, "busy")  # re-cancels: busy

    rig = Rig(handler, clock=clock, retry=RetryPolicy(max_attempts=4, backoff=0.05,
                                                      backoff_max=0.1, deadline=1.0))
    report = await rig.run(rig.client.cancel_orders("BTC-USDT", ["7"], verify=True))
    recancels = [b for b in report.batches[1:] if b.endpoint == "swap_cancel"]
    assert recancels and all(b.attempts == 1 for b in recancels), recancels
    assert "7" not in report.cancelled


async def test_with_limiting_off_the_limiter_grants_at_once_and_counts() -> None:
    rig = Rig(ok_all)
    async with rig.client.limiter.slot("/v5/trade/order") as slot:
        assert slot.ticket.pools == ("trade",)
    await rig.run(rig.client.cancel_orders("BTC-USDT", ["1"]))
    assert rig.client.limiter.stats().granted == 1  # the slot; the client's own request skips it
