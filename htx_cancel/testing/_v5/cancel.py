"""v5 cancels: one order, a batch, everything, and strategy (algo) orders.

What each id ends as is decided by `cancel_regular()` and `cancel_algo()` and nowhere
else; the codes are in `.codes`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._answers import JSON
from .._orders import Order, OrderBook
from .._process import Processed
from .account import V5Account
from .codes import (
    CANCELLING,
    FILLED,
    ITEM_OK,
    NOT_FOUND,
    NOTHING,
    REPEATED,
    TOO_MANY,
    V5Error,
    empty,
    illegal,
)
from .envelope import error, ok
from .params import Params, as_object, choice, contract, id_list, id_text
from .request import V5Request
from .views import algo_client_id_shown, client_id_shown, position_side_of

__all__ = [
    "ALGO_CANCEL_LIMIT",
    "BATCH_CANCEL_LIMIT",
    "cancel_algo",
    "cancel_algo_orders",
    "cancel_all_orders",
    "cancel_batch_orders",
    "cancel_order",
    "cancel_regular",
]

BATCH_CANCEL_LIMIT = 10  # ids per /v5/trade/cancel_batch_orders (HTX's documented cap)
ALGO_CANCEL_LIMIT = 10  # items per /v5/algo/cancel_orders (not documented: the fake's cap)
Outcome = tuple[int, str, bool]  # code, message, whether the order will end cancelled


def _accept(book: OrderBook, order: Order, seq: int) -> Outcome:
    """Cancel a live order: 200 (1062 for one a test marked as cancelling)."""
    marked = order.state == "cancelling"
    cancelled = book.cancel_one(order, seq)
    code, message = CANCELLING if marked else ITEM_OK
    return code, message, cancelled


def cancel_regular(book: OrderBook, order: Order | None, seq: int) -> Outcome:
    """What a v5 cancel does to one regular order (None: not found) and the code it answers.

    200 cancel accepted; 1061 not found (unknown, another contract or kind, or asked by a client
    id that is no longer valid); 1063 filled (also when a seeded fill got there first); 1071
    already cancelled; 1062 in the timed cancelling phase (``cancelling_seconds``), or marked
    cancelling by a test (that cancel then goes through).
    """
    if order is None:
        return (*NOT_FOUND, False)
    if order.state == "open" and book.fills_first(order):
        book.fill_now(order)
    if order.state == "filled":
        return (*FILLED, False)
    if order.state == "cancelled":
        return (*REPEATED, False)
    if order.cancelling_until is not None:
        return (*CANCELLING, False)
    return _accept(book, order, seq)


def cancel_algo(book: OrderBook, order: Order | None, seq: int) -> Outcome:
    """What a v5 algo cancel does to one strategy order and its code.

    200 cancelled; 1061 not found (or failed: it ended without an order); 1063 triggered
    (``effective``); 1071 already cancelled.
    """
    if order is None or (order.state == "filled" and order.algo_failed):
        return (*NOT_FOUND, False)
    if order.state == "filled":
        return (*FILLED, False)
    if order.state == "cancelled":
        return (*REPEATED, False)
    return _accept(book, order, seq)


def _one_id_field(p: Params, fields: tuple[str, str], lists: bool) -> tuple[str, list[str]]:
    """Which of the two id fields the request uses and its ids; both or neither: 1067 / 1066."""
    values: dict[str, list[str]] = {}
    for name in fields:
        if lists:
            found = id_list(p, name)
        else:
            one = id_text(p, name)
            found = None if one is None else [one]
        if found is not None:
            values[name] = found
    if len(values) > 1:
        raise illegal(" and ".join(fields), "send one of them, not both")
    if not values:
        raise empty(fields[0])
    ((name, ids),) = values.items()
    return name, ids


def _item(given: str, by_client: bool, order: Order | None, outcome: Outcome) -> JSON:
    """One result of a batch cancel: both ids, the item's code and message."""
    code, message, _ = outcome
    if order is None:
        order_id, cid = ("", given) if by_client else (given, "")
    else:
        order_id, cid = order.order_id, client_id_shown(order)
    return {"order_id": order_id, "client_order_id": cid, "code": code, "message": message}


def cancel_order(acct: V5Account, req: V5Request) -> Processed:
    """``POST /v5/trade/cancel_order``: one order by ``order_id`` or ``client_order_id``.

    ``data`` is ``{"order_id", "client_order_id"}``; anything but an accepted cancel is a
    whole-request error with the item's code.
    """
    p = as_object(req.body)
    code = contract(p, acct.book.contracts)
    field, (given,) = _one_id_field(p, ("order_id", "client_order_id"), lists=False)
    by_client = field == "client_order_id"
    order = acct.live_by_client(given, code) if by_client else acct.order(given, code)
    status, message, gone = cancel_regular(acct.book, order, req.seq)
    cancelled = (order.order_id,) if gone and order is not None else ()
    if status != ITEM_OK[0] or order is None:
        return Processed(error(status, message, req.ts), status, field, (given,), cancelled)
    data = {"order_id": order.order_id, "client_order_id": client_id_shown(order)}
    return Processed(ok(data, req.ts), id_field=field, ids=(given,), cancelled=cancelled)


