"""``/linear-swap-trade``: v5 trade ops over a WebSocket, answered by ``cid``.

A request is ``{"op": ..., "cid": ..., "data": {...}}`` with the same fields as the REST path;
the answer ``{"code": 200, "message": "Success", "data": ..., "ts": ..., "cid": ...}`` carries the
REST ``data`` (or ``{"code", "message", "ts", "cid"}`` on failure). Every op takes a slot of the
trade pool, shared with REST.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from .._process import Processed
from . import cancel, place
from .account import V5Account
from .codes import TOO_MANY, V5Error, empty, illegal
from .request import Handler, V5Request

__all__ = ["TRADE_OPS", "TradeKeys", "answer", "rekey", "run_op"]

TradeKeys = Literal["snake", "camel"]
_CAMEL = {"order_id": "orderId", "client_order_id": "clientOrderId"}


def _cancel_batch(acct: V5Account, req: V5Request) -> Processed:
    """``cancel_batch_orders``: REST's object, or an array of ``{contract_code, order_id}``
    objects (one id, or an array of ids, each) as one SDK sends it."""
    if not isinstance(req.body, list):
        return cancel.cancel_batch_orders(acct, req)
    if not req.body:
        raise empty("order_id")
    by_contract: dict[tuple[object, str], list[object]] = {}
    for item in req.body:
        if not isinstance(item, dict):
            raise illegal("data", "objects of contract_code and order_id are required")
        fields = [f for f in ("order_id", "client_order_id") if item.get(f) not in (None, "")]
        if len(fields) != 1:
            raise (empty("order_id") if not fields else
                   illegal("order_id and client_order_id", "send one of them, not both"))
        value = item[fields[0]]
        ids = value if isinstance(value, list) else [value]
        by_contract.setdefault((item.get("contract_code"), fields[0]), []).extend(ids)
    if sum(len(ids) for ids in by_contract.values()) > cancel.BATCH_CANCEL_LIMIT:
        raise V5Error(*TOO_MANY)
    if len({field for _, field in by_contract}) > 1:
        raise illegal("order_id and client_order_id", "send one of them, not both")
    results = [cancel.cancel_batch_orders(acct, V5Request(
        {"contract_code": code, field: ids}, req.seq, req.ts))
        for (code, field), ids in by_contract.items()]
    for result in results:
        if result.err_code is not None:
            return result
    data: list[object] = []
    for result in results:
        items = result.answer["data"]
        assert isinstance(items, list)
        data += items
    first = results[0]
    first.answer = {**first.answer, "data": data}
    first.ids = tuple(i for r in results for i in r.ids)
    first.cancelled = tuple(i for r in results for i in r.cancelled)
    return first


TRADE_OPS: dict[str, Handler] = {
    "cancel_order": cancel.cancel_order,
    "cancel_batch_orders": _cancel_batch,
    "cancel_all_orders": cancel.cancel_all_orders,
    "place_order": place.place_order,
    "place_batch_orders": place.place_batch_orders,
}
"""op -> what it does (the REST handler of the same name)."""


def run_op(acct: V5Account, op: str, data: object, seq: int, ts: int) -> Processed:
    """Apply one trade op; a whole-request failure comes back as an error answer."""
    try:
        return TRADE_OPS[op](acct, V5Request(data, seq, ts))
    except V5Error as exc:
        return Processed({"code": exc.code, "message": exc.message, "ts": ts}, exc.code)


def rekey(data: object, keys: TradeKeys) -> object:
    """``data`` with ``orderId`` / ``clientOrderId`` keys (``keys="camel"``, as HTX's own
    example of this channel shows them) or as it is."""
    if keys == "snake":
        return data
    if isinstance(data, list):
        return [rekey(item, keys) for item in data]
    if isinstance(data, Mapping):
        return {_CAMEL.get(k, k): v for k, v in data.items()}
    return data


def answer(done: Processed, cid: Any, keys: TradeKeys) -> dict[str, object]:
    """The op's answer as the channel sends it: the REST envelope plus ``cid``."""
    out = dict(done.answer)
    if "data" in out:
        out["data"] = rekey(out["data"], keys)
    out["cid"] = cid
    return out
