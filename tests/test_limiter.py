"""The asyncio limiter, on a fake clock: time moves only when the test moves it."""

from __future__ import annotations

import asyncio

import pytest

from htx_cancel import CATALOG, Feedback, RateLimiter, RateLimits, shared_limiter
from htx_cancel._limits import Ticket
from htx_cancel._models import RateLimitHeaders
from htx_cancel.testing import FakeClock

REGULAR = CATALOG["swap_cancel"]
TRIGGER = CATALOG["swap_trigger_cancel"]


def make(clock: FakeClock, **kw: object) -> RateLimiter:
    """Small limits; no cold-start probe unless asked (these tests feed no headers)."""
    args: dict[str, object] = {"trade": (4, 3.0), "strategy": (2, 1.0), "guard": 0.0,
                               "probe": False, **kw}
    return RateLimiter(RateLimits(**args), clock=clock)  # type: ignore[arg-type]


async def test_uncontended_acquire_does_not_wait_or_arm_a_timer() -> None:
    clock = FakeClock()
    limiter = make(clock)
    ticket = await limiter.acquire(REGULAR)
    assert ticket.granted and clock.next_timer() is None
    limiter.complete(ticket)
    assert clock.next_timer() is None  # nobody waits: no timer, no polling


async def test_burst_then_slots_come_back_one_window_after_completion() -> None:
    clock = FakeClock()
    limiter = make(clock)
    got: list[float] = []

    async def one() -> None:
        t = await limiter.acquire(REGULAR)
        got.append(clock.now())
        await clock.sleep(0.5)  # the request's round trip
        limiter.complete(t)

    tasks = [asyncio.create_task(one()) for _ in range(10)]
    await clock.run_until(lambda: all(t.done() for t in tasks))
    start = got[0]
    assert [round(g - start, 6) for g in got] == [0] * 4 + [3.5] * 4 + [7.0] * 2


