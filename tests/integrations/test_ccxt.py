"""The ccxt recipe against the fake exchange: every private linear-swap request takes a slot."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from htx_cancel import RateLimiter, RateLimits
from htx_cancel.integrations.ccxt import endpoint_of, error_code, limit_ccxt
from htx_cancel.testing import FakeExchange, Fault

ccxt_async = pytest.importorskip("ccxt.async_support")

LIMIT = (5, 1.0)


def make_exchange(base_url: str) -> Any:
    exchange = ccxt_async.htx({"apiKey": "test-access", "secret": "test-secret",
                               "enableRateLimit": False})
    exchange.urls["hostnames"]["contract"] = urlsplit(base_url).netloc
    exchange.urls["api"]["contract"] = "http://{hostname}"
    return exchange


def test_paths_map_to_the_catalog_pools() -> None:
    private = ["contract", "private"]
    assert endpoint_of("linear-swap-api/v1/swap_order", private, "POST", ("trade",)).pools == (  # type: ignore[union-attr]
        "trade",)
    assert endpoint_of("linear-swap-api/v1/swap_order_info", private, "POST",
                       ("trade",)).pools == ("read",)  # type: ignore[union-attr]
    trigger = endpoint_of("linear-swap-api/v1/swap_trigger_cancel", private, "POST", ("trade",))
    assert trigger is not None and trigger.pools == ("trade", "swap_trigger_cancel")
    unknown = endpoint_of("linear-swap-api/v1/swap_new_thing", private, "POST", ("read",))
    assert unknown is not None and unknown.pools == ("read",)
    assert endpoint_of("api/v1/contract_cancel", private, "POST", ("trade",)) is None  # coin-m
    assert endpoint_of("linear-swap-api/v1/swap_order", ["contract", "public"], "GET",
                       ("trade",)) is None


async def test_ccxt_requests_go_through_the_limiter_and_are_signed_after_the_grant() -> None:
    async with FakeExchange({"test-access": "test-secret"}, trade_limit=LIMIT,
                            latency=0.002) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 12)
        limiter = RateLimiter(RateLimits(trade=LIMIT))
        exchange = limit_ccxt(make_exchange(ex.base_url), limiter, priority="high")
        signed: list[float] = []
        sign = exchange.sign

        def recording_sign(*args: Any, **kwargs: Any) -> Any:
            signed.append(time.monotonic())
            return sign(*args, **kwargs)

        exchange.sign = recording_sign
        try:
            async def one(i: int) -> Any:
                return await exchange.request(
                    "linear-swap-api/v1/swap_cancel", ["contract", "private"], "POST",
                    {"contract_code": "BTC-USDT", "order_id": ids[i]})

            answers = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(12))), 20)
        finally:
            await exchange.close()
        assert all(a["status"] == "ok" for a in answers)
        assert ex.rejected_1032 == 0 and ex.max_in_window("trade") <= LIMIT[0]
    stats = limiter.stats()
    assert stats.granted == 12 and stats.pools["trade"].in_flight == 0
    assert stats.pools["trade"].held > 0
    assert limiter.scheduler.pools["trade"].outside.headers  # the answers' headers were read
    signed.sort()
    for a, b in zip(signed, signed[LIMIT[0]:], strict=False):  # signed only once granted
        assert b - a >= LIMIT[1]


ORDER_ID_WITH_1032 = "1203210321032103210"  # a 19-digit id holding the digits "1032"


@pytest.mark.parametrize(("fault", "pauses"), [
    (Fault("api_error", err_code=1056, err_msg=f"order {ORDER_ID_WITH_1032} in settlement"), 0),
    (Fault("api_error", err_code=1071, err_msg="Repeated withdraw. 1032 1032"), 0),
    (Fault("rate_limit"), 1),
    (Fault("api_error", err_code="1032", err_msg="Too many requests"), 1),  # a string code
])
async def test_only_an_answer_coded_1032_pauses_the_pool(fault: Fault, pauses: int) -> None:
    async with FakeExchange({"test-access": "test-secret"}, trade_limit=LIMIT,
                            faults=[fault]) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 1)
        limiter = RateLimiter(RateLimits(trade=LIMIT))
        exchange = limit_ccxt(make_exchange(ex.base_url), limiter)
        try:
            with pytest.raises(ccxt_async.BaseError) as raised:
                await exchange.request(
                    "linear-swap-api/v1/swap_cancel", ["contract", "private"], "POST",
                    {"contract_code": "BTC-USDT", "order_id": ids[0]})
        finally:
            await exchange.close()
    if pauses == 0:
        assert "1032" in str(raised.value)  # what the old substring test tripped on
    assert limiter.stats().pauses == pauses
    assert limiter.stats().pools["trade"].in_flight == 0


def test_error_codes_are_decoded_as_numbers_or_strings() -> None:
    assert error_code('{"status":"error","err_code":1032,"err_msg":"x"}') == 1032
    assert error_code(b'{"status":"error","err_code":"1032"}') == 1032
    assert error_code('{"code":1032,"message":"x"}') == 1032
    assert error_code('{"err_code":"api-signature-not-valid"}') == "api-signature-not-valid"
    assert error_code(f'{{"status":"ok","data":{{"order_id":"{ORDER_ID_WITH_1032}"}}}}') is None
    assert error_code("<html>1032</html>") is None
    assert error_code(None) is None and error_code("[1032]") is None
