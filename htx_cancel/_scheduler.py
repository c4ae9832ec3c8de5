"""The rate-limit scheduler: a pure state machine that decides when each request may go.

No I/O and no clock of its own: every method takes ``now``. The async limiter drives it.

Guarantee: a slot is held from the moment it is granted until ``period + guard`` after the
request completed. A request arrives at the exchange after it was granted and before it
completed, so two requests that use the same slot arrive at least ``period`` apart, and no
window of length ``period`` at the exchange can see more than ``limit`` of them, whatever the
delays in the event loop or on the network.
"""

from __future__ import annotations

from bisect import insort
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["PoolSpec", "Scheduler", "Ticket"]


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """At most ``limit`` requests in any window of ``period`` seconds."""

    name: str
    limit: int
    period: float

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"pool {self.name!r}: limit must be at least 1, got {self.limit}")
        if self.period <= 0:
            raise ValueError(f"pool {self.name!r}: period must be positive, got {self.period}")


class _Pool:
    """One pool's bookkeeping: slots in use, pending releases, pauses and outside holds."""

    __slots__ = ("busy", "held", "hold", "hold_until", "limit", "name", "paused_until",
                 "period", "releases")

    def __init__(self, spec: PoolSpec) -> None:
        self.name = spec.name
        self.limit = spec.limit
        self.period = spec.period
        self.busy = 0  # granted, not completed
        self.releases: deque[float] = deque()  # completed, held until these times (sorted)
        self.paused_until = 0.0  # after a 1032: nothing goes before this
        self.hold = 0  # slots taken by someone else on the account (from the headers)
        self.hold_until = 0.0
        self.held = 0  # total grants so far, for comparing with the exchange's count

    def free(self, now: float) -> int:
        """Slots that may be granted at ``now``."""
        releases = self.releases
        while releases and releases[0] <= now:
            releases.popleft()
        if now < self.paused_until:
            return 0
        n = self.limit - self.busy - len(releases)
        if now < self.hold_until:
            n -= self.hold
        return n

    def next_change(self, now: float) -> float | None:
        """The earliest time after ``now`` at which ``free`` can grow by itself."""
        times = [t for t in (self.paused_until, self.hold_until) if t > now]
        releases = self.releases
        while releases and releases[0] <= now:
            releases.popleft()
        if releases:
            times.append(releases[0])
        return min(times) if times else None


class Ticket:
    """One request's place in the scheduler."""

    __slots__ = ("endpoint", "granted", "pools", "priority", "snapshot", "waker")

    def __init__(self, endpoint: str, pools: tuple[str, ...]) -> None:
        self.endpoint = endpoint
        self.pools = pools
        self.priority = len(pools) > 1
        self.granted = False
        self.snapshot: dict[str, tuple[int, int]] = {}
        self.waker: object = None  # the async layer's future


