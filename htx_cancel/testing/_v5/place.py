"""v5 placements: ``/v5/trade/order``, ``/v5/trade/batch_orders`` and ``/v5/algo/order``.

Placed orders rest in the book until a test fills them (the fake has no matching engine),
whatever their type or time in force.
"""

from __future__ import annotations

from .._answers import JSON
from .._orders import Order
from .._process import Processed
from .account import V5Account
from .codes import CLIENT_REPEATED, ITEM_OK, TOO_MANY, VOLUME, V5Error, empty, illegal
from .envelope import ok
from .params import Params, as_object, choice, client_id, contract, flag, number, text
from .request import V5Request
from .views import (
    ALGO_TYPES,
    algo_client_id_shown,
    client_id_shown,
    decimal,
    kind_of_algo_type,
    offset_for,
)

__all__ = ["BATCH_ORDERS_LIMIT", "place_algo_order", "place_batch_orders", "place_order"]

BATCH_ORDERS_LIMIT = 20  # orders per /v5/trade/batch_orders: undocumented (its example has 18)
MARGIN_MODES = ("cross", "isolated")
SIDES = ("buy", "sell")
ORDER_TYPES = ("limit", "market", "post_only")
PRICE_MATCHES = ("opponent", "optimal_5", "optimal_10", "optimal_20")
TIME_IN_FORCE = ("gtc", "ioc", "fok")
TRIGGER_PRICE_TYPES = ("last", "mark")
LEG_TYPES = ("market", "limit", "optimal_5", "optimal_10", "optimal_20")


def _position_side(acct: V5Account, p: Params) -> str:
    """``position_side`` as the account's position mode wants it.

    One-way (``single_side``): absent or ``both``. Hedge (``dual_side``): ``long`` or ``short``,
    required.
    """
    if acct.position_mode == "dual_side":
        value = choice(p, "position_side", ("long", "short"), required=True)
    else:
        value = choice(p, "position_side", ("both",), default="both")
    assert value is not None
    return value


def _legs(p: Params, out: dict[str, object]) -> None:
    """Keep the take-profit / stop-loss fields a placement attaches, checked."""
    for leg in ("tp", "sl"):
        trigger = number(p, f"{leg}_trigger_price")
        if trigger is None:
            continue
        out[f"{leg}_trigger_price"] = decimal(trigger)
        out[f"{leg}_order_price"] = decimal(number(p, f"{leg}_order_price"))
        out[f"{leg}_type"] = choice(p, f"{leg}_type", LEG_TYPES, default="market")
        out[f"{leg}_trigger_price_type"] = choice(p, f"{leg}_trigger_price_type",
                                                  TRIGGER_PRICE_TYPES, default="last")


def _client_id(acct: V5Account, cid: str | None, taken: set[str], *, algo: bool) -> None:
    """Refuse a client id a live order holds (1050); free one a finished order held (v5)."""
    if cid is None:
        return
    book = acct.book
    holder = book.by_algo_client(cid) if algo else book.by_client(cid)
    if cid in taken or (holder is not None and holder.state not in ("filled", "cancelled")):
        raise V5Error(*CLIENT_REPEATED)
    if holder is not None:
        book.unbind_client(cid, algo=algo)


def _new_order(acct: V5Account, p: Params, taken: set[str]) -> Order:
    """Check one regular order's fields; the order, not yet in the book."""
    book = acct.book
    code = contract(p, book.contracts)
    assert code is not None
    margin = choice(p, "margin_mode", MARGIN_MODES, required=True)
    side = choice(p, "side", SIDES, required=True)
    order_type = choice(p, "type", ORDER_TYPES, required=True)
    volume = number(p, "volume", required=True, err=VOLUME)
    match = choice(p, "price_match", PRICE_MATCHES)
    price = number(p, "price", required=order_type != "market" and match is None)
    position_side = _position_side(acct, p)
    reduce_only = bool(flag(p, "reduce_only"))
    tif_text = text(p, "time_in_force")
    tif = choice({"time_in_force": tif_text.lower() if tif_text else None}, "time_in_force",
                 TIME_IN_FORCE, default="gtc")
    cid = client_id(p, "client_order_id")
    _client_id(acct, cid, taken, algo=False)
    assert margin is not None and side is not None and order_type is not None
    assert volume is not None and tif is not None
    fields: dict[str, object] = {}
    _legs(p, fields)
    smp = text(p, "self_match_prevent")
    if smp is not None:
        fields["self_match_prevent"] = smp
    v1_type = ("post_only" if order_type == "post_only"
               else match or "opponent" if order_type == "market"
               else tif if tif != "gtc" else match or "limit")
    return Order(book.new_order_id(), code, "order", margin, cid, side,
                 offset_for(side, position_side), book.contracts[code], volume=volume,
                 price=price, order_price_type=v1_type, position_side=position_side,
                 order_type=order_type, time_in_force=tif, price_match=match,
                 reduce_only=reduce_only, v5_fields=fields)


def _ids(order: Order) -> JSON:
    """``{"order_id", "client_order_id"}`` of a placed order."""
    return {"order_id": order.order_id, "client_order_id": client_id_shown(order)}


