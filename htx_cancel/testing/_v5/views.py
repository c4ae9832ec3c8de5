"""Orders of the book as v5 shows them: states, sides, types, the fields of order info.

The book's orders carry v1 fields (direction, offset, order_price_type) and, when placed through
v5, v5 ones; whatever an order lacks is derived here, so an order seeded or placed through v1
looks right on v5 and the other way round. With ``cancel_lag`` an order whose cancel was
accepted still shows its earlier state (``new`` or ``partially_filled``) for that long.
"""

from __future__ import annotations

from typing import Literal

from .._answers import JSON
from .._orders import ALGO_KINDS, Order

__all__ = [
    "ALGO_STATES",
    "ALGO_TYPES",
    "CANCEL_REASONS",
    "FINISHED",
    "STATES",
    "algo_client_id_shown",
    "algo_fields",
    "algo_state",
    "algo_type_of",
    "client_id_shown",
    "decimal",
    "is_algo",
    "kind_of_algo_type",
    "offset_for",
    "order_fields",
    "order_type_of",
    "position_side_of",
    "state",
]

V5State = Literal["new", "partially_filled", "filled", "partially_canceled", "canceled",
                  "rejected"]
STATES: tuple[V5State, ...] = ("new", "partially_filled", "filled", "partially_canceled",
                               "canceled", "rejected")
FINISHED = frozenset({"filled", "partially_canceled", "canceled"})  # what history lists
ALGO_TYPES = ("trigger", "tp", "sl", "tpsl", "trailing_stop")
ALGO_STATES = ("active", "effective", "canceled", "failed")
_ALGO_KIND = {"trigger": "trigger", "tp": "tpsl", "sl": "tpsl", "tpsl": "tpsl",
              "trailing_stop": "track"}
CANCEL_REASONS = {
    # canceled_source -> HTX's v5 cancel_reason text
    "api": "Limit order cancelation by the client",
    "timeout-canceled-order": "Order cancelation due to API timeout",
}
MARKET_PRICE_TYPES = frozenset({
    "opponent", "optimal_5", "optimal_10", "optimal_20", "lightning", "opponent_ioc",
    "lightning_ioc", "optimal_5_ioc", "optimal_10_ioc", "optimal_20_ioc", "opponent_fok",
    "lightning_fok", "optimal_5_fok", "optimal_10_fok", "optimal_20_fok",
})  # fmt: skip


def decimal(value: float | None) -> str | None:
    """A number as HTX's v5 answers write them: a string (``"1"``, ``"0.5"``)."""
    if value is None:
        return None
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _shown_live(order: Order, now: float) -> bool:
    """True while ``cancel_lag`` still shows an order whose cancel was accepted as live."""
    until = order.shown_live_until
    return until is not None and now < until


def _traded(order: Order, now: float) -> float:
    """The traded volume as the reads show it."""
    return order.shown_trade_volume if _shown_live(order, now) else order.trade_volume


def state(order: Order, now: float) -> V5State:
    """The v5 ``state`` of a regular order at server time ``now`` (epoch seconds)."""
    if _shown_live(order, now) or order.state in ("open", "cancelling"):
        return "partially_filled" if _traded(order, now) > 0 else "new"
    if order.state == "filled":
        return "filled"
    return "partially_canceled" if order.trade_volume > 0 else "canceled"


def algo_state(order: Order, now: float) -> str:
    """The v5 ``state`` of a strategy order: active, effective (triggered), canceled, failed."""
    if _shown_live(order, now) or order.state in ("open", "cancelling"):
        return "active"
    if order.state == "filled":
        return "failed" if order.algo_failed else "effective"
    return "canceled"


def position_side_of(order: Order) -> str:
    """``long`` / ``short`` / ``both``; from direction and offset for a v1 order."""
    if order.position_side is not None:
        return order.position_side
    if order.offset in (None, "both"):
        return "both"
    opening = order.offset == "open"
    buying = order.direction == "buy"
    return "long" if opening == buying else "short"


def offset_for(side: str, position_side: str) -> str:
    """The v1 offset of a v5 order: ``both`` in one-way mode, else open or close."""
    if position_side == "both":
        return "both"
    opening = (side == "buy") == (position_side == "long")
    return "open" if opening else "close"


def order_type_of(order: Order) -> tuple[str, str, str | None]:
    """(``type``, ``time_in_force``, ``price_match``) of a regular order."""
    if order.order_type is not None:
        return order.order_type, order.time_in_force or "gtc", order.price_match
    price_type = order.order_price_type
    if price_type == "post_only":
        return "post_only", "gtc", None
    tif = "ioc" if "ioc" in price_type else "fok" if "fok" in price_type else "gtc"
    if price_type in MARKET_PRICE_TYPES:
        match = price_type.split("_ioc")[0].split("_fok")[0]
        return "market", tif, match if match.startswith(("optimal", "opponent")) else None
    return "limit", tif, None


