"""Outside use: another program on the account, unseen by the limiter, beside a large cancel.

The outsider sends signed ``swap_cross_cancel`` requests for unknown ids with the same
credentials at a steady rate, outside the limiter; they draw on the trade pool exactly as a
bot's placements do. The limiter learns them from the ``ratelimit-*`` headers of its own
answers and leaves them room.
"""

from __future__ import annotations

import asyncio
import math

import pytest

from htx_cancel import CancelClient, Credentials, RateLimiter, RateLimits, RetryPolicy
from htx_cancel.testing import FakeExchange

CREDS = Credentials("test-access", "test-secret")
TRADE = (24, 1.0)  # the trade pool scaled down so that a run takes seconds
OUTSIDE_RATE = 6.0  # a quarter of the pool
PER_REQUEST = 25


async def outsider(base_url: str, stop: asyncio.Event) -> int:
    """Send one unlimited cancel of an unknown id every 1/rate seconds until ``stop``."""
    loop = asyncio.get_running_loop()
    sent = 0
    tasks: set[asyncio.Task[object]] = set()
    async with CancelClient(CREDS, base_url=base_url, rate_limits=None,
                            retry=RetryPolicy(max_attempts=1)) as other:
        start = loop.time()
        while not stop.is_set():
            task = asyncio.ensure_future(
                other.cancel_orders("BTC-USDT", [str(10**18 + sent)], margin="cross"))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
            await asyncio.sleep(max(0.0, start + sent / OUTSIDE_RATE - loop.time()))
        await asyncio.gather(*tasks)
    return sent


@pytest.mark.parametrize("window", ["sliding", "fixed"])
async def test_a_steady_outsider_and_a_large_cancel_both_get_through(window: str) -> None:
    async with FakeExchange({"test-access": "test-secret"}, trade_limit=TRADE, window=window,
                            latency=0.002) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 80 * PER_REQUEST)
        stop = asyncio.Event()
        other = asyncio.ensure_future(outsider(ex.base_url, stop))
        await asyncio.sleep(2.5)  # the outsider runs steadily before the cancel starts
        limiter = RateLimiter(RateLimits(trade=TRADE))
        async with CancelClient(CREDS, base_url=ex.base_url, limiter=limiter) as client:
            loop = asyncio.get_running_loop()
            start = loop.time()
            report = await asyncio.wait_for(client.cancel_orders("BTC-USDT", ids), 30)
            elapsed = loop.time() - start
        stop.set()
        await other
        ours = [r for r in ex.requests if r.endpoint == "swap_cancel"]
        theirs = [r for r in ex.requests if r.endpoint == "swap_cross_cancel"]
        ours_rejected = sum(1 for r in ours if r.err_code == 1032)
        theirs_rejected = sum(1 for r in theirs if r.err_code == 1032)
        stats = limiter.stats()
        assert sorted(report.cancelled) == sorted(ids)
        if window == "sliding":  # with fixed windows a sliding one may hold more: allowed
            assert ex.max_in_window("trade") <= TRADE[0]
    print(f"{window}: ours {ours_rejected}/{len(ours)} rejected, theirs "
          f"{theirs_rejected}/{len(theirs)}, elapsed {elapsed:.2f} s, hold "
          f"{stats.pools['trade'].outside}")
    assert ours_rejected <= 0.01 * len(ours), (ours_rejected, len(ours))
    assert theirs_rejected <= 0.01 * len(theirs), (theirs_rejected, len(theirs))
    assert stats.outside_seen >= 1  # it saw the outsider...
    assert stats.pools["trade"].outside >= 6  # ...and still leaves it room
    # and the cancel still uses what is left: 80 requests at 24 - 7 a second need 4.7 s;
    # twice that would mean it left far more room than the outsider takes
    left = TRADE[0] - 7
    assert elapsed < 2 * (math.ceil(80 / left) * TRADE[1]), elapsed
