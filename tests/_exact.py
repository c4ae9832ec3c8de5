"""The exact least time of a small mix issued together, by exhaustive search (tests only).

Any feasible schedule can be shifted left, grant by grant in time order, until each grant is at 0
or exactly one period after an earlier grant of a pool it shares; so some optimal schedule has
every grant on the lattice of sums of the periods. The search walks that lattice in time order and
tries every count of each kind at each point, with the sliding-window limits of every pool, memo
on failure; it tries each candidate last grant time from the lower bound up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache


def lattice(periods: Sequence[int], horizon: int) -> list[int]:
    """Every sum of the periods (with repetition) up to ``horizon``, sorted."""
    seen = {0}
    frontier = [0]
    while frontier:
        nxt = []
        for t in frontier:
            for p in periods:
                u = t + p
                if u <= horizon and u not in seen:
                    seen.add(u)
                    nxt.append(u)
        frontier = nxt
    return sorted(seen)


def feasible(horizon: int, regular: int, trade: tuple[int, int],
             strategies: Sequence[tuple[int, int, int]]) -> bool:
    """Can every request be granted at or before ``horizon`` (integer times)?"""
    limit, period = trade
    periods = [period] + [p for _, _, p in strategies]
    times = lattice(periods, horizon)
    n = len(strategies)
    limits = [lim for _, lim, _ in strategies]
    owns = [p for _, _, p in strategies]

    @cache
    def go(i: int, reg: int, left: tuple[int, ...],
           history: tuple[tuple[int, int, tuple[int, ...]], ...]) -> bool:
        if reg == 0 and not any(left):
            return True
        if i == len(times):
            return False
        t = times[i]
        # what still counts in each pool's window ending at t
        hist = tuple(h for h in history if h[0] > t - max(periods))
        in_trade = sum(c for (u, c, _) in hist if u > t - period)
        in_own = [sum(xs[e] for (u, _, xs) in hist if u > t - owns[e]) for e in range(n)]
        # prune: what is left cannot fit in [t, horizon] (pieces of one period, each <= limit)
        if reg + sum(left) > limit * ((horizon - t) // period + 1):
            return False
        for e in range(n):
            if left[e] > limits[e] * ((horizon - t) // owns[e] + 1):
                return False
        room = limit - in_trade

        def pick(e: int, xs: tuple[int, ...], used: int) -> bool:
            if e == n:
                for y in range(min(reg, room - used), -1, -1):
                    new_left = tuple(c - x for c, x in zip(left, xs, strict=True))
                    entry = (t, used + y, xs)
                    new_hist = (*hist, entry) if used + y else hist
                    if go(i + 1, reg - y, new_left, new_hist):
                        return True
                return False
            top = min(left[e], limits[e] - in_own[e], room - used)
            return any(pick(e + 1, (*xs, x), used + x) for x in range(top, -1, -1))

        return pick(0, (), 0)

    return go(0, regular, tuple(c for c, _, _ in strategies), ())


def exact_least_time(regular: int, trade: tuple[int, int],
                     strategies: Sequence[tuple[int, int, int]], upper: int) -> int:
    """The least last-grant time (integer lattice), searched from the lower bound to ``upper``."""
    limit, period = trade
    total = regular + sum(c for c, _, _ in strategies)
    low = max(0, math.ceil(total / limit) - 1) * period
    for count, lim, p in strategies:
        low = max(low, max(0, math.ceil(count / lim) - 1) * p)
    for g in lattice([period] + [p for _, _, p in strategies], upper):
        if g >= low and feasible(g, regular, trade, strategies):
            return g
    raise AssertionError(f"nothing feasible up to {upper}")
