"""CancelClient against aioresponses: validation, chunking, signing, merging, retries."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aioresponses import CallbackResult

from htx_cancel import (
    CancelClient,
    CancelFailed,
    Credentials,
    RateLimits,
    RetryPolicy,
)
from htx_cancel._signing import signed_query
from tests.conftest import Mocked

BASE = "http://127.0.0.1:8080"
CREDS = Credentials("my-access", "my-secret")
ANY = re.compile(r"^http://127\.0\.0\.1:8080/linear-swap-api/v1/\w+\?.*$")
FAST = RetryPolicy(max_attempts=3, backoff=0.001, backoff_max=0.002)

Handler = Callable[[str, dict[str, str], int], Any]


class Calls:
    """Records every request and answers through a plain function (endpoint, body, n)."""

    def __init__(self, mocked: Mocked, handler: Handler) -> None:
        self.seen: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.handler = handler
        mocked.post(ANY, callback=self, repeat=True)

    def __call__(self, url: Any, **kwargs: Any) -> CallbackResult:
        body = json.loads(kwargs["data"])
        endpoint = url.path.rsplit("/", 1)[-1]
        self.seen.append((endpoint, body, dict(parse_qsl(url.raw_query_string))))
        result = self.handler(endpoint, body, len(self.seen))
        if isinstance(result, Exception):
            raise result
        if isinstance(result, CallbackResult):
            return result
        return CallbackResult(status=200, body=json.dumps(result), content_type="text/plain")


def ok_all(endpoint: str, body: dict[str, str], n: int) -> dict[str, Any]:
    ids = body.get("order_id") or body.get("client_order_id") or ""
    return {"status": "ok", "data": {"errors": [], "successes": ids}, "ts": 1}


def client(**kw: Any) -> CancelClient:
    kw.setdefault("rate_limits", None)
    kw.setdefault("retry", FAST)
    return CancelClient(CREDS, base_url=BASE, **kw)


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
    ],
)
async def test_bad_input_raises_before_anything_is_sent(mocked: Mocked,
                                                        call: Callable[[Any], Any]) -> None:
    calls = Calls(mocked, ok_all)
    async with client() as c:
        with pytest.raises(ValueError):
            await call(c)
    assert calls.seen == []


async def test_chunks_signs_and_merges(mocked: Mocked) -> None:
    ids = [str(10**18 + i) for i in range(60)]
    calls = Calls(mocked, ok_all)
    async with client() as c:
        report = await c.cancel_orders("btc-usdt", ids + ids[:5])
    assert report.cancelled == ids and not report.failed and not report.unknown
    sizes = sorted(len(body["order_id"].split(",")) for _, body, _ in calls.seen)
    assert sizes == [10, 25, 25]
    for endpoint, body, query in calls.seen:
        assert endpoint == "swap_cancel" and body["contract_code"] == "BTC-USDT"
        expected = signed_query("POST", "127.0.0.1:8080", "/linear-swap-api/v1/swap_cancel",
                                "my-access", "my-secret", query["Timestamp"])
        assert dict(parse_qsl(expected))["Signature"] == query["Signature"]
    assert [len(b.ids) for b in sorted(report.batches, key=lambda b: -len(b.ids))] == [25, 25,
                                                                                       10]
    assert all(b.attempts == 1 and b.status == 200 for b in report.batches)
    assert all(b.queued_at <= b.sent_at <= b.answered_at for b in report.batches)


async def test_order_ids_and_client_ids_never_share_a_request(mocked: Mocked) -> None:
    calls = Calls(mocked, ok_all)
    async with client() as c:
        report = await c.cancel_orders("BTC-USDT", ["11", "12"], [1, 2], margin="cross")
    assert sorted(report.cancelled) == ["1", "11", "12", "2"]
    fields = sorted(tuple(sorted(k for k in b if k != "contract_code")) for _, b, _ in
                    calls.seen)
    assert fields == [("client_order_id",), ("order_id",)]
    assert {e for e, _, _ in calls.seen} == {"swap_cross_cancel"}


@pytest.mark.parametrize(
    ("method", "margin", "endpoint", "per_call"),
    [("cancel_trigger_orders", "isolated", "swap_trigger_cancel", 20),
     ("cancel_trigger_orders", "cross", "swap_cross_trigger_cancel", 10),
     ("cancel_tpsl_orders", "isolated", "swap_tpsl_cancel", 10),
     ("cancel_track_orders", "cross", "swap_cross_track_cancel", 10)],
)
async def test_strategy_cancels_use_their_endpoint_and_size(
        mocked: Mocked, method: str, margin: str, endpoint: str, per_call: int) -> None:
    calls = Calls(mocked, ok_all)
    ids = [str(i) for i in range(1, 31)]
    async with client() as c:
        report = await getattr(c, method)("ETH-USDT", ids, margin=margin)
    assert sorted(report.cancelled, key=int) == ids
    assert {e for e, _, _ in calls.seen} == {endpoint}
    assert max(len(b["order_id"].split(",")) for _, b, _ in calls.seen) == per_call


async def test_per_id_errors_and_1062_in_both_lists(mocked: Mocked) -> None:
    def handler(endpoint: str, body: dict[str, str], n: int) -> dict[str, Any]:
        return {"status": "ok", "ts": 1, "data": {"successes": "1,3", "errors": [
            {"order_id": "2", "err_code": 1061, "err_msg": "This order doesn't exist."},
            {"order_id": "3", "err_code": 1062, "err_msg": "Cancelling. Please be patient."},
            {"order_id": "4", "err_code": 1071, "err_msg": "Repeated cancellation."}]}}

    Calls(mocked, handler)
    async with client() as c:
        report = await c.cancel_orders("BTC-USDT", ["1", "2", "3", "4", "5"])
    assert report.cancelled == ["1", "3"]
    assert {k: v.code for k, v in report.failed.items()} == {"2": 1061, "4": 1071}
    assert report.unknown == ["5"] and "not named" in report.unknown_reasons["5"]


async def test_whole_request_error_fails_every_id_of_its_batch_only(mocked: Mocked) -> None:
    def handler(endpoint: str, body: dict[str, str], n: int) -> dict[str, Any]:
        if "1" in body["order_id"].split(","):
            return {"status": "error", "err_code": 1056, "err_msg": "settlement", "ts": 1}
        return ok_all(endpoint, body, n)

    calls = Calls(mocked, handler)
    ids = [str(i) for i in range(1, 31)]
    async with client() as c:
        report = await c.cancel_orders("BTC-USDT", ids)
    assert set(report.failed) == set(ids[:25]) and report.cancelled == ids[25:]
    assert report.failed["1"].code == 1056 and len(calls.seen) == 2  # not retried


async def test_lost_answer_is_retried_and_1071_then_means_cancelled(mocked: Mocked) -> None:
    def handler(endpoint: str, body: dict[str, str], n: int) -> Any:
        if n == 1:
            return CallbackResult(status=504, body="<html>gateway timeout</html>")
        return {"status": "ok", "ts": 1, "data": {"successes": "2", "errors": [
            {"order_id": "1", "err_code": 1071, "err_msg": "Repeated cancellation."}]}}

    calls = Calls(mocked, handler)
    async with client() as c:
        report = await c.cancel_orders("BTC-USDT", ["1", "2"])
    assert report.cancelled == ["1", "2"] and len(calls.seen) == 2
    assert report.batches[0].attempts == 2
    assert calls.seen[0][2]["Signature"] != calls.seen[1][2]["Signature"] or \
        calls.seen[0][2]["Timestamp"] == calls.seen[1][2]["Timestamp"]


async def test_no_answer_after_all_attempts_is_unknown_with_reason(mocked: Mocked) -> None:
    calls = Calls(mocked, lambda e, b, n: TimeoutError())
    async with client() as c:
        report = await c.cancel_orders("BTC-USDT", ["1", "2"])
    assert report.unknown == ["1", "2"] and len(calls.seen) == 3
    assert "timed out" in report.unknown_reasons["1"]
    assert not report.ok


async def test_busy_then_ok_and_non_json_then_ok(mocked: Mocked) -> None:
    answers = [{"status": "error", "err_code": 1004, "err_msg": "busy", "ts": 1},
               CallbackResult(status=200, body="{\"status\": \"ok\", \"da"),
               None]

    def handler(endpoint: str, body: dict[str, str], n: int) -> Any:
        return answers[n - 1] or ok_all(endpoint, body, n)

    Calls(mocked, handler)
    async with client() as c:
        report = await c.cancel_orders("BTC-USDT", ["1"])
    assert report.cancelled == ["1"] and report.batches[0].attempts == 3


async def test_rejection_after_a_lost_answer_is_unknown_not_failed(mocked: Mocked) -> None:
    def handler(endpoint: str, body: dict[str, str], n: int) -> Any:
        if n == 1:
            return CallbackResult(status=500, body="oops")
        return {"status": "error", "err_code": 1004, "err_msg": "busy", "ts": 1}

    Calls(mocked, handler)
    async with client() as c:
        report = await c.cancel_orders("BTC-USDT", ["1"])
    assert report.unknown == ["1"] and "1004" in report.unknown_reasons["1"]


async def test_authentication_errors_are_not_retried(mocked: Mocked) -> None:
    calls = Calls(mocked, lambda e, b, n: CallbackResult(status=403, body=json.dumps(
        {"status": "error", "err_code": 403, "err_msg": "Incorrect Access key"})))
    async with client() as c:
        report = await c.cancel_orders("BTC-USDT", ["1"])
    assert report.failed["1"].code == 403 and len(calls.seen) == 1


async def test_rejected_timestamp_syncs_time_once_and_retries(mocked: Mocked) -> None:
    mocked.get(f"{BASE}/api/v1/timestamp", payload={"status": "ok", "ts": 1_700_000_000_000},
               repeat=True)

    def handler(endpoint: str, body: dict[str, str], n: int) -> Any:
        if n == 1:
            return {"status": "error", "err_code": 12001, "err_msg": "Invalid submission time."}
        return ok_all(endpoint, body, n)

    calls = Calls(mocked, handler)
    async with client() as c:
        report = await c.cancel_orders("BTC-USDT", ["1"])
        assert c.time_offset != 0
    assert report.cancelled == ["1"]
    assert calls.seen[1][2]["Timestamp"].startswith("2023-11-14T22:13")


async def test_1032_pauses_until_the_reset_then_retries(mocked: Mocked) -> None:
    def handler(endpoint: str, body: dict[str, str], n: int) -> Any:
        if n == 1:
            import time
            reset = int(time.time() * 1000) + 50
            return CallbackResult(status=200, body=json.dumps(
                {"status": "error", "err_code": 1032, "err_msg": "limit", "ts": 1}),
                headers={"ratelimit-limit": "72", "ratelimit-interval": "3000",
                         "ratelimit-remaining": "0", "ratelimit-reset": str(reset)})
        return ok_all(endpoint, body, n)

    Calls(mocked, handler)
    async with client(rate_limits=RateLimits(), limiter=None) as c:
        loop = asyncio.get_running_loop()
        start = loop.time()
        report = await c.cancel_orders("BTC-USDT", ["1"])
        waited = loop.time() - start
    assert report.cancelled == ["1"] and report.batches[0].attempts == 2
    assert 0.03 < waited < 1.0


async def test_cancel_all_sends_filters_and_reports_what_it_names(mocked: Mocked) -> None:
    def handler(endpoint: str, body: dict[str, str], n: int) -> dict[str, Any]:
        if "tpsl" in endpoint:
            return {"status": "error", "err_code": 1051, "err_msg": "No orders to cancel."}
        return {"status": "ok", "ts": 1, "data": {"successes": "7,8", "errors": []}}

    calls = Calls(mocked, handler)
    async with client() as c:
        report = await c.cancel_all_track_orders("BTC-USDT", direction="buy", offset="open")
        empty = await c.cancel_all_tpsl_orders("BTC-USDT", "sell", margin="cross")
        await c.cancel_all_orders("BTC-USDT")
        await c.cancel_all_trigger_orders("BTC-USDT", margin="cross")
    assert report.cancelled == ["7", "8"]
    assert empty.total == 0 and empty.ok and "1051" in (empty.batches[0].error or "")
    assert calls.seen[0][:2] == ("swap_track_cancelall", {"contract_code": "BTC-USDT",
                                                          "direction": "buy",
                                                          "offset": "open"})
    assert [e for e, _, _ in calls.seen[1:]] == ["swap_cross_tpsl_cancelall", "swap_cancelall",
                                                 "swap_cross_trigger_cancelall"]


async def test_cancelling_the_caller_leaves_no_task_and_no_slot(mocked: Mocked) -> None:
    gate = asyncio.Event()

    async def hang(url: Any, **kwargs: Any) -> CallbackResult:
        await gate.wait()
        return CallbackResult(status=200, body="{}")

    mocked.post(ANY, callback=hang, repeat=True)
    c = client(rate_limits=RateLimits(trade=(3, 3.0)), max_in_flight=10)
    before = len(asyncio.all_tasks())
    task = asyncio.create_task(c.cancel_orders("BTC-USDT", [str(i) for i in range(1, 200)]))
    await asyncio.sleep(0.05)
    assert c.limiter is not None
    assert c.limiter.scheduler.waiting > 0  # type: ignore[attr-defined]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == before
    sched = c.limiter.scheduler  # type: ignore[attr-defined]
    assert sched.waiting == 0 and sched.pools["trade"].busy == 0
    await c.close()


def test_secrets_stay_out_of_reprs() -> None:
    c = client()
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


async def test_no_retry_starts_after_the_deadline(mocked: Mocked) -> None:
    calls = Calls(mocked, lambda e, b, n: CallbackResult(status=500, body="oops"))
    policy = RetryPolicy(max_attempts=50, backoff=0.04, backoff_max=0.04, deadline=0.1)
    async with client(retry=policy) as c:
        report = await c.cancel_orders("BTC-USDT", ["1"])
    assert report.unknown == ["1"] and 2 <= len(calls.seen) <= 4
    assert "HTTP 500" in report.unknown_reasons["1"]


async def test_http_429_from_the_cdn_is_a_rate_limit_not_a_lost_answer(mocked: Mocked) -> None:
    def handler(endpoint: str, body: dict[str, str], n: int) -> Any:
        if n == 1:
            return CallbackResult(status=429, body="Too Many Requests")
        return {"status": "ok", "ts": 1, "data": {"successes": "", "errors": [
            {"order_id": "1", "err_code": 1071, "err_msg": "Repeated cancellation."}]}}

    Calls(mocked, handler)
    limits = RateLimits(trade=(72, 0.05), strategy=(5, 0.05))
    async with client(rate_limits=limits) as c:
        report = await c.cancel_orders("BTC-USDT", ["1"])
    # the 429 never reached the exchange, so a 1071 afterwards is not ours to claim
    assert report.failed["1"].code == 1071 and report.batches[0].attempts == 2


async def test_an_aiolimiter_pacing_stage_spreads_a_burst(mocked: Mocked) -> None:
    Calls(mocked, ok_all)
    limits = RateLimits(pacing=(20.0, 1.0))
    async with client(rate_limits=limits) as c:
        loop = asyncio.get_running_loop()
        start = loop.time()
        report = await c.cancel_orders("BTC-USDT", [str(i) for i in range(1, 25 * 30)])
        elapsed = loop.time() - start
    assert report.ok and len(report.batches) == 30
    assert elapsed > 0.3  # 20 go at once, the other 10 at 20/s


async def test_a_failed_cancel_all_is_not_ok_and_errors_clear_on_success(mocked: Mocked) -> None:
    def handler(endpoint: str, body: dict[str, str], n: int) -> Any:
        if endpoint == "swap_cancelall":
            return {"status": "error", "err_code": 1014, "err_msg": "contract doesn't exist"}
        if n == 2:
            return {"status": "error", "err_code": 1004, "err_msg": "busy", "ts": 1}
        return ok_all(endpoint, body, n)

    Calls(mocked, handler)
    async with client() as c:
        failed = await c.cancel_all_orders("BTC-USDT")
        retried = await c.cancel_orders("BTC-USDT", ["1"])
    assert failed.total == 0 and not failed.ok
    assert failed.batches[0].outcome == "failed" and "1014" in (failed.batches[0].error or "")
    with pytest.raises(CancelFailed, match="1014"):
        failed.raise_for_failures()
    assert retried.ok and retried.batches[0].attempts == 2
    assert retried.batches[0].outcome == "ok" and retried.batches[0].error is None
