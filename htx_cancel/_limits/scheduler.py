"""The rate-limit scheduler: a pure state machine that decides when each request may go.

No I/O and no clock of its own: every method takes ``now``. The async limiter drives it.

Guarantee: a slot is held from the moment it is granted until ``period + guard`` after the
request completed. A request arrives at the exchange after it was granted and before it
completed, so two requests that use the same slot arrive at least ``period`` apart, and no
window of length ``period`` at the exchange can see more than ``limit`` of them, whatever the
delays in the event loop or on the network.

Order: priorities ``high``, ``normal``, ``low``; within one, strategy endpoints (a pool of
their own) before the others, each endpoint FIFO. A request is never granted a slot of a pool
that a request of higher priority is waiting for.

Plan: while strategy requests queue, :class:`~.planner.Planner` says how many shared
slots to keep free for them and in which order to serve their endpoints, so that a mix issued
together finishes close to the least time its limits allow (see :mod:`.planner`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import policy
from .feedback import Feedback
from .planner import Demand, Lanes, Planner
from .pools import Pool, PoolSpec
from .stats import LimiterStats

__all__ = ["LEVELS", "Finished", "PoolSpec", "Scheduler", "Ticket"]

LEVELS: dict[str, int] = {"high": 0, "normal": 1, "low": 2}


@dataclass(frozen=True, slots=True)
class Finished:
    """What :meth:`Scheduler.finish` did with a request's feedback.

    ``pool``: the pool the headers named (None without headers, or naming none of the
    request's). ``paused``: seconds each pool was paused for after a 1032. ``wake``: a waiter
    may go at once (slots came back, or a probe's answer warmed its pool).
    """

    pool: str | None = None
    paused: dict[str, float] = field(default_factory=dict)
    wake: bool = False


_NOTHING = Finished()
_WAKE = Finished(wake=True)


class Ticket:
    """One request's place in the scheduler."""

    __slots__ = ("endpoint", "granted", "granted_at", "level", "pools", "priority", "snapshot",
                 "strategy", "tid", "waker")

    def __init__(self, endpoint: str, pools: tuple[str, ...], priority: str = "normal") -> None:
        self.endpoint = endpoint
        self.pools = pools
        self.priority = priority
        self.level = LEVELS[priority]
        self.strategy = len(pools) > 1
        self.granted = False
        self.granted_at = 0.0
        self.snapshot: dict[str, tuple[int, int]] = {}  # pool -> (own slots in use, grants)
        self.waker: object = None  # the async layer's future
        self.tid = ""  # the ticket's id where its slots are also kept elsewhere (Redis)


_Queues = dict[str, deque[Ticket]]


class Scheduler:
    """FIFO queues per priority and endpoint over shared pools, strict windows, a reserve.

    Within a priority, endpoints with a pool of their own (the strategy cancels) are served
    first, and the others leave room in the shared pool for the strategy requests of the same
    or a higher priority that are queued, so a 5/s strategy endpoint is never starved of the
    72/3 s trade pool by a flood of regular requests. The reserve is capped (``reserve_cap``,
    see :func:`~.policy.reserve_cap`) so regular requests are never starved either.
    """

    __slots__ = ("_cap_override", "_planner", "_queues", "granted", "guard", "pauses", "pools",
                 "reserve_cap", "rtt", "shared", "waiting")

    def __init__(self, specs: Iterable[PoolSpec], *, shared: str = "trade", guard: float = 0.0,
                 reserve_cap: int | None = None, plan: bool = True) -> None:
        self.pools = {spec.name: Pool(spec) for spec in specs}
        if shared not in self.pools:
            raise ValueError(f"the shared pool {shared!r} is not among the pools")
        if guard < 0:
            raise ValueError(f"guard must not be negative, got {guard}")
        self.shared = shared
        self.guard = guard
        self._cap_override = reserve_cap
        self.reserve_cap = policy.reserve_cap(self.pools[shared].limit, reserve_cap)
        # per level: (strategy endpoints, the others)
        self._queues: list[tuple[_Queues, _Queues]] = [({}, {}) for _ in LEVELS]
        self.waiting = 0
        self.granted = 0
        self.pauses = 0
        self._planner = Planner(self.reserve_cap) if plan else None
        self.rtt = 0.0  # grant to answer, smoothed: the planner adds it to every hold

    def add_pool(self, spec: PoolSpec) -> None:
        """Add a pool if it is not there yet (strategy pools are created on first use)."""
        if spec.name not in self.pools:
            self.pools[spec.name] = Pool(spec)

    def resize(self, specs: Iterable[PoolSpec]) -> None:
        """Take other limits for these pools (shared and fallback limits); the books stay."""
        for spec in specs:
            pool = self.pools.get(spec.name)
            if pool is None:
                self.pools[spec.name] = Pool(spec)
            else:
                pool.resize(spec)
        self.reserve_cap = policy.reserve_cap(self.pools[self.shared].limit, self._cap_override)
        if self._planner is not None:
            self._planner.cap = self.reserve_cap
            self._planner.invalidate()

    # -- granting -----------------------------------------------------------------------------

    def try_grant(self, ticket: Ticket, now: float) -> bool:
        """Grant at once if nobody is queued ahead and every pool has room (the fast path).

        A regular request takes the fast path only while more than ``reserve_cap`` shared slots
        are free; below that it queues, so that strategy requests arriving in the same loop turn
        are served first by the next ``dispatch``. Nothing takes the fast path past a waiter of
        higher priority in one of its pools.
        """
        if self._queue_of(ticket):
            return False
        level = ticket.level
        for name in ticket.pools:
            if level and any(self.pools[name].waiting[:level]):
                return False
        if self._fits(ticket, now, 0 if ticket.strategy else self.reserve_cap, ()):
            self._grant(ticket, now)
            return True
        return False

    def enqueue(self, ticket: Ticket) -> None:
        """Queue a ticket behind the others of its priority and endpoint."""
        queues = self._queues[ticket.level][0 if ticket.strategy else 1]
        queue = queues.get(ticket.endpoint)
        if queue is None:
            queue = queues[ticket.endpoint] = deque()
        queue.append(ticket)
        self._count(ticket, 1)
        if ticket.strategy and self._planner is not None:
            self._planner.invalidate()

    def dispatch(self, now: float) -> list[Ticket]:
        """Grant every queued ticket that may go now; return them in grant order.

        With strategy requests queued, the planner decides within a priority: how many shared
        slots to keep for early strategy requests of that priority or higher, and in which
        order strategy endpoints go. Across priorities the plan cannot know what comes next,
        so a lower priority also leaves room for the next window of every strategy request
        queued at a higher one (the reserve before planning).
        """
        granted: list[Ticket] = []
        if not self.waiting:
            return granted
        view = self._plan(now)
        blocked: set[str] = set()  # pools a waiter of a higher priority is waiting for
        for level, (strategic, regular) in enumerate(self._queues):
            if view is None:
                if strategic:
                    self._drain(strategic.values(), now, 0, blocked, granted)
                # what is still queued after the strategy grants (those hold their slots)
                kept, reserve = 0, self._reserve(level + 1)
            else:
                planner, shared, demands, upto = view
                kept = max(planner.reserve(now, shared, {n: demands[n] for n in upto[level]}),
                           self._reserve(level))
                reserve = kept
                if strategic:
                    mine = {name: Demand(len(q), demands[name].pool)
                            for name, q in strategic.items() if q}
                    for name, most in planner.passes(now, mine):
                        self._drain((strategic[name],), now, kept, blocked, granted, most)
            if regular:
                self._turns(regular, now, reserve, blocked, granted)
            if not self.waiting:
                break
            for queues, held in ((strategic, kept), (regular, reserve)):
                for queue in queues.values():
                    if queue:
                        blocked.update(self._short(queue[0], now, held))
        return granted

    def _plan(self, now: float
              ) -> tuple[Planner, Lanes, dict[str, Demand], list[list[str]]] | None:
        """The planner's view when strategy requests queue: the shared pool, each strategy
        endpoint's queue and pool, and the endpoints queued at each priority or higher."""
        if self._planner is None:
            return None
        counts: dict[str, int] = {}
        own: dict[str, str] = {}
        upto: list[list[str]] = []
        regular = 0
        for strategic, others in self._queues:
            for name, queue in strategic.items():
                if queue:
                    counts[name] = counts.get(name, 0) + len(queue)
                    own[name] = queue[0].pools[-1]
            upto.append(list(counts))
            regular += sum(len(q) for q in others.values() if q and self.shared in q[0].pools)
        if not counts:
            return None
        if any(self.pools[name].outside.cold(now) for name in (self.shared, *own.values())):
            self._planner.invalidate()  # one probe at a time: nothing to plan until it answers
            return None
        guard, rtt = self.guard, self.rtt
        shared = self.pools[self.shared].lanes(now, guard, rtt)
        demands = {name: Demand(n, self.pools[own[name]].lanes(now, guard, rtt))
                   for name, n in counts.items()}
        self._planner.refresh(now, shared, regular, demands)
        return self._planner, shared, demands, upto

    def _drain(self, queues: Iterable[deque[Ticket]], now: float, reserve: int,
               blocked: set[str], granted: list[Ticket], most: int = -1) -> None:
        """Grant queue heads, in order, while they fit (at most ``most`` unless negative)."""
        for queue in queues:
            while most and queue and self._fits(queue[0], now, reserve, blocked):
                head = queue.popleft()
                self._count(head, -1)
                self._grant(head, now)
                granted.append(head)
                most -= 1

    def _turns(self, queues: _Queues, now: float, reserve: int, blocked: set[str],
               granted: list[Ticket]) -> None:
        """Grant queue heads endpoint by endpoint, in turns, while they fit.

        An endpoint that was served goes to the back, so turns carry over from one dispatch to
        the next: a request on a second endpoint (a dead man's switch re-arm, a placement)
        waits for the next free slot, not behind every request queued earlier on another.
        """
        live = [name for name, queue in queues.items() if queue]
        if len(live) == 1:  # the usual case: one endpoint, plain FIFO
            self._drain((queues[live[0]],), now, reserve, blocked, granted)
            return
        while live:
            served = []
            for name in live:
                queue = queues[name]
                if self._fits(queue[0], now, reserve, blocked):
                    head = queue.popleft()
                    self._count(head, -1)
                    self._grant(head, now)
                    granted.append(head)
                    del queues[name]  # to the back of the turns
                    queues[name] = queue
                    if queue:
                        served.append(name)
            live = served

    def _count(self, ticket: Ticket, n: int) -> None:
        """Count a ticket in (or out of) the waiters of its pools."""
        self.waiting += n
        for name in ticket.pools:
            self.pools[name].waiting[ticket.level] += n

    def _queue_of(self, ticket: Ticket) -> deque[Ticket] | None:
        """The queue a ticket of this priority and endpoint waits in, if one exists."""
        return self._queues[ticket.level][0 if ticket.strategy else 1].get(ticket.endpoint)

    def cancel(self, ticket: Ticket) -> None:
        """Forget a queued ticket whose waiter gave up."""
        queue = self._queue_of(ticket)
        if queue is not None and not ticket.granted:
            try:
                queue.remove(ticket)
            except ValueError:
                return
            self._count(ticket, -1)
            if ticket.strategy and self._planner is not None:
                self._planner.invalidate()

    def _fits(self, ticket: Ticket, now: float, reserve: int, blocked: Iterable[str]) -> bool:
        """True when every pool of the ticket has a free slot (beyond the reserve if shared)."""
        for name in ticket.pools:
            if name in blocked:
                return False
            free = self.pools[name].free(now)
            if free <= (reserve if name == self.shared else 0):
                return False
        return True

    def _short(self, ticket: Ticket, now: float, reserve: int) -> list[str]:
        """The pools a waiting ticket lacks room in."""
        return [name for name in ticket.pools
                if self.pools[name].free(now) <= (reserve if name == self.shared else 0)]

    def _grant(self, ticket: Ticket, now: float) -> None:
        """Take one slot in each of the ticket's pools."""
        ticket.granted = True
        ticket.granted_at = now
        self.granted += 1
        if ticket.strategy and self._planner is not None:
            self._planner.granted(ticket.endpoint)
        for name in ticket.pools:
            ticket.snapshot[name] = self.pools[name].take(now)

    def take(self, ticket: Ticket, now: float) -> None:
        """Count a grant made elsewhere (by Redis) in these books, whatever room they show."""
        for name in ticket.pools:
            if name not in self.pools:
                raise KeyError(f"no pool {name!r}: add_pool it first")
        self._grant(ticket, now)

    def _reserve(self, levels: int) -> int:
        """Shared slots to keep for the next shared window of the strategy requests queued at
        the first ``levels`` priorities (:func:`~.policy.strategy_reserve`)."""
        period = self.pools[self.shared].period
        queued = []
        for strategic, _ in self._queues[:levels]:
            for queue in strategic.values():
                if queue:
                    own = self.pools[queue[0].pools[-1]]
                    queued.append((queue[0].endpoint, len(queue),
                                   policy.per_window((own.limit, own.period), period)))
        return policy.strategy_reserve(queued, self.reserve_cap)

    # -- completion and feedback --------------------------------------------------------------

    def complete(self, ticket: Ticket, now: float) -> bool:
        """The request was answered (or failed) at ``now``: hold its slots ``period`` longer.

        True when this may let a waiter go at once (an answered probe warms its pool).
        """
        if not ticket.granted:
            return False
        ticket.granted = False
        warmed = False
        self.rtt += (now - ticket.granted_at - self.rtt) / 8
        for name in ticket.pools:
            pool = self.pools[name]
            pool.hold_until(now + pool.period + self.guard, ticket.tid)
            warmed |= pool.outside.cold(now)
            pool.outside.answered(now)
        return warmed

    def release_unused(self, ticket: Ticket) -> None:
        """The granted request was never sent: give its slots straight back."""
        if not ticket.granted:
            return
        ticket.granted = False
        self.granted -= 1
        for name in ticket.pools:
            self.pools[name].give_back()

    def pause(self, pool_name: str, until: float, now: float | None = None) -> None:
        """Grant nothing from this pool before ``until`` (after a 1032 at ``now``)."""
        pool = self.pools[pool_name]
        if now is None:
            pool.paused_until = max(pool.paused_until, until)
        else:
            pool.pause(until, now)
        self.pauses += 1

    def observe(self, ticket: Ticket, pool_name: str, remaining: int, reset_in: float,
                now: float) -> int:
        """Compare the exchange's ``ratelimit-remaining`` with what this scheduler can explain.

        ``remaining`` is the account's, counted against this scheduler's ``limit`` (its share):
        the rest of the account is the other shares'. When the ticket
        was granted, ``used`` of the pool's slots were taken by this limiter (the ticket
        included); since then ``later`` more were granted. The exchange cannot have counted
        more of ours than that, so the rest of its count is someone else's: the pool's
        :class:`~.outside.OutsideUse` learns from it. Returns that count.
        """
        snap = ticket.snapshot.get(pool_name)
        pool = self.pools.get(pool_name)
        if snap is None or pool is None:
            return 0
        used, grants_then = snap
        count = policy.outside_count(pool.limit, remaining, used + pool.grants - grants_then)
        pool.outside.observe(now, count, reset_in)
        return count

    def match(self, ticket: Ticket, limit: int | None, interval_ms: int | None) -> str | None:
        """The ticket's pool whose limit and window the headers describe."""
        specs = {name: self.pools[name].spec for name in ticket.pools}
        return policy.match_pool(ticket.pools, {n: (s.account, s.period) for n, s in specs.items()},
                                 {n: s.limit for n, s in specs.items()}, limit, interval_ms)

    def finish(self, ticket: Ticket, now: float, feedback: Feedback, *,
               count_outside: bool = True) -> Finished:
        """The request is over: give its slots back or hold them, then :meth:`learn`."""
        if not ticket.granted:
            return _NOTHING
        if not feedback.sent:
            self.release_unused(ticket)
            return _WAKE
        warmed = self.complete(ticket, now)
        if feedback.headers is None and not feedback.rate_limited:
            return _WAKE if warmed else _NOTHING  # the usual answer: nothing more to learn
        done = self.learn(ticket, now, feedback, count_outside=count_outside)
        return Finished(done.pool, done.paused, True) if warmed and not done.wake else done

    def learn(self, ticket: Ticket, now: float, feedback: Feedback, *,
              count_outside: bool = True) -> Finished:
        """Take in what the answer to the ticket's request said.

        With headers, the pool they name learns of outside use (unless ``count_outside`` is
        False: the Redis backend counts across processes and calls :meth:`observe` itself);
        after a 1032 that pool (or every pool of the request) pauses until the reset, at most a
        window.
        """
        headers = feedback.headers
        pool = None if headers is None else self.match(ticket, headers.limit,
                                                        headers.interval_ms)
        wake = False
        if pool is not None and headers is not None and count_outside:
            # the account's remaining against this limiter's share: what others take beyond
            # the rest of the account (the other shares) is outside use
            reset_in = feedback.reset_in
            self.observe(ticket, pool, headers.remaining,
                         self.pools[pool].period if reset_in is None else reset_in, now)
            wake = True
        paused: dict[str, float] = {}
        if feedback.rate_limited:
            for name in (pool,) if pool else ticket.pools:
                wait = policy.pause_for(self.pools[name].period, feedback.reset_in, self.guard)
                self.pause(name, now + wait, now)
                paused[name] = wait
        return Finished(pool, paused, wake)

    def next_wakeup(self, now: float) -> float | None:
        """When a queued ticket may next become grantable without any other event."""
        if not self.waiting:
            return None
        times = [t for pool in self.pools.values() if (t := pool.next_change(now)) is not None]
        return min(times) if times else None

    def in_use(self, pool_name: str, now: float) -> int:
        """Slots of a pool that are taken or held at ``now``."""
        return self.pools[pool_name].own(now)

    def queued(self) -> list[Ticket]:
        """Every queued ticket (any order)."""
        return [t for level in self._queues for queues in level for q in queues.values()
                for t in q]

    def waiting_by_priority(self) -> dict[str, int]:
        """Queued tickets by priority."""
        return {name: sum(len(q) for queues in self._queues[level] for q in queues.values())
                for name, level in LEVELS.items()}

    def stats(self, now: float, backend: str = "in-process") -> LimiterStats:
        """Every pool's slots, the waiters by priority and the counters, at ``now``."""
        pools = {name: pool.stats(now) for name, pool in self.pools.items()}
        seen = max((p.outside.seen for p in self.pools.values()), default=0)
        return LimiterStats(pools, self.waiting_by_priority(), self.granted, self.pauses, seen,
                            backend)
