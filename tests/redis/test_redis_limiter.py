"""RedisLimiter against a real Redis: windows, atomicity, leases, queues, pauses, failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time

import pytest
import redis.asyncio as aredis

from htx_cancel import CATALOG, RateLimiterError, RateLimits
from htx_cancel._catalog import Endpoint, Priority
from htx_cancel._limits import NOT_SENT, Feedback
from htx_cancel._models import RateLimitHeaders
from htx_cancel.redis_limiter import RedisLimiter, RedisTicket

pytestmark = pytest.mark.redis

REGULAR = CATALOG["swap_cancel"]
OTHER = CATALOG["swap_cross_cancel"]
STRATEGY = CATALOG["swap_trigger_cancel"]
# no cold-start probe here: these tests hold slots without answering them
SMALL = RateLimits(trade=(5, 0.5), strategy=(2, 0.5), read=(5, 0.5), guard=0.005, probe=False)


def make(url: str, account: str, limits: RateLimits = SMALL, *, lease: float = 1.0,
         queue_ttl: float = 1.0, fallback: RateLimits | None = None) -> RedisLimiter:
    return RedisLimiter(url, account, limits, lease=lease, queue_ttl=queue_ttl,
                        fallback=fallback)


def queue_key(limiter: RedisLimiter, endpoint: Endpoint, priority: Priority = "normal") -> str:
    """The Redis queue key the limiter uses for ``endpoint`` at ``priority`` (from its plan)."""
    return limiter._ticket(endpoint, priority).lane.queue_keys[0]


async def zcard(url: str, key: str) -> int:
    """ZCARD of ``key`` on a single server or, if ``url`` names a cluster's node, the cluster."""
    client = aredis.Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=5.0)
    try:
        if (await client.info("cluster")).get("cluster_enabled"):
            cluster = aredis.RedisCluster.from_url(url, socket_timeout=5.0)
            try:
                return int(await cluster.zcard(key))
            finally:
                await cluster.aclose()
        return int(await client.zcard(key))
    finally:
        await client.aclose()


def max_overlap(spans: list[tuple[float, float]], period: float) -> int:
    """Most requests whose [grant, complete + period) covers any one grant instant."""
    best = 0
    for start, _ in spans:
        best = max(best, sum(1 for s, e in spans if s <= start < e + period))
    return best


async def test_never_more_than_limit_per_window(redis_url: str, account: str) -> None:
    limiters = [make(redis_url, account) for _ in range(3)]  # three "processes"
    spans: list[tuple[float, float]] = []
    rng = random.Random(7)

    async def one(limiter: RedisLimiter) -> None:
        ticket = await limiter.acquire(REGULAR)
        granted = time.monotonic()
        assert isinstance(ticket, RedisTicket)
        assert ticket.snapshot["trade"][0] <= 5  # holders seen by Redis right after the grant
        await asyncio.sleep(rng.uniform(0, 0.03))  # the request's flight
        spans.append((granted, time.monotonic()))
        limiter.finish(ticket)

    start = time.monotonic()
    await asyncio.wait_for(
        asyncio.gather(*(one(limiters[i % 3]) for i in range(20))), timeout=10)
    elapsed = time.monotonic() - start
    for limiter in limiters:
        await limiter.close()
    assert max_overlap(spans, 0.5) <= 5
    assert 1.5 <= elapsed < 1.5 + 4 * 0.2  # 4 windows of 5; each costs a flight and a margin


async def test_strategy_request_takes_both_pools_or_nothing(redis_url: str,
                                                              account: str) -> None:
    async with make(redis_url, account) as limiter:
        held = [await limiter.acquire(REGULAR) for _ in range(5)]  # the trade pool is full
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(limiter.acquire(STRATEGY), 0.2)
        await limiter.flush()
        assert await zcard(redis_url, limiter.key(f"pool:{STRATEGY.name}")) == 0
        assert await zcard(redis_url, queue_key(limiter, STRATEGY)) == 0
        assert await zcard(redis_url, limiter.key("pool:trade")) == 5
        for ticket in held:
            limiter.finish(ticket, NOT_SENT)
        await limiter.flush()
        assert await zcard(redis_url, limiter.key("pool:trade")) == 0
        ticket = await asyncio.wait_for(limiter.acquire(STRATEGY), 1)
        assert isinstance(ticket, RedisTicket)
        assert await zcard(redis_url, limiter.key(f"pool:{STRATEGY.name}")) == 1
        assert await zcard(redis_url, limiter.key("pool:trade")) == 1
        limiter.finish(ticket)


