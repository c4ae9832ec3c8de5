"""Read endpoints: order info and open-order listings with HTX's fields; the rest answer empty."""

from __future__ import annotations

from collections.abc import Callable

from .._catalog import Endpoint
from ._answers import JSON, error_answer
from ._orders import ERR_NOT_FOUND, Order, OrderBook, Scope, htx_status, pair_of
from ._process import Processed, RequestError, ids_param, parse_body, scope_of, text_param

__all__ = ["INFO_LIMIT", "PAGE_LIMIT", "order_fields", "other", "read"]

INFO_LIMIT = 50  # ids per order-info request
PAGE_LIMIT = 50  # orders per page of a listing
ERR_TOO_MANY = (1067, "Illegal parameter order_id.")
STRATEGY_STATUS = {"trigger": 2, "tpsl": 2, "track": 2}  # "ready to submit" while open


def _ok(data: object, ts: int) -> JSON:
    """A successful answer."""
    return {"status": "ok", "data": data, "ts": ts}


def order_fields(order: Order) -> JSON:
    """One regular order as order info and ``swap_openorders`` list it."""
    symbol = order.contract_code.split("-")[0]
    cid = order.client_order_id
    return {
        "business_type": "swap",
        "contract_type": order.contract_type,
        "pair": pair_of(order.contract_code),
        "symbol": symbol,
        "contract_code": order.contract_code,
        "volume": order.volume,
        "price": order.price,
        "order_price_type": order.order_price_type,
        "order_type": 1,
        "direction": order.direction,
        "offset": order.offset,
        "lever_rate": order.lever_rate,
        "order_id": int(order.order_id),
        "order_id_str": order.order_id,
        "client_order_id": None if cid is None else int(cid),
        "created_at": order.created_at,
        "update_time": max(order.created_at, order.canceled_at),
        "trade_volume": order.trade_volume,
        "trade_turnover": 0,
        "fee": 0,
        "trade_avg_price": order.price if order.trade_volume else None,
        "margin_frozen": 0,
        "profit": 0,
        "real_profit": 0,
        "status": htx_status(order),
        "order_source": "api",
        "canceled_at": order.canceled_at,
        "canceled_source": order.canceled_source,
        "fee_asset": "USDT",
        "liquidation_type": "0",
        "margin_asset": "USDT",
        "margin_mode": order.margin,
        "margin_account": "USDT" if order.margin == "cross" else order.contract_code,
        "is_tpsl": 0,
        "reduce_only": 0,
    }


def _strategy_fields(order: Order) -> JSON:
    """One trigger, tp/sl or track order as its open-orders listing shows it."""
    fields: JSON = {
        "symbol": order.contract_code.split("-")[0],
        "contract_code": order.contract_code,
        "pair": pair_of(order.contract_code),
        "contract_type": order.contract_type,
        "business_type": "swap",
        "volume": order.volume,
        "order_type": 1,
        "direction": order.direction,
        "order_id": int(order.order_id),
        "order_id_str": order.order_id,
        "order_source": "api",
        "created_at": order.created_at,
        "order_price_type": order.order_price_type,
        "status": STRATEGY_STATUS[order.kind],
        "margin_mode": order.margin,
        "margin_account": "USDT" if order.margin == "cross" else order.contract_code,
    }
    if order.kind != "tpsl":
        fields["offset"] = order.offset
        fields["lever_rate"] = order.lever_rate
    if order.kind == "tpsl":
        fields.update(trigger_type="ge" if order.extra.get("tpsl_order_type") == "tp" else "le",
                      relation_tpsl_order_id="-1", source_order_id=None,
                      relation_order_id="-1")
    if order.kind == "track":
        fields["is_active"] = 0
    fields.update(order.extra)
    return fields


def _order_info(endpoint: Endpoint, body: dict[str, object], book: OrderBook,
                ts: int) -> Processed:
    """``swap_order_info``: the orders found, in the order asked; 1061 when none is."""
    scope = scope_of(endpoint, body, book, pair_alone=True)
    id_field, ids = ids_param(endpoint, body)
    if len(ids) > INFO_LIMIT:
        raise RequestError(*ERR_TOO_MANY)
    found: list[JSON] = []
    for given in ids:
        order = book.by_client(given) if id_field == "client_order_id" else book.orders.get(given)
        if order is not None and _visible(order, "order", endpoint, scope):
            found.append(order_fields(order))
    if not found:
        raise RequestError(*ERR_NOT_FOUND)
    return Processed(_ok(found, ts), id_field=id_field, ids=tuple(ids))


