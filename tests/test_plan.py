"""The planner: its arithmetic, its least times against an exact search, and a scheduler that
follows it, driven by a discrete-event simulation with round trips (fake time, no event loop).

Times are integers (ticks) so that every sum is exact in floating point: a strategy pool's
period is ``STRATEGY_PERIOD`` ticks and the trade pool's three times that, as HTX's 1 s and 3 s.
A slot is reused a hold after its grant (period + guard + round trip); where the comparison with
the exact optimum must be tight, the trade period is made ``3 * STRATEGY_PERIOD + 2 * extra`` so
that the holds keep HTX's ratio too (a trade hold is three strategy holds). Without that, the
exact optimum can exploit phase shifts of a round trip's size between the two holds, which no
scheduler that learns the round trip as it goes can plan for; those mixes are checked against
the scheduler before planning instead.
"""

from __future__ import annotations

import heapq
import itertools
import random
import sys
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from htx_cancel._limits import PoolSpec, Scheduler, Ticket
from htx_cancel._limits.planner import (
    Demand,
    Lanes,
    early_due,
    least_time,
    lower_bound,
    plan,
    reserve,
    simulate,
    urgency,
)

from ._exact import exact_least_time, feasible

TRADE_PERIOD = 30
STRATEGY_PERIOD = 10
REGULAR = "swap_cancel"
STRATEGIES = ("swap_trigger_cancel", "swap_tpsl_cancel", "swap_track_cancel")

sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))  # the exact search recurses per tick


# -- the arithmetic ---------------------------------------------------------------------------


def test_reserve_keeps_what_returning_slots_do_not_cover() -> None:
    # grants due at 1, 1, 2; one slot comes back at 1.5: keep 2 now (both due at 1)
    assert reserve(0.0, [1.5], 3.0, [1.0, 1.0, 2.0], cap=10) == 2
    # due now or a hold or more away: nothing to keep
    assert reserve(0.0, [], 3.0, [0.0, 3.0, 4.0], cap=10) == 0
    assert reserve(0.0, [], 3.0, [1.0] * 8, cap=5) == 5  # capped


def test_early_due_at_the_pools_own_pace() -> None:
    pool = Lanes(5, 1.0, 2, (0.25, 0.5, 0.5))
    assert early_due(0.0, pool, 12, 7) == [0.0, 0.0, 0.25, 0.5, 0.5, 1.0, 1.0]
    assert early_due(0.0, pool, 3, 7) == [0.0, 0.0, 0.25]
    assert early_due(0.0, Lanes(5, 1.0, 0), 3, 3) == []


def test_urgency_serves_the_longest_own_queue_first() -> None:
    queues = [(5, 5, (), 1.0), (15, 5, (), 1.0), (0, 5, (), 1.0), (15, 0, (0.5,) * 5, 1.0)]
    assert urgency(0.0, queues) == [3, 1, 0]


def test_the_heavy_mix_fits_in_two_trade_windows() -> None:
    """2,000 regular ids (80 requests) + 15 requests on each of three strategy endpoints."""
    mix = [(15, 5, 1.0)] * 3
    assert lower_bound(80, mix, (72, 3.0)) == 3.0
    assert least_time(80, mix, (72, 3.0)) == 3.0
    trade = Lanes.fresh(72, 3.0)
    demands = [Demand(15, Lanes.fresh(5, 1.0))] * 3
    # what the scheduler did before planning: every strategy round at its own pace
    assert simulate(0.0, trade, 80, demands, [15] * 3, cap=48).finish == 4.0
    planned = plan(0.0, trade, 80, demands, cap=48)
    assert planned.finish == 3.0
    assert planned.early == (10, 10, 10)  # rounds at 0 and 1 s; the third waits for 3 s
    # with a hold of period + guard + round trip the same plan holds, shifted
    assert least_time(80, mix, (72, 3.0), extra=0.006) == pytest.approx(3.006)


def test_strategy_bound_mix_runs_strategies_at_their_own_pace() -> None:
    """Few regular requests: the strategy pools are the bottleneck and nothing waits for them."""
    demands = [Demand(15, Lanes.fresh(5, 1.0))] * 3
    planned = plan(0.0, Lanes.fresh(72, 3.0), 10, demands, cap=48)
    assert planned.finish == 2.0
    assert planned.finishes == (2.0, 2.0, 2.0)


def test_the_search_ends_when_every_combination_is_known() -> None:
    """Few combinations and budget left: seeded restarts only meet known points; it ends."""
    demands = [Demand(5, Lanes.fresh(2, 10.0)), Demand(2, Lanes.fresh(1, 10.0))]
    assert plan(0.0, Lanes.fresh(10, 30.0), 10, demands, cap=9).finish == 30.0


