"""Shared helpers: the clients under test, statistics, results."""

from __future__ import annotations

import math
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from htx_cancel import CancelClient, CancelReport, Credentials, RateLimiter, RateLimits

from ._server import ACCESS_KEY, CONTRACT, SECRET_KEY, ExchangeProcess
from ._wire import ApiName

__all__ = ["CONTRACT", "Section", "library_call", "library_client", "percentile", "rate_bound",
           "seed"]

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


ALGO_TYPES = ("trigger", "tp", "trailing_stop")  # v5 algo orders: a third of each


def library_client(base_url: str, limits: RateLimits | None, *, api: ApiName = "v5",
                   max_in_flight: int = 100) -> CancelClient:
    """A CancelClient on ``api`` with its own limiter (never the process-wide shared one)."""
    limiter = RateLimiter(limits) if limits is not None else None
    return CancelClient(CREDS, api=api, base_url=base_url, rate_limits=limits, limiter=limiter,
                        max_in_flight=max_in_flight)


def library_call(client: CancelClient, kind: str, ids: list[str]) -> Awaitable[CancelReport]:
    """The library's call cancelling ``ids`` of ``kind`` (order, algo, trigger, tpsl, track)."""
    if kind == "order":
        return client.cancel_orders(CONTRACT, ids)
    if kind == "algo":
        return client.cancel_algo_orders(CONTRACT, algo_ids=ids)
    method: Callable[[str, list[str]], Awaitable[CancelReport]] = getattr(
        client, f"cancel_{kind}_orders")
    return method(CONTRACT, ids)


def seed(ex: ExchangeProcess, kind: str, n: int) -> list[str]:
    """``n`` open orders of ``kind``; ``algo``: a third each of trigger, tp and trailing stop."""
    if kind != "algo":
        return ex.seed(n, kind)
    parts = [ex.seed(n // 3 + (i < n % 3), t) for i, t in enumerate(ALGO_TYPES)]
    return [x for part in parts for x in part]


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
