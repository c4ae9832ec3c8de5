"""The rate-limit policy both limiters follow: reserve, header matching, pauses, outside use.

Pure: no I/O and no clock of its own (every function takes ``now`` where time matters). The
in-process scheduler and the Redis scripts make the same decisions because they take their
numbers from here.

Outside use. The exchange counts every request of the account; this limiter sees only its own.
Each answer's ``ratelimit-remaining`` says how many the exchange counted; what this limiter
can explain (its slots in use when the request was granted, plus the grants since) is an upper
bound on its own share, so the rest is a lower bound on someone else's. :class:`OutsideUse`
turns those bounds into a standing hold of about ``rate x period`` slots:

- the count is scaled to a whole window by the part of the window the exchange's count covers
  (``period - reset_in``: with fixed windows the count starts at the window's start, so a
  count seen early in a window under-counts and is scaled up); counts that cover less than
  half a window are kept as they are (lower bounds, too noisy to scale);
- the hold is the largest estimate of the last ``MEMORY`` periods plus a margin, so it
  stands between the outsider's requests and decays once they stop;
- a pool is *cold* when nothing is known of it (no answer for ``MEMORY`` periods): the
  limiter then sends one request (a probe) and waits for its answer before it bursts;
- a count that covers less than half a window says little: the pool probes again once the
  exchange's window is half old, and if that short count already showed outside use, it
  keeps ``prior`` slots free until then.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

__all__ = [
    "MEMORY",
    "OutsideUse",
    "Units",
    "margin",
    "match_pool",
    "outside_count",
    "pause_for",
    "per_window",
    "prior_for",
    "reserve_cap",
    "strategy_reserve",
]

Units = tuple[int, float]  # (requests, seconds)

RESERVE = (2, 3)
"""Trade slots kept at most for queued strategy requests: two thirds of the pool.