def test_a_large_mix_keeps_strategies_fast_at_no_cost() -> None:
    """10,000 regular ids: the trade pool decides; strategy rounds still go at their pace."""
    demands = [Demand(15, Lanes.fresh(5, 1.0))] * 3
    planned = plan(0.0, Lanes.fresh(72, 3.0), 400, demands, cap=48)
    assert planned.finish == 18.0  # 445 requests: 7 trade windows
    assert max(planned.finishes) == 2.0


# -- the least time against an exhaustive search ------------------------------------------------


@st.composite
def mixes(draw: st.DrawFn, max_count: int = 6) -> tuple[int, int, list[tuple[int, int]], int]:
    """(trade limit, regular requests, [(count, own limit)] per strategy endpoint, extra ticks).

    As on HTX, the strategy endpoints at their own pace fit in the trade pool (three of them
    take 45 of its 72 per window): three own rounds per trade window, at most the trade limit.
    """
    endpoints = draw(st.integers(1, 3))
    owns = [draw(st.integers(1, 3)) for _ in range(endpoints)]
    limit = draw(st.integers(max(3, 3 * sum(owns)), max(8, 3 * sum(owns) + 4)))
    strategies = [(draw(st.integers(0, max_count)), own) for own in owns]
    regular = draw(st.integers(0, 2 * limit))
    extra = draw(st.integers(0, 2))
    return limit, regular, strategies, extra


def exact(limit: int, regular: int, strategies: list[tuple[int, int]], extra: int) -> int:
    """The exact least last grant with strategy holds of period + ``extra`` (the round trip +
    guard) and trade holds three times that."""
    trade = (limit, 3 * (STRATEGY_PERIOD + extra))
    strat = [(c, lim, STRATEGY_PERIOD + extra) for c, lim in strategies]
    upper = int(least_time(regular, [(c, lim, float(p)) for c, lim, p in strat],
                           (limit, float(trade[1])), cap=limit - 1))
    return exact_least_time(regular, trade, strat, upper)


def test_exact_search_on_the_worked_example_scaled_down() -> None:
    # trade 12 per 30, three endpoints of 1 per 10 with 3 requests each, 12 regular: 21 fit by
    # 30 only with one round at 10 and the third at 30 (the slots of 0 back), none at 20
    assert exact(12, 12, [(3, 1)] * 3, 0) == 30
    assert not feasible(29, 12, (12, 30), [(3, 1, 10)] * 3)
    assert exact(12, 13, [(3, 1)] * 3, 0) == 40
    # every round at its own pace (0, 10, 20) costs a window
    trade, demands = Lanes.fresh(12, 30.0), [Demand(3, Lanes.fresh(1, 10.0))] * 3
    assert simulate(0.0, trade, 12, demands, [3] * 3, cap=8).finish == 40.0
    assert plan(0.0, trade, 12, demands, cap=8).finish == 30.0


@settings(max_examples=60, deadline=None)
@given(mix=mixes())
def test_planned_least_time_is_the_exact_one(
        mix: tuple[int, int, list[tuple[int, int]], int]) -> None:
    limit, regular, strategies, extra = mix
    best = exact(limit, regular, strategies, extra)
    hold = STRATEGY_PERIOD + extra
    planned = least_time(regular, [(c, lim, float(hold)) for c, lim in strategies],
                         (limit, float(3 * hold)), cap=limit - 1)
    bound = lower_bound(regular, [(c, lim, float(hold)) for c, lim in strategies],
                        (limit, float(3 * hold)))
    assert bound <= best <= planned  # the simulated plan never beats what is possible
    assert planned == best, f"planned {planned}, exact {best}"


# -- the real scheduler following the plan, with round trips ----------------------------------


@dataclass(eq=False)
class Req:
    endpoint: str
    submit: float = 0.0
    cancel_at: float | None = None
    granted_at: float | None = None
    arrival: float | None = None
    done_at: float | None = None
    cancelled: bool = False
    seq: int = field(default_factory=itertools.count().__next__)


def assert_windows(reqs: list[Req], trade: tuple[int, int],
                   strategy: tuple[int, int]) -> None:
    """No window of any pool holds more than its limit of arrivals."""
    pools = {REGULAR: trade, **{name: strategy for name in STRATEGIES}}
    for name, (limit, period) in pools.items():
        arrivals = sorted(r.arrival for r in reqs if r.arrival is not None
                          and (name == REGULAR or r.endpoint == name))
        for a, b in zip(arrivals, arrivals[limit:], strict=False):
            assert b - a >= period, f"{name}: {limit + 1} arrivals within {b - a}"


