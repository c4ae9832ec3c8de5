"""Placement endpoints: orders, batches, trigger, tp/sl and track orders, checked as HTX does."""

from __future__ import annotations

from collections.abc import Callable

from .._catalog import Endpoint
from ._answers import JSON, error_answer
from ._orders import DIRECTIONS, Order, OrderBook, pair_of
from ._process import Processed, RequestError, parse_body, scope_of, text_param

__all__ = ["BATCH_LIMIT", "PLACEMENTS", "place"]

BATCH_LIMIT = 10  # orders per swap_batchorder / swap_cross_batchorder (HTX's documented cap)

ERR_PRICE_TYPE = (1034, "Incorrect field of order price type.")
ERR_DIRECTION = (1035, "Incorrect field of form direction.")
ERR_OFFSET = (1036, "Incorrect field of open long form.")
ERR_LEVERAGE = (1037, "The leverage is invalid. Please contact the customer service.")
ERR_VOLUME = (1040, "Invalid amount, please modify and order again.")
ERR_CLIENT_REPEATED = (1050, "Customer's order number is repeated. Please try again later.")
ERR_BATCH_LIMIT = (1052, "The number exceeds the batch limit.")
ERR_CLIENT_NOT_INT = (1065, "The form number of client isn't an integer.")
ERR_TRIGGER_TYPE = (1082, "Trigger type parameter error.")

PRICE_TYPES = frozenset(
    {
        "limit", "opponent", "post_only", "optimal_5", "optimal_10", "optimal_20", "ioc",
        "fok", "opponent_ioc", "lightning_ioc", "optimal_5_ioc", "optimal_10_ioc",
        "optimal_20_ioc", "opponent_fok", "lightning_fok", "optimal_5_fok", "optimal_10_fok",
        "optimal_20_fok", "lightning",
    }
)  # fmt: skip
PRICED = frozenset({"limit", "post_only", "ioc", "fok"})
STRATEGY_PRICE_TYPES = frozenset({"limit", "optimal_5", "optimal_10", "optimal_20"})
TRACK_PRICE_TYPES = frozenset({"formula_price", "optimal_5", "optimal_10", "optimal_20"})
OPEN_OFFSETS = ("open", "close", "both")


def _empty(name: str) -> RequestError:
    """HTX's 1066: a required field is missing."""
    return RequestError(1066, f"{name} cannot be empty.")


def _illegal(name: str) -> RequestError:
    """HTX's 1067: a field has a value HTX does not take."""
    return RequestError(1067, f"Illegal parameter {name}.")


def _required(body: dict[str, object], name: str) -> str:
    """A required parameter as text (1066 when absent)."""
    value = text_param(body, name)
    if value is None:
        raise _empty(name)
    return value


def _optional_number(body: dict[str, object], name: str,
                     err: tuple[int, str] | None = None) -> float | None:
    """A positive number (a JSON number or a numeric string), or None when absent."""
    value = body.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value) if isinstance(value, int | float | str) else -1.0
    except ValueError:
        number = -1.0
    if isinstance(value, bool) or not number > 0 or number != number:
        raise RequestError(*err) if err else _illegal(name)
    return int(number) if number.is_integer() else number


def _number(body: dict[str, object], name: str, err: tuple[int, str] | None = None) -> float:
    """A required positive number (1066 when absent)."""
    number = _optional_number(body, name, err)
    if number is None:
        raise _empty(name)
    return number


def _price(body: dict[str, object], name: str, required: bool) -> float | None:
    """A price, required for the price types that carry one."""
    return _number(body, name) if required else _optional_number(body, name)


def _choice(body: dict[str, object], name: str, allowed: frozenset[str] | tuple[str, ...],
            err: tuple[int, str], default: str | None = None) -> str:
    """A required enumerated parameter: 1066 when absent, ``err`` when not allowed."""
    value = text_param(body, name) or default
    if value is None:
        raise _empty(name)
    if value not in allowed:
        raise RequestError(*err)
    return value


def _lever_rate(body: dict[str, object]) -> int:
    """``lever_rate``: a positive integer (1037 otherwise)."""
    value = body.get("lever_rate")
    if value is None or value == "":
        raise _empty("lever_rate")
    text = str(value)
    if isinstance(value, bool) or not text.isdigit() or not 1 <= int(text) <= 200:
        raise RequestError(*ERR_LEVERAGE)
    return int(text)


