"""The fake exchange's order book: what can be cancelled, and what each cancel does to it."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .._catalog import KINDS, MARGINS, Endpoint

__all__ = [
    "CONTRACT_TYPES",
    "DEFAULT_CONTRACTS",
    "BatchOutcome",
    "Order",
    "OrderBook",
    "OrderState",
    "Scope",
]

OrderState = Literal["open", "cancelling", "cancelled", "filled"]
CONTRACT_TYPES = frozenset({"swap", "this_week", "next_week", "quarter", "next_quarter"})
DEFAULT_CONTRACTS = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT", "LTC-USDT")
DIRECTIONS = ("buy", "sell")
OFFSETS = ("open", "close")

ERR_NOT_FOUND = (1061, "This order doesn't exist.")
ERR_CANCELLING = (1062, "Cancelling. Please be patient.")
ERR_REPEATED = (1071, "Repeated cancellation.")


def pair_of(contract_code: str) -> str:
    """``BTC-USDT-240628`` -> ``BTC-USDT``."""
    return "-".join(contract_code.split("-")[:2])


@dataclass(slots=True)
class Order:
    """One order in the fake book. ``cancelled_by`` is the sequence number of the request."""

    order_id: str
    contract_code: str
    kind: str
    margin: str
    client_order_id: str | None = None
    direction: str | None = None
    offset: str | None = None
    contract_type: str = "swap"
    state: OrderState = "open"
    cancelled_by: int | None = None


@dataclass(frozen=True, slots=True)
class Scope:
    """Which contract a request is about: a contract code, or a pair and a contract type."""

    contract_code: str | None = None
    pair: str | None = None
    contract_type: str | None = None

    def matches(self, order: Order) -> bool:
        """True when ``order`` is on this contract."""
        if self.contract_code is not None:
            return order.contract_code == self.contract_code
        return pair_of(order.contract_code) == self.pair and order.contract_type == (
            self.contract_type
        )


@dataclass(slots=True)
class BatchOutcome:
    """What a cancel did: the ids to list as successes, per-id errors, order ids cancelled."""

    successes: list[str] = field(default_factory=list)
    errors: list[tuple[str, int, str]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


class OrderBook:
    """Orders by id (and by client order id, unique across the book)."""

    __slots__ = ("_by_client", "_rng", "contracts", "orders")

    def __init__(self, seed: int | None = None) -> None:
        self.orders: dict[str, Order] = {}
        self._by_client: dict[str, Order] = {}
        self.contracts: dict[str, str] = dict.fromkeys(DEFAULT_CONTRACTS, "swap")
        self._rng = random.Random(seed)

    # -- building the book -------------------------------------------------------------------

    def add_contract(self, contract_code: str, contract_type: str = "swap") -> None:
        """Make ``contract_code`` known (cancels on unknown contracts answer 1014)."""
        if contract_type not in CONTRACT_TYPES:
            raise ValueError(f"unknown contract_type {contract_type!r}")
        if not contract_code or contract_code != contract_code.strip():
            raise ValueError(f"bad contract code {contract_code!r}")
        self.contracts[contract_code] = contract_type

    def add(self, order: Order) -> None:
        """Put one order in the book; ids must be new digit strings."""
        _check_order(order)
        if order.order_id in self.orders:
            raise ValueError(f"order id {order.order_id!r} already exists")
        cid = order.client_order_id
        if cid is not None and cid in self._by_client:
            raise ValueError(f"client order id {cid!r} already exists")
        self.add_contract(order.contract_code, order.contract_type)
        self.orders[order.order_id] = order
        if cid is not None:
            self._by_client[cid] = order

    def new_order_id(self) -> str:
        """A fresh 18-19 digit order id within int64."""
        while True:
            candidate = str(self._rng.randrange(10**17, 2**63))  # 18-19 digits, int64
            if candidate not in self.orders:
                return candidate

    def new_client_id(self) -> str:
        """A fresh client order id in [1, 2^63 - 1]."""
        while True:
            candidate = str(self._rng.randrange(1, 2**63))
            if candidate not in self._by_client:
                return candidate

    def random_side(self) -> tuple[str, str]:
        """A seeded random (direction, offset)."""
        return self._rng.choice(DIRECTIONS), self._rng.choice(OFFSETS)

    def reset(self) -> None:
        """Forget every order (known contracts stay)."""
        self.orders.clear()
        self._by_client.clear()

    # -- state changes by tests ----------------------------------------------------------------

    def get(self, order_id: str) -> Order:
        """The order with ``order_id``; KeyError when unknown."""
        try:
            return self.orders[order_id]
        except KeyError:
            raise KeyError(f"no order {order_id!r}") from None

    def set_state(self, order_ids: Iterable[str], state: OrderState) -> None:
        """Force orders into ``state`` (e.g. filled, or cancelling so the next cancel gets 1062)."""
        for order_id in order_ids:
            self.get(order_id).state = state

    # -- cancels --------------------------------------------------------------------------------

    def knows(self, scope: Scope) -> bool:
        """True when the scope names a known contract."""
        if scope.contract_code is not None:
            return scope.contract_code in self.contracts
        return any(
            pair_of(code) == scope.pair and ctype == scope.contract_type
            for code, ctype in self.contracts.items()
        )

    def cancel_ids(
        self, endpoint: Endpoint, scope: Scope, ids: Sequence[str], by_client: bool, seq: int
    ) -> BatchOutcome:
        """Cancel listed ids one by one, as HTX reports them: successes and per-id errors."""
        out = BatchOutcome()
        lookup = self._by_client if by_client else self.orders
        for given in ids:
            order = lookup.get(given)
            if order is None or not _fits(order, endpoint, scope) or order.state == "filled":
                out.errors.append((given, *ERR_NOT_FOUND))
            elif order.state == "cancelled":
                out.errors.append((given, *ERR_REPEATED))
            else:
                if order.state == "cancelling":
                    out.errors.append((given, *ERR_CANCELLING))
                self._cancel(order, seq, out)
                out.successes.append(given)
        return out

    def cancel_all(
        self,
        endpoint: Endpoint,
        scope: Scope,
        direction: str | None,
        offset: str | None,
        seq: int,
    ) -> BatchOutcome:
        """Cancel every live order of the endpoint's kind on the contract, optionally filtered."""
        out = BatchOutcome()
        for order in self.orders.values():
            if order.state not in ("open", "cancelling") or not _fits(order, endpoint, scope):
                continue
            if direction is not None and order.direction != direction:
                continue
            if offset is not None and order.offset != offset:
                continue
            self._cancel(order, seq, out)
            out.successes.append(order.order_id)
        return out

    @staticmethod
    def _cancel(order: Order, seq: int, out: BatchOutcome) -> None:
        """Mark one order cancelled by request ``seq``."""
        order.state = "cancelled"
        order.cancelled_by = seq
        out.cancelled.append(order.order_id)


