"""What became of an order, as verification learns it: ``OrderState`` and HTX's status codes."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["OrderState", "state_for_status"]


class OrderState(StrEnum):
    """An order's state as the exchange reports it, named for what it means.

    Regular orders get theirs from order info (HTX's ``status``); strategy orders (trigger,
    tp/sl, track) from their open-orders listings, which only say ``OPEN`` or ``GONE``.
    """

    SUBMITTING = "submitting"
    """HTX status 1 or 2: accepted, not yet in the book. Still live."""
    OPEN = "open"
    """HTX status 3: in the book, nothing filled (or a strategy order still listed). Live."""
    PARTIALLY_FILLED = "partially_filled"
    """HTX status 4: in the book, part filled. Live."""
    PARTIALLY_FILLED_CANCELLED = "partially_filled_cancelled"
    """HTX status 5: part filled, the rest cancelled. Gone."""
    FILLED = "filled"
    """HTX status 6: filled in full. Gone, and not by a cancel."""
    CANCELLED = "cancelled"
    """HTX status 7: cancelled with nothing filled. Gone."""
    FAILED = "failed"
    """HTX status 10 (HTX's FAQ: the order failed). Never live."""
    CANCELLING = "cancelling"
    """HTX status 11: a cancel is being processed; it may still fill."""
    NOT_FOUND = "not_found"
    """Order info does not know the id: it never existed, or HTX has forgotten it (retention)."""
    GONE = "gone"
    """A strategy order no longer in its open-orders listing: cancelled or triggered."""

    @property
    def live(self) -> bool:
        """True while the order can still trade (submitting, open, partially filled)."""
        return self in _LIVE

    @property
    def final(self) -> bool:
        """True once nothing more will happen to the order (neither live nor cancelling)."""
        return self not in _LIVE and self is not OrderState.CANCELLING

    @property
    def cancelled(self) -> bool:
        """True when the order left the book by a cancel (possibly after partial fills)."""
        return self in _CANCELLED


_LIVE = frozenset({OrderState.SUBMITTING, OrderState.OPEN, OrderState.PARTIALLY_FILLED})
_CANCELLED = frozenset({OrderState.CANCELLED, OrderState.PARTIALLY_FILLED_CANCELLED})

_BY_STATUS: dict[int, OrderState] = {
    1: OrderState.SUBMITTING,
    2: OrderState.SUBMITTING,
    3: OrderState.OPEN,
    4: OrderState.PARTIALLY_FILLED,
    5: OrderState.PARTIALLY_FILLED_CANCELLED,
    6: OrderState.FILLED,
    7: OrderState.CANCELLED,
    10: OrderState.FAILED,
    11: OrderState.CANCELLING,
}


# v5's ``state`` strings. ``rejected`` never reached the book: v1's status 10, failed.
_BY_STATE: dict[str, OrderState] = {
    "new": OrderState.OPEN,
    "partially_filled": OrderState.PARTIALLY_FILLED,
    "filled": OrderState.FILLED,
    "partially_canceled": OrderState.PARTIALLY_FILLED_CANCELLED,
    "canceled": OrderState.CANCELLED,
    "rejected": OrderState.FAILED,
}


def state_for_status(status: int | str) -> OrderState | None:
    """The state for HTX's order ``status`` or v5 ``state``; None if unknown.

    v1 numbers (or digit strings: one v5 doc example shows ``"state": 3``) and v5's strings
    (``new``, ``partially_filled``, ``filled``, ``partially_canceled``, ``canceled``,
    ``rejected``) are both read.
    """
    if isinstance(status, bool):
        return None
    if isinstance(status, str):
        if not (status.isascii() and status.isdigit()):
            return _BY_STATE.get(status.strip().lower())
        status = int(status)
    return _BY_STATUS.get(status)
