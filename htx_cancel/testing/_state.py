"""The fake exchange's state that tests drive and inspect: orders, records, limiter."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ._faults import route_name
from ._orders import ALGO_KINDS, Order, OrderBook, OrderState, htx_status
from ._ratelimit import ServerPools
from ._records import RequestRecord
from ._v5 import views

__all__ = ["ExchangeState"]

_ANY: object = object()
ALGO_TYPE_KINDS = {"tp": "tpsl", "sl": "tpsl", "trailing_stop": "track"}
"""v5 algo types :meth:`ExchangeState.seed` takes besides the book's kinds."""


class ExchangeState:
    """Order and record helpers of :class:`FakeExchange` (see there)."""

    book: OrderBook
    pools: ServerPools
    server_time: Callable[[], float]
    requests: list[RequestRecord]
    rejected_1032: int
    timestamp_requests: int
    # -- orders ---------------------------------------------------------------------------------

    def add_orders(
        self,
        contract_code: str,
        kind: str = "order",
        margin: str = "isolated",
        order_ids: Sequence[str] = (),
        client_order_ids: Sequence[str] | None = None,
        direction: str | None = None,
        offset: str | None = None,
        *,
        contract_type: str = "swap",
        volume: float = 1,
        price: float | None = None,
    ) -> None:
        """Put open orders in the book; ``client_order_ids`` (kind "order") pair up with ids."""
        if client_order_ids is not None and len(client_order_ids) != len(order_ids):
            raise ValueError("client_order_ids must have one entry per order id")
        cids: Sequence[str | None] = client_order_ids or [None] * len(order_ids)
        for oid, cid in zip(order_ids, cids, strict=True):
            self.book.add(
                Order(
                    str(oid),
                    contract_code,
                    kind,
                    margin,
                    None if cid is None else str(cid),
                    direction,
                    offset,
                    contract_type,
                    volume=volume,
                    price=price,
                )
            )

    def seed(
        self,
        contract_code: str,
        kind: str = "order",
        margin: str = "isolated",
        n: int = 1,
        *,
        with_client_ids: bool = False,
        direction: str | None = None,
        offset: str | None = None,
        contract_type: str = "swap",
    ) -> list[str]:
        """Create ``n`` open orders with fresh 19 digit ids and return the ids.

        ``kind`` is ``order``, ``trigger``, ``tpsl``, ``track``, or a v5 algo type (``tp``,
        ``sl``, ``trailing_stop``: kinds ``tpsl``, ``tpsl``, ``track``). Direction and offset are
        seeded-random unless given. ``with_client_ids`` gives regular orders client ids
        (:meth:`client_id_of`) and strategy orders algo client ids
        (``order(id).algo_client_order_id``).
        """
        algo_type = kind if kind in ALGO_TYPE_KINDS else None
        kind = ALGO_TYPE_KINDS.get(kind, kind)
        ids: list[str] = []
        for _ in range(n):
            side, off = self.book.random_side()
            oid = self.book.new_order_id()
            cid = self.book.new_client_id() if with_client_ids else None
            regular = kind == "order"
            order = Order(oid, contract_code, kind, margin, cid if regular else None,
                          direction or side, offset or off, contract_type, algo_type=algo_type,
                          algo_client_order_id=None if regular else cid)
            if algo_type in ("tp", "sl"):
                order.extra["tpsl_order_type"] = algo_type
            self.book.add(order)
            ids.append(oid)
        return ids

    def add_contract(self, contract_code: str, contract_type: str = "swap") -> None:
        """Make a contract known without orders (unknown contracts answer 1014)."""
        self.book.add_contract(contract_code, contract_type)

    def order(self, order_id: str) -> Order:
        """The order with ``order_id`` (KeyError when unknown)."""
        return self.book.get(order_id)

    def client_id_of(self, order_id: str) -> str | None:
        """The client order id of an order, if it has one."""
        return self.book.get(order_id).client_order_id

    def order_state(self, order_id: str) -> OrderState | None:
        """The state (open, cancelling, cancelled or filled); None for an unknown id."""
        self.book.tick()
        order = self.book.orders.get(order_id)
        return None if order is None else order.state

    def status_of(self, order_id: str) -> int | None:
        """HTX's status (3, 4, 5, 6, 7, 11) as order info reports it; None when not in the book."""
        self.book.tick()
        order = self.book.orders.get(order_id)
        return None if order is None else htx_status(order)

    def v5_state_of(self, order_id: str) -> str | None:
        """The v5 ``state`` a read would show now (``new`` ... ``canceled``; ``cancel_lag``
        applies); for a strategy order its algo state; None when not in the book."""
        self.book.tick()
        order = self.book.orders.get(order_id)
        if order is None:
            return None
        if order.kind in ALGO_KINDS:
            return views.algo_state(order, self.server_time())
        return views.state(order, self.server_time())

    def algo_state_of(self, algo_id: str) -> str | None:
        """The v5 algo state (active, effective, canceled, failed); None when unknown."""
        order = self.book.orders.get(algo_id)
        if order is None or order.kind not in ALGO_KINDS:
            return None
        return views.algo_state(order, self.server_time())

    def trigger_algo(self, *algo_ids: str, failed: bool = False) -> None:
        """Strategy orders trigger: state ``effective`` (``failed`` with ``failed=True``).

        A cancel then answers 1063 (1061 for a failed one). The fake places no order for them.
        """
        for algo_id in algo_ids:
            order = self.book.get(algo_id)
            if order.kind not in ALGO_KINDS or order.state not in ("open", "cancelling"):
                raise ValueError(f"{algo_id} is not an active strategy order")
            order.algo_failed = failed
            self.book.fill_now(order)

    def fill(self, *order_ids: str, volume: float | None = None) -> None:
        """Fill orders: all that is left (status 6), or ``volume`` more of each (status 4).

        Cancelling a filled order answers 1061; a partly filled one cancelled shows status 5.
        """
        self.book.tick()
        for order_id in order_ids:
            self.book.fill(order_id, volume)

    def settle(self) -> list[str]:
        """Funding settlement: purge finished orders (status 5, 6, 7); the ids purged."""
        return self.book.settle()

    def mark_cancelling(self, *order_ids: str) -> None:
        """The next cancel of these answers 1062 in errors and in successes, then they are gone."""
        self.book.set_state(order_ids, "cancelling")

    def open_ids(self) -> set[str]:
        """Ids of live orders: open, partly filled, or marked cancelling (not yet cancelled).

        Orders in the timed cancelling phase (``cancelling_seconds``) are not listed: their
        cancel was accepted.
        """
        self.book.tick()
        return {
            o.order_id
            for o in self.book.orders.values()
            if o.state == "open" or (o.state == "cancelling" and o.cancelling_until is None)
        }

    def cancelled_ids(self) -> set[str]:
        """Ids of orders a cancel took out of the book (not those that filled meanwhile).

        :meth:`cancellations` says which request did it.
        """
        self.book.tick()
        return {
            o.order_id
            for o in self.book.orders.values()
            if o.cancelled_by is not None and o.state in ("cancelled", "cancelling")
        }

    def cancellations(self) -> dict[str, RequestRecord]:
        """Order id -> the recorded request that cancelled it."""
        return {oid: rec for rec in self.requests for oid in rec.cancelled}

    def reset_orders(self) -> None:
        """Forget every order."""
        self.book.reset()

    # -- records --------------------------------------------------------------------------------

    def clear_records(self) -> None:
        """Forget recorded requests, pool arrivals and counters."""
        self.requests.clear()
        self.pools.clear()
        self.rejected_1032 = 0
        self.timestamp_requests = 0

    def find(
        self,
        endpoint: str | None = None,
        *,
        err_code: object = _ANY,
        accepted: bool | None = None,
        fault: object = _ANY,
        access_key: str | None = None,
    ) -> list[RequestRecord]:
        """Recorded requests matching every given filter (``err_code=None``: no error).

        ``endpoint`` is a v1 name, a v5 path (any method) or ``"GET /v5/..."``.
        """
        names = None if endpoint is None else route_name(endpoint)
        return [
            r
            for r in self.requests
            if (names is None or names in (r.endpoint, f"{r.method} {r.endpoint}"))
            and (err_code is _ANY or r.err_code == err_code)
            and (accepted is None or r.accepted == accepted)
            and (fault is _ANY or r.fault == fault)
            and (access_key is None or r.access_key == access_key)
        ]

    def max_in_window(self, pool: str = "trade") -> int:
        """Most accepted arrivals in any sliding window of the pool's length."""
        return self.pools.max_in_window(pool)