def cancel_batch_orders(acct: V5Account, req: V5Request) -> Processed:
    """``POST /v5/trade/cancel_batch_orders``: up to 10 ids as an ARRAY of strings.

    ``order_id`` or ``client_order_id``, not both; a comma-joined string (v1's shape) is 1067;
    more than 10 ids is 1052 (nothing cancelled). ``data`` lists one result per distinct id,
    in a seeded order that is not the request's.
    """
    p = as_object(req.body)
    code = contract(p, acct.book.contracts)
    field, ids = _one_id_field(p, ("order_id", "client_order_id"), lists=True)
    if len(ids) > BATCH_CANCEL_LIMIT:
        raise V5Error(*TOO_MANY)
    by_client = field == "client_order_id"
    unique = list(dict.fromkeys(ids))
    items: list[JSON] = []
    cancelled: list[str] = []
    for given in unique:
        order = acct.live_by_client(given, code) if by_client else acct.order(given, code)
        outcome = cancel_regular(acct.book, order, req.seq)
        if outcome[2] and order is not None:
            cancelled.append(order.order_id)
        items.append(_item(given, by_client, order, outcome))
    return Processed(ok(acct.shuffled(items), req.ts), id_field=field, ids=tuple(unique),
                     cancelled=tuple(cancelled))


SIDES = ("buy", "sell")
POSITION_SIDES = ("long", "short", "both")


def cancel_all_orders(acct: V5Account, req: V5Request) -> Processed:
    """``POST /v5/trade/cancel_all_orders``: every live regular order, filtered if asked.

    Optional ``contract_code``, ``side`` (buy / sell), ``position_side`` (long / short / both);
    ``{}`` cancels across every contract. ``data`` lists the cancelled orders with item code 200;
    nothing to cancel is ``[]`` (or 1051 with ``cancel_all_nothing="1051"``). Strategy orders
    are not touched.
    """
    p = as_object(req.body)
    code = contract(p, acct.book.contracts, required=False)
    side = choice(p, "side", SIDES)
    position_side = choice(p, "position_side", POSITION_SIDES)
    book = acct.book
    items: list[JSON] = []
    listed: list[str] = []
    cancelled: list[str] = []
    for order in _live_regular(book, code):
        if side is not None and order.direction != side:
            continue
        if position_side is not None and position_side_of(order) != position_side:
            continue
        outcome = cancel_regular(book, order, req.seq)
        if outcome[0] == FILLED[0]:
            continue  # a seeded fill got there first: it is no longer open, nothing to list
        if outcome[2]:
            cancelled.append(order.order_id)
        listed.append(order.order_id)
        items.append(_item(order.order_id, False, order, outcome))
    if not items and acct.cancel_all_nothing == "1051":
        raise V5Error(*NOTHING)
    return Processed(ok(items, req.ts), ids=tuple(listed), cancelled=tuple(cancelled))


def _live_regular(book: OrderBook, code: str | None) -> list[Order]:
    """Live regular orders (not in a timed cancelling phase), by order id."""
    live = [o for o in book.orders.values()
            if o.kind == "order" and o.state in ("open", "cancelling")
            and o.cancelling_until is None and code in (None, o.contract_code)]
    live.sort(key=lambda o: int(o.order_id))
    return live


ALGO_FIELDS = ("algo_id", "algo_client_order_id")


def _algo_items(body: object) -> list[tuple[str, str, str]]:
    """(contract_code, id field, id) for every algo order a request names, in its order.

    Takes every shape the sources show: a JSON array of ``{contract_code, algo_id |
    algo_client_order_id}``, one such object, or one object whose id field is an array.
    """
    shapes: Sequence[object] = body if isinstance(body, list) else [as_object(body)]
    if not shapes:
        raise empty("algo_id")
    named: list[tuple[str, str, str]] = []
    for shape in shapes:
        if not isinstance(shape, dict):
            raise illegal("body", "objects of contract_code and algo_id are required")
        code = shape.get("contract_code")
        if not isinstance(code, str) or not code:
            raise empty("contract_code")
        many = any(isinstance(shape.get(name), list) for name in ALGO_FIELDS)
        field, ids = _one_id_field(shape, ALGO_FIELDS, lists=many)
        named += [(code, field, given) for given in ids]
    return named


def cancel_algo_orders(acct: V5Account, req: V5Request) -> Processed:
    """``POST /v5/algo/cancel_orders``: strategy orders (trigger, tp, sl, tpsl, trailing stop).

    At most 10 ids in all (1052 beyond); ``data`` lists ``{algo_id, algo_client_order_id, code,
    message}`` per distinct id, in a seeded order that is not the request's.
    """
    named = _algo_items(req.body)
    for code, _, _ in named:
        if code not in acct.book.contracts:
            contract({"contract_code": code}, acct.book.contracts)
    if len(named) > ALGO_CANCEL_LIMIT:
        raise V5Error(*TOO_MANY)
    items: list[JSON] = []
    cancelled: list[str] = []
    for code, field, given in dict.fromkeys(named):
        by_client = field == "algo_client_order_id"
        order = (acct.live_algo_by_client(given, code) if by_client
                 else acct.algo(given, code))
        status, message, gone = cancel_algo(acct.book, order, req.seq)
        if gone and order is not None:
            cancelled.append(order.order_id)
        if order is None:
            algo_id, acid = ("", given) if by_client else (given, "")
        else:
            algo_id, acid = order.order_id, algo_client_id_shown(order)
        items.append({"algo_id": algo_id, "algo_client_order_id": acid, "code": status,
                      "message": message})
    fields = {field for _, field, _ in named}
    return Processed(ok(acct.shuffled(items), req.ts),
                     id_field=fields.pop() if len(fields) == 1 else None,
                     ids=tuple(dict.fromkeys(given for _, _, given in named)),
                     cancelled=tuple(cancelled))
