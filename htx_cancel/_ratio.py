"""The cancellation-ratio guard: how close the account is to HTX's placement ban.

HTX bans placements (limit, post_only, FOK, IOC) for 5 minutes when an account places 3,000 or
more orders in 10 minutes and over 99% of them are cancelled unfilled within 3 s (v1's rule,
HTX_V5_FACTS §6; v5's is assumed the same). The library sees both halves: the placements sent
through ``request()`` and the cancels it confirmed. :class:`CancelRatio` keeps the rolling
10 minutes, says where the account stands (:class:`RatioStats`, in ``client.stats()`` and the
metrics) and logs a WARNING as it nears the line. It never blocks or delays a cancel: cancels
are never banned, and a live order left live would cost more than a ban.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["BAN_ORDERS", "BAN_RATIO", "QUICK", "WINDOW", "CancelRatio", "RatioStats",
           "placed_ids"]

log = logging.getLogger("htx_cancel")

WINDOW = 600.0  # the rolling 10 minutes
QUICK = 3.0  # a cancel within 3 s of its placement counts
BAN_ORDERS = 3000  # placements in the window before the ratio matters
BAN_RATIO = 0.99  # over this share cancelled unfilled within 3 s: banned
WARN_ORDERS = 0.8  # warn from 80% of the placements ...
WARN_RATIO = 0.97  # ... when the quick-cancel share is above 97%
_WARN_EVERY = 60.0
_PLACEMENTS = ("/v5/trade/order", "/v5/trade/batch_orders",
               "/linear-swap-api/v1/swap_order", "/linear-swap-api/v1/swap_cross_order",
               "/linear-swap-api/v1/swap_batchorder", "/linear-swap-api/v1/swap_cross_batchorder")


@dataclass(frozen=True, slots=True)
class RatioStats:
    """The rolling 10 minutes: ``placed`` orders, ``quick_cancels`` (cancelled within 3 s of
    their placement, none known filled), ``ratio`` (their share, 0 without placements), and
    ``near`` (the WARNING's condition) / ``over`` (HTX's line: 3,000 placed and over 99%)."""

    placed: int
    quick_cancels: int
    ratio: float
    near: bool
    over: bool


class CancelRatio:
    """Placements and quick cancels over the rolling window (see the module's docstring)."""

    __slots__ = ("_placed", "_placed_at", "_quick", "_warned")

    def __init__(self) -> None:
        self._placed: deque[tuple[float, str]] = deque()
        self._placed_at: dict[str, float] = {}
        self._quick: deque[tuple[float, str]] = deque()
        self._warned = -_WARN_EVERY

    def placed(self, order_ids: Iterable[str], now: float) -> None:
        """Orders the exchange accepted at ``now``."""
        for id_ in order_ids:
            if id_ not in self._placed_at:
                self._placed_at[id_] = now
                self._placed.append((now, id_))

    def cancelled(self, order_ids: Iterable[str], now: float) -> None:
        """Orders whose cancel the exchange confirmed at ``now``; a WARNING near the line."""
        placed_at = self._placed_at
        for id_ in order_ids:
            at = placed_at.get(id_)
            if at is not None and now - at <= QUICK:
                self._quick.append((at, id_))
        stats = self.stats(now)
        if stats.near and now - self._warned >= _WARN_EVERY:
            self._warned = now
            log.warning("cancellation ratio: %d orders placed in 10 minutes, %.1f%% cancelled "
                        "within 3 s; HTX bans placements for 5 minutes at %d and over %.0f%% "
                        "(cancels are never blocked)", stats.placed, 100 * stats.ratio,
                        BAN_ORDERS, 100 * BAN_RATIO)

    def filled(self, order_ids: Iterable[str]) -> None:
        """Orders known to have traded: they do not count as cancelled unfilled."""
        gone = set(order_ids)
        if gone:
            self._quick = deque(x for x in self._quick if x[1] not in gone)

    def stats(self, now: float) -> RatioStats:
        """Where the account stands at ``now``."""
        self._expire(now)
        placed = len(self._placed)
        quick = len({i for _, i in self._quick})
        ratio = quick / placed if placed else 0.0
        near = placed >= WARN_ORDERS * BAN_ORDERS and ratio >= WARN_RATIO
        over = placed >= BAN_ORDERS and ratio > BAN_RATIO
        return RatioStats(placed, quick, ratio, near, over)

    def _expire(self, now: float) -> None:
        start = now - WINDOW
        placed, placed_at = self._placed, self._placed_at
        while placed and placed[0][0] < start:
            _, id_ = placed.popleft()
            placed_at.pop(id_, None)
        quick = self._quick
        while quick and quick[0][0] < start:
            quick.popleft()


def placed_ids(path: str, answer: Any) -> list[str]:
    """The order ids a placement's answer names (v5: ``data`` an object or a list with
    ``order_id``; v1: ``data.order_id_str`` or ``data.success``); none for other paths."""
    if not any(path.endswith(p) for p in _PLACEMENTS) or not isinstance(answer, dict):
        return []
    data = answer.get("data")
    if isinstance(data, dict) and isinstance(data.get("success"), list):
        data = data["success"]
    items = data if isinstance(data, list) else [data]
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("code") not in (None, 200, "200"):
            continue
        raw = item.get("order_id_str") or item.get("order_id")
        if isinstance(raw, int | str) and not isinstance(raw, bool) and str(raw):
            out.append(str(raw))
    return out
