"""One 'process of the account' for the multi-process tests: cancel ids through a RedisLimiter.

    python tests/redis/worker.py BASE_URL REDIS_URL ACCOUNT IDS_FILE OUT_FILE START_AT \
        TRADE_N TRADE_T LEASE

Waits until the wall clock reaches START_AT (so every worker starts together), cancels the ids
in IDS_FILE (one a line) on BTC-USDT, and writes the report to OUT_FILE as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from htx_cancel import CancelClient, Credentials, RateLimits, RetryPolicy, Timeouts
from htx_cancel.redis_limiter import RedisLimiter


async def cancel(argv: list[str], ids: list[str]) -> dict[str, object]:
    """Cancel ``ids`` as the command line says; the report as plain data."""
    base_url, redis_url, account = argv[:3]
    start_at, trade_t, lease = float(argv[5]), float(argv[7]), float(argv[8])
    trade_n = int(argv[6])
    limits = RateLimits(trade=(trade_n, trade_t), strategy=(5, trade_t), read=(trade_n, trade_t))
    creds = Credentials("test-access", "test-secret")
    async with RedisLimiter(redis_url, account, limits, lease=lease) as limiter:
        await limiter.ping()
        async with CancelClient(creds, api="v1", base_url=base_url, limiter=limiter,
                                timeouts=Timeouts(total=lease / 2, connect=lease / 4),
                                retry=RetryPolicy(deadline=30.0)) as client:
            await asyncio.sleep(max(0.0, start_at - time.time()))
            started = time.time()
            report = await client.cancel_orders("BTC-USDT", order_ids=ids)
            finished = time.time()
    return {
        "cancelled": report.cancelled,
        "failed": {k: [v.code, v.message] for k, v in report.failed.items()},
        "unknown": report.unknown,
        "attempts": sum(b.attempts for b in report.batches),
        "batches": len(report.batches),
        "started": started,
        "finished": finished,
    }


def main(argv: list[str]) -> None:
    """Read the ids, cancel them, write the report."""
    ids = [line.strip() for line in Path(argv[3]).read_text().splitlines() if line.strip()]
    result = asyncio.run(cancel(argv, ids))
    Path(argv[4]).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
