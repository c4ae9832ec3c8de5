"""Where to put strategy rounds in the shared trade pool: pure arithmetic, no clock, no I/O.

The model is the scheduler's own. A pool has ``limit`` slots; a slot granted at ``t`` may be
granted again at ``t + hold`` (``hold`` = period + guard + round trip, since the scheduler holds a
slot from grant until period + guard after the answer). A regular request takes a trade slot; a
strategy request takes a trade slot and a slot of its endpoint's own pool (5 per second).

Why plan at all: a trade slot kept free at ``t`` for a strategy round due at ``t + x`` is idle
for ``x`` and then runs on a phase shifted by ``x``; when the trade pool is the bottleneck that
shift can push a regular request into a later window. Strategy rounds that go when trade slots
come back anyway (cycle starts) cost nothing. So the plan says, per strategy endpoint, how many
of its next requests are *early* (trade slots are kept free for them so they go at their own
pool's pace); the rest go only when a trade slot is free without keeping one back. It picks the
counts that finish the whole queue soonest, and among those the ones that let strategy requests
go earliest. When a strategy pool is the bottleneck, that is every request early (full pace).

Everything here is a function of its arguments, except :class:`Planner`, which keeps the
current plan for the scheduler: :meth:`Planner.refresh` plans again when a strategy queue (or
the pool, or the round trip) changed, :meth:`Planner.reserve` and :meth:`Planner.passes` answer
each dispatch from the plan in microseconds. :func:`least_time` and :func:`lower_bound` give the
least time of a mix issued together, for tests and benchmarks.
"""

from __future__ import annotations

import itertools
import math
import random
from bisect import bisect_right, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Demand", "Lanes", "Plan", "Planner", "least_time", "lower_bound", "plan", "reserve",
           "simulate", "urgency"]

_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Lanes:
    """A pool seen at ``now``: its size, the reuse time of a slot, slots free now, and when the
    taken ones come back (sorted, each after ``now``)."""

    limit: int
    hold: float
    free: int
    returns: tuple[float, ...] = ()

    @classmethod
    def fresh(cls, limit: int, hold: float) -> Lanes:
        """A pool with every slot free."""
        return cls(limit, hold, limit)


@dataclass(frozen=True, slots=True)
class Demand:
    """The queued requests of one strategy endpoint, and its own pool."""

    count: int
    pool: Lanes


@dataclass(frozen=True, slots=True)
class Plan:
    """Per demand, how many of its next requests are early; the predicted last grants."""

    early: tuple[int, ...]
    finish: float  # the last grant of all
    finishes: tuple[float, ...]  # per demand, its last grant
    regular_finish: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """What :func:`simulate` predicts: the last grant of all, per demand, and of the regulars."""

    finish: float
    finishes: tuple[float, ...]
    regular_finish: float
    steps: int = 0  # instants simulated times (endpoints + 1): what the prediction cost


class _Returns:
    """Sorted times at which taken slots come back, consumed from the front."""

    __slots__ = ("head", "times")

    def __init__(self, times: Sequence[float]) -> None:
        self.times = sorted(times)
        self.head = 0

    def add(self, t: float, n: int) -> None:
        """``n`` slots come back at ``t``."""
        times = self.times
        if not times or t >= times[-1]:
            times.extend([t] * n)
        else:
            for _ in range(n):
                insort(times, t, self.head)

    def take_due(self, t: float) -> int:
        """Consume the returns at or before ``t``; how many there were."""
        i = bisect_right(self.times, t + _EPS, self.head)
        n = i - self.head
        self.head = i
        if i > 4096:  # keep the list short in long simulations
            del self.times[:i]
            self.head = 0
        return n

    def first(self) -> float | None:
        """The next return, if any."""
        return self.times[self.head] if self.head < len(self.times) else None

    def pending(self) -> list[float]:
        """The returns not yet consumed, sorted."""
        return self.times[self.head:]


