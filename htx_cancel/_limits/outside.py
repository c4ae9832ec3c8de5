"""What one pool learns of outside use from the exchange's counts (pure: every method takes
``now``).

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

from .policy import MEMORY, margin

__all__ = ["OutsideUse"]


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
