"""What one request costs the limiter: acquire + complete, in-process vs Redis.

    python -m benchmarks.redis_cost [--redis-url URL] [-n 20000] [--concurrency 1 16] [--json P]

The limits are set so high that nobody ever waits: what is measured is the limiter's own
overhead per request, wall time and this process's CPU time, plus the Redis server's time in
the scripts (from ``INFO commandstats``). Needs a Redis server (``REDIS_URL`` or the default
``redis://127.0.0.1:6379/0``) and the ``redis`` extra.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from htx_cancel import CATALOG, Limiter, RateLimiter, RateLimits
from htx_cancel.redis_limiter import RedisLimiter

# Huge pools with a 10 ms window: never a wait, and Redis's sets stay small as in real use.
NO_WAIT = RateLimits(trade=(1_000_000, 0.01), strategy=(1_000_000, 0.01), guard=0.0)
ENDPOINTS = {"regular": CATALOG["swap_cancel"], "strategy": CATALOG["swap_trigger_cancel"]}


@dataclass(frozen=True, slots=True)
class Row:
    """One measurement."""

    limiter: str
    endpoint: str
    concurrency: int
    requests: int
    wall_us: float  # wall time per request (1 / throughput)
    cpu_us: float  # this process's CPU time per request
    redis_us: float  # Redis server time in scripts per request (0 in-process)


async def _loop(limiter: Limiter, endpoint: str, n: int, concurrency: int) -> None:
    """``n`` acquire+complete pairs from ``concurrency`` tasks."""
    ep = ENDPOINTS[endpoint]
    per_task = n // concurrency

    async def worker() -> None:
        for _ in range(per_task):
            limiter.finish(await limiter.acquire(ep))

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _script_usec(client: Any) -> float:
    """Total microseconds Redis spent in EVALSHA/EVAL so far."""
    stats = await client.info("commandstats")
    return float(sum(v["usec"] for k, v in stats.items() if k in ("cmdstat_evalsha",
                                                                   "cmdstat_eval")))


async def _measure(name: str, make: Callable[[], Awaitable[Limiter]], endpoint: str, n: int,
                   concurrency: int, client: Any) -> Row:
    """Warm up, then time ``n`` requests."""
    limiter = await make()
    await _loop(limiter, endpoint, min(n, 1000), concurrency)
    if isinstance(limiter, RedisLimiter):
        await limiter.flush()
    before = await _script_usec(client) if name == "redis" else 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    await _loop(limiter, endpoint, n, concurrency)
    if isinstance(limiter, RedisLimiter):
        await limiter.flush()  # the completions are part of the cost
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    redis_us = (await _script_usec(client) - before) / n if name == "redis" else 0.0
    if isinstance(limiter, RedisLimiter):
        await limiter.close()
    done = n // concurrency * concurrency
    return Row(name, endpoint, concurrency, done, wall / done * 1e6, cpu / done * 1e6, redis_us)


async def run(redis_url: str, n: int, concurrencies: list[int]) -> list[Row]:
    """Every combination of limiter, endpoint kind and concurrency."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    account = f"bench-{uuid.uuid4().hex[:8]}"

    async def in_process() -> Limiter:
        return RateLimiter(NO_WAIT)

    async def redis() -> Limiter:
        limiter = RedisLimiter(redis_url, account, NO_WAIT)
        await limiter.ping()
        return limiter

    rows = []
    try:
        for endpoint in ENDPOINTS:
            for c in concurrencies:
                for name, make in (("in-process", in_process), ("redis", redis)):
                    rows.append(await _measure(name, make, endpoint, n, c, client))
    finally:
        keys = [k async for k in client.scan_iter(match=f"htx_cancel:{{{account}}}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    return rows


def _print(rows: list[Row]) -> None:
    """A plain table."""
    print(f"{'limiter':<11} {'endpoint':<9} {'tasks':>5} {'requests':>8} "
          f"{'wall us/req':>11} {'cpu us/req':>10} {'redis us/req':>12}")
    for r in rows:
        print(f"{r.limiter:<11} {r.endpoint:<9} {r.concurrency:>5} {r.requests:>8} "
              f"{r.wall_us:>11.1f} {r.cpu_us:>10.1f} {r.redis_us:>12.1f}")


def main() -> None:
    """Parse the command line, measure, print (and write JSON if asked)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.redis_cost",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--redis-url",
                        default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("-n", type=int, default=20000, help="requests per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    rows = asyncio.run(run(args.redis_url, args.n, args.concurrency))
    _print(rows)
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))


if __name__ == "__main__":
    main()
