"""One pool's books: slots in flight and held, a pause, and what is known of outside use.

Pure: no I/O and no clock of its own (every method takes ``now``). The scheduler keeps one
:class:`Pool` per pool; the Redis backend keeps the same books of what its own process holds,
so that a switch to the in-process fallback (and back) carries them whole.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .outside import OutsideUse
from .planner import Lanes
from .stats import PoolStats

__all__ = ["Pool", "PoolSpec"]


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """At most ``limit`` requests in any window of ``period`` seconds.

    ``account`` is the limit as the exchange states it for the whole account (the headers name
    the pool by it; default ``limit``); ``limit`` may be a share of it. ``prior`` slots are left
    for unseen outside use until the exchange's counts say how much there is; ``probe`` sends
    one request alone while nothing is known of the pool.
    """

    name: str
    limit: int
    period: float
    prior: int = 0
    probe: bool = False
    account: int = 0

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"pool {self.name!r}: limit must be at least 1, got {self.limit}")
        if self.period <= 0:
            raise ValueError(f"pool {self.name!r}: period must be positive, got {self.period}")
        if self.account < self.limit:
            object.__setattr__(self, "account", self.limit)

    @property
    def interval_ms(self) -> int:
        """The window as the exchange's headers state it."""
        return round(self.period * 1000)


class Pool:
    """One pool's bookkeeping: slots in use, pending releases, pauses and outside use."""

    __slots__ = ("busy", "grants", "limit", "name", "others", "others_until", "outside",
                 "paused_until", "period", "releases", "since", "spec", "waiting")

    def __init__(self, spec: PoolSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.limit = spec.limit
        self.period = spec.period
        self.busy = 0  # granted, not completed
        # completed: (held until, ticket id), sorted by time
        self.releases: deque[tuple[float, str]] = deque()
        self.paused_until = 0.0  # after a 1032: nothing goes before this
        self.outside = OutsideUse(spec.limit, spec.period, spec.prior, spec.probe)
        self.grants = 0  # total grants so far, for comparing with the exchange's count
        self.waiting = [0, 0, 0]  # queued tickets by priority level
        self.since: deque[float] = deque()  # grant times of the requests in flight, oldest first
        self.others = 0  # slots others were seen to hold beyond their share, until others_until
        self.others_until = 0.0

    def resize(self, spec: PoolSpec) -> None:
        """Take other limits (a switch between shared and fallback limits); the books stay."""
        self.spec = spec
        self.limit = spec.limit
        self.period = spec.period
        self.outside.limit = spec.limit
        self.outside.prior = spec.prior
        self.outside.probe = spec.probe

    def own(self, now: float) -> int:
        """Slots this limiter's requests take at ``now`` (in flight or held)."""
        releases = self.releases
        while releases and releases[0][0] <= now:
            releases.popleft()
        return self.busy + len(releases)

    def free(self, now: float) -> int:
        """Slots that may be granted at ``now`` (negative when more are held than allowed)."""
        own = self.own(now)
        if now < self.paused_until:
            return 0
        if self.others and now < self.others_until:
            own += self.others  # left for others beyond their share (after a switch)
        outside = self.outside
        if outside.cold(now):  # one probe at a time
            return 1 if self.busy == 0 and own < self.limit else 0
        return self.limit - own - outside.hold(now)

    def leave_for_others(self, count: int, until: float) -> None:
        """Keep ``count`` slots free until ``until``: what others hold beyond their share (a
        switch to share limits right after a window in which some took more than theirs)."""
        self.others, self.others_until = count, until

    def take(self, now: float) -> tuple[int, int]:
        """Count a grant at ``now``; the (slots in use, grants) it leaves, for ``observe``."""
        self.busy += 1
        self.since.append(now)
        self.grants += 1
        return self.own(now), self.grants

    def give_back(self) -> None:
        """A grant that was never sent: as if it had not been made."""
        self.busy -= 1
        self.grants -= 1
        if self.since:
            self.since.pop()

    def hold_until(self, release: float, tid: str = "") -> None:
        """A request in flight was answered: its slot stays counted until ``release``."""
        self.busy -= 1
        if self.since:
            self.since.popleft()  # answers come back about in grant order
        releases = self.releases
        entry = (release, tid)
        if releases and release < releases[-1][0]:
            index = len(releases)
            while index and releases[index - 1][0] > release:
                index -= 1
            releases.insert(index, entry)
        else:
            releases.append(entry)

    def pause(self, until: float, now: float) -> None:
        """Grant nothing before ``until`` (a 1032 at ``now``)."""
        self.paused_until = max(self.paused_until, until)
        self.outside.rejected(now)

    def lanes(self, now: float, guard: float, rtt: float) -> Lanes:
        """The pool as the planner sees it: a slot in flight comes back ``period + guard``
        after its answer (a round trip after its grant), one held back for outside use not
        within the plan, one paused when the pause ends."""
        free = self.free(now)
        hold = self.outside.hold(now)
        back = sorted([*(t for t, _ in self.releases), *(max(now, g + rtt) + self.period + guard
                                         for g in self.since)])
        del back[max(0, self.limit - hold - free):]
        if now < self.paused_until:
            back = [max(t, self.paused_until) for t in back]
            back[:0] = [self.paused_until] * max(0, self.limit - hold - len(back))
        return Lanes(self.limit, self.period + guard + rtt, free, tuple(back))

    def next_change(self, now: float) -> float | None:
        """The earliest time after ``now`` at which ``free`` can grow by itself."""
        self.own(now)
        times = [self.paused_until] if self.paused_until > now else []
        if self.releases:
            times.append(self.releases[0][0])
        if self.others_until > now:
            times.append(self.others_until)
        if (t := self.outside.next_change(now)) is not None:
            times.append(t)
        return min(times) if times else None

    def stats(self, now: float) -> PoolStats:
        """The pool at ``now`` as plain data."""
        own = self.own(now)
        return PoolStats(self.name, self.limit, self.period, self.busy, own - self.busy,
                         max(0, self.free(now)), self.outside.hold(now),
                         max(0.0, self.paused_until - now))