def place_order(acct: V5Account, req: V5Request) -> Processed:
    """``POST /v5/trade/order``: one order; ``data`` is ``{"order_id", "client_order_id"}``."""
    order = _new_order(acct, as_object(req.body), set())
    acct.book.add(order)
    return Processed(ok(_ids(order), req.ts), placed=(order.order_id,))


def place_batch_orders(acct: V5Account, req: V5Request) -> Processed:
    """``POST /v5/trade/batch_orders``: a bare JSON array of orders, each placed or refused.

    ``data`` has one ``{order_id, client_order_id, code, message}`` per order, in request order
    (``order_id`` ``""`` for a refused one). More than 20 orders: 1052, nothing placed; an object
    body (v1's ``orders_data``) is 1067.
    """
    if not isinstance(req.body, list):
        raise illegal("body", "a JSON array of orders is required")
    if not req.body:
        raise empty("orders")
    if len(req.body) > BATCH_ORDERS_LIMIT:
        raise V5Error(*TOO_MANY)
    items: list[JSON] = []
    placed: list[str] = []
    taken: set[str] = set()
    for item in req.body:
        try:
            order = _new_order(acct, as_object(item), taken)
        except V5Error as exc:
            cid = item.get("client_order_id") if isinstance(item, dict) else None
            items.append({"order_id": "", "client_order_id": "" if cid is None else str(cid),
                          "code": exc.code, "message": exc.message})
            continue
        acct.book.add(order)
        if order.client_order_id is not None:
            taken.add(order.client_order_id)
        placed.append(order.order_id)
        items.append({**_ids(order), "code": ITEM_OK[0], "message": ITEM_OK[1]})
    return Processed(ok(items, req.ts), placed=tuple(placed))


_ALGO_REQUIRED = {
    "trigger": ("trigger_price",),
    "tp": ("tp_trigger_price",),
    "sl": ("sl_trigger_price",),
    "tpsl": ("tp_trigger_price", "sl_trigger_price"),
    "trailing_stop": ("callback_rate",),
}


def _algo_type(p: Params) -> str:
    """``type`` (or HTX.Net's ``algo_type``): trigger, tp, sl, tpsl, trailing_stop."""
    name = "type" if p.get("type") not in (None, "") else "algo_type"
    value = choice(p, name, ALGO_TYPES, required=True)
    assert value is not None
    return value


def place_algo_order(acct: V5Account, req: V5Request) -> Processed:
    """``POST /v5/algo/order``: one strategy order; ``data`` is ``{algo_id,
    algo_client_order_id}``.

    Required by type: trigger ``trigger_price``; tp ``tp_trigger_price``; sl
    ``sl_trigger_price``; tpsl both; trailing_stop ``callback_rate``. ``volume`` is required for
    trigger and trailing_stop (tp / sl may cover the whole position).
    """
    p = as_object(req.body)
    book = acct.book
    code = contract(p, book.contracts)
    assert code is not None
    algo_type = _algo_type(p)
    margin = choice(p, "margin_mode", MARGIN_MODES, required=True)
    side = choice(p, "side", SIDES, required=True)
    position_side = _position_side(acct, p)
    needs_volume = algo_type in ("trigger", "trailing_stop")
    volume = number(p, "volume", required=needs_volume, err=VOLUME) or 0
    fields: dict[str, object] = {}
    for name in _ALGO_REQUIRED[algo_type]:
        fields[name] = decimal(number(p, name, required=True))
    _legs(p, fields)
    for name in ("active_price", "trigger_price"):
        if name not in fields and (value := number(p, name)) is not None:
            fields[name] = decimal(value)
    if algo_type == "trailing_stop" and not 0 < float(str(fields["callback_rate"])) <= 1:
        raise illegal("callback_rate", "a rate in (0, 1] is required")
    fields["trigger_price_type"] = choice(p, "trigger_price_type", TRIGGER_PRICE_TYPES,
                                          default="last")
    fields["price_match"] = choice(p, "price_match", PRICE_MATCHES)
    fields["order_price_type"] = text(p, "order_price_type") or text(p, "price_type")
    price = number(p, "price")
    acid = client_id(p, "algo_client_order_id")
    _client_id(acct, acid, set(), algo=True)
    assert margin is not None and side is not None
    extra: dict[str, object] = {}
    if algo_type in ("tp", "sl"):
        extra["tpsl_order_type"] = algo_type
    order = Order(book.new_order_id(), code, kind_of_algo_type(algo_type), margin, None, side,
                  offset_for(side, position_side), book.contracts[code], volume=volume,
                  price=price, order_price_type="limit" if price else "optimal_5",
                  position_side=position_side, reduce_only=bool(flag(p, "reduce_only")),
                  algo_type=algo_type, algo_client_order_id=acid, extra=extra,
                  v5_fields=fields)
    book.add(order)
    data = {"algo_id": order.order_id, "algo_client_order_id": algo_client_id_shown(order)}
    return Processed(ok(data, req.ts), placed=(order.order_id,))