async def test_cancelled_waiter_takes_nothing_and_leaves_no_timer() -> None:
    clock = FakeClock()
    limiter = make(clock)
    held = [await limiter.acquire(REGULAR) for _ in range(4)]
    waiter = asyncio.create_task(limiter.acquire(REGULAR))
    behind = asyncio.create_task(limiter.acquire(REGULAR))
    await clock.advance(0.1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    for t in held:
        limiter.release_unused(t)  # never sent: slots come straight back
    await clock.advance(0)
    assert behind.done() and behind.result().granted
    assert limiter.scheduler.waiting == 0
    limiter.release_unused(behind.result())
    assert limiter.scheduler.in_use("trade", clock.now()) == 0
    assert clock.next_timer() is None


async def test_waiter_cancelled_after_its_grant_gives_the_slot_back() -> None:
    clock = FakeClock()
    limiter = make(clock)
    held = [await limiter.acquire(REGULAR) for _ in range(4)]
    waiter = asyncio.create_task(limiter.acquire(REGULAR))
    await clock.advance(0)
    limiter.release_unused(held[0])  # grants the waiter's future...
    waiter.cancel()  # ...but the waiter is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limiter.scheduler.in_use("trade", clock.now()) == 3


async def test_strategy_request_takes_both_pools_or_waits() -> None:
    clock = FakeClock()
    limiter = make(clock)
    a = await limiter.acquire(TRIGGER)
    b = await limiter.acquire(TRIGGER)
    third = asyncio.create_task(limiter.acquire(TRIGGER))
    await clock.advance(0)
    assert not third.done()
    assert limiter.scheduler.in_use("trade", clock.now()) == 2
    limiter.complete(a)
    limiter.complete(b)
    await clock.advance(0.999)
    assert not third.done()
    await clock.advance(0.001)
    assert third.done()
    assert limiter.scheduler.in_use("trade", clock.now()) == 3  # two held for 3 s, one busy


async def test_fifo_per_endpoint() -> None:
    clock = FakeClock()
    limiter = make(clock)
    order: list[int] = []

    async def one(i: int) -> None:
        t = await limiter.acquire(REGULAR)
        order.append(i)
        limiter.complete(t)

    tasks = []
    for i in range(12):
        tasks.append(asyncio.create_task(one(i)))
        await clock.advance(0.01)
    await clock.run_until(lambda: all(t.done() for t in tasks))
    assert order == list(range(12))


async def test_pause_after_1032_and_outside_usage_from_headers() -> None:
    clock = FakeClock()
    limiter = make(clock, outside_prior=0.0)
    t = await limiter.acquire(REGULAR)
    limiter.complete(t)
    limiter.pause(t, 4, 3000, reset_in=2.0)
    nxt = asyncio.create_task(limiter.acquire(REGULAR))
    await clock.advance(1.9)
    assert not nxt.done()
    await clock.advance(0.2)
    assert nxt.done()
    limiter.complete(nxt.result())
    # the exchange says 0 left while we hold 2 of 4, its count covering 2 s of the 3 s
    # window: someone else sent 2 in 2 s, 3 a window, plus a margin of 1; one slot always
    # stays ours, so the hold is 3 and nothing is free until our slots come back
    limiter.observe(nxt.result(), 4, 3000, 0, reset_in=1.0)
    assert limiter.stats().pools["trade"].outside == 3
    assert limiter.scheduler.pools["trade"].free(clock.now()) < 0
    await clock.advance(3.0)
    assert limiter.scheduler.pools["trade"].free(clock.now()) == 1  # the hold stands
    await clock.advance(6.0)
    assert limiter.scheduler.pools["trade"].free(clock.now()) == 4  # unsupported: gone


async def test_headers_of_another_pool_are_ignored() -> None:
    clock = FakeClock()
    limiter = make(clock)
    t = await limiter.acquire(REGULAR)
    limiter.complete(t)
    limiter.observe(t, 99, 60_000, 0, reset_in=30.0)
    assert limiter.scheduler.pools["trade"].free(clock.now()) == 3


def test_limits_are_validated() -> None:
    for bad in ({"share": 0}, {"share": 1.5}, {"trade": (0, 3.0)}, {"guard": -1.0},
                {"strategy": (5, 0.0)}):
        with pytest.raises(ValueError):
            RateLimits(**bad)  # type: ignore[arg-type]
    assert RateLimits(share=0.5).spec("trade").limit == 36
    assert RateLimits(share=0.5).spec("swap_trigger_cancel").limit == 2


async def test_share_one_limiter_per_account_and_limits() -> None:
    a = shared_limiter("key-a")
    assert shared_limiter("key-a") is a
    assert shared_limiter("key-b") is not a
    assert shared_limiter("key-a", RateLimits(share=0.5)) is not a


def test_a_limiter_outlives_its_event_loop() -> None:
    limiter = RateLimiter(RateLimits(trade=(4, 30.0), guard=0.0, strategy_reserve=2, probe=False))
    held = []

    async def hold_two() -> None:
        held.extend([await limiter.acquire(REGULAR) for _ in range(2)])  # 2 free: at the cap

    async def abandon() -> None:
        waiter = asyncio.get_running_loop().create_task(limiter.acquire(REGULAR))
        await asyncio.sleep(0)  # queued, its dispatch scheduled on this loop...
        limiter.scheduler.cancel(waiter_ticket(limiter))
        waiter.cancel()

    async def one() -> None:
        limiter.complete(await limiter.acquire(REGULAR))

    asyncio.run(hold_two())
    loop = asyncio.new_event_loop()
    waiter = loop.create_task(limiter.acquire(REGULAR))
    loop.call_soon(loop.stop)
    loop.run_forever()  # the waiter queued and scheduled a dispatch on this loop...
    limiter.scheduler.cancel(waiter_ticket(limiter))
    waiter.cancel()
    loop.close()  # ...which is dropped before the dispatch ran
    asyncio.run(asyncio.wait_for(one(), timeout=2))  # must not wait for the dead loop


def waiter_ticket(limiter: RateLimiter) -> Ticket:
    """The one ticket queued in the limiter."""
    levels = limiter.scheduler._queues
    return next(t for level in levels for queues in level for q in queues.values() for t in q)


PLACE = CATALOG["swap_order"]
INFO = CATALOG["swap_order_info"]


async def test_an_urgent_cancel_goes_at_the_next_free_slot_past_queued_placements() -> None:
    clock = FakeClock()
    limiter = make(clock)
    held = [await limiter.acquire(PLACE) for _ in range(4)]
    queued = [asyncio.create_task(limiter.acquire(PLACE)) for _ in range(300)]
    await clock.advance(0.1)
    urgent = asyncio.create_task(limiter.acquire(REGULAR, "high"))
    await clock.advance(0.1)
    assert not urgent.done() and limiter.stats().waiting == {"high": 1, "normal": 300, "low": 0}
    limiter.complete(held[0])  # the next slot frees one window later
    await clock.advance(2.999)
    assert not urgent.done()
    await clock.advance(0.001)
    assert urgent.done() and not any(t.done() for t in queued)
    for task in queued:
        task.cancel()
    await asyncio.gather(*queued, return_exceptions=True)
    assert limiter.stats().waiting == {"high": 0, "normal": 0, "low": 0}


async def test_priorities_order_the_waiters_of_one_pool_fifo_within_each() -> None:
    clock = FakeClock()
    limiter = make(clock)
    held = [await limiter.acquire(PLACE) for _ in range(4)]
    order: list[str] = []

    async def one(name: str, priority: str) -> None:
        ticket = await limiter.acquire(PLACE if name[0] == "p" else REGULAR, priority)  # type: ignore[arg-type]
        order.append(name)
        limiter.release_unused(ticket)

    plan = [("p-low1", "low"), ("p-n1", "normal"), ("c-h1", "high"), ("p-low2", "low"),
            ("p-n2", "normal"), ("c-h2", "high"), ("p-h3", "high")]
    tasks = []
    for name, priority in plan:
        tasks.append(asyncio.create_task(one(name, priority)))
        await clock.advance(0.01)
    limiter.release_unused(held[0])
    await clock.run_until(lambda: all(t.done() for t in tasks))
    # FIFO within a priority and endpoint; endpoints of one priority take turns
    assert order == ["c-h1", "p-h3", "c-h2", "p-n1", "p-n2", "p-low1", "p-low2"]


async def test_the_read_pool_is_its_own() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(trade=(2, 3.0), read=(3, 3.0), guard=0.0, probe=False),
                          clock=clock)
    trade = [await limiter.acquire(PLACE) for _ in range(2)]
    reads = [await limiter.acquire(INFO) for _ in range(3)]  # the trade pool is full
    stats = limiter.stats()
    assert (stats.pools["trade"].in_flight, stats.pools["read"].in_flight) == (2, 3)
    assert stats.pools["read"].limit == 3 and stats.pools["read"].free == 0
    for t in trade + reads:
        limiter.complete(t)
    assert limiter.stats().pools["read"].held == 3


