"""Shared helpers: the clients under test, statistics, results."""

from __future__ import annotations

import math
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from htx_cancel import CancelClient, Credentials, RateLimiter, RateLimits

from ._server import ACCESS_KEY, CONTRACT, SECRET_KEY

__all__ = ["CONTRACT", "Section", "library_client", "percentile", "rate_bound"]

CREDS = Credentials(ACCESS_KEY, SECRET_KEY)
Runner = Callable[[list[str]], Awaitable[int]]


@dataclass(slots=True)
class Section:
    """One table of results: a title, its columns, rows (dicts keyed by column), notes."""

    name: str
    title: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def library_client(base_url: str, limits: RateLimits | None, *,
                   max_in_flight: int = 100) -> CancelClient:
    """A CancelClient with its own limiter (never the process-wide shared one)."""
    limiter = RateLimiter(limits) if limits is not None else None
    return CancelClient(CREDS, api="v1", base_url=base_url, rate_limits=limits, limiter=limiter,
                        max_in_flight=max_in_flight)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), nearest rank."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def rate_bound(requests: int, limit: tuple[int, float]) -> float:
    """Least seconds from the first to the last request a pool allows (sliding windows)."""
    n, t = limit
    return max(0, math.ceil(requests / n) - 1) * t