def _contract(endpoint: Endpoint, body: dict[str, object], book: OrderBook) -> tuple[str, str]:
    """The contract code (and type) an order is placed on: 1014 when unknown or missing."""
    scope = scope_of(endpoint, body, book)
    if scope.contract_code is not None:
        return scope.contract_code, book.contracts[scope.contract_code]
    for code, ctype in book.contracts.items():
        if pair_of(code) == scope.pair and ctype == scope.contract_type:
            return code, ctype
    raise RequestError(1014, "This contract doesn't exist.")


def _client_id(body: dict[str, object], book: OrderBook, taken: set[str]) -> str | None:
    """The optional client order id: an integer in [1, 2^63-1] not used in the last 8 hours."""
    value = body.get("client_order_id")
    if value is None or value == "":
        return None
    text = str(value)
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
        raise RequestError(*ERR_CLIENT_NOT_INT)
    if not 1 <= int(text) <= 2**63 - 1:
        raise RequestError(*ERR_CLIENT_NOT_INT)
    if book.client_id_taken(text) or text in taken:
        raise RequestError(*ERR_CLIENT_REPEATED)
    return text


def _id_fields(order: Order) -> JSON:
    """``order_id`` (a JSON number, as HTX sends it) and ``order_id_str``."""
    return {"order_id": int(order.order_id), "order_id_str": order.order_id}


def _new_order(endpoint: Endpoint, body: dict[str, object], book: OrderBook,
               taken: set[str]) -> Order:
    """Check one regular order's fields; the order, not yet in the book."""
    code, ctype = _contract(endpoint, body, book)
    volume = _number(body, "volume", ERR_VOLUME)
    direction = _choice(body, "direction", DIRECTIONS, ERR_DIRECTION)
    offset = _choice(body, "offset", OPEN_OFFSETS, ERR_OFFSET)
    lever = _lever_rate(body)
    price_type = _choice(body, "order_price_type", PRICE_TYPES, ERR_PRICE_TYPE)
    price = _price(body, "price", price_type in PRICED)
    cid = _client_id(body, book, taken)
    return Order(book.new_order_id(), code, "order", _mode(endpoint), cid, direction, offset,
                 ctype, volume=volume, price=price, lever_rate=lever,
                 order_price_type=price_type)


def _ok(data: object, ts: int) -> JSON:
    """A successful answer."""
    return {"status": "ok", "data": data, "ts": ts}


def _single(endpoint: Endpoint, body: dict[str, object], book: OrderBook, ts: int) -> Processed:
    """``swap_order``: one order; ``data`` holds its ids (and the client order id if given)."""
    order = _new_order(endpoint, body, book, set())
    book.add(order)
    data = _id_fields(order)
    if order.client_order_id is not None:
        data["client_order_id"] = int(order.client_order_id)
    return Processed(_ok(data, ts), placed=(order.order_id,))


def _batch(endpoint: Endpoint, body: dict[str, object], book: OrderBook, ts: int) -> Processed:
    """``swap_batchorder``: up to 10 orders, each placed or refused on its own."""
    items = body.get("orders_data")
    if not isinstance(items, list) or not items:
        raise _empty("orders_data")
    if len(items) > BATCH_LIMIT:
        raise RequestError(*ERR_BATCH_LIMIT)
    errors: list[JSON] = []
    success: list[JSON] = []
    taken: set[str] = set()
    placed: list[str] = []
    for index, item in enumerate(items, start=1):
        try:
            if not isinstance(item, dict):
                raise RequestError(1030, "Input error.")
            order = _new_order(endpoint, item, book, taken)
        except RequestError as exc:
            errors.append({"index": index, "err_code": exc.code, "err_msg": exc.message})
            continue
        book.add(order)
        placed.append(order.order_id)
        entry: JSON = {"index": index, **_id_fields(order)}
        if order.client_order_id is not None:
            taken.add(order.client_order_id)
            entry["client_order_id"] = int(order.client_order_id)
        success.append(entry)
    return Processed(_ok({"errors": errors, "success": success}, ts), placed=tuple(placed))