async def test_slot_completes_on_exit_however_the_block_ends() -> None:
    clock = FakeClock()
    limiter = make(clock)
    async with limiter.slot("/linear-swap-api/v1/swap_order") as slot:
        assert slot.ticket.granted and slot.ticket.pools == ("trade",)
    with pytest.raises(RuntimeError):
        async with limiter.slot("swap_order_info", priority="low"):
            raise RuntimeError("the request failed")
    async with limiter.slot(TRIGGER, priority="high") as slot:
        assert slot.ticket.priority == "high"
    stats = limiter.stats()
    assert stats.pools["trade"].in_flight == 0 and stats.pools["trade"].held == 2
    assert stats.pools["read"].held == 1 and stats.granted == 3
    with pytest.raises(ValueError, match="pools"):
        limiter.slot("/linear-swap-api/v1/not_in_the_catalog")
    async with limiter.slot("/linear-swap-api/v1/not_in_the_catalog", pools=("read",)):
        pass
    with pytest.raises(ValueError, match="priority"):
        limiter.slot("swap_order", priority="urgent")  # type: ignore[arg-type]


async def test_a_slot_says_never_sent_or_hands_on_the_answers_headers() -> None:
    clock = FakeClock()
    limiter = make(clock, trade=(8, 3.0))
    async with limiter.slot("swap_order") as slot:
        slot.not_sent()  # the other client failed before anything left
    assert limiter.stats().pools["trade"].held == 0 and limiter.stats().granted == 0
    async with limiter.slot("swap_order") as slot:
        # the exchange counted 6 of 8 over a whole window; ours is 1: 5 are someone else's
        slot.finish(Feedback(headers=RateLimitHeaders(8, 3000, 2, 0), reset_in=0.0))
    stats = limiter.stats()
    assert stats.pools["trade"].held == 1 and stats.outside_seen == 5
    assert stats.pools["trade"].outside == 5 + 1  # the estimate plus the margin
    async with limiter.slot("swap_order") as slot:
        slot.finish(Feedback(headers=RateLimitHeaders(8, 3000, 0, 0), reset_in=1.5,
                             rate_limited=True))
    stats = limiter.stats()
    assert stats.pauses == 1 and stats.pools["trade"].paused_for == pytest.approx(1.5)
    with pytest.raises(ValueError, match="never sent"):
        Feedback(sent=False, rate_limited=True)