def _fits(order: Order, endpoint: Endpoint, scope: Scope) -> bool:
    """True when an endpoint may cancel ``order``: same kind, margin and contract."""
    return order.kind == endpoint.kind and order.margin == endpoint.margin and scope.matches(order)


def _check_order(order: Order) -> None:
    """ValueError on anything HTX would never hold."""
    if order.kind not in KINDS:
        raise ValueError(f"unknown order kind {order.kind!r}")
    if order.margin not in MARGINS:
        raise ValueError(f"unknown margin mode {order.margin!r}")
    if not order.order_id.isdigit() or not order.order_id.isascii():
        raise ValueError(f"order id must be a digit string, got {order.order_id!r}")
    cid = order.client_order_id
    if cid is not None:
        if order.kind != "order":
            raise ValueError("client order ids exist only for kind 'order'")
        if not (cid.isascii() and cid.isdigit() and 1 <= int(cid) <= 2**63 - 1):
            raise ValueError(f"client order id must be in [1, 2^63-1], got {cid!r}")
    if order.direction not in (None, *DIRECTIONS):
        raise ValueError(f"direction must be buy or sell, got {order.direction!r}")
    if order.offset not in (None, *OFFSETS):
        raise ValueError(f"offset must be open or close, got {order.offset!r}")
