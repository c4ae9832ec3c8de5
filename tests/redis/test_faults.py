"""The shared limiter against a Redis of its own that the tests kill, restart and flush.

Small pools (6 per 2 s) so that what is held is easy to count; every assertion is about what
was granted and what Redis holds, not about how fast (the figures are the fault benchmark's:
``python -m benchmarks.redis_faults``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterator

import pytest
import redis.asyncio as aredis

from benchmarks._redis_server import RedisServer, have_redis_server
from htx_cancel import CATALOG, Feedback, RateLimiterError, RateLimits
from htx_cancel._models import RateLimitHeaders
from htx_cancel.redis_limiter import RedisLimiter

pytestmark = pytest.mark.redis

REGULAR = CATALOG["swap_cancel"]
LIMITS = RateLimits(trade=(6, 2.0), read=(6, 2.0), strategy=(2, 2.0), probe=False)
FALLBACK = RateLimits(trade=(6, 2.0), read=(6, 2.0), strategy=(2, 2.0), share=0.5, probe=False)


@pytest.fixture
def server() -> Iterator[RedisServer]:
    if not have_redis_server():
        if "REDIS_URL" in os.environ:
            pytest.fail("REDIS_URL is set (CI) but redis-server is not on PATH")
        pytest.skip("redis-server is not installed")
    with RedisServer() as srv:
        yield srv


def make(srv: RedisServer, account: str = "acct", **kw: object) -> RedisLimiter:
    return RedisLimiter(srv.url, account, LIMITS, lease=5.0, **kw)  # type: ignore[arg-type]


async def zcard(srv: RedisServer, key: str) -> int:
    client = aredis.Redis.from_url(srv.url, socket_timeout=5.0)
    try:
        return int(await client.zcard(key))
    finally:
        await client.aclose()


async def until(check: object, seconds: float = 5.0) -> None:
    """Wait until ``check()`` is true (at most ``seconds``: then fail)."""
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def test_the_fallback_starts_from_what_the_process_holds(server: RedisServer) -> None:
    async with make(server, fallback=FALLBACK) as limiter:
        for _ in range(4):
            limiter.finish(await limiter.acquire(REGULAR))  # held 2 s more, in Redis and here
        server.kill()
        # the fallback's share is 3; this process holds 4 of the current window: no room
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(limiter.acquire(REGULAR), 0.5)
        stats = limiter.stats()
        assert stats.backend == "fallback"
        assert stats.pools["trade"].held == 4 and stats.pools["trade"].limit == 3


async def test_the_fallback_leaves_what_others_took_beyond_their_share(
        server: RedisServer) -> None:
    a, b = make(server, fallback=FALLBACK), make(server, fallback=FALLBACK)
    try:
        for _ in range(5):
            a.finish(await a.acquire(REGULAR))  # more than its share of 3: Redis allowed it
        b.finish(await b.acquire(REGULAR))  # b saw 6 in use, 1 of them its own
        server.kill()
        # b's share is 3 and it holds 1, but a holds 2 beyond its share: nothing for b
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(b.acquire(REGULAR), 0.5)
        assert b.stats().backend == "fallback"
    finally:
        await a.close()
        await b.close()


async def test_no_fallback_fails_at_once_naming_redis(server: RedisServer) -> None:
    async with make(server) as limiter:
        limiter.finish(await limiter.acquire(REGULAR))
        server.kill()
        with pytest.raises(RateLimiterError, match="cannot reach Redis"):
            await asyncio.wait_for(limiter.acquire(REGULAR), 5)


async def test_back_on_redis_with_the_slots_held_meanwhile(
        server: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="htx_cancel.redis")
    async with make(server, fallback=FALLBACK) as limiter:
        limiter.finish(await limiter.acquire(REGULAR))
        server.kill()
        held = [await limiter.acquire(REGULAR) for _ in range(2)]  # on the fallback
        limiter.finish(held[0])
        assert limiter.stats().backend == "fallback"
        server.start()  # empty: a restart without persistence
        await until(lambda: limiter.stats().backend == "redis")
        # written back: the one held before, the one held on the fallback, the one in flight
        assert await zcard(server, limiter.key("pool:trade")) == 3
        limiter.finish(held[1])  # a fallback grant finished on Redis
        await limiter.flush()
        other = make(server)  # another process: the account's books are whole
        try:
            grants = [await asyncio.wait_for(other.acquire(REGULAR), 1) for _ in range(3)]
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(other.acquire(REGULAR), 0.3)
            for ticket in grants:
                other.finish(ticket, Feedback(sent=False))
        finally:
            await other.close()
    messages = [r.getMessage() for r in caplog.records]
    assert any("Redis unusable" in m for m in messages)
    assert any("answers again" in m for m in messages)


async def test_a_flush_is_noticed_and_every_process_writes_its_slots_back(
        server: RedisServer) -> None:
    a, b = make(server), make(server)
    try:
        for _ in range(4):
            a.finish(await a.acquire(REGULAR))
        b.finish(await b.acquire(REGULAR))
        await a.flush()
        await b.flush()
        server.flushall()
        # b asks first; a, idle but holding 4, notices by its watch and writes them back
        first = await asyncio.wait_for(b.acquire(REGULAR), 2)
        assert await zcard(server, a.key("pool:trade")) == 6  # 4 of a, 1 of b, b's new one
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(b.acquire(REGULAR), 0.3)
        b.finish(first, Feedback(sent=False))
    finally:
        await a.close()
        await b.close()


async def test_after_a_flush_the_slots_of_a_process_that_ended_still_count(
        server: RedisServer) -> None:
    gone, alive = make(server), make(server)
    try:
        for _ in range(5):
            gone.finish(await gone.acquire(REGULAR))
        alive.finish(await alive.acquire(REGULAR))  # it saw the pool full: 6 in use
        await gone.close()  # ends; its 5 slots are held in Redis only
        server.flushall()
        # nobody can write the 5 back, but alive knows 6 were in use: no room until they lapse
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(alive.acquire(REGULAR), 0.5)
    finally:
        await alive.close()


async def test_after_a_flush_its_own_requests_are_not_outside_use(server: RedisServer) -> None:
    async with make(server) as limiter:
        for _ in range(3):
            limiter.finish(await limiter.acquire(REGULAR))
        await limiter.flush()
        server.flushall()
        ticket = await asyncio.wait_for(limiter.acquire(REGULAR), 2)
        # the exchange counted our 4 (3 before the flush, this one): 2 of 6 remain
        limiter.finish(ticket, Feedback(headers=RateLimitHeaders(6, 2000, 2, 0), reset_in=0.0))
        await limiter.flush()
        stats = await limiter.fetch_stats()
    assert stats.pools["trade"].outside == 0 and stats.outside_seen == 0


async def test_a_script_flush_reloads_the_scripts(server: RedisServer) -> None:
    async with make(server) as limiter:
        limiter.finish(await limiter.acquire(REGULAR))
        client = aredis.Redis.from_url(server.url, socket_timeout=5.0)
        try:
            await client.script_flush()
        finally:
            await client.aclose()
        limiter.finish(await asyncio.wait_for(limiter.acquire(REGULAR), 2))
        await limiter.flush()
        assert await zcard(server, limiter.key("pool:trade")) == 2


async def test_a_dead_waiters_place_lapses_within_its_queue_ttl(server: RedisServer) -> None:
    async with make(server) as alive:
        ghost_owner = make(server)
        held = [await alive.acquire(REGULAR) for _ in range(6)]
        ghost = ghost_owner._ticket(REGULAR)
        await ghost_owner._seed()
        assert (await ghost_owner._ask(ghost))[0] == 0  # no room: queued at the head
        await ghost_owner.close()  # ... and its process dies there
        client = aredis.Redis.from_url(server.url, socket_timeout=5.0)
        try:
            lapse = await client.zscore(alive.key("qlive"), ghost.tid)
            now_s, now_us = await client.time()
        finally:
            await client.aclose()
        assert lapse is not None
        # the place lapses queue_ttl after its last check: a twelfth of this 2 s window
        assert lapse - (now_s * 1000 + now_us // 1000) <= alive.queue_ttl * 1000 + 1
        for ticket in held:
            alive.finish(ticket, Feedback(sent=False))
        alive.finish(await asyncio.wait_for(alive.acquire(REGULAR), 2))  # not behind the ghost
