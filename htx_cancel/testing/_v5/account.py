"""What the v5 side keeps about the account besides the book: modes, options, lookups."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

from .._orders import ALGO_KINDS, Order, OrderBook
from .._switch import CancelAfterSwitch
from . import views

__all__ = ["CancelAllNothing", "V5Account"]

CancelAllNothing = Literal["empty", "1051"]
T = TypeVar("T")


class V5Account:
    """The v5 state of the fake account and the lookups that follow HTX's v5 rules.

    ``position_mode`` (``single_side`` / ``dual_side``) decides which ``position_side`` a
    placement needs; ``assets_mode`` is what ``/v5/account/asset_mode`` reports. Client order
    ids follow the v5 rule: once an order is filled or cancelled its client id finds nothing.
    """

    __slots__ = ("_rng", "assets_mode", "book", "cancel_all_nothing", "now", "position_mode",
                 "switch")

    def __init__(self, book: OrderBook, switch: CancelAfterSwitch, now: Callable[[], float],
                 seed: int | None, cancel_all_nothing: CancelAllNothing = "empty") -> None:
        if cancel_all_nothing not in ("empty", "1051"):
            raise ValueError("cancel_all_nothing must be 'empty' or '1051'")
        self.book = book
        self.switch = switch
        self.now = now
        self.position_mode = "single_side"
        self.assets_mode = 1
        self.cancel_all_nothing: CancelAllNothing = cancel_all_nothing
        # Its own generator: shuffling answers never shifts the generated ids or fills.
        self._rng = random.Random(None if seed is None else seed + 2)

    def shuffled(self, items: Sequence[T]) -> list[T]:
        """The items in a seeded order that is not the given one (when there are two or more).

        HTX's batch examples list results in another order than the request's.
        """
        out = list(items)
        if len(out) < 2:
            return out
        while out == list(items):
            self._rng.shuffle(out)
        return out

    # -- engine-side lookups (cancels): the true state -----------------------------------------

    def order(self, order_id: str, contract_code: str | None) -> Order | None:
        """The regular order with this id on this contract, whatever its state."""
        order = self.book.orders.get(order_id)
        if order is None or order.kind != "order":
            return None
        return order if contract_code in (None, order.contract_code) else None

    def live_by_client(self, cid: str, contract_code: str | None) -> Order | None:
        """The regular order holding this client id, unless it is filled or cancelled."""
        order = self.book.by_client(cid)
        if order is None or order.state in ("filled", "cancelled"):
            return None
        return order if contract_code in (None, order.contract_code) else None

    def algo(self, algo_id: str, contract_code: str | None) -> Order | None:
        """The strategy order with this algo id on this contract, whatever its state."""
        order = self.book.orders.get(algo_id)
        if order is None or order.kind not in ALGO_KINDS:
            return None
        return order if contract_code in (None, order.contract_code) else None

    def live_algo_by_client(self, cid: str, contract_code: str | None) -> Order | None:
        """The strategy order holding this algo client id, unless it ended."""
        order = self.book.by_algo_client(cid)
        if order is None or order.state in ("filled", "cancelled"):
            return None
        return order if contract_code in (None, order.contract_code) else None

    # -- read-side lookups: what the reads show (cancel_lag applies) ---------------------------

    def shown_by_client(self, cid: str) -> Order | None:
        """The regular order a read finds by client id: none once it shows as finished."""
        order = self.book.by_client(cid)
        if order is None or views.state(order, self.now()) in views.FINISHED:
            return None
        return order

    def shown_algo_by_client(self, cid: str) -> Order | None:
        """The strategy order a read finds by algo client id: none once it shows as ended."""
        order = self.book.by_algo_client(cid)
        if order is None or views.algo_state(order, self.now()) != "active":
            return None
        return order