async def test_slot_cancelled_while_waiting_takes_nothing() -> None:
    clock = FakeClock()
    limiter = make(clock)
    held = [await limiter.acquire(PLACE) for _ in range(4)]

    async def body() -> None:
        async with limiter.slot("swap_order"):
            raise AssertionError("never granted")

    task = asyncio.create_task(body())
    await clock.advance(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert limiter.stats().waiting["normal"] == 0
    assert limiter.stats().pools["trade"].in_flight == 4
    for t in held:
        limiter.release_unused(t)


async def test_a_cold_pool_sends_one_probe_then_bursts_what_its_answer_leaves() -> None:
    clock = FakeClock()
    limiter = make(clock, probe=True, trade=(8, 3.0))
    first = await limiter.acquire(REGULAR)
    rest = [asyncio.create_task(limiter.acquire(REGULAR)) for _ in range(7)]
    await clock.advance(0.1)
    assert not any(t.done() for t in rest)  # nothing is known yet: one request goes alone
    limiter.complete(first)
    # its headers: 5 left of 8 over a whole window, so 2 are someone else's (hold 2 + 1)
    limiter.observe(first, 8, 3000, 5, reset_in=0.0)
    await clock.advance(0)
    assert sum(t.done() for t in rest) == 8 - 1 - 3
    for t in rest:
        t.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


async def test_the_clients_limiter_offers_slot_and_stats() -> None:
    """``client.limiter`` (typed as the Limiter protocol) has ``slot`` and ``stats``."""
    from htx_cancel import CancelClient, Credentials, Limiter

    async with CancelClient(Credentials("k", "s"), api="v1", base_url="http://127.0.0.1:9",
                            rate_limits=RateLimits(trade=(3, 1.0), probe=False)) as client:
        limiter: Limiter | None = client.limiter
        assert limiter is not None
        async with limiter.slot("/linear-swap-api/v1/swap_order", priority="low"):
            assert limiter.stats().pools["trade"].in_flight == 1
        stats = limiter.stats()
        assert stats.pools["trade"].in_flight == 0 and stats.pools["trade"].held == 1


async def test_the_headers_name_the_pool_that_learns_or_pauses() -> None:
    """By limit and window; the endpoint's own pool first when both would fit; the limit may be
    the account's or this process's share."""
    clock = FakeClock()
    limiter = make(clock, trade=(5, 1.0), strategy=(5, 1.0))
    async with limiter.slot(TRIGGER) as slot:  # both pools are 5 per 1 s: its own is meant
        slot.finish(Feedback(headers=RateLimitHeaders(5, 1000, 0, 0), reset_in=0.5,
                             rate_limited=True))
    pools = limiter.stats().pools
    assert pools[TRIGGER.name].paused_for == pytest.approx(0.5)
    assert pools["trade"].paused_for == 0
    await clock.advance(1.0)
    async with limiter.slot(TRIGGER) as slot:  # 5 per 3 s is neither: every pool pauses
        slot.finish(Feedback(headers=RateLimitHeaders(5, 3000, 0, 0), reset_in=0.2,
                             rate_limited=True))
    assert limiter.stats().pools["trade"].paused_for == pytest.approx(0.2)

    shared = make(FakeClock(), trade=(8, 3.0), share=0.5)  # 4 of the account's 8
    async with shared.slot("swap_order") as slot:  # the share's limit names the pool too
        slot.finish(Feedback(headers=RateLimitHeaders(4, 3000, 0, 0), reset_in=0.0))
    assert shared.stats().outside_seen == 3  # 4 counted, 1 ours
    account = make(FakeClock(), trade=(8, 3.0), share=0.5)
    async with account.slot("swap_order") as slot:  # and so does the account's whole limit
        slot.finish(Feedback(headers=RateLimitHeaders(8, 3000, 1, 0), reset_in=0.0))
    assert account.stats().outside_seen == 2  # 7 counted of the account, 1 ours, 4 the rest's