def _trigger(endpoint: Endpoint, body: dict[str, object], book: OrderBook, ts: int) -> Processed:
    """``swap_trigger_order``: fires when the price crosses ``trigger_price``."""
    code, ctype = _contract(endpoint, body, book)
    trigger_type = _choice(body, "trigger_type", ("ge", "le"), ERR_TRIGGER_TYPE)
    trigger_price = _number(body, "trigger_price")
    price_type = _choice(body, "order_price_type", STRATEGY_PRICE_TYPES, ERR_PRICE_TYPE,
                         default="limit")
    order_price = _price(body, "order_price", price_type == "limit")
    volume = _number(body, "volume", ERR_VOLUME)
    direction = _choice(body, "direction", DIRECTIONS, ERR_DIRECTION)
    offset = _choice(body, "offset", OPEN_OFFSETS, ERR_OFFSET)
    lever = _lever_rate(body)
    order = Order(book.new_order_id(), code, "trigger", _mode(endpoint), None, direction, offset,
                  ctype, volume=volume, price=order_price, lever_rate=lever,
                  order_price_type=price_type,
                  extra={"trigger_type": trigger_type, "trigger_price": trigger_price,
                         "order_price": order_price})
    book.add(order)
    return Processed(_ok(_id_fields(order), ts), placed=(order.order_id,))


def _tpsl(endpoint: Endpoint, body: dict[str, object], book: OrderBook, ts: int) -> Processed:
    """``swap_tpsl_order``: a take-profit and/or a stop-loss order on a position."""
    code, ctype = _contract(endpoint, body, book)
    direction = _choice(body, "direction", DIRECTIONS, ERR_DIRECTION)
    volume = _number(body, "volume", ERR_VOLUME)
    sides = {side: _optional_number(body, f"{side}_trigger_price") for side in ("tp", "sl")}
    if all(v is None for v in sides.values()):
        raise _empty("tp_trigger_price")
    data: JSON = {"tp_order": None, "sl_order": None}
    orders: list[Order] = []
    for side, trigger_price in sides.items():
        if trigger_price is None:
            continue
        price_type = _choice(body, f"{side}_order_price_type", STRATEGY_PRICE_TYPES,
                             ERR_PRICE_TYPE, default="limit")
        price = _price(body, f"{side}_order_price", price_type == "limit")
        orders.append(Order(book.new_order_id(), code, "tpsl", _mode(endpoint), None, direction,
                            None, ctype, volume=volume, price=price, order_price_type=price_type,
                            extra={"tpsl_order_type": side, "trigger_price": trigger_price,
                                   "order_price": price}))
    for order in orders:
        book.add(order)
        data[f"{order.extra['tpsl_order_type']}_order"] = _id_fields(order)
    return Processed(_ok(data, ts), placed=tuple(o.order_id for o in orders))


def _track(endpoint: Endpoint, body: dict[str, object], book: OrderBook, ts: int) -> Processed:
    """``swap_track_order``: a trailing order (``callback_rate`` from ``active_price``)."""
    code, ctype = _contract(endpoint, body, book)
    direction = _choice(body, "direction", DIRECTIONS, ERR_DIRECTION)
    offset = _choice(body, "offset", OPEN_OFFSETS, ERR_OFFSET)
    lever = _lever_rate(body)
    volume = _number(body, "volume", ERR_VOLUME)
    callback_rate = _number(body, "callback_rate")
    active_price = _number(body, "active_price")
    price_type = _choice(body, "order_price_type", TRACK_PRICE_TYPES, ERR_PRICE_TYPE)
    order = Order(book.new_order_id(), code, "track", _mode(endpoint), None, direction, offset,
                  ctype, volume=volume, lever_rate=lever, order_price_type=price_type,
                  extra={"callback_rate": callback_rate, "active_price": active_price})
    book.add(order)
    return Processed(_ok(_id_fields(order), ts), placed=(order.order_id,))


Placement = Callable[[Endpoint, dict[str, object], OrderBook, int], Processed]

_BY_SUFFIX: dict[str, Placement] = {
    "order": _single,
    "batchorder": _batch,
    "trigger_order": _trigger,
    "tpsl_order": _tpsl,
    "track_order": _track,
}
PLACEMENTS: dict[str, Placement] = {
    f"swap{margin}_{suffix}": handler
    for suffix, handler in _BY_SUFFIX.items()
    for margin in ("", "_cross")
}
"""Endpoint name -> the handler that places its orders."""


def place(endpoint: Endpoint, raw: bytes, book: OrderBook, ts: int) -> Processed:
    """Apply one placement request to the book and build its answer."""
    body: dict[str, object] = {}
    try:
        body = parse_body(raw)
        result = PLACEMENTS[endpoint.name](endpoint, body, book, ts)
    except RequestError as exc:
        result = Processed(error_answer(exc.code, exc.message, ts), exc.code)
    result.body = body
    return result


def _mode(endpoint: Endpoint) -> str:
    """The margin mode of a v1 placement endpoint (every v1 endpoint has one)."""
    return endpoint.margin or "isolated"
