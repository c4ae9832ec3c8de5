"""What differs between HTX's two APIs on the wire, in one table the benchmarks share.

The floor, the library runners and the ccxt runner read paths, ids per request, the body and
how to count cancelled ids from here, so that every client of a scenario sends the same thing.

| api | regular cancel | ids a request | ids travel as | cancelled ids in the answer |
| --- | --- | --- | --- | --- |
| v5 | ``/v5/trade/cancel_batch_orders`` | 10 | JSON array of strings | ``data`` items, code 200 |
| v1 | ``/linear-swap-api/v1/swap_cancel`` | 25 | one comma-joined string | ``data.successes`` |

Strategy orders: v5 has one algo cancel, ``/v5/algo/cancel_orders`` (10 a request, a JSON array
of ``{contract_code, algo_id}``, the answer's items as for regular orders), in the trade pool and
(the library's safe side, and the fake's ``algo_limit``) a 5/1 s pool of its own; v1 has one
endpoint per kind (trigger 20, tp/sl 10, track 10 a request, comma strings), each in the trade
pool and its own 5/1 s pool. A whole-request refusal over the limit is 1032 in both envelopes:
``err_code`` (v1), ``code`` (v5).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["APIS", "V1", "V5", "WIRES", "ApiName", "Body", "Route", "Wire", "rate_limited", "wire"]

ApiName = Literal["v5", "v1"]
APIS: tuple[ApiName, ...] = ("v5", "v1")
RATE_LIMITED = 1032
_OK = (200, "200")  # v5 item codes come as numbers or strings
Body = dict[str, Any] | list[dict[str, Any]]


def _comma(contract: str, field: str, ids: list[str]) -> Body:
    return {"contract_code": contract, field: ",".join(ids)}


def _array(contract: str, field: str, ids: list[str]) -> Body:
    return {"contract_code": contract, field: list(ids)}


def _algo_items(contract: str, field: str, ids: list[str]) -> Body:
    return [{"contract_code": contract, field: i} for i in ids]


def _successes(answer: Mapping[str, Any]) -> int:
    """v1: the ids in ``data.successes``."""
    data = answer.get("data") or {}
    successes = data.get("successes") if isinstance(data, dict) else None
    return len(successes.split(",")) if successes else 0


def _items_ok(answer: Mapping[str, Any]) -> int:
    """v5: the items of ``data`` whose ``code`` is 200."""
    data = answer.get("data")
    if not isinstance(data, list):
        return 0
    return sum(1 for item in data if isinstance(item, dict) and item.get("code") in _OK)


@dataclass(frozen=True, slots=True)
class Route:
    """One cancel endpoint as the benchmarks use it.

    ``path`` is what is posted (and what the library's catalog and ccxt name, without the
    leading slash); ``record`` what the fake exchange calls the endpoint in its records;
    ``own_pool`` the fake's name of the endpoint's own 5/1 s pool (None: the trade pool only).
    """

    path: str
    per_request: int
    field: str
    build: Callable[[str, str, list[str]], Body]
    count: Callable[[Mapping[str, Any]], int]
    record: str
    own_pool: str | None = None

    @property
    def ccxt_path(self) -> str:
        """The path as ccxt's ``request()`` takes it (no leading slash)."""
        return self.path.lstrip("/")

    def body(self, contract: str, ids: list[str]) -> Body:
        """The request body cancelling ``ids`` on ``contract``."""
        return self.build(contract, self.field, ids)

    def cancelled(self, answer: Mapping[str, Any]) -> int:
        """How many ids the answer says were cancelled."""
        return self.count(answer)


@dataclass(frozen=True, slots=True)
class Wire:
    """One API: its cancel routes by kind, and the single-id request an outsider sends."""

    api: ApiName
    routes: Mapping[str, Route]
    outside_path: str  # a cancel of one unknown id: draws on the trade pool, cancels nothing
    outside_record: str

    @property
    def order(self) -> Route:
        """The regular-order cancel."""
        return self.routes["order"]

    @property
    def strategy_kinds(self) -> tuple[str, ...]:
        """The kinds with a pool of their own (v5: algo; v1: trigger, tpsl, track)."""
        return tuple(k for k, r in self.routes.items() if r.own_pool is not None)

    def outside_body(self, contract: str, i: int) -> dict[str, Any]:
        """The body of the outsider's ``i``-th request: one id no order has."""
        return {"contract_code": contract, "order_id": str(10**18 + i)}


def rate_limited(answer: Mapping[str, Any]) -> bool:
    """True for a whole-request refusal over the limit: 1032 as v1's ``err_code`` or v5's
    ``code``."""
    code = answer.get("err_code", answer.get("code"))
    return str(code) == str(RATE_LIMITED)


def _v1(name: str, per_request: int, *, own: bool = False) -> Route:
    return Route(f"/linear-swap-api/v1/{name}", per_request, "order_id", _comma, _successes,
                 name, name if own else None)


V5 = Wire("v5", {
    "order": Route("/v5/trade/cancel_batch_orders", 10, "order_id", _array, _items_ok,
                   "/v5/trade/cancel_batch_orders"),
    "algo": Route("/v5/algo/cancel_orders", 10, "algo_id", _algo_items, _items_ok,
                  "/v5/algo/cancel_orders", "algo"),
}, "/v5/trade/cancel_order", "/v5/trade/cancel_order")

V1 = Wire("v1", {
    "order": _v1("swap_cancel", 25),
    "trigger": _v1("swap_trigger_cancel", 20, own=True),
    "tpsl": _v1("swap_tpsl_cancel", 10, own=True),
    "track": _v1("swap_track_cancel", 10, own=True),
}, "/linear-swap-api/v1/swap_cross_cancel", "swap_cross_cancel")

WIRES: dict[str, Wire] = {"v5": V5, "v1": V1}


def wire(api: str) -> Wire:
    """The table of ``"v5"`` or ``"v1"``."""
    try:
        return WIRES[api]
    except KeyError:
        raise ValueError(f"api must be 'v5' or 'v1', got {api!r}") from None
