"""The rate-limit policy both backends follow: the reserve, header matching, pauses, holds.

Pure: no I/O and no clock. The in-process scheduler (:mod:`.scheduler`) and the Redis backend
(:mod:`.redis_backend`, whose script runs the reserve rule on the Redis server) decide the same
way because they take their numbers and rules from here; outside use is :mod:`.outside`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = [
    "MEMORY",
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


def strategy_reserve(queued: Iterable[tuple[str, int, int]], cap: int) -> int:
    """Shared slots to keep for queued strategy requests: the rule both backends follow.

    ``queued`` holds ``(endpoint, requests queued, the endpoint's per_window need)`` for the
    strategy requests queued at the requester's priority or a higher one (an endpoint may
    appear once per priority). Each endpoint counts at most its need (it cannot send more in
    one shared window), the sum at most ``cap`` (:func:`reserve_cap`). Lower priorities count
    nothing: a request never waits for one of lower priority. The Redis script computes the
    same (``redis_scripts.RESERVE``; a test holds the two to each other).
    """
    counts: dict[str, int] = {}
    needs: dict[str, int] = {}
    for endpoint, n, need in queued:
        counts[endpoint] = counts.get(endpoint, 0) + n
        needs[endpoint] = need
    return min(sum(min(n, needs[name]) for name, n in counts.items()), cap)


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
