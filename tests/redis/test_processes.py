"""Several real OS processes on one account, one RedisLimiter each, against the fake exchange."""

from __future__ import annotations

import asyncio
import json
import math
import signal
import time
from pathlib import Path

import pytest

from benchmarks import redis_faults as faults
from benchmarks._redis_server import have_redis_server
from htx_cancel.testing import FakeExchange

pytestmark = pytest.mark.redis

LIMIT, PERIOD = 20, 1.0
PER_REQUEST = 25
LEASE = 2.0


async def start_worker(exchange: FakeExchange, redis_url: str, account: str, ids: list[str],
                       tmp: Path, name: str) -> asyncio.subprocess.Process:
    """One process of the account: the fault benchmark's worker, without a fallback."""
    config = {"base_url": exchange.base_url, "redis": redis_url, "account": account,
              "limit": LIMIT, "period": PERIOD, "lease": LEASE,
              "share": None}
    return await faults.start_worker(config, tmp, name, ids)


finish = faults.finish


def arrivals(exchange: FakeExchange) -> list[float]:
    return sorted(r.arrival for r in exchange.requests if r.accepted)


async def test_three_processes_share_the_account(redis_url: str, account: str,
                                                 tmp_path: Path) -> None:
    requests_each = 40
    async with FakeExchange({"test-access": "test-secret"}, trade_limit=(LIMIT, PERIOD),
                            latency=0.002) as exchange:
        ids = [exchange.seed("BTC-USDT", "order", "isolated", requests_each * PER_REQUEST)
               for _ in range(3)]
        procs = [await start_worker(exchange, redis_url, account, part, tmp_path, f"w{i}")
                 for i, part in enumerate(ids)]
        try:
            await faults.release(procs)
            codes = [await finish(p, 30) for p in procs]
        finally:
            await faults.stop_all(procs)
        assert codes == [0, 0, 0]
        assert exchange.rejected_1032 == 0
        assert exchange.max_in_window("trade") <= LIMIT
        times = arrivals(exchange)
    assert len(times) == 3 * requests_each
    span = times[-1] - times[0]
    print(f'span {span:.3f} s for {len(times)} requests')
    bound = (math.ceil(len(times) / LIMIT) - 1) * PERIOD
    assert bound * 0.98 <= span <= bound * 1.15, (span, bound)
    for i, part in enumerate(ids):
        result = json.loads((tmp_path / f"w{i}.json").read_text())
        assert sorted(result["cancelled"]) == sorted(part)
        assert not result["failed"] and not result["unknown"]


async def test_a_killed_process_loses_nothing_for_the_others(redis_url: str, account: str,
                                                             tmp_path: Path) -> None:
    requests_each = 30
    async with FakeExchange({"test-access": "test-secret"}, trade_limit=(LIMIT, PERIOD),
                            latency=0.002) as exchange:
        ids = [exchange.seed("BTC-USDT", "order", "isolated", requests_each * PER_REQUEST)
               for _ in range(3)]
        procs = [await start_worker(exchange, redis_url, account, part, tmp_path, f"k{i}")
                 for i, part in enumerate(ids)]
        try:
            start_at = await faults.release(procs)
            await asyncio.sleep(max(0.0, start_at - time.time()) + 1.2)  # mid-run, slots held
            assert procs[2].returncode is None, "the worker finished before the kill"
            procs[2].send_signal(signal.SIGKILL)
            codes = [await finish(p, 30) for p in procs]
        finally:
            await faults.stop_all(procs)
        assert codes[:2] == [0, 0]
        assert codes[2] == -signal.SIGKILL
        assert exchange.rejected_1032 == 0
        assert exchange.max_in_window("trade") <= LIMIT
        cancelled_at_exchange = exchange.cancelled_ids()
    for i in (0, 1):
        result = json.loads((tmp_path / f"k{i}.json").read_text())
        assert sorted(result["cancelled"]) == sorted(ids[i])
        assert not result["failed"] and not result["unknown"]
        assert set(ids[i]) <= cancelled_at_exchange
    assert not (tmp_path / "k2.json").exists()



@pytest.mark.parametrize("fault", ["restart", "flushall", "kill"])
async def test_four_processes_through_a_fault(fault: str, tmp_path: Path) -> None:
    """Four processes with the documented fallback; a Redis of their own restarted empty,
    flushed, or one of them killed a third into the run: no 1032, never more than the limit
    in a window, every id of the survivors cancelled, back on Redis after a restart."""
    if not have_redis_server():
        pytest.skip("redis-server is not installed")
    result = await faults.run_fault(fault, faults.QUICK, tmp_path)
    assert result.rejected_1032 == 0, result.rejected_at
    assert result.max_in_window <= result.limit
    assert result.lost == 0
    if fault == "restart":
        assert result.back_after is not None and result.back_after < 1.0, result.moves
