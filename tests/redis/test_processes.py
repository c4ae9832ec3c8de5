"""Several real OS processes on one account, one RedisLimiter each, against the fake exchange."""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from htx_cancel.testing import FakeExchange

pytestmark = pytest.mark.redis

WORKER = Path(__file__).with_name("worker.py")
ROOT = Path(__file__).resolve().parents[2]
LIMIT, PERIOD = 20, 1.0
PER_REQUEST = 25
LEASE = 2.0


async def start_worker(exchange: FakeExchange, redis_url: str, account: str, ids: list[str],
                       tmp: Path, name: str, start_at: float) -> asyncio.subprocess.Process:
    ids_file, out = tmp / f"{name}.ids", tmp / f"{name}.json"
    ids_file.write_text("\n".join(ids))
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), exchange.base_url, redis_url, account, str(ids_file),
        str(out), str(start_at), str(LIMIT), str(PERIOD), str(LEASE), env=env)


async def finish(proc: asyncio.subprocess.Process, seconds: float) -> int:
    try:
        return await asyncio.wait_for(proc.wait(), seconds)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise


def arrivals(exchange: FakeExchange) -> list[float]:
    return sorted(r.arrival for r in exchange.requests if r.accepted)


async def test_three_processes_share_the_account(redis_url: str, account: str,
                                                 tmp_path: Path) -> None:
    requests_each = 40
    async with FakeExchange({"test-access": "test-secret"}, trade_limit=(LIMIT, PERIOD),
                            latency=0.002) as exchange:
        ids = [exchange.seed("BTC-USDT", "order", "isolated", requests_each * PER_REQUEST)
               for _ in range(3)]
        start_at = time.time() + 2.0
        procs = [await start_worker(exchange, redis_url, account, part, tmp_path, f"w{i}",
                                    start_at) for i, part in enumerate(ids)]
        codes = [await finish(p, 30) for p in procs]
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
        start_at = time.time() + 2.0
        procs = [await start_worker(exchange, redis_url, account, part, tmp_path, f"k{i}",
                                    start_at) for i, part in enumerate(ids)]
        await asyncio.sleep(max(0.0, start_at - time.time()) + 1.2)  # mid-run, slots held
        procs[2].send_signal(signal.SIGKILL)
        codes = [await finish(p, 30) for p in procs]
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