async def test_strategy_pool_full_does_not_touch_trade(redis_url: str, account: str) -> None:
    async with make(redis_url, account) as limiter:
        for _ in range(2):
            await limiter.acquire(STRATEGY)
        assert await zcard(redis_url, limiter.key("pool:trade")) == 2
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(limiter.acquire(STRATEGY), 0.2)
        assert await zcard(redis_url, limiter.key("pool:trade")) == 2
        regular = await asyncio.wait_for(limiter.acquire(REGULAR), 0.5)  # no head-of-line block
        limiter.finish(regular)


async def test_dead_process_slots_expire_with_their_lease(redis_url: str, account: str) -> None:
    dead = make(redis_url, account, lease=1.0)
    for _ in range(5):
        await dead.acquire(REGULAR)  # never completed: the process "died"
    await dead.close()
    async with make(redis_url, account) as alive:
        start = time.monotonic()
        ticket = await asyncio.wait_for(alive.acquire(REGULAR), 3)
        waited = time.monotonic() - start
        alive.finish(ticket)
    assert 0.9 <= waited <= 1.0 + 0.2


async def test_dead_waiter_leaves_the_queue(redis_url: str, account: str) -> None:
    async with make(redis_url, account, lease=5.0) as alive:
        plan_holder = make(redis_url, account, lease=5.0)
        # its process asked once (and adopted the account's books), then sent nothing
        plan_holder.finish(await plan_holder.acquire(REGULAR), NOT_SENT)
        await plan_holder.flush()
        blocker = [await alive.acquire(REGULAR) for _ in range(5)]
        ghost = plan_holder._ticket(REGULAR)
        assert (await plan_holder._ask(ghost))[0] == 0  # queued at the head, then it "dies"
        await plan_holder.close()
        for ticket in blocker:
            alive.finish(ticket, NOT_SENT)
        start = time.monotonic()
        ticket = await asyncio.wait_for(alive.acquire(REGULAR), 3)
        waited = time.monotonic() - start
        alive.finish(ticket)
    assert waited <= 1.0 + 0.2  # the ghost's queue entry lapsed (default queue_ttl 1 s)


async def test_cancelled_waiter_takes_nothing(redis_url: str, account: str) -> None:
    async with make(redis_url, account) as limiter:
        held = [await limiter.acquire(REGULAR) for _ in range(5)]
        waiter = asyncio.ensure_future(limiter.acquire(REGULAR))
        await asyncio.sleep(0.1)
        assert await zcard(redis_url, queue_key(limiter, REGULAR)) == 1  # the key is the queue
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await limiter.flush()
        assert await zcard(redis_url, limiter.key("pool:trade")) == 5
        assert await zcard(redis_url, queue_key(limiter, REGULAR)) == 0
        for ticket in held:
            limiter.finish(ticket, NOT_SENT)
        await limiter.flush()
        assert await zcard(redis_url, limiter.key("pool:trade")) == 0


async def test_cancelled_during_the_script_gives_a_grant_back(redis_url: str,
                                                               account: str) -> None:
    async with make(redis_url, account) as limiter:
        for _ in range(20):
            task = asyncio.ensure_future(limiter.acquire(REGULAR))
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                limiter.finish(await task, NOT_SENT)
        await limiter.flush()
        assert await zcard(redis_url, limiter.key("pool:trade")) == 0
        assert await zcard(redis_url, queue_key(limiter, REGULAR)) == 0
        stats = limiter.stats()  # grants given back in Redis were never counted here
        assert stats.granted == 0 and stats.pools["trade"].in_flight == 0
        assert stats.pools["trade"].free == SMALL.trade[0]


async def test_fifo_in_a_process_and_turns_between_processes(redis_url: str,
                                                             account: str) -> None:
    """Each process keeps one place per endpoint in the account's queue: its own waiters go
    FIFO, and processes take turns, so a process with many waiters cannot starve another."""
    limits = RateLimits(trade=(1, 0.3), strategy=(5, 0.3), read=(1, 0.3), probe=False)
    async with make(redis_url, account, limits) as one, make(redis_url, account, limits) as two:
        order: list[str] = []

        async def go(limiter: RedisLimiter, name: str) -> None:
            ticket = await limiter.acquire(REGULAR)
            order.append(name)
            limiter.finish(ticket)

        first = await one.acquire(REGULAR)
        tasks = []
        for i, limiter in enumerate([one, two, one, one, one, two]):
            tasks.append(asyncio.ensure_future(go(limiter, f"{i}")))
            await asyncio.sleep(0.02)  # arrival order
        one.finish(first)
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert order == ["0", "1", "2", "5", "3", "4"]


