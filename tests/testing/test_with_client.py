"""The library's own client against seeded fills: what a cancel answer says and what happened."""

from __future__ import annotations

from htx_cancel import CancelClient, Credentials
from htx_cancel.testing import FakeExchange

CREDS = Credentials("test-access", "test-secret")


async def test_filled_before_cancel_fails_with_1061() -> None:
    async with FakeExchange(seed=5, fill_before_cancel=0.3) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 60)
        async with CancelClient(CREDS, api="v1", base_url=ex.base_url) as client:
            report = await client.cancel_orders("BTC-USDT", order_ids=ids)
        filled = {i for i in ids if ex.status_of(i) == 6}
        assert filled and set(report.failed) == filled
        assert all(report.failed[i].code == 1061 for i in filled)
        assert set(report.cancelled) == set(ids) - filled == ex.cancelled_ids()


async def test_filled_during_cancel_is_reported_cancelled_but_is_not() -> None:
    # What the cancel answer alone cannot tell (HTX: check order info): the reason to verify.
    async with FakeExchange(seed=5, fill_during_cancel=0.3) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 60)
        async with CancelClient(CREDS, api="v1", base_url=ex.base_url) as client:
            report = await client.cancel_orders("BTC-USDT", order_ids=ids)
        filled = {i for i in ids if ex.status_of(i) == 6}
        assert filled and set(report.cancelled) == set(ids)
        assert ex.cancelled_ids() == set(ids) - filled
