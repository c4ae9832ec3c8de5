"""What the reads say: order info and the open-order listings of both APIs, parsed.

Pure functions over an answer (bytes, or JSON already decoded): the states of the ids asked
about (`parse_info()`), one page of a v1 strategy listing (`parse_listing()`), the ids
on one page of a v5 listing (`parse_v5_page()`). Ids are read as strings or exact integers,
never through a float.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from .._order_state import OrderState, state_for_status

__all__ = ["NOT_FOUND_CODES", "Finding", "ListedOrder", "Listing", "listed_states", "not_found",
           "parse_info", "parse_listing", "parse_v5_orders", "parse_v5_page"]

NOT_FOUND_CODES = frozenset({1017, 1061})  # order info: none of the asked orders exists


class _InfoItem(msgspec.Struct, frozen=True):
    """One order of an order-info answer (unknown fields ignored): v1's numeric ``status``
    or v5's ``state``."""

    order_id: int | str | None = None
    order_id_str: str | None = None
    client_order_id: int | str | None = None
    status: int | str | None = None
    state: int | str | None = None


class _InfoAnswer(msgspec.Struct, frozen=True):
    """An order-info answer: ``data`` is the list of the orders found (v5: one object)."""

    status: str = ""
    data: list[_InfoItem] | _InfoItem | None = None


class _ListedOrder(msgspec.Struct, frozen=True):
    """One order of an open-orders listing."""

    order_id: int | str | None = None
    order_id_str: str | None = None


class _ListingData(msgspec.Struct, frozen=True):
    """A listing page: its orders and where it stands in the listing."""

    orders: list[_ListedOrder] = []
    total_page: int | str = 0  # numbers, or digit strings
    current_page: int | str = 0
    total_size: int | str = 0


class _ListingAnswer(msgspec.Struct, frozen=True):
    """An open-orders listing answer."""

    status: str = ""
    data: _ListingData | None = None


_info_decoder = msgspec.json.Decoder(_InfoAnswer)
_listing_decoder = msgspec.json.Decoder(_ListingAnswer)


def _read(answer: object, decoder: msgspec.json.Decoder[Any], kind: type[Any]) -> Any:
    """A decoded answer (bytes, or JSON already decoded to Python objects) as ``kind``.

    Raises ``ValueError`` when the answer is not that shape (ids that arrive as floats
    included: they may have lost digits).
    """
    try:
        if isinstance(answer, (bytes, bytearray, memoryview)):
            return decoder.decode(answer)
        return msgspec.convert(answer, kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"answer is not the expected shape: {exc}") from None


def _id_text(text: str | None, raw: int | str | None) -> str:
    """An id as a decimal string: the ``_str`` twin when the answer has one."""
    if text:
        return text
    return "" if raw is None else str(raw)


@dataclass(frozen=True, slots=True)
class Finding:
    """What one query learned: states by id, and ids it could not settle with the reason."""

    states: dict[str, OrderState] = field(default_factory=dict)
    unread: dict[str, str] = field(default_factory=dict)


def parse_info(query_ids: Sequence[str], id_field: str, answer: object) -> Finding:
    """The states an order-info answer gives the ids it was asked about.

    An asked id the answer does not list is ``NOT_FOUND``; an order with a status this library
    does not know stays unsettled, with the status in the reason. Raises ``ValueError`` when the
    answer cannot be read.
    """
    parsed: _InfoAnswer = _read(answer, _info_decoder, _InfoAnswer)
    data = parsed.data
    if data is None:
        raise ValueError("order info answered without data")
    by_client = id_field == "client_order_id"
    asked = set(query_ids)
    out = Finding()
    for item in data if isinstance(data, list) else [data]:
        key = (_id_text(None, item.client_order_id) if by_client
               else _id_text(item.order_id_str, item.order_id))
        if key not in asked:
            continue
        raw = item.status if item.status is not None else item.state
        state = None if raw is None else state_for_status(raw)
        if state is None:
            out.unread[key] = f"order info gave state {raw!r}, which is not HTX's"
        else:
            out.states[key] = state
    for id_ in query_ids:
        if id_ not in out.states and id_ not in out.unread:
            out.states[id_] = OrderState.NOT_FOUND
    return out


