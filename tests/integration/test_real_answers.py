"""The client against the fake exchange's other answer shapes, Ed25519 keys and placements."""

from __future__ import annotations

from typing import Any

import pytest

from htx_cancel import APIError, CancelClient, Credentials, RateLimits, RetryPolicy
from htx_cancel.testing import FakeExchange, Fault

SMALL = RateLimits(trade=(12, 0.3), strategy=(3, 0.1), guard=0.002)
RETRY = RetryPolicy(max_attempts=3, backoff=0.002, backoff_max=0.005)
ORDER = {"contract_code": "BTC-USDT", "volume": 1, "price": 30000, "direction": "buy",
         "offset": "open", "lever_rate": 5, "order_price_type": "limit"}


@pytest.mark.parametrize("style", ["err_code", "err-code", "code_msg", "code_message",
                                   "code_msg_bare", "code_message_bare"])
async def test_every_error_style_carries_the_exchange_code(style: Any) -> None:
    ex = FakeExchange({"k": "s"}, error_style=style, ts_as_string=True, trade_limit=SMALL.trade)
    async with ex, CancelClient(Credentials("k", "s"), api="v1", base_url=ex.base_url,
                                rate_limits=SMALL, retry=RETRY) as c:
        ids = ex.seed("BTC-USDT", "order", "isolated", 30)
        ex.faults.script("swap_cancel", [Fault("api_error", err_code=1056,
                                               err_msg="Settlement in progress")])
        report = await c.cancel_orders("BTC-USDT", ids)
        assert len(report.failed) == 25 and report.cancelled == ids[25:]
        assert {(f.code, f.message) for f in report.failed.values()} == {
            (1056, "Settlement in progress")}
        everything = await c.cancel_all_orders("BTC-USDT")  # ts as a string
        assert sorted(everything.cancelled) == sorted(ids[:25]) and everything.ok


async def test_ed25519_keys_cancel_and_a_wrong_one_costs_one_request() -> None:
    ed = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
    good, bad = ed.Ed25519PrivateKey.generate(), ed.Ed25519PrivateKey.generate()
    async with FakeExchange(ed25519_keys={"ed-key": good.public_key()},
                            trade_limit=SMALL.trade) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 60)
        async with CancelClient(Credentials.ed25519("ed-key", good), api="v1", base_url=ex.base_url,
                                rate_limits=SMALL) as c:
            assert (await c.cancel_orders("BTC-USDT", ids[:30])).cancelled == ids[:30]
        assert ex.requests[0].query["SignatureMethod"] == "Ed25519"
        sent = len(ex.requests)
        async with CancelClient(Credentials.ed25519("ed-key", bad), api="v1", base_url=ex.base_url,
                                rate_limits=SMALL) as c:
            report = await c.cancel_orders("BTC-USDT", ids[30:])
        assert len(ex.requests) == sent + 1 and len(report.failed) == 30
        assert report.auth_failure is not None


async def test_placements_through_request_then_cancel() -> None:
    async with FakeExchange({"k": "s"}) as ex, CancelClient(
            Credentials("k", "s"), api="v1", base_url=ex.base_url, rate_limits=None) as c:
        placed = await c.request("/linear-swap-api/v1/swap_order",
                                 {**ORDER, "client_order_id": 7}, priority="low")
        oid = placed["data"]["order_id_str"]
        assert placed["data"]["order_id"] == int(oid)  # a big int, not a float
        batch = await c.request("swap_batchorder", {"orders_data": [ORDER, ORDER]})
        assert [s["index"] for s in batch["data"]["success"]] == [1, 2]
        with pytest.raises(APIError) as info:
            await c.request("swap_order", {"contract_code": "BTC-USDT"})
        assert isinstance(info.value.code, int) and info.value.code != 0
        report = await c.cancel_orders("BTC-USDT", client_order_ids=["7"])
        assert report.cancelled == ["7"] and ex.status_of(oid) == 7
        info_answer = await c.request("swap_order_info",
                                      {"contract_code": "BTC-USDT", "order_id": oid})
        assert info_answer["data"][0]["status"] == 7