def mix_requests(regular: int, strategies: list[tuple[int, int]]) -> list[Req]:
    reqs = [Req(REGULAR) for _ in range(regular)]
    for name, (count, _) in zip(STRATEGIES, strategies, strict=False):
        reqs += [Req(name) for _ in range(count)]
    return reqs


@st.composite
def same_limit_mixes(draw: st.DrawFn) -> tuple[int, int, list[tuple[int, int]], int, int]:
    """A mix whose strategy endpoints share one own limit (as HTX's do), a round trip, a guard."""
    limit, regular, strategies, _ = draw(mixes())
    own = draw(st.integers(1, max(1, limit // (3 * len(strategies)))))  # still fits, as above
    rtt = draw(st.integers(0, 2))
    guard = draw(st.integers(0, 1))
    return limit, regular, [(c, own) for c, _ in strategies], rtt, guard


def planned_and_full_pace(mix: tuple[int, int, list[tuple[int, int]], int, int],
                          seed: int) -> tuple[float, float]:
    """The makespans of a mix through the real scheduler with the plan and without it.

    Strategy requests are issued first, as in the test above: a regular request that finds
    an idle pool takes the fast path before any strategy request is known (with regular
    requests first, 6 / 30 and two 1 / 10 endpoints of 3 each finish at 34 planned and 32
    without the plan: the copy of the scheduler these tests used to run had no fast path).
    """
    limit, regular, strategies, rtt, guard = mix
    trade, strategy = (limit, TRADE_PERIOD), (strategies[0][1], STRATEGY_PERIOD)

    def issued() -> list[Req]:
        return mix_requests(regular, strategies)[regular:] + mix_requests(regular, [])

    planned, unplanned = issued(), issued()
    end = run_scheduler(make_real(trade, strategy, guard), planned, rtt, random.Random(seed))
    old = run_scheduler(make_real(trade, strategy, guard, plan=False), unplanned, rtt,
                        random.Random(seed))
    assert_windows(planned, trade, strategy)
    return end, old


@settings(max_examples=60, deadline=None)
@given(mix=same_limit_mixes(), seed=st.integers(0, 2**16))
def test_with_any_holds_planning_is_never_slower_than_full_pace(
        mix: tuple[int, int, list[tuple[int, int]], int, int], seed: int) -> None:
    """HTX's own periods (3 and 1), whatever the round trip does to the holds."""
    end, old = planned_and_full_pace(mix, seed)
    rtt, guard = mix[3], mix[4]
    assert end <= old + rtt + guard, f"planned {end}, at full pace {old}"


@settings(max_examples=100, deadline=None)
@given(reqs=st.lists(st.builds(Req, endpoint=st.sampled_from((REGULAR, *STRATEGIES)),
                               submit=st.integers(0, 120).map(float),
                               cancel_at=st.none() | st.integers(0, 200).map(float)),
                     max_size=50),
       rtt=st.integers(0, 3), guard=st.integers(0, 1), seed=st.integers(0, 2**16))
def test_arrivals_at_any_time_keep_every_window_fifo_and_nobody_starves(
        reqs: list[Req], rtt: int, guard: int, seed: int) -> None:
    trade, strategy = (4, TRADE_PERIOD), (2, STRATEGY_PERIOD)
    run_scheduler(make_real(trade, strategy, guard), reqs, rtt, random.Random(seed))
    assert_windows(reqs, trade, strategy)
    for name in (REGULAR, *STRATEGIES):
        mine = sorted((r for r in reqs if r.endpoint == name and not r.cancelled),
                      key=lambda r: (r.submit, r.seq))
        grants = [r.granted_at for r in mine]
        assert None not in grants, "a waiter that was not cancelled never got a slot"
        assert grants == sorted(grants), f"{name}: not FIFO"  # type: ignore[type-var]


def test_the_heavy_mix_through_the_scheduler() -> None:
    """The issue's mix with HTX's limits in milliseconds: everything by 3 s + round trips."""
    trade, strategy, rtt, guard = (72, 3000), (5, 1000), 4, 5
    reqs = mix_requests(80, [(15, 5)] * 3)
    end = run_scheduler(make_real(trade, strategy, guard), reqs, rtt, random.Random(1))
    assert_windows(reqs, trade, strategy)
    assert end == 3000 + guard + 2 * rtt  # the slots of t=0 back at 3009, answered at 3013
    before = mix_requests(80, [(15, 5)] * 3)
    old = run_scheduler(make_real(trade, strategy, guard, plan=False, cap=48), before, rtt,
                        random.Random(1))
    assert old > 4000  # the unplanned reserve: the last regular requests wait for 4 s


def run_scheduler(sched: Scheduler, reqs: list[Req], rtt: float, rng: random.Random,
                  jitter: float = 0.0) -> float:
    """Every request through :class:`Scheduler` as the asyncio limiter drives it (the fast
    path, else queued; one dispatch per instant; its wakeups): the time of the last answer (a
    round trip of ``rtt``, plus up to ``jitter`` more at random). A request with ``cancel_at``
    gives up then if it is still waiting."""
    seq = itertools.count()
    events: list[tuple[float, int, str, Req | None]] = []
    tickets = {}
    for r in reqs:
        pools = ("trade",) if r.endpoint == REGULAR else ("trade", r.endpoint)
        tickets[id(r)] = Ticket(r.endpoint, pools, "high")
        heapq.heappush(events, (r.submit, next(seq), "submit", r))
        if r.cancel_at is not None:
            heapq.heappush(events, (r.cancel_at, next(seq), "cancel", r))
    by_ticket = {id(tickets[id(r)]): r for r in reqs}
    end = 0.0
    for _ in range(100_000):
        if not events:
            break
        now = events[0][0]
        due: list[Req] = []
        while events and events[0][0] == now:  # one loop turn: all that is due, then dispatch
            _, _, kind, req = heapq.heappop(events)
            if req is None:
                continue
            ticket = tickets[id(req)]
            if kind == "submit" and not req.cancelled:
                if sched.try_grant(ticket, now):
                    due.append(req)
                else:
                    sched.enqueue(ticket)
            elif kind == "cancel" and req.granted_at is None and req not in due:
                if not req.cancelled:
                    sched.cancel(ticket)
                req.cancelled = True
            elif kind == "done":
                sched.complete(ticket, now)
                end = max(end, now)
        due += [by_ticket[id(t)] for t in sched.dispatch(now)]
        for req in due:
            assert not req.cancelled
            req.granted_at = now
            took = rtt + (rng.uniform(0, jitter) if jitter else 0)
            req.arrival = now + rng.uniform(0, took)  # somewhere between grant and answer
            heapq.heappush(events, (now + took, next(seq), "done", req))
        wake = sched.next_wakeup(now)
        if wake is not None:
            heapq.heappush(events, (wake, next(seq), "wake", None))
    assert not events, "the simulation does not end"
    assert sched.waiting == 0
    return end


def make_real(trade: tuple[int, int], strategy: tuple[int, int], guard: int, *,
              plan: bool = True, cap: int | None = None) -> Scheduler:
    """The scheduler with these pools. Its reserve may take all but one trade slot (unless
    ``cap``): in pools this small two thirds (the default cap, 48 of HTX's 72) is less than two
    own-pool rounds of three endpoints, which HTX's pool has room for."""
    pools = [PoolSpec("trade", *trade)] + [PoolSpec(name, *strategy) for name in STRATEGIES]
    return Scheduler(pools, guard=guard, reserve_cap=trade[0] - 1 if cap is None else cap,
                     plan=plan)


@settings(max_examples=60, deadline=None)
@given(mix=same_limit_mixes(), seed=st.integers(0, 2**16))
def test_the_scheduler_finishes_a_mix_within_a_round_trip_of_the_least_time(
        mix: tuple[int, int, list[tuple[int, int]], int, int], seed: int) -> None:
    limit, regular, strategies, rtt, guard = mix
    trade = (limit, 3 * STRATEGY_PERIOD + 2 * (rtt + guard))  # holds in HTX's ratio, see top
    strategy = (strategies[0][1], STRATEGY_PERIOD)
    # strategy requests first: a regular request that finds an idle pool takes the fast path
    # before any strategy request is known (a third of HTX's pool; here it can be the slot
    # the least time needs)
    reqs = mix_requests(regular, strategies)[regular:] + mix_requests(regular, [])
    end = run_scheduler(make_real(trade, strategy, guard), reqs, rtt, random.Random(seed))
    assert_windows(reqs, trade, strategy)
    for name in (REGULAR, *STRATEGIES):
        grants = [r.granted_at for r in reqs if r.endpoint == name]
        assert grants == sorted(grants)  # type: ignore[type-var]
    if reqs:
        best = exact(limit, regular, strategies, rtt + guard) + rtt
        assert end <= best + rtt + guard, f"makespan {end}, least {best}"


def test_the_heavy_mix_through_the_real_scheduler() -> None:
    """HTX's limits in milliseconds, 4 ms round trips: everything by 3 s plus the holds."""
    trade, strategy, rtt, guard = (72, 3000), (5, 1000), 4, 5
    reqs = mix_requests(80, [(15, 5)] * 3)
    sched = make_real(trade, strategy, guard)
    end = run_scheduler(sched, reqs, rtt, random.Random(1), jitter=3)
    assert_windows(reqs, trade, strategy)
    assert end <= 3000 + guard + 2 * (rtt + 3)