def algo_type_of(order: Order) -> str:
    """The v5 algo ``type``: trigger, tp, sl, tpsl or trailing_stop."""
    if order.algo_type is not None:
        return order.algo_type
    if order.kind == "track":
        return "trailing_stop"
    if order.kind == "tpsl":
        side = order.extra.get("tpsl_order_type")
        return side if side in ("tp", "sl") else "tpsl"
    return "trigger"


def kind_of_algo_type(algo_type: str) -> str:
    """The book's kind for a v5 algo type (``tp`` -> ``tpsl``, ``trailing_stop`` -> ``track``)."""
    return _ALGO_KIND[algo_type]


def client_id_shown(order: Order) -> str:
    """The ``client_order_id`` an answer shows: the order's own, else its order id.

    HTX's v5 examples show ``client_order_id`` equal to ``order_id`` for orders placed without
    one (the fake's reading; the page says the field is then omitted).
    """
    return order.client_order_id or order.order_id


def algo_client_id_shown(order: Order) -> str:
    """The ``algo_client_order_id`` an answer shows (its algo id when it has none)."""
    return order.algo_client_order_id or order.order_id


def _v5(order: Order, name: str) -> object:
    """A v5-only field kept from the placement (tp/sl, trigger fields), else None."""
    return order.v5_fields.get(name)


def order_fields(order: Order, now: float) -> JSON:
    """One regular order as ``GET /v5/trade/order``, the listings and the push show it."""
    order_type, tif, match = order_type_of(order)
    traded = _traded(order, now)
    shown = state(order, now)
    finished = shown in FINISHED
    return {
        "id": order.order_id,
        "order_id": order.order_id,
        "client_order_id": client_id_shown(order),
        "contract_code": order.contract_code,
        "contract_type": order.contract_type,
        "side": order.direction,
        "position_side": position_side_of(order),
        "type": order_type,
        "price_match": match,
        "price": decimal(order.price) or "0",
        "volume": decimal(order.volume),
        "lever_rate": order.lever_rate,
        "state": shown,
        "order_source": "api",
        "reduce_only": order.reduce_only,
        "time_in_force": tif,
        **{f"{leg}_{name}": _v5(order, f"{leg}_{name}")
           for leg in ("tp", "sl")
           for name in ("trigger_price", "order_price", "type", "trigger_price_type")},
        "trade_avg_price": decimal(order.price) if traded and order.price else "0",
        "trade_volume": decimal(traded),
        "trade_turnover": decimal(traded * (order.price or 0)),
        "fee_currency": "USDT",
        "fee": "0",
        "price_protect": False,
        "profit": "0",
        "margin_mode": order.margin,
        "cancel_reason": (CANCEL_REASONS.get(order.canceled_source, order.canceled_source)
                          if finished and order.state == "cancelled" else None),
        "created_time": str(order.created_at),
        "updated_time": str(order.updated_at),
        "self_match_prevent": _v5(order, "self_match_prevent") or "cancel_taker",
    }


def algo_fields(order: Order, now: float) -> JSON:
    """One strategy order as ``GET /v5/algo/order`` and its listings show it."""
    kind = algo_type_of(order)
    fields: JSON = {
        "id": order.order_id,
        "algo_id": order.order_id,
        "algo_client_order_id": algo_client_id_shown(order),
        "contract_code": order.contract_code,
        "type": kind,
        "state": algo_state(order, now),
        "side": order.direction,
        "position_side": position_side_of(order),
        "margin_mode": order.margin,
        "volume": decimal(order.volume),
        "price": decimal(order.price),
        "price_match": _v5(order, "price_match"),
        "order_price_type": _v5(order, "order_price_type") or order.order_price_type,
        "reduce_only": order.reduce_only,
        "order_source": "api",
        "created_time": str(order.created_at),
        "updated_time": str(order.updated_at),
        "actual_volume": None,
        "actual_price": None,
        "actual_time": None,
        "relation_order_id": None,
    }
    for name in ("trigger_price", "trigger_price_type", "active_price", "callback_rate",
                 *(f"{leg}_{n}" for leg in ("tp", "sl")
                   for n in ("trigger_price", "order_price", "type", "trigger_price_type"))):
        fields[name] = _v5(order, name)
    if kind == "trigger" and fields["trigger_price"] is None:
        fields["trigger_price"] = decimal(_number(order.extra.get("trigger_price")))
    if kind == "trailing_stop":
        for name in ("active_price", "callback_rate"):
            if fields[name] is None:
                fields[name] = decimal(_number(order.extra.get(name)))
    if kind in ("tp", "sl") and fields[f"{kind}_trigger_price"] is None:
        fields[f"{kind}_trigger_price"] = decimal(_number(order.extra.get("trigger_price")))
    if order.state == "filled" and not order.algo_failed:
        fields["actual_volume"] = decimal(order.volume)
        fields["actual_time"] = str(order.updated_at)
    return fields


def _number(value: object) -> float | None:
    """A stored number, or None."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def is_algo(order: Order) -> bool:
    """True for strategy orders (trigger, tp/sl, trailing)."""
    return order.kind in ALGO_KINDS
