"""Verification, the pure part: which queries to send, what their answers say, and the report.

HTX's cancel answer only says the cancel was accepted. Order info (regular orders, 50 ids per
request, read pool) and the strategy open-orders listings (trigger, tp/sl, track; 50 per page)
say what became of each order. Nothing here does I/O: the driver in ``_verifier.py`` sends the
queries these functions plan and folds what they parse into the report with :func:`fold`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ._catalog import CATALOG, ApiName, Kind, Margin, api_table
from ._ids import chunk, validate_contract_code, validate_ids
from ._report import CancelReport, Failure
from ._states import OrderState, state_for_status

__all__ = [
    "INFO_MAX_IDS",
    "NOT_FOUND_CODES",
    "PAGE_SIZE",
    "Finding",
    "Listing",
    "Query",
    "Target",
    "fold",
    "info_path",
    "info_queries",
    "listing_path",
    "listing_query",
    "parse_info",
    "parse_listing",
    "targets_for_ids",
    "targets_from_report",
]

INFO_MAX_IDS = 50  # order info takes at most 50 ids per request
PAGE_SIZE = 50  # the open-orders listings give at most 50 orders per page
V5_PAGE_SIZE = 100  # v5 listings: at most 100 a page, paged by an order-id cursor
V5_ALGO_LISTING = "/v5/algo/order/opens"
# v5's algo ``type`` values (the Java SDK, ccxt, gocryptotrader); the listing needs one.
V5_ALGO_TYPES = ("trigger", "tp", "sl", "tpsl", "trailing_stop")
NOT_FOUND_CODES = frozenset({1017, 1061})  # order info: none of the asked orders exists
NOT_CANCELLED = 1061  # the code a cancel of a filled or unknown order answers
STILL_OPEN = 0  # no exchange code: the order was still live when verification ended

_ID_FIELDS = ("order_id", "client_order_id", "algo_id", "algo_client_order_id")
_CLIENT_FIELDS = {"client_order_id": "order", "algo_client_order_id": "algo"}


@dataclass(frozen=True, slots=True)
class Target:
    """Ids of one API, order kind, margin mode, contract and id field: verified the same way.

    ``margin`` is None on v5 (its cancels and lookups take none).
    """

    kind: Kind
    margin: Margin | None
    contract_code: str
    field: str  # "order_id", "client_order_id"; v5 algo: "algo_id", "algo_client_order_id"
    ids: tuple[str, ...]
    api: ApiName = "v1"

    def __post_init__(self) -> None:
        if self.field not in _ID_FIELDS:
            raise ValueError(f"field must be one of {', '.join(_ID_FIELDS)}, got {self.field!r}")
        owner = _CLIENT_FIELDS.get(self.field)
        if owner is not None and self.kind != owner:
            raise ValueError(f"only {owner} orders have {self.field}s")

    @property
    def listed(self) -> bool:
        """True for strategy orders, which are verified through their open-orders listing."""
        return self.kind != "order"

    def with_ids(self, ids: Iterable[str]) -> Target:
        """The same target for other ids."""
        return Target(self.kind, self.margin, self.contract_code, self.field, tuple(ids),
                      self.api)


@dataclass(frozen=True, slots=True)
class Query:
    """One read request: where it goes, its body, the ids it asks about (none for a page)."""

    path: str
    body: dict[str, Any]
    ids: tuple[str, ...] = ()
    method: str = "POST"


# -- planning ------------------------------------------------------------------------------------


def info_path(margin: Margin | None, api: ApiName = "v1") -> str:
    """The order-info path of an API (and, on v1, a margin mode)."""
    return api_table(api).order_info[margin].path


def listing_path(kind: Kind, margin: Margin | None) -> str:
    """The open-orders listing of a strategy order kind."""
    if kind == "order":
        raise ValueError("regular orders are verified through order info, not a listing")
    cross = "cross_" if margin == "cross" else ""
    return CATALOG[f"swap_{cross}{kind}_openorders"].path


def info_queries(target: Target) -> list[Query]:
    """Order-info requests for a target's ids, one id field per request: v1 50 ids a POST,
    v5 one id a GET."""
    ep = api_table(target.api).order_info[target.margin]
    if ep.method == "GET":
        return [Query(ep.path, {"contract_code": target.contract_code, target.field: id_},
                      (id_,), "GET") for id_ in target.ids]
    path = ep.path
    return [
        Query(path, {"contract_code": target.contract_code, target.field: ",".join(part)},
              tuple(part))
        for part in chunk(list(target.ids), INFO_MAX_IDS)
    ]


def listing_query(target: Target, page_index: int) -> Query:
    """One page (from 1) of a strategy target's open-orders listing."""
    body = {"contract_code": target.contract_code, "page_index": page_index,
            "page_size": PAGE_SIZE}
    return Query(listing_path(target.kind, target.margin), body)