def _due(t: float, free: int, returns: list[float], hold: float, n: int) -> list[float]:
    """When the next ``n`` grants of a pool could go at the earliest, from ``t``.

    Each slot is reused every ``hold``, so the k-th grant is on slot ``k % slots`` in its
    ``k // slots``-th round.
    """
    avail = [t] * free + returns
    slots = len(avail)
    if slots == 0 or n <= 0:
        return []
    return [avail[k % slots] + (k // slots) * hold for k in range(n)]


def _last(now: float, pool: Lanes, count: int) -> float:
    """When the last of ``count`` grants could go if the pool served nothing else."""
    if count <= 0:
        return now
    slots = pool.free + len(pool.returns)
    if slots == 0:
        return math.inf
    k = count - 1
    lane = k % slots
    start = now if lane < pool.free else pool.returns[lane - pool.free]
    return start + (k // slots) * pool.hold


def reserve(now: float, trade_returns: Sequence[float], trade_hold: float,
            early_due: Sequence[float], cap: int) -> int:
    """Trade slots to keep free at ``now`` for early strategy grants due at ``early_due``.

    A grant due at ``u`` within one trade hold is covered by a slot coming back before ``u`` or
    by one kept free now; keep the fewest that cover every prefix of the due times. Grants due
    at ``now`` are not counted (they go now, from what is free) and grants a hold or more away
    can take a slot granted now. ``trade_returns`` must be sorted.
    """
    horizon = now + trade_hold - _EPS
    dues = sorted(u for u in early_due if now + _EPS < u < horizon)
    if not dues:
        return 0
    lo = bisect_right(trade_returns, now)
    need = 0
    for i, u in enumerate(dues):
        need = max(need, i + 1 - (bisect_right(trade_returns, u + _EPS, lo) - lo))
    return min(need, cap)


def early_due(now: float, pool: Lanes, count: int, early: int) -> list[float]:
    """Due times of a demand's next ``early`` grants (at most ``count``), at its own pace."""
    return _due(now, pool.free, list(pool.returns), pool.hold, min(count, early))


def urgency(now: float, queues: Sequence[tuple[int, int, Sequence[float], float]]) -> list[int]:
    """The order to serve strategy endpoints in: the one whose own pool would finish last first.

    ``queues`` are ``(queued, free, returns, hold)`` per endpoint. Serving the longest own-pool
    queue first shares trade slots so that no endpoint is left with a tail at its own pace while
    the others are done (the longest-remaining-first rule); ties keep the given order.
    """
    ends = []
    for i, (count, free, returns, hold) in enumerate(queues):
        if count <= 0:
            continue
        slots = free + len(returns)
        if slots == 0:
            ends.append((math.inf, i))
            continue
        k = count - 1
        lane = k % slots
        start = now if lane < free else returns[lane - free]
        ends.append((start + (k // slots) * hold, i))
    ends.sort(key=lambda e: -e[0])
    return [i for _, i in ends]


def simulate(now: float, trade: Lanes, regular: int, demands: Sequence[Demand],
             early: Sequence[int], cap: int) -> Outcome:
    """Predict the grants the scheduler makes from ``now`` when it follows ``early``.

    The scheduler's rules: strategy queues are served first (by :func:`urgency`), then regular
    ones; both leave :func:`reserve` trade slots free for early grants due later; a strategy
    grant also needs a slot of its own pool. Every grant holds its slots for the pool's
    ``hold``. Once the strategy queues are empty the regular queue simply takes every trade
    slot as it comes back, which has a closed form.
    """
    t = now
    hold = trade.hold
    free = trade.free
    rets = _Returns(trade.returns)
    n = len(demands)
    holds = [d.pool.hold for d in demands]
    horizon = [d.pool.limit * (math.ceil(hold / max(d.pool.hold, _EPS)) + 1) for d in demands]
    own_free = [d.pool.free for d in demands]
    own_rets = [_Returns(d.pool.returns) for d in demands]
    left = [d.count for d in demands]
    ahead = list(early)
    finishes = [now] * n
    reg_finish = now
    steps = 0
    while any(left):
        steps += 1
        free += rets.take_due(t)
        for i in range(n):
            own_free[i] += own_rets[i].take_due(t)
        res = 0
        if any(ahead):
            dues: list[float] = []
            for i in range(n):
                if ahead[i] and left[i]:  # only grants due within a trade hold matter
                    dues.extend(_due(t, own_free[i], own_rets[i].pending(), holds[i],
                                     min(ahead[i], left[i], horizon[i])))
            if dues:
                res = reserve(t, rets.pending(), hold, dues, cap)
        if free > res:
            ready = [i for i in range(n) if left[i] and own_free[i]]
            if len(ready) > 1:
                ready = urgency(t, [(left[i], own_free[i], own_rets[i].pending(), holds[i])
                                    if i in ready else (0, 0, (), 0.0) for i in range(n)])
            # early grants first, then the rest: an endpoint's aligned grant must not take
            # the slot kept for another's early one due now
            for i in [*(i for i in ready if ahead[i]), *ready]:
                k = min(left[i], own_free[i], free - res, ahead[i] or left[i])
                if k <= 0:
                    continue
                free -= k
                own_free[i] -= k
                left[i] -= k
                ahead[i] = max(0, ahead[i] - k)
                rets.add(t + hold, k)
                own_rets[i].add(t + holds[i], k)
                finishes[i] = t
            if regular and free > res:
                k = min(regular, free - res)
                free -= k
                regular -= k
                rets.add(t + hold, k)
                reg_finish = t
        if not any(left):
            break
        nxt = [r for r in (rets.first(), *(own_rets[i].first() for i in range(n) if left[i]))
               if r is not None]
        if not nxt:  # only with an empty pool: nothing can ever be granted
            return Outcome(math.inf, tuple(math.inf if c else f
                                           for c, f in zip(left, finishes, strict=True)),
                           math.inf, steps * (1 + n))
        t = max(t, min(nxt))
    if regular:  # strategies done: the regular queue takes every slot as it comes back
        free += rets.take_due(t)
        avail = [t] * free + rets.pending()
        if avail:
            k = regular - 1
            reg_finish = max(t, avail[k % len(avail)] + (k // len(avail)) * hold)
        else:
            reg_finish = math.inf
    return Outcome(max(reg_finish, *finishes), tuple(finishes), reg_finish, steps * (1 + n))


def _better(a: Outcome, b: Outcome) -> bool:
    """``a`` finishes sooner, or as soon with strategy requests done sooner."""
    if a.finish < b.finish - _EPS:
        return True
    return a.finish <= b.finish + _EPS and sum(a.finishes) < sum(b.finishes) - _EPS


def plan(now: float, trade: Lanes, regular: int, demands: Sequence[Demand], cap: int,
         *, budget: int = 1_500) -> Plan:
    """Choose how many of each demand's next requests are early.

    The predicted finish is not monotone in these counts (a round moved to early can shift a
    trade slot just past a window edge) and the best often moves several endpoints at once, so
    the counts are searched, not climbed: every combination when the ``budget`` (instants
    simulated times endpoints, summed over runs of :func:`simulate`) allows; else every
    combination of whole trade holds at each endpoint's own pace, then, from the best of those
    (and a few other starts, then seeded random ones while the budget lasts), moves by own-pool
    rounds and by single requests, all endpoints together and each alone. The best finishes
    soonest; among equals, strategy requests finish soonest.
    """
    search = _Search(now, trade, regular, demands, cap, budget)
    if not demands:
        return search.result()
    counts = [d.count for d in demands]
    search.consider(counts)  # every request early: the best when a strategy pool decides
    # the same number of own-pool rounds early on every endpoint: HTX's endpoints are alike
    for k in range(1, max(-(-c // max(1, d.pool.limit)) for c, d in zip(counts, demands,
                                                                        strict=True))):
        if search.consider([min(c, k * max(1, d.pool.limit))
                            for c, d in zip(counts, demands, strict=True)]) is None:
            break
    runs = search.left // max(1, search.best.steps)
    if math.prod(c + 1 for c in counts) <= runs:
        search.grid([range(c + 1) for c in counts])
        return search.result()
    widths = [max(1, d.pool.limit) for d in demands]
    # what each endpoint sends at its own pace in one trade hold
    holds = [w * max(1, math.ceil(trade.hold / d.pool.hold - _EPS))
             for w, d in zip(widths, demands, strict=True)]
    if math.prod(len(range(0, c + 1, h)) + 1 for c, h in zip(counts, holds, strict=True)
                 ) <= runs // 2:
        search.grid([sorted({*range(0, c + 1, h), c}) for c, h in zip(counts, holds,
                                                                       strict=True)])
    rounds = [h // w for h, w in zip(holds, widths, strict=True)]
    starts = search.starts()
    rng = random.Random(len(counts))  # restarts at seeded random points: still a pure function
    while search.left > 0:
        start = starts.pop(0) if starts else tuple(rng.randint(0, c) for c in counts)
        if search.consider(start) is None:
            break
        search.sweep(search.sweep(start, widths, rounds), [1] * len(demands), widths)
    return search.result()


class _Search:
    """The best early counts found so far, every outcome seen, and the budget left."""

    __slots__ = ("best", "bound", "budget", "cap", "demands", "early", "ideal", "left", "now",
                 "regular", "seen", "trade")

    def __init__(self, now: float, trade: Lanes, regular: int, demands: Sequence[Demand],
                 cap: int, budget: int) -> None:
        self.now, self.trade, self.regular, self.demands, self.cap = (now, trade, regular,
                                                                      demands, cap)
        self.early: tuple[int, ...] = (0,) * len(demands)
        self.best = simulate(now, trade, regular, demands, self.early, cap)
        self.seen = {self.early: self.best}
        self.budget = budget
        self.left = budget - self.best.steps
        # no plan beats each pool alone at full pace: stop the search when one gets there
        self.ideal = [_last(now, d.pool, d.count) for d in demands]
        total = regular + sum(d.count for d in demands)
        self.bound = max([_last(now, trade, total), *self.ideal])
        self._stop_if_ideal()

    def _stop_if_ideal(self) -> None:
        """Spend the budget when the best cannot be beaten on either count, and most of it
        when the finish cannot (what is left only makes strategy requests finish sooner)."""
        best = self.best
        if best.finish <= self.bound + _EPS:
            if all(f <= i + _EPS for f, i in zip(best.finishes, self.ideal, strict=True)):
                self.left = 0
            else:
                self.left = min(self.left, self.budget // 8)

    def result(self) -> Plan:
        """The best found, as a plan."""
        best = self.best
        return Plan(self.early, best.finish, best.finishes, best.regular_finish)

    def consider(self, trial: Sequence[int]) -> Outcome | None:
        """The outcome of ``trial`` (simulated once); None when the budget is spent."""
        key = tuple(trial)
        out = self.seen.get(key)
        if self.left <= 0:
            return None
        if out is not None:
            self.left -= 1  # cheap, but a search that only meets known points must end
            return out
        out = simulate(self.now, self.trade, self.regular, self.demands, key, self.cap)
        self.left -= max(1, out.steps)
        self.seen[key] = out
        if _better(out, self.best):
            self.early, self.best = key, out
            self._stop_if_ideal()
        return out

    def grid(self, values: Sequence[Iterable[int]]) -> None:
        """Every combination."""
        for combo in itertools.product(*values):
            if self.consider(combo) is None:
                return

    def starts(self) -> list[tuple[int, ...]]:
        """Where to search from: the best so far; the best finish with the fewest early (the
        plan that keeps the fewest slots back often sits far from the fastest one); only the
        endpoint with the longest own queue at its own pace, the others with none early."""
        finish = self.best.finish
        fewest = min((k for k, o in self.seen.items() if o.finish <= finish + _EPS), key=sum)
        longest = max(range(len(self.demands)), key=lambda i: self.ideal[i])
        alone = tuple(d.count if i == longest else 0 for i, d in enumerate(self.demands))
        if self.consider(alone) is None:
            return [self.early]
        return list(dict.fromkeys([self.early, fewest, alone]))

    def sweep(self, start: tuple[int, ...], unit: Sequence[int],
              reach: Sequence[int]) -> tuple[int, ...]:
        """From ``start``, move all endpoints at once, then each alone, by up to ``reach`` steps
        of ``unit``, keeping what improves, until nothing does (at most three passes); return
        where it ended."""
        n = len(self.demands)
        here, there = start, self.seen[start]
        moves = [k for d in range(1, max(reach) + 1) for k in (-d, d)]  # small moves first
        for _ in range(3):
            before = here
            for i in [None, *sorted(range(n), key=lambda i: -there.finishes[i])]:
                for k in moves:
                    trial = list(here)
                    for j in range(n) if i is None else (i,):
                        if abs(k) <= reach[j]:
                            trial[j] = max(0, min(self.demands[j].count, trial[j] + k * unit[j]))
                    out = self.consider(trial)
                    if out is None:
                        return here
                    if _better(out, there):
                        here, there = tuple(trial), out
            if here == before:
                break
        return here


def least_time(regular: int, strategies: Sequence[tuple[int, int, float]],
               trade: tuple[int, float], *, extra: float = 0.0,
               cap: int | None = None) -> float:
    """The last grant of a planned mix issued together on idle pools, from 0.

    ``strategies`` are ``(requests, limit, period)`` per endpoint, ``trade`` is ``(limit,
    period)`` and ``extra`` is what the scheduler adds to every period (guard + round trip).
    Add one round trip for the time to the last answer.
    """
    limit, period = trade
    demands = [Demand(c, Lanes.fresh(lim, per + extra)) for c, lim, per in strategies]
    cap = limit - 1 if cap is None else cap
    return plan(0.0, Lanes.fresh(limit, period + extra), regular, demands, cap).finish


def lower_bound(regular: int, strategies: Sequence[tuple[int, int, float]],
                trade: tuple[int, float], *, extra: float = 0.0) -> float:
    """A last grant no schedule can beat: each pool alone at full pace, from 0."""
    limit, period = trade
    total = regular + sum(c for c, _, _ in strategies)
    bound = max(0, math.ceil(total / limit) - 1) * (period + extra)
    for count, lim, per in strategies:
        bound = max(bound, max(0, math.ceil(count / lim) - 1) * (per + extra))
    return bound


def _coarse(pool: Lanes, resolution: float) -> Lanes:
    """``pool`` with its returns rounded up to ``resolution``: slots that come back within a
    millisecond of each other are one instant of the simulation, not dozens."""
    if resolution <= 0 or not pool.returns:
        return pool
    return Lanes(pool.limit, pool.hold, pool.free,
                 tuple(math.ceil(r / resolution) * resolution for r in pool.returns))


class Planner:
    """The plan a scheduler follows: early counts per strategy endpoint, kept until its queue
    changes (:meth:`invalidate`), counted down as the endpoint's requests are granted."""

    __slots__ = ("budget", "cap", "early", "hold", "regular", "resolution", "slots", "stale")

    def __init__(self, cap: int, *, budget: int = 1_500, resolution: float = 0.001) -> None:
        self.cap = cap
        self.budget = budget
        self.resolution = resolution  # returns this close together are one instant to plan
        self.early: dict[str, int] = {}
        self.stale = True
        self.hold = 0.0  # the trade hold the plan was made with
        self.regular = 0  # the fewest regular requests queued since
        self.slots = 0  # the trade slots (free or coming back) the plan was made with

    def invalidate(self) -> None:
        """Plan again at the next decision (a strategy queue changed)."""
        self.stale = True

    def granted(self, endpoint: str) -> None:
        """One request of ``endpoint`` was granted."""
        n = self.early.get(endpoint)
        if n:
            self.early[endpoint] = n - 1

    def refresh(self, now: float, trade: Lanes, regular: int, demands: dict[str, Demand]) -> None:
        """Plan again if the plan is stale: a strategy queue changed, the round trip moved the
        trade hold by more than 5%, the slots the trade pool has for us changed by a tenth
        (outside use, a pause), or the regular queue grew by a quarter (so a steady trickle
        of regular requests does not plan at every dispatch)."""
        self.regular = min(self.regular, regular)
        slots = trade.free + len(trade.returns)
        if not (self.stale or abs(trade.hold - self.hold) > 0.05 * self.hold
                or abs(slots - self.slots) > max(1, self.slots // 10)
                or regular > self.regular + max(4, self.regular // 4)):
            return
        coarse = [Demand(d.count, _coarse(d.pool, self.resolution)) for d in demands.values()]
        planned = plan(now, _coarse(trade, self.resolution), regular, coarse, self.cap,
                       budget=self.budget)
        self.early = dict(zip(demands, planned.early, strict=True))
        self.stale = False
        self.hold = trade.hold
        self.regular = regular
        self.slots = slots

    def reserve(self, now: float, trade: Lanes, demands: dict[str, Demand]) -> int:
        """Trade slots to keep free now for the early requests of ``demands`` due later."""
        dues: list[float] = []
        for name, d in demands.items():
            n = self.early.get(name, 0)
            if n:
                dues.extend(early_due(now, d.pool, d.count, n))
        return reserve(now, trade.returns, trade.hold, dues, self.cap) if dues else 0

    def passes(self, now: float, demands: dict[str, Demand]) -> list[tuple[str, int]]:
        """How to serve the strategy queues: ``(endpoint, at most n)`` in order, early
        requests first (an endpoint's others must not take the slot kept for another's early
        one), then the rest by :func:`urgency`."""
        names = list(demands)
        order = [names[i] for i in urgency(now, [(d.count, d.pool.free, d.pool.returns,
                                                   d.pool.hold) for d in demands.values()])]
        early = [(name, self.early[name]) for name in order if self.early.get(name)]
        return early + [(name, demands[name].count) for name in order]
