"""The pacer: a burst started a slice per loop iteration, the most urgent first.

Time is a fake clock the tests move (each turn costs what the test says); loop iterations are
counted by a callback that re-schedules itself with ``call_soon``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from htx_cancel import CancelClient, Credentials, RateLimits
from htx_cancel._pace import Pacer
from htx_cancel.testing import MockRequest, MockTransport

from ._loop import Iterations
from ._replies import replying

ROOMY = RateLimits(trade=(1000, 1.0), read=(1000, 1.0), probe=False)  # never in the way


class Clock:
    """A clock that moves ``step`` seconds every time it is read."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


async def burst(pacer: Pacer, ranks: list[int]) -> list[tuple[int, int]]:
    """Start one task per rank in one iteration; (task, iteration it started in), in order."""
    started: list[tuple[int, int]] = []
    with Iterations() as it:
        async def one(i: int, rank: int) -> None:
            await pacer.turn(rank)
            started.append((i, it.n))

        async with asyncio.TaskGroup() as group:
            for i, rank in enumerate(ranks):
                group.create_task(one(i, rank))
    return started


async def test_turns_within_the_budget_start_at_once() -> None:
    pacer = Pacer(1.0, clock=Clock(0.01))
    started = await burst(pacer, [0] * 20)
    assert [i for i, _ in started] == list(range(20))
    assert len({n for _, n in started}) == 1  # all in the iteration they asked in
    assert pacer.waiting == 0


async def test_a_burst_over_the_budget_goes_a_slice_per_iteration() -> None:
    pacer = Pacer(1.0, clock=Clock(0.3))  # a turn costs 0.3 s of a 1 s budget
    started = await burst(pacer, [0] * 14)
    assert [i for i, _ in started] == list(range(14))  # first come, first started
    by_iteration: dict[int, int] = {}
    for _, n in started:
        by_iteration[n] = by_iteration.get(n, 0) + 1
    counts = [by_iteration[n] for n in sorted(by_iteration)]
    assert counts[0] == 4  # 0.0 .. 0.9 fit the budget, the fifth turn does not
    assert all(c == pacer.slice for c in counts[1:-1])
    assert pacer.slice == 3  # 1.0 / 0.3: learned from the first iteration's turns
    assert sum(counts) == 14 and pacer.waiting == 0
    later = sorted(by_iteration)[1:]  # a slice in each iteration after the first, none skipped
    assert later == list(range(later[0], later[0] + len(later)))


async def test_the_most_urgent_waiters_go_first() -> None:
    pacer = Pacer(1.0, clock=Clock(1.0))  # one turn an iteration
    ranks = [2, 2, 2, 0, 1, 0]
    started = await burst(pacer, ranks)
    # task 0 starts at once (first of its iteration); then rank 0, rank 1, rank 2, in order
    assert [i for i, _ in started] == [0, 3, 5, 4, 1, 2]


async def test_a_cancelled_waiter_gives_its_place_up() -> None:
    pacer = Pacer(1.0, clock=Clock(1.0))
    done: list[int] = []

    async def one(i: int) -> None:
        await pacer.turn(0)
        done.append(i)

    tasks = [asyncio.create_task(one(i)) for i in range(4)]
    await asyncio.sleep(0)  # every task has taken its turn: 0 started, 1..3 wait
    assert done == [0] and pacer.waiting == 3
    tasks[1].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert done == [0, 2, 3]
    assert tasks[1].cancelled() and pacer.waiting == 0


@pytest.mark.parametrize("budget", [0, -1.0, float("nan")])
def test_a_budget_must_be_positive(budget: float) -> None:
    with pytest.raises(ValueError, match="budget"):
        Pacer(budget)
    with pytest.raises(ValueError, match="loop_budget"):
        CancelClient(Credentials("a", "b"), loop_budget=budget)


async def burst_through_client(loop_budget: float | None) -> list[int]:
    """The loop iteration each request of a 30-id cancel (3 batches) reached the transport."""
    seen: list[int] = []
    with Iterations() as it:
        def handler(request: MockRequest) -> dict[str, Any]:
            seen.append(it.n)
            return {"code": 200, "message": "Success", "ts": 1, "data": [
                {"order_id": i, "code": 200} for i in request.body["order_id"]]}

        async with CancelClient(Credentials("a", "b"), rate_limits=ROOMY,
                                loop_budget=loop_budget,
                                transport=MockTransport(replying(handler))) as client:
            await client.cancel_orders("BTC-USDT", [str(i) for i in range(1, 11)])  # the key
            seen.clear()
            report = await client.cancel_orders("BTC-USDT", [str(i) for i in range(11, 41)])
    assert len(report.cancelled) == 30
    return seen


async def test_the_client_starts_a_burst_over_several_iterations() -> None:
    # a budget far below what one request costs: a slice of one an iteration
    paced = await burst_through_client(1e-9)
    assert len(set(paced)) == 3
    unpaced = await burst_through_client(None)
    assert len(set(unpaced)) == 1


async def test_limits_off_means_no_pacer() -> None:
    client = CancelClient(Credentials("a", "b"), rate_limits=None, loop_budget=1e-9)
    assert client._driver._pacer is None
    limited = CancelClient(Credentials("a", "b"), rate_limits=ROOMY, loop_budget=1e-9)
    assert limited._driver._pacer is not None
    await client.close()
    await limited.close()