class Scheduler:
    """FIFO queues per endpoint over shared pools, strict windows, and a reserve for strategies.

    Endpoints with a pool of their own (``priority``: the strategy cancels) are served first, and
    ordinary requests leave room in the shared pool for the strategy requests that are queued,
    so a 5/s strategy endpoint is never starved of the 72/3 s trade pool by a flood of regular
    cancels. The reserve is capped (``reserve_cap``) so regular cancels are never starved either.
    """

    __slots__ = ("_priority", "_regular", "guard", "pools", "reserve_cap", "shared", "waiting")

    def __init__(self, specs: Iterable[PoolSpec], *, shared: str = "trade", guard: float = 0.0,
                 reserve_cap: int | None = None) -> None:
        self.pools = {spec.name: _Pool(spec) for spec in specs}
        if shared not in self.pools:
            raise ValueError(f"the shared pool {shared!r} is not among the pools")
        if guard < 0:
            raise ValueError(f"guard must not be negative, got {guard}")
        self.shared = shared
        self.guard = guard
        cap = 2 * self.pools[shared].limit // 3 if reserve_cap is None else reserve_cap
        self.reserve_cap = max(0, min(cap, self.pools[shared].limit - 1))
        self._priority: dict[str, deque[Ticket]] = {}  # strategy endpoints, served first
        self._regular: dict[str, deque[Ticket]] = {}
        self.waiting = 0

    def add_pool(self, spec: PoolSpec) -> None:
        """Add a pool if it is not there yet (strategy pools are created on first use)."""
        if spec.name not in self.pools:
            self.pools[spec.name] = _Pool(spec)

    # -- granting -----------------------------------------------------------------------------

    def try_grant(self, ticket: Ticket, now: float) -> bool:
        """Grant at once if nobody is queued ahead and every pool has room (the fast path).

        A regular request takes the fast path only while more than ``reserve_cap`` shared slots
        are free; below that it queues, so that strategy requests arriving in the same loop turn
        are served first by the next ``dispatch``.
        """
        if self._queue_of(ticket):
            return False
        if self._fits(ticket, now, 0 if ticket.priority else self.reserve_cap):
            self._grant(ticket, now)
            return True
        return False

    def enqueue(self, ticket: Ticket) -> None:
        """Queue a ticket behind the others of its endpoint."""
        queues = self._priority if ticket.priority else self._regular
        queue = queues.get(ticket.endpoint)
        if queue is None:
            queue = queues[ticket.endpoint] = deque()
        queue.append(ticket)
        self.waiting += 1

    def dispatch(self, now: float) -> list[Ticket]:
        """Grant every queued ticket that may go now; return them in grant order."""
        granted: list[Ticket] = []
        if not self.waiting:
            return granted
        self._drain(self._priority, now, 0, granted)
        if self.waiting:
            self._drain(self._regular, now, self._reserve(), granted)
        return granted

    def _drain(self, queues: dict[str, deque[Ticket]], now: float, reserve: int,
               granted: list[Ticket]) -> None:
        """Grant queue heads, in order, while they fit."""
        for queue in queues.values():
            while queue and self._fits(queue[0], now, reserve):
                head = queue.popleft()
                self.waiting -= 1
                self._grant(head, now)
                granted.append(head)

    def _queue_of(self, ticket: Ticket) -> deque[Ticket] | None:
        """The queue a ticket of this endpoint waits in, if one exists."""
        return (self._priority if ticket.priority else self._regular).get(ticket.endpoint)

    def cancel(self, ticket: Ticket) -> None:
        """Forget a queued ticket whose waiter gave up."""
        queue = self._queue_of(ticket)
        if queue is not None and not ticket.granted:
            try:
                queue.remove(ticket)
            except ValueError:
                return
            self.waiting -= 1

    def _fits(self, ticket: Ticket, now: float, reserve: int) -> bool:
        """True when every pool of the ticket has a free slot (beyond the reserve if shared)."""
        for name in ticket.pools:
            free = self.pools[name].free(now)
            if free <= (reserve if name == self.shared else 0):
                return False
        return True

    def _grant(self, ticket: Ticket, now: float) -> None:
        """Take one slot in each of the ticket's pools."""
        ticket.granted = True
        for name in ticket.pools:
            pool = self.pools[name]
            pool.busy += 1
            pool.held += 1
            ticket.snapshot[name] = (pool.limit - pool.free(now), pool.held)

    def _reserve(self) -> int:
        """Shared slots to keep for queued strategy requests over the next shared window."""
        if not self.waiting:
            return 0
        shared = self.pools[self.shared]
        total = 0
        for queue in self._priority.values():
            if queue:
                own = self.pools[queue[0].pools[-1]]
                per_window = own.limit * max(1, round(shared.period / own.period))
                total += min(len(queue), per_window)
        return min(total, self.reserve_cap)

    # -- completion and feedback --------------------------------------------------------------

    def complete(self, ticket: Ticket, now: float) -> None:
        """The request was answered (or failed) at ``now``: hold its slots ``period`` longer."""
        if not ticket.granted:
            return
        ticket.granted = False
        for name in ticket.pools:
            pool = self.pools[name]
            pool.busy -= 1
            release = now + pool.period + self.guard
            if pool.releases and release < pool.releases[-1]:
                insort(pool.releases, release)
            else:
                pool.releases.append(release)

    def release_unused(self, ticket: Ticket) -> None:
        """The granted request was never sent: give its slots straight back."""
        if not ticket.granted:
            return
        ticket.granted = False
        for name in ticket.pools:
            pool = self.pools[name]
            pool.busy -= 1
            pool.held -= 1

    def pause(self, pool_name: str, until: float) -> None:
        """Grant nothing from this pool before ``until`` (after a 1032)."""
        pool = self.pools[pool_name]
        pool.paused_until = max(pool.paused_until, until)

    def observe(self, ticket: Ticket, pool_name: str, remaining: int, until: float,
                now: float) -> int:
        """Compare the exchange's ``ratelimit-remaining`` with what this scheduler can explain.

        At grant time the pool had ``used`` slots taken (this request included); since then
        ``later`` more were granted. The exchange cannot have counted more of ours than that, so
        a ``remaining`` below ``limit - used - later`` means someone else uses the account: hold
        back the difference until ``until``. Returns the number of slots held back.
        """
        snap = ticket.snapshot.get(pool_name)
        pool = self.pools.get(pool_name)
        if snap is None or pool is None:
            return 0
        used, held_then = snap
        later = pool.held - held_then
        deficit = (pool.limit - used - later) - remaining
        if deficit > 0:
            pool.hold = max(pool.hold, deficit) if pool.hold_until > now else deficit
            pool.hold_until = max(until, pool.hold_until)
            return deficit
        return 0

    def next_wakeup(self, now: float) -> float | None:
        """When a queued ticket may next become grantable without any other event."""
        if not self.waiting:
            return None
        times = [t for pool in self.pools.values() if (t := pool.next_change(now)) is not None]
        return min(times) if times else None

    def in_use(self, pool_name: str, now: float) -> int:
        """Slots of a pool that are taken or held at ``now``."""
        pool = self.pools[pool_name]
        pool.free(now)
        return pool.busy + len(pool.releases)