async def test_queued_strategy_requests_get_a_reserve(redis_url: str, account: str) -> None:
    limits = RateLimits(trade=(4, 0.4), strategy=(5, 0.4), read=(4, 0.4), probe=False)
    regular = make(redis_url, account, limits=limits)
    strategic = make(redis_url, account, limits=limits)
    held = [await regular.acquire(REGULAR) for _ in range(4)]
    strategy_task = asyncio.ensure_future(strategic.acquire(STRATEGY))
    flood = [asyncio.ensure_future(regular.acquire(OTHER)) for _ in range(8)]
    await asyncio.sleep(0.1)
    for ticket in held:
        regular.finish(ticket)
    ticket = await asyncio.wait_for(strategy_task, 0.4 + 0.3)  # within the next window
    strategic.finish(ticket)
    for task in flood:
        task.cancel()
    await asyncio.gather(*flood, return_exceptions=True)
    await regular.close()
    await strategic.close()


async def test_pause_after_1032_holds_every_process(redis_url: str, account: str) -> None:
    async with make(redis_url, account) as one, make(redis_url, account) as two:
        ticket = await one.acquire(REGULAR)
        one.finish(ticket)
        one.learn(ticket, Feedback(headers=RateLimitHeaders(5, 500, 0, 0), reset_in=0.4,
                                  rate_limited=True))
        await one.flush()
        start = time.monotonic()
        other = await asyncio.wait_for(two.acquire(REGULAR), 2)
        waited = time.monotonic() - start
        two.finish(other)
    assert 0.35 <= waited <= 0.4 + 0.15


async def test_observe_holds_back_outside_use(redis_url: str, account: str) -> None:
    async with make(redis_url, account) as limiter:
        ticket = await limiter.acquire(REGULAR)
        limiter.finish(ticket)
        # 3 used by someone else over the whole window: a standing hold of 3 + a margin of 1
        limiter.learn(ticket, Feedback(headers=RateLimitHeaders(5, 500, 1, 0), reset_in=0.0))
        await limiter.flush()
        assert int(await limiter._client.get(limiter.key("hold:trade")) or 0) == 4
        assert limiter.stats().pools["trade"].outside == 4
        assert (await limiter.fetch_stats()).pools["trade"].outside == 4
        with pytest.raises(TimeoutError):  # 5 - 1 (ours, held) - 4
            await asyncio.wait_for(limiter.acquire(REGULAR), 0.1)
        granted = await asyncio.wait_for(limiter.acquire(REGULAR), 1.0)  # ours came back
        limiter.finish(granted)


async def test_unreachable_redis_raises() -> None:
    async with make("redis://127.0.0.1:1/0", "nobody") as limiter:
        with pytest.raises(RateLimiterError, match="cannot reach Redis"):
            await limiter.acquire(REGULAR)


async def test_unreachable_redis_uses_the_fallback(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="htx_cancel.redis"):
        async with make("redis://127.0.0.1:1/0", "nobody",
                        fallback=RateLimits(trade=(4, 0.5), share=0.5, probe=False)) as limiter:
            tickets = [await limiter.acquire(REGULAR) for _ in range(2)]
            assert not any(isinstance(t, RedisTicket) for t in tickets)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(limiter.acquire(REGULAR), 0.1)
            for t in tickets:
                limiter.finish(t)
            assert limiter.stats().backend == "fallback"
    moves = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO
             and "Redis unusable" in r.getMessage()]
    assert len(moves) == 1  # one line for the move, not one per request


def test_arguments_are_checked(redis_url: str) -> None:
    with pytest.raises(ValueError, match="account"):
        RedisLimiter(redis_url, "")
    with pytest.raises(ValueError, match="lease"):
        RedisLimiter(redis_url, "a", lease=3.0)
    with pytest.raises(ValueError, match="poll_cap"):
        RedisLimiter(redis_url, "a", poll_cap=1.0, queue_ttl=1.0)


async def test_a_lent_client_is_used_and_not_closed(redis_url: str, account: str) -> None:
    client = aredis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=5.0)
    try:
        async with RedisLimiter(client, account, SMALL, lease=1.0) as limiter:
            ticket = await limiter.acquire(STRATEGY)
            assert isinstance(ticket, RedisTicket)
            assert ticket.shared == {"trade": (1, 1), STRATEGY.name: (1, 1)}
            limiter.finish(ticket)
        assert await client.ping()
    finally:
        await client.aclose()


async def test_close_gives_up_on_calls_redis_never_answers(
        redis_url: str, account: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from htx_cancel._limits import redis_backend

    monkeypatch.setattr(redis_backend, "CLOSE_WAIT", 0.2)
    limiter = make(redis_url, account)
    async with limiter:
        stuck = asyncio.ensure_future(asyncio.Event().wait())  # a call that never returns
        limiter._tasks.add(stuck)
    assert stuck.cancelled()
    assert "unanswered" in caplog.text