def _visible(order: Order, kind: str, endpoint: Endpoint, scope: Scope | None) -> bool:
    """True when the order is of this kind and margin mode, on the scope's contract."""
    return (order.kind == kind and order.margin == endpoint.margin
            and (scope is None or scope.matches(order)))


def _page(body: dict[str, object]) -> tuple[int, int]:
    """``page_index`` (from 1) and ``page_size`` (default 20, at most 50)."""
    values = []
    for name, default, top in (("page_index", 1, None), ("page_size", 20, PAGE_LIMIT)):
        text = text_param(body, name)
        value = default if text is None else int(text) if text.isdigit() else 0
        if value < 1 or (top is not None and value > top):
            raise RequestError(1067, f"Illegal parameter {name}.")
        values.append(value)
    return values[0], values[1]


def _listing(kind: str, fields: Callable[[Order], JSON]) -> Handler:
    """An open-orders listing of one kind: newest first, paged."""

    def handler(endpoint: Endpoint, body: dict[str, object], book: OrderBook,
                ts: int) -> Processed:
        # Isolated listings need the contract; cross ones may name a pair, or nothing.
        scope: Scope | None = None
        if endpoint.margin == "isolated" or any(k in body for k in ("contract_code", "pair")):
            scope = scope_of(endpoint, body, book, pair_alone=True)
        index, size = _page(body)
        live = [o for o in book.orders.values()
                if o.state in ("open", "cancelling") and _visible(o, kind, endpoint, scope)]
        live.sort(key=lambda o: o.created_at, reverse=True)
        total = len(live)
        pages = -(-total // size)
        chunk = live[(index - 1) * size: index * size]
        data = {"orders": [fields(o) for o in chunk], "total_page": pages,
                "current_page": index, "total_size": total}
        return Processed(_ok(data, ts), ids=tuple(o.order_id for o in chunk))

    return handler


Handler = Callable[[Endpoint, dict[str, object], OrderBook, int], Processed]

_BY_SUFFIX: dict[str, Handler] = {
    "order_info": _order_info,
    "openorders": _listing("order", order_fields),
    "trigger_openorders": _listing("trigger", _strategy_fields),
    "tpsl_openorders": _listing("tpsl", _strategy_fields),
    "track_openorders": _listing("track", _strategy_fields),
}
READS: dict[str, Handler] = {
    f"swap{margin}_{suffix}": handler
    for suffix, handler in _BY_SUFFIX.items()
    for margin in ("", "_cross")
}


def _empty_page(key: str) -> JSON:
    """A listing with nothing in it."""
    return {key: [], "total_page": 0, "current_page": 1, "total_size": 0}


def other(endpoint: Endpoint, ts: int) -> JSON:
    """A plausible empty answer for an endpoint the fake does not model."""
    name = endpoint.name.rsplit("/", 1)[-1]
    data: object = []
    if name.endswith("hisorders") and not endpoint.name.startswith("v3/"):
        data = _empty_page("orders")
    elif name.endswith("matchresults") and not endpoint.name.startswith("v3/"):
        data = _empty_page("trades")
    elif name.endswith(("order_detail", "relation_tpsl_order", "lightning_close_position",
                        "switch_lever_rate")):
        data = {}
    return _ok(data, ts)


def read(endpoint: Endpoint, raw: bytes, book: OrderBook, ts: int) -> Processed:
    """Answer one read request from the book (or plausibly empty for unmodelled endpoints)."""
    body: dict[str, object] = {}
    try:
        body = parse_body(raw)
        handler = READS.get(endpoint.name)
        result = Processed(other(endpoint, ts)) if handler is None else handler(
            endpoint, body, book, ts)
    except RequestError as exc:
        result = Processed(error_answer(exc.code, exc.message, ts), exc.code)
    result.body = body
    return result