def not_found(query_ids: Iterable[str]) -> Finding:
    """Order info answered that none of the asked orders exists (1017 / 1061)."""
    return Finding(states=dict.fromkeys(query_ids, OrderState.NOT_FOUND))


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of an open-orders listing: the ids on it and the listing's size."""

    ids: frozenset[str]
    total_page: int
    total_size: int


def parse_listing(answer: object) -> Listing:
    """One page of a strategy open-orders listing; ``ValueError`` when it cannot be read."""
    parsed: _ListingAnswer = _read(answer, _listing_decoder, _ListingAnswer)
    if parsed.data is None:
        raise ValueError("the open-orders listing answered without data")
    data = parsed.data
    ids = frozenset(_id_text(o.order_id_str, o.order_id) for o in data.orders)
    return Listing(ids - {""}, max(_number(data.total_page), 1), _number(data.total_size))


def parse_v5_page(answer: object) -> list[str]:
    """The ids on one page of a v5 listing (algo ids on the algo listings), in the page's order;
    ``ValueError`` when the answer is not a listing (as ``parse_v5_orders``)."""
    return [order.order_id for order in parse_v5_orders(answer)]


def _number(raw: int | str) -> int:
    """A count HTX may send as a string; ``ValueError`` when it is not one."""
    if isinstance(raw, str):
        if not (raw.isascii() and raw.isdigit()):
            raise ValueError(f"the listing's page count {raw!r} is not a number")
        return int(raw)
    return raw


def listed_states(ids: Iterable[str], listed: Iterable[str]) -> dict[str, OrderState]:
    """A strategy order is ``OPEN`` while its listing names it, ``GONE`` once it does not."""
    present = set(listed)
    return {i: OrderState.OPEN if i in present else OrderState.GONE for i in ids}


class _V5Order(msgspec.Struct, frozen=True):
    """One order of a v5 listing (regular, or algo), with what verification reads of it."""

    order_id: int | str | None = None
    algo_id: int | str | None = None
    client_order_id: int | str | None = None
    state: int | str | None = None


class _V5OrdersAnswer(msgspec.Struct, frozen=True):
    """A v5 listing read for its orders' states."""

    data: list[_V5Order] | dict[str, Any] | None = None


_v5_orders_decoder = msgspec.json.Decoder(_V5OrdersAnswer)


@dataclass(frozen=True, slots=True)
class ListedOrder:
    """One order on a v5 listing page: its ids and its state (None when not HTX's);
    ``order_id`` is the algo id on the algo listings."""

    order_id: str
    client_order_id: str | None
    state: OrderState | None
    raw_state: str


def parse_v5_orders(answer: object) -> list[ListedOrder]:
    """The orders on one page of v5's open-orders listing or history, in the page's order.

    ``data`` may be the list itself or an object holding it (``orders``, ``list``, ``data``);
    ``ValueError`` when the answer is not a listing.
    """
    parsed: _V5OrdersAnswer = _read(answer, _v5_orders_decoder, _V5OrdersAnswer)
    data = parsed.data
    if isinstance(data, dict):
        inner = next((data[k] for k in ("orders", "list", "data") if isinstance(
            data.get(k), list)), None)
        if inner is None:
            raise ValueError("the v5 listing's data holds no list of orders")
        try:
            data = msgspec.convert(inner, list[_V5Order])
        except msgspec.ValidationError as exc:
            raise ValueError(f"answer is not the expected shape: {exc}") from None
    if data is None:
        raise ValueError("the v5 listing answered without data")
    out = []
    for item in data:
        oid = _id_text(None, item.algo_id) or _id_text(None, item.order_id)
        if not oid:
            continue
        raw = item.state
        state = None if raw is None else state_for_status(raw)
        cid = _id_text(None, item.client_order_id)
        out.append(ListedOrder(oid, cid or None, state, "" if raw is None else str(raw)))
    return out