def algo_page_query(target: Target, algo_type: str, cursor: str | None) -> Query:
    """One page of v5's open algo orders of one type: ``from`` the last id seen, upwards.

    HTX pages v5 listings by ``from`` / ``limit`` (at most 100) / ``direct``; that ``from`` is
    an order-id cursor is this library's reading (docs/v5.md).
    """
    body: dict[str, Any] = {"contract_code": target.contract_code, "type": algo_type,
                            "limit": V5_PAGE_SIZE, "direct": "next"}
    if cursor is not None:
        body["from"] = cursor
    return Query(V5_ALGO_LISTING, body, (), "GET")


def targets_for_ids(contract_code: str, order_ids: Iterable[str | int],
                    client_order_ids: Iterable[str | int], *, kind: str = "order",
                    margin: str | None = None,
                    api: ApiName = "v1") -> tuple[CancelReport, list[Target]]:
    """A report holding validated ids as unknown ("not verified"), and their targets.

    For ids cancelled elsewhere or earlier: verification then moves each where it belongs.
    """
    ep = api_table(api).cancel(kind, margin)
    assert ep.kind is not None
    code = validate_contract_code(contract_code)
    fields = ep.id_fields
    oids = validate_ids(order_ids, fields[0])
    cids = validate_ids(client_order_ids, fields[-1])
    if cids and len(fields) < 2:
        raise ValueError(f"{kind} orders have no client order ids")
    both = set(oids).intersection(cids)
    if both:
        raise ValueError(f"id {min(both)!r} is given both as {fields[0]} and {fields[-1]}")
    ids = [*oids, *cids]
    report = CancelReport(unknown=ids, unknown_reasons=dict.fromkeys(ids, "not verified"))
    targets = [Target(ep.kind, ep.margin, code, f, tuple(part), api)
               for f, part in zip(fields, (oids, cids), strict=False) if part]
    return report, targets


def targets_from_report(report: CancelReport, contract_code: str) -> list[Target]:
    """The targets a cancel report's ids belong to, from the endpoints its batches used.

    A by-id batch names its id field; ids a cancel-all reported are order ids of its kind.
    """
    contract_code = validate_contract_code(contract_code)
    groups: dict[tuple[Kind, Margin | None, ApiName, str], dict[str, None]] = {}
    seen: set[str] = set()
    sweeps: list[tuple[Kind, Margin | None, ApiName]] = []
    for batch in report.batches:
        ep = CATALOG.get(batch.endpoint)
        if ep is None or ep.kind is None:
            continue
        if batch.id_field is None:  # a cancel-all: its ids are in the report, not the batch
            sweeps.append((ep.kind, ep.margin, ep.api))
            continue
        group = groups.setdefault((ep.kind, ep.margin, ep.api, batch.id_field), {})
        for id_ in batch.ids:
            group[id_] = None
            seen.add(id_)
    if sweeps:
        rest = [i for i in (*report.cancelled, *report.failed, *report.unknown) if i not in seen]
        if rest:
            if len(set(sweeps)) > 1:
                raise ValueError("the report holds cancel-alls of several order kinds: "
                                 "verify each call's report on its own")
            kind, margin, api = sweeps[0]
            groups.setdefault((kind, margin, api, "order_id"), {}).update(dict.fromkeys(rest))
    return [Target(kind, margin, contract_code, field, tuple(ids), api)
            for (kind, margin, api, field), ids in groups.items() if ids]


# -- parsing -------------------------------------------------------------------------------------


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


class _V5Listed(msgspec.Struct, frozen=True):
    """One order of a v5 listing (regular or algo)."""

    order_id: int | str | None = None
    algo_id: int | str | None = None


class _V5ListingAnswer(msgspec.Struct, frozen=True):
    """A v5 listing: ``data`` a bare list (HTX's examples), or an object holding one."""

    data: list[_V5Listed] | dict[str, Any] | None = None


