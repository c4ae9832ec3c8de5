"""What verification asks: the targets a report's ids belong to and the reads that settle them.

HTX's cancel answer only says the cancel was accepted. Order info (v1: 50 ids a request; v5:
one id a GET) and the open-order listings (v1 strategy orders: 50 a page; v5 algo orders: 100
a page by an id cursor) say what became of each order. Nothing here does I/O: the verification
driver (``htx_cancel._verification``) sends the queries planned here, the readers in
``_reads`` parse their answers and the fold (``_fold.fold_states``) writes the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._catalog import CATALOG, ApiName, Kind, Margin, api_table
from .._ids import chunk, validate_contract_code, validate_ids
from .._report import CancelReport

__all__ = [
    "INFO_MAX_IDS",
    "PAGE_SIZE",
    "V5_ALGO_TYPES",
    "V5_HISTORY",
    "V5_MARGIN_MODES",
    "V5_OPENS",
    "V5_PAGE_SIZE",
    "Query",
    "Target",
    "algo_page_query",
    "info_path",
    "info_queries",
    "listing_path",
    "listing_query",
    "targets_for_ids",
    "targets_from_report",
    "v5_page_query",
]

INFO_MAX_IDS = 50  # order info takes at most 50 ids per request
PAGE_SIZE = 50  # the open-orders listings give at most 50 orders per page
V5_PAGE_SIZE = 100  # v5 listings: at most 100 a page, paged by an order-id cursor
V5_ALGO_LISTING = "/v5/algo/order/opens"
V5_OPENS = "/v5/trade/order/opens"  # live regular orders, 100 a page
V5_HISTORY = "/v5/trade/order/history"  # finished ones (contract and margin mode required)
V5_MARGIN_MODES = ("cross", "isolated")  # history asks for one; cross first (Multi-Assets)
# v5's algo ``type`` values (the Java SDK, ccxt, gocryptotrader); the listing needs one.
V5_ALGO_TYPES = ("trigger", "tp", "sl", "tpsl", "trailing_stop")

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


def v5_page_query(target: Target, path: str, cursor: int | None, *,
                  margin_mode: str | None = None, direct: str = "next") -> Query:
    """One page of v5's open orders (``V5_OPENS``) or history (``V5_HISTORY``, which needs
    ``margin_mode``) of the target's contract: 100 orders by order id, after the ``from``
    cursor (``direct="next"``) or before it (``"prev"``; no cursor: the newest)."""
    body: dict[str, Any] = {"contract_code": target.contract_code, "limit": V5_PAGE_SIZE,
                            "direct": direct}
    if margin_mode is not None:
        body["margin_mode"] = margin_mode
    if cursor is not None:
        body["from"] = str(cursor)
    return Query(path, body, (), "GET")


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
