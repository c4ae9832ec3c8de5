"""The fake exchange's order book: orders, their HTX status, what cancels and fills do to them.

One book serves both API families, as one HTX account does: an order placed through v1 can be
cancelled through v5 and the other way round. The v1 side looks at ``kind``, ``margin``,
``direction`` and ``offset``; the v5 side at the same orders through ``_v5.views``.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .._catalog import Endpoint

__all__ = [
    "ALGO_KINDS",
    "CONTRACT_TYPES",
    "DEFAULT_CONTRACTS",
    "DIRECTIONS",
    "KINDS",
    "MARGINS",
    "OFFSETS",
    "CancelOutcome",
    "Order",
    "OrderBook",
    "OrderEvent",
    "OrderState",
    "Scope",
    "htx_status",
]

OrderState = Literal["open", "cancelling", "cancelled", "filled"]
OrderEvent = Literal["placed", "filled", "cancelled", "cancelling"]
"""What a change to an order was, as the book tells its listeners: a partial fill is "filled";
"cancelling" starts a timed cancelling phase (``cancelling_seconds``), which ends at a tick."""

# The fake's own vocabulary (it does not take its rules from the client's catalog).
KINDS = ("order", "trigger", "tpsl", "track")
ALGO_KINDS = frozenset({"trigger", "tpsl", "track"})
MARGINS = ("isolated", "cross")
DIRECTIONS = ("buy", "sell")
OFFSETS = ("open", "close")
CONTRACT_TYPES = frozenset({"swap", "this_week", "next_week", "quarter", "next_quarter"})
DEFAULT_CONTRACTS = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT", "LTC-USDT")
FINISHED = frozenset({5, 6, 7})

ERR_NOT_FOUND = (1061, "This order doesn't exist.")
ERR_CANCELLING = (1062, "Cancelling. Please be patient.")
ERR_REPEATED = (1071, "Repeated withdraw.")


def pair_of(contract_code: str) -> str:
    """``BTC-USDT-240628`` -> ``BTC-USDT``."""
    return "-".join(contract_code.split("-")[:2])


@dataclass(slots=True)
class Order:
    """One order in the fake book. ``cancelled_by`` is the sequence number of the request that
    cancelled it (0 for the dead man's switch).

    ``state`` is the coarse life cycle (open, cancelling, cancelled, filled); HTX's numeric status
    comes from :func:`htx_status`, which also looks at ``trade_volume``.
    """

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
    volume: float = 1
    price: float | None = None
    lever_rate: int = 5
    order_price_type: str = "limit"
    trade_volume: float = 0
    created_at: int = 0  # server epoch ms
    canceled_at: int = 0  # server epoch ms, 0 while not cancelled
    canceled_source: str = ""
    finished_wall: float | None = None  # server epoch s when it reached 5, 6 or 7
    cancelling_until: float | None = None  # timed cancelling phase (server epoch s)
    fills_instead: bool = False  # its cancel was accepted, but it fills before it ends
    extra: dict[str, object] = field(default_factory=dict)  # strategy fields, echoed in listings
    # v5 fields (None: derived from the v1 ones by ``_v5.views``)
    position_side: str | None = None  # long, short, both
    order_type: str | None = None  # limit, market, post_only
    time_in_force: str | None = None  # gtc, ioc, fok
    price_match: str | None = None
    reduce_only: bool = False
    algo_type: str | None = None  # trigger, tp, sl, tpsl, trailing_stop (strategy kinds)
    algo_client_order_id: str | None = None  # a strategy order's client id (v5)
    algo_failed: bool = False  # a strategy order that triggered but failed (v5 state failed)
    v5_fields: dict[str, object] = field(default_factory=dict)  # tp/sl, trigger fields (v5)
    updated_at: int = 0  # server epoch ms of the last change
    # cancel_lag: reads still show the order live (with this traded volume) until then
    shown_live_until: float | None = None
    shown_trade_volume: float = 0


def htx_status(order: Order) -> int:
    """HTX's status: 3 open, 4 partially filled, 5 partial then cancelled, 6 filled, 7, 11."""
    if order.state == "filled":
        return 6
    if order.state == "cancelled":
        return 5 if order.trade_volume > 0 else 7
    if order.state == "cancelling":
        return 11
    return 4 if order.trade_volume > 0 else 3


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
        if self.contract_type is None:
            return pair_of(order.contract_code) == self.pair
        return pair_of(order.contract_code) == self.pair and order.contract_type == (
            self.contract_type
        )


@dataclass(slots=True)
class CancelOutcome:
    """What a cancel did: the ids to list as successes, per-id errors, order ids cancelled."""

    successes: list[str] = field(default_factory=list)
    errors: list[tuple[str, int, str]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


class OrderBook:
    """Orders by id (and by client order id, unique across the book).

    ``now`` gives server epoch seconds; it drives the cancelling phase and retention.
    ``listeners`` are called with every order that was placed, filled (partly or wholly) or
    cancelled, and what happened to it. Generated order ids grow, as HTX's do.
    """

    __slots__ = (
        "_by_algo_client",
        "_by_client",
        "_client_ages",
        "_ended",
        "_fill_rng",
        "_next_id",
        "_pending",
        "_rng",
        "cancel_lag",
        "cancelling_seconds",
        "contracts",
        "fill_before_cancel",
        "fill_during_cancel",
        "listeners",
        "now",
        "orders",
    )

    def __init__(
        self, seed: int | None = None, now: Callable[[], float] | None = None
    ) -> None:
        self.orders: dict[str, Order] = {}
        self._by_client: dict[str, Order] = {}
        self._by_algo_client: dict[str, Order] = {}
        self.contracts: dict[str, str] = dict.fromkeys(DEFAULT_CONTRACTS, "swap")
        self._rng = random.Random(seed)
        # Fills draw from their own generator so that they never shift the generated ids.
        self._fill_rng = random.Random(None if seed is None else seed + 1)
        self.now: Callable[[], float] = now or (lambda: 0.0)
        # Kept in time order, so that ticking and expiry cost only what is due.
        self._pending: dict[str, Order] = {}
        self._ended: deque[tuple[float, str]] = deque()
        self._client_ages: deque[tuple[float, str]] = deque()
        self.fill_before_cancel = 0.0
        self.fill_during_cancel = 0.0
        self.cancelling_seconds = 0.0
        self.cancel_lag = 0.0
        self.listeners: list[Callable[[Order, OrderEvent], None]] = []
        self._next_id = self._rng.randrange(10**18, 2 * 10**18)

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
        if cid is not None and self.client_id_taken(cid):
            raise ValueError(f"client order id {cid!r} already exists")
        acid = order.algo_client_order_id
        if acid is not None and acid in self._by_algo_client:
            raise ValueError(f"algo client order id {acid!r} already exists")
        self.add_contract(order.contract_code, order.contract_type)
        if not order.created_at:
            order.created_at = int(self.now() * 1000)
        order.updated_at = max(order.updated_at, order.created_at)
        self.orders[order.order_id] = order
        if cid is not None:
            self._by_client[cid] = order
            self._client_ages.append((order.created_at / 1000, cid))
        if acid is not None:
            self._by_algo_client[acid] = order
        self._tell(order, "placed")

    def _tell(self, order: Order, event: OrderEvent) -> None:
        """Let every listener know what happened to ``order``."""
        for listener in self.listeners:
            listener(order, event)

    def unbind_client(self, cid: str, *, algo: bool = False) -> None:
        """Free a client order id (v5: a finished order's client id may be used again)."""
        (self._by_algo_client if algo else self._by_client).pop(cid, None)

    def by_algo_client(self, cid: str) -> Order | None:
        """The strategy order holding algo client order id ``cid``, if any."""
        return self._by_algo_client.get(cid)

    def client_id_taken(self, cid: str) -> bool:
        """True when an order still holds this client order id (HTX: unique for 8 hours)."""
        return cid in self._by_client

    def new_order_id(self) -> str:
        """A fresh 19 digit order id within int64, above every id generated before."""
        while True:
            self._next_id += self._rng.randrange(1, 2**16)
            candidate = str(self._next_id)
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
        self._by_algo_client.clear()
        self._pending.clear()
        self._ended.clear()
        self._client_ages.clear()

    # -- time ----------------------------------------------------------------------------------

    def tick(self) -> None:
        """End the cancelling phases that are due (cancelled, or filled for a fill-during)."""
        if not self._pending:
            return
        now = self.now()
        for oid, order in list(self._pending.items()):
            until = order.cancelling_until
            if until is None or now >= until:
                del self._pending[oid]
            if until is not None and now >= until:
                order.cancelling_until = None
                if order.fills_instead:
                    self._fill_now(order, None)
                else:
                    self._finish_cancel(order)

    def forget_expired(self, cancelled_for: float, client_ids_for: float) -> None:
        """Drop orders cancelled ``cancelled_for`` s ago, client ids ``client_ids_for`` s old."""
        now = self.now()
        ended = self._ended
        while ended and now - ended[0][0] >= cancelled_for:
            _, oid = ended.popleft()
            order = self.orders.get(oid)
            if order is not None and order.state == "cancelled":
                self._drop(oid)
        ages = self._client_ages
        while ages and now - ages[0][0] >= client_ids_for:
            placed, cid = ages.popleft()
            holder = self._by_client.get(cid)
            # A client id used again (v5) belongs to the newer order: its own entry expires it.
            if holder is not None and holder.created_at / 1000 <= placed:
                del self._by_client[cid]

    def settle(self) -> list[str]:
        """Purge finished orders (status 5, 6, 7), as HTX does at each funding settlement."""
        self.tick()
        gone = [oid for oid, o in self.orders.items() if htx_status(o) in FINISHED]
        for oid in gone:
            self._drop(oid)
        return gone

    def _drop(self, order_id: str) -> None:
        """Remove an order and its client order id."""
        order = self.orders.pop(order_id)
        cid = order.client_order_id
        if cid is not None and self._by_client.get(cid) is order:
            del self._by_client[cid]
        acid = order.algo_client_order_id
        if acid is not None and self._by_algo_client.get(acid) is order:
            del self._by_algo_client[acid]

    # -- lookups and state changes by tests --------------------------------------------------

    def get(self, order_id: str) -> Order:
        """The order with ``order_id``; KeyError when unknown."""
        try:
            return self.orders[order_id]
        except KeyError:
            raise KeyError(f"no order {order_id!r}") from None

    def by_client(self, cid: str) -> Order | None:
        """The order holding client order id ``cid``, if any."""
        return self._by_client.get(cid)

    def set_state(self, order_ids: Iterable[str], state: OrderState) -> None:
        """Force orders into ``state`` (e.g. cancelling so the next cancel gets 1062)."""
        for order_id in order_ids:
            self.get(order_id).state = state

    def fill(self, order_id: str, volume: float | None = None) -> Order:
        """Fill ``volume`` more of a live order (all that is left when None)."""
        order = self.get(order_id)
        if order.state not in ("open", "cancelling"):
            raise ValueError(f"order {order_id} is {order.state}, it cannot fill")
        self._fill_now(order, volume)
        return order

    def _fill_now(self, order: Order, volume: float | None) -> None:
        """Add to the traded volume; the whole volume traded makes it filled (6)."""
        left = order.volume - order.trade_volume
        if volume is not None and not 0 < volume <= left:
            raise ValueError(f"fill volume must be in (0, {left}], got {volume!r}")
        order.trade_volume += left if volume is None else volume
        order.updated_at = int(self.now() * 1000)
        if order.trade_volume >= order.volume:
            order.state = "filled"
            order.cancelling_until = None
            order.finished_wall = self.now()
        self._tell(order, "filled")

    def fill_now(self, order: Order, volume: float | None = None) -> None:
        """Fill ``volume`` more of ``order`` (all that is left when None), no questions asked."""
        self._fill_now(order, volume)

    # -- cancels --------------------------------------------------------------------------------

    def knows(self, scope: Scope) -> bool:
        """True when the scope names a known contract."""
        if scope.contract_code is not None:
            return scope.contract_code in self.contracts
        return any(
            pair_of(code) == scope.pair and scope.contract_type in (None, ctype)
            for code, ctype in self.contracts.items()
        )

    def cancel_ids(
        self, endpoint: Endpoint, scope: Scope, ids: Sequence[str], by_client: bool, seq: int
    ) -> CancelOutcome:
        """Cancel listed ids one by one, as HTX reports them: successes and per-id errors."""
        self.tick()
        out = CancelOutcome()
        lookup = self._by_client if by_client else self.orders
        for given in ids:
            order = lookup.get(given)
            if order is not None and order.state == "open" and self._fills_first(order):
                self._fill_now(order, None)
            if order is None or not _fits(order, endpoint, scope) or order.state == "filled":
                out.errors.append((given, *ERR_NOT_FOUND))
            elif order.state == "cancelled":
                out.errors.append((given, *ERR_REPEATED))
            elif order.cancelling_until is not None:
                out.errors.append((given, *ERR_CANCELLING))
                out.successes.append(given)
            else:
                if order.state == "cancelling":
                    out.errors.append((given, *ERR_CANCELLING))
                self._cancel(order, seq, out, "api")
                out.successes.append(given)
        return out

    def cancel_all(
        self,
        endpoint: Endpoint | None,
        scope: Scope | None,
        direction: str | None,
        offset: str | None,
        seq: int,
        source: str = "api",
        kinds: frozenset[str] | None = None,
    ) -> CancelOutcome:
        """Cancel every live order of the endpoint's kind on the contract.

        Without an endpoint: every live order of ``kinds`` (all kinds when None), any contract.
        """
        self.tick()
        out = CancelOutcome()
        for order in list(self.orders.values()):
            if order.state not in ("open", "cancelling") or order.cancelling_until is not None:
                continue
            if endpoint is not None and not _fits(order, endpoint, scope):
                continue
            if kinds is not None and order.kind not in kinds:
                continue
            if direction is not None and order.direction != direction:
                continue
            if offset is not None and order.offset != offset:
                continue
            if self._fills_first(order):
                self._fill_now(order, None)
                continue
            self._cancel(order, seq, out, source)
            out.successes.append(order.order_id)
        return out

    def fills_first(self, order: Order) -> bool:
        """Seeded draw: a regular order filled just before this cancel reached it."""
        return self._fills_first(order)

    def _fills_first(self, order: Order) -> bool:
        """Seeded draw: a regular order filled just before this cancel reached it."""
        return (
            order.kind == "order"
            and self.fill_before_cancel > 0
            and self._fill_rng.random() < self.fill_before_cancel
        )

    def _cancel(self, order: Order, seq: int, out: CancelOutcome, source: str) -> None:
        """Cancel one order for request ``seq`` (or let it fill while cancelling, if drawn)."""
        if self.cancel_one(order, seq, source):
            out.cancelled.append(order.order_id)

    def cancel_one(self, order: Order, seq: int, source: str = "api") -> bool:
        """Accept a cancel of one live order for request ``seq``; False when it fills instead.

        Regular orders may be drawn to fill meanwhile (``fill_during_cancel``) and go through
        the timed cancelling phase (``cancelling_seconds``). With ``cancel_lag`` the v5 reads
        keep showing an order whose cancel a request accepted as live for that long.
        """
        regular = order.kind == "order"
        during = (
            regular
            and self.fill_during_cancel > 0
            and self._fill_rng.random() < self.fill_during_cancel
        )
        if self.cancel_lag > 0 and seq > 0:
            order.shown_live_until = self.now() + self.cancel_lag
            order.shown_trade_volume = order.trade_volume
        order.canceled_source = source
        if regular and self.cancelling_seconds > 0:
            order.state = "cancelling"
            order.fills_instead = during
            order.cancelling_until = self.now() + self.cancelling_seconds
            self._pending[order.order_id] = order
            self._tell(order, "cancelling")
        elif during:
            self._fill_now(order, None)
        else:
            self._finish_cancel(order)
        if not during:
            order.cancelled_by = seq
        return not during

    def _finish_cancel(self, order: Order) -> None:
        """The order leaves the book: status 7 (or 5 when it had traded)."""
        order.state = "cancelled"
        order.finished_wall = self.now()
        order.canceled_at = int(order.finished_wall * 1000)
        order.updated_at = order.canceled_at
        self._ended.append((order.finished_wall, order.order_id))
        self._tell(order, "cancelled")


def _fits(order: Order, endpoint: Endpoint, scope: Scope | None) -> bool:
    """True when an endpoint may cancel ``order``: same kind, margin and contract."""
    return (
        order.kind == endpoint.kind
        and order.margin == endpoint.margin
        and (scope is None or scope.matches(order))
    )


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
            raise ValueError("client order ids exist only for kind 'order' (strategy orders: "
                             "algo_client_order_id)")
        if not (cid.isascii() and cid.isdigit() and 1 <= int(cid) <= 2**63 - 1):
            raise ValueError(f"client order id must be in [1, 2^63-1], got {cid!r}")
    if order.direction not in (None, *DIRECTIONS):
        raise ValueError(f"direction must be buy or sell, got {order.direction!r}")
    if order.offset not in (None, *OFFSETS, "both"):
        raise ValueError(f"offset must be open, close or both, got {order.offset!r}")
    acid = order.algo_client_order_id
    if acid is not None:
        if order.kind == "order":
            raise ValueError("algo client order ids exist only for strategy orders")
        if not (acid.isascii() and acid.isdigit() and 1 <= int(acid) <= 2**63 - 1):
            raise ValueError(f"algo client order id must be in [1, 2^63-1], got {acid!r}")
    if order.position_side not in (None, "long", "short", "both"):
        raise ValueError(f"position_side must be long, short or both, got {order.position_side!r}")
