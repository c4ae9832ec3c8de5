"""Fairness across endpoints within one priority, seen only through the limiter's public calls.

Nothing here looks at the scheduler's insides, so it holds whatever scheduler the limiter uses.
"""

from __future__ import annotations

import asyncio

from htx_cancel import CATALOG, RateLimiter, RateLimits
from htx_cancel.testing import FakeClock

CANCEL_AFTER = CATALOG["linear-cancel-after"]  # trade pool only, like swap_cancel


async def test_a_second_endpoint_takes_turns_with_a_queue_issued_before_it() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(trade=(2, 1.0), guard=0.0, probe=False, outside_prior=0),
                          clock=clock)
    granted: list[str] = []

    async def send(name: str) -> None:
        ticket = await limiter.acquire(CATALOG[name.split("#")[0]], "high")
        granted.append(name)
        await clock.sleep(0.1)  # the round trip
        limiter.finish(ticket)

    tasks = [asyncio.create_task(send(f"swap_cancel#{i}")) for i in range(10)]
    await clock.advance(0)  # the pool's two slots go to the first two; eight wait
    assert granted == ["swap_cancel#0", "swap_cancel#1"]
    tasks.append(asyncio.create_task(send(CANCEL_AFTER.name)))
    await clock.run_until(lambda: all(t.done() for t in tasks))
    assert sorted(granted) == sorted([f"swap_cancel#{i}" for i in range(10)]
                                     + [CANCEL_AFTER.name])
    # Taking turns, the switch is re-armed at the next free slot; strictly first come, first
    # served it waits behind all eight queued cancels (index 10).
    assert granted.index(CANCEL_AFTER.name) <= 3, granted