_v5_listing_decoder = msgspec.json.Decoder(_V5ListingAnswer)


def parse_v5_page(answer: object) -> list[str]:
    """The ids (algo ids, else order ids) on one page of a v5 listing, in the page's order.

    ``data`` may be the list itself or an object with the list under ``orders``, ``list`` or
    ``data``; ``ValueError`` when neither is there.
    """
    parsed: _V5ListingAnswer = _read(answer, _v5_listing_decoder, _V5ListingAnswer)
    data = parsed.data
    if isinstance(data, dict):
        inner = next((data[k] for k in ("orders", "list", "data") if isinstance(
            data.get(k), list)), None)
        if inner is None:
            raise ValueError("the v5 listing's data holds no list of orders")
        data = msgspec.convert(inner, list[_V5Listed])
    if data is None:
        raise ValueError("the v5 listing answered without data")
    ids = [_id_text(None, o.algo_id) or _id_text(None, o.order_id) for o in data]
    return [i for i in ids if i]


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


# -- folding into the report ---------------------------------------------------------------------


_MOVED_TO_FAILED = {
    OrderState.FILLED: "filled before the cancel took effect (order info status 6)",
    OrderState.FAILED: "the order failed and was never live (order info status 10)",
    OrderState.NOT_FOUND: ("order info does not know it: it never existed, or HTX has forgotten "
                           "it (cancelled orders about 2 h, client order ids 8 h, finished "
                           "orders at each funding settlement)"),
}


def fold(report: CancelReport, states: Mapping[str, OrderState], unread: Mapping[str, str],
         recancels: Mapping[str, int], recancel_failures: Mapping[str, Failure],
         recancel_unknown: Mapping[str, str]) -> None:
    """Move each id of ``report`` to where what verification learned puts it.

    ``states`` holds each id's state as last learned (none for an id re-cancelled since, until
    it is asked again), ``unread`` why an id's state could not be learned, ``recancels`` how
    many more cancels verification sent for each id, and the last re-cancel's per-id failure or
    lost answer. The rules (see docs/verifying.md):

    - cancelled or unknown, now cancelled (or a strategy order gone): cancelled;
    - cancelled, now filled or failed; unknown, now filled, failed or not found: failed (1061);
    - cancelled, now not found: stays cancelled (accepted, then forgotten by the exchange);
    - cancelled or unknown, still live at the end: failed (the last re-cancel's failure, or
      code 0 "still open after N more cancels");
    - cancelled or unknown, still cancelling at the deadline: unknown;
    - re-cancelled, then not learned: what the re-cancel answered;
    - failed: stays failed (its state is still recorded);
    - never learned: stays where it is; an unknown id's reason says why verification failed.
    """
    cancelled: list[str] = []
    unknown: list[str] = []
    reasons: dict[str, str] = {}
    failed = report.failed
    old = report.unknown_reasons
    for id_, was_unknown in [*((i, False) for i in report.cancelled),
                             *((i, True) for i in report.unknown)]:
        state = states.get(id_)
        if state is None:
            if id_ in recancel_failures:
                failed[id_] = recancel_failures[id_]
            elif id_ in recancel_unknown:
                unknown.append(id_)
                reasons[id_] = f"re-cancelled, {recancel_unknown[id_]}"
            elif recancels.get(id_) or not was_unknown:
                cancelled.append(id_)  # a cancel was accepted; what followed is not known
            else:
                unknown.append(id_)
                why = unread.get(id_, "verification could not learn its state")
                reasons[id_] = f"{old.get(id_, 'no answer')}; {why}"
        elif state.cancelled or state is OrderState.GONE:
            cancelled.append(id_)
        elif state.live:
            n = recancels.get(id_, 0)
            failed[id_] = recancel_failures.get(id_) or Failure(
                STILL_OPEN, f"still {state.value} after {n} more cancel{'s' * (n != 1)}")
        elif state is OrderState.CANCELLING:
            unknown.append(id_)
            reasons[id_] = "still cancelling when verification's deadline came"
        elif state is OrderState.NOT_FOUND and not was_unknown:
            cancelled.append(id_)
        else:
            failed[id_] = Failure(NOT_CANCELLED, _MOVED_TO_FAILED[state])
    report.cancelled[:] = cancelled
    report.unknown[:] = unknown
    old.clear()
    old.update(reasons)
