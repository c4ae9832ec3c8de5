"""Turning one cancel request's body into changes to the book and an answer."""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from .._catalog import Endpoint
from ._answers import JSON, batch_answer, error_answer
from ._orders import CONTRACT_TYPES, DIRECTIONS, OFFSETS, OrderBook, Scope
from ._records import Body

__all__ = [
    "ERR_INPUT",
    "ERR_NOTHING",
    "ERR_NO_CONTRACT",
    "ERR_TOO_MANY",
    "Processed",
    "RequestError",
    "ids_param",
    "parse_body",
    "process",
    "read_body",
    "scope_of",
    "text_param",
]

ERR_NO_CONTRACT = (1014, "This contract doesn't exist.")
ERR_INPUT = (1030, "Input error.")
ERR_NOTHING = (1051, "No orders to cancel.")
ERR_TOO_MANY = (1067, "The number of orders exceeds the limit of one request.")

_decoder = msgspec.json.Decoder()


class RequestError(Exception):
    """A whole-request failure found while reading the body."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class Processed:
    """The answer to one cancel, and what the request record should hold."""

    answer: JSON
    err_code: int | None = None
    id_field: str | None = None
    ids: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()
    body: Body = field(default_factory=dict)
    placed: tuple[str, ...] = ()


def parse_body(raw: bytes) -> dict[str, object]:
    """The JSON object in the body (an empty body is an empty object)."""
    if not raw.strip():
        return {}
    try:
        body = _decoder.decode(raw)
    except msgspec.DecodeError:
        raise RequestError(*ERR_INPUT) from None
    if not isinstance(body, dict):
        raise RequestError(*ERR_INPUT)
    return body


def read_body(raw: bytes) -> dict[str, object]:
    """The body as a dict for the records; empty when it is not a JSON object."""
    try:
        return parse_body(raw)
    except RequestError:
        return {}


def text_param(body: dict[str, object], name: str) -> str | None:
    """A string (or integer) parameter as text; None when absent or empty."""
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RequestError(*ERR_INPUT)
    return str(value)


def scope_of(
    endpoint: Endpoint, body: dict[str, object], book: OrderBook, *, pair_alone: bool = False
) -> Scope:
    """The contract a request names: contract_code, or pair + contract_type for cross.

    ``pair_alone``: a cross request may name only the pair (order info, listings).
    """
    code = text_param(body, "contract_code")
    if code is not None:
        scope = Scope(contract_code=code)
    elif endpoint.margin == "cross" and (pair := text_param(body, "pair")) is not None:
        ctype = text_param(body, "contract_type")
        if ctype not in CONTRACT_TYPES and not (pair_alone and ctype is None):
            raise RequestError(*ERR_NO_CONTRACT)
        scope = Scope(pair=pair, contract_type=ctype)
    else:
        raise RequestError(*ERR_NO_CONTRACT)
    if not book.knows(scope):
        raise RequestError(*ERR_NO_CONTRACT)
    return scope


def ids_param(endpoint: Endpoint, body: dict[str, object]) -> tuple[str, list[str]]:
    """Which id field is used (order_id wins over client_order_id) and its ids, deduplicated."""
    for name in endpoint.id_fields:
        raw = text_param(body, name)
        if raw is None:
            continue
        items = raw.split(",")
        if any(not item for item in items):
            raise RequestError(*ERR_INPUT)
        if len(items) > endpoint.max_ids:
            raise RequestError(*ERR_TOO_MANY)
        return name, list(dict.fromkeys(items))
    raise RequestError(*ERR_INPUT)


def _choice(body: dict[str, object], name: str, allowed: tuple[str, ...]) -> str | None:
    """An optional enumerated parameter; RequestError when present but not allowed."""
    value = text_param(body, name)
    if value is not None and value not in allowed:
        raise RequestError(*ERR_INPUT)
    return value


def _cancel_ids(
    endpoint: Endpoint, body: dict[str, object], book: OrderBook, seq: int, ts: int
) -> Processed:
    """Cancel listed order ids or client order ids."""
    scope = scope_of(endpoint, body, book)
    id_field, ids = ids_param(endpoint, body)
    by_client = id_field == "client_order_id"
    outcome = book.cancel_ids(endpoint, scope, ids, by_client, seq)
    answer = batch_answer(outcome, by_client, ts)
    return Processed(answer, None, id_field, tuple(ids), tuple(outcome.cancelled))


def _cancel_all(
    endpoint: Endpoint, body: dict[str, object], book: OrderBook, seq: int, ts: int
) -> Processed:
    """Cancel every live order on the contract, filtered by direction and offset if given."""
    scope = scope_of(endpoint, body, book)
    direction = _choice(body, "direction", DIRECTIONS) if endpoint.directions else None
    offset = _choice(body, "offset", OFFSETS) if endpoint.offsets else None
    outcome = book.cancel_all(endpoint, scope, direction, offset, seq)
    if not outcome.successes:
        return Processed(error_answer(*ERR_NOTHING, ts), ERR_NOTHING[0])
    answer = batch_answer(outcome, False, ts)
    return Processed(answer, None, None, tuple(outcome.successes), tuple(outcome.cancelled))


def process(endpoint: Endpoint, raw: bytes, book: OrderBook, seq: int, ts: int) -> Processed:
    """Apply one cancel request to the book and build its answer (``process`` of any kind)."""
    body: dict[str, object] = {}
    try:
        body = parse_body(raw)
        handler = _cancel_all if endpoint.cancel_all else _cancel_ids
        result = handler(endpoint, body, book, seq, ts)
    except RequestError as exc:
        result = Processed(error_answer(exc.code, exc.message, ts), exc.code)
    result.body = body
    return result