Three strategy endpoints at full speed (5/s each, 15 per 3 s window) need 45 of the 72 slots;
two thirds (48) covers them, and regular requests keep at least a third (24 a window) while
strategy requests queue. Half (36) would hold the third endpoint back to 3.4/s.
"""

MEMORY = 3.0
"""Periods an outside-use estimate stands without support, and a pool stays warm unused."""


def reserve_cap(shared_limit: int, override: int | None = None) -> int:
    """Most shared slots kept for queued strategy requests (never the whole pool)."""
    cap = shared_limit * RESERVE[0] // RESERVE[1] if override is None else override
    return max(0, min(cap, shared_limit - 1))


def per_window(own: Units, shared_period: float) -> int:
    """Requests a strategy pool can send in one window of the shared pool."""
    return own[0] * max(1, round(shared_period / own[1]))


def strategy_reserve(queued: Iterable[tuple[int, int]], cap: int) -> int:
    """Shared slots to keep for queued strategy requests, the rule both limiters follow.

    ``queued`` holds, per strategy endpoint with requests queued at the requester's priority or
    a higher one, (requests queued, the endpoint's :func:`per_window` need); each counts at
    most its need, and the sum at most ``cap`` (:func:`reserve_cap`). Lower priorities count
    nothing: a request never waits for one of lower priority.
    """
    return min(sum(min(n, need) for n, need in queued), cap)


def match_pool(pools: Iterable[str], full: dict[str, Units], mine: dict[str, int],
               limit: int | None, interval_ms: int | None) -> str | None:
    """The pool (of ``pools``, own pool first) whose limit and window the headers describe.

    The headers name a pool by its limit and interval; the limit may be the account's whole
    limit or this limiter's share of it.
    """
    if not limit or not interval_ms:
        return None
    for name in reversed(tuple(pools)):
        n, t = full[name]
        if interval_ms == round(t * 1000) and limit in (n, mine[name]):
            return name
    return None


def pause_for(period: float, reset_in: float | None, guard: float) -> float:
    """Seconds to pause a pool after a 1032: until the exchange's reset, at most a window."""
    wait = period if reset_in is None else min(max(reset_in, 0.0), period)
    return wait + guard


def outside_count(limit: int, remaining: int, ours: int) -> int:
    """Requests the exchange counted that are not ours (a lower bound; never negative).

    ``ours`` must be at least what the exchange can have counted of ours: the slots in use when
    the request was granted plus the grants since.
    """
    return max(0, limit - remaining - ours)


def margin(limit: int) -> int:
    """Slots added to an outside-use estimate (jitter moves a request or two across windows)."""
    return max(1, math.ceil(limit / 36))


def prior_for(limit: int, fraction: float) -> int:
    """Slots kept for unseen outside use until the exchange's count says how much there is."""
    if fraction <= 0:
        return 0
    return min(limit - 1, math.ceil(limit * fraction) + margin(limit))


class OutsideUse:
    """What one pool learns of outside use from the exchange's counts. Times are seconds."""

    __slots__ = ("answered_at", "headers", "informed_at", "limit", "period", "prior", "probe",
                 "recheck_at", "samples", "seen", "suspect")

    def __init__(self, limit: int, period: float, prior: int = 0, probe: bool = True) -> None:
        self.limit = limit
        self.period = period
        self.prior = prior
        self.probe = probe
        self.samples: deque[tuple[float, int]] = deque()  # (time, per-window estimate)
        self.answered_at: float | None = None  # last answer for this pool
        self.informed_at: float | None = None  # last count covering half a window or more
        self.recheck_at: float | None = None  # when to probe again for such a count
        self.seen = 0  # the largest outside count seen, for stats
        self.headers = False  # the exchange's answers carry counts for this pool
        self.suspect = False  # a short count showed outside use: keep the prior till informed

    def answered(self, now: float) -> None:
        """An answer came back (with or without headers; ``observe`` follows if with)."""
        self.answered_at = now
        if self.recheck_at is not None and self.recheck_at <= now:
            self.recheck_at = None  # the probe is back; observe() sets the next one if needed

    def observe(self, now: float, count: int, reset_in: float) -> None:
        """The exchange counted ``count`` requests of others; its window resets in ``reset_in``."""
        self.headers = True
        self.answered_at = now
        self.seen = max(self.seen, count)
        covered = self.period - min(max(reset_in, 0.0), self.period)
        if covered >= self.period / 2:
            estimate = math.ceil(count * self.period / covered - 1e-9)
            self.informed_at = now
            self.recheck_at = None
            self.suspect = False
        else:
            estimate = count
            if not self._informed(now):
                self.recheck_at = now + self.period / 2 - covered
                self.suspect = self.suspect or count > 0
        self.samples.append((now, estimate))

    def rejected(self, now: float) -> None:
        """A 1032 at ``now``: its count says the window is full, not how fast others send.

        The pool is paused until the exchange's reset; the count of the rejected request is
        dropped, so that the reset is not followed by a standing hold of the whole pool.
        """
        samples = self.samples
        last = min(now, self.answered_at if self.answered_at is not None else now)
        while samples and samples[-1][0] >= last:
            samples.pop()

    def _informed(self, now: float) -> bool:
        """True while a count covering half a window is recent enough to trust."""
        return self.informed_at is not None and now - self.informed_at < MEMORY * self.period

    def hold(self, now: float) -> int:
        """Slots to leave for others at ``now``."""
        samples = self.samples
        horizon = now - MEMORY * self.period
        while samples and samples[0][0] <= horizon:
            samples.popleft()
        best = max((s for _, s in samples), default=0)
        hold = best + margin(self.limit) if best > 0 else 0
        if self.prior and self.suspect and not self._informed(now):
            hold = max(hold, self.prior)
        return min(hold, self.limit - 1)

    def cold(self, now: float) -> bool:
        """True when the next request should go alone (a probe) and be answered first."""
        if not self.probe:
            return False
        if self.answered_at is None:
            return True  # nothing known yet
        if not self.headers:
            return False  # answers without counts: a probe would learn nothing
        if now - self.answered_at >= MEMORY * self.period:
            return True
        return self.recheck_at is not None and now >= self.recheck_at

    def next_change(self, now: float) -> float | None:
        """The earliest time after ``now`` at which ``hold`` or ``cold`` can change by itself."""
        times = []
        if self.samples:
            times.append(self.samples[0][0] + MEMORY * self.period)
        if self.recheck_at is not None and self.recheck_at > now:
            times.append(self.recheck_at)
        if self.informed_at is not None and self.prior:
            times.append(self.informed_at + MEMORY * self.period)
        later = [t for t in times if t > now]
        return min(later) if later else None
