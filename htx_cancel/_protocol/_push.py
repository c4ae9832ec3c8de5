"""The push judge: every frame of ``/ws/v5/notification`` (and the trade socket) as a typed value.

Pure functions, no I/O: :func:`decode_frame` reads a frame (text, or binary: gzip or not) into
JSON, :func:`judge_push` turns it into what it means: an :class:`AuthAck`, a :class:`SubAck`, a
:class:`Ping` to answer, a :class:`Close`, :class:`Updates` (``orders`` / ``algo_orders`` /
``match_orders`` pushes, one :class:`OrderUpdate` per order), a :class:`TradeAnswer` (the trade
socket's answer to an op, by ``cid``), or :class:`Other` for anything else. Ids are read as
strings or exact integers, never through a float; every shape HTX_V5_FACTS §7 records is read
(``data`` an object or a list, ``uid`` or ``did``, ``err-code`` a number or a digit string, the
v1 ``orders.<code>`` topic, camelCase ids).
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import msgspec

from .._order_state import OrderState, state_for_status

__all__ = [
    "AuthAck",
    "Close",
    "OrderUpdate",
    "Other",
    "Ping",
    "Push",
    "SubAck",
    "TradeAnswer",
    "Updates",
    "algo_state",
    "decode_frame",
    "judge_push",
    "pong_for",
]

_decode = msgspec.json.Decoder()
_encode = msgspec.json.Encoder().encode

# v5 algo states (HTX.Net's enum): active is still waiting, effective has triggered.
_ALGO_STATES = {
    "active": OrderState.OPEN,
    "effective": OrderState.GONE,
    "canceled": OrderState.CANCELLED,
    "cancelled": OrderState.CANCELLED,
    "failed": OrderState.FAILED,
}


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """One order as a push shows it: what changed, and where it stands now.

    ``order_id`` (the algo id for strategy orders, ``kind="algo"``), ``client_order_id``
    (None when the push has none), ``contract_code``, ``state`` (``raw_state`` as HTX sent it),
    ``volume`` and ``filled_volume`` (contracts, exact decimals; None when absent),
    ``cancel_reason`` (HTX's text, None unless cancelled), ``created_time`` / ``updated_time``
    (ms since the epoch, None when absent) and ``ts`` (the push's own time, ms).
    """

    order_id: str
    client_order_id: str | None
    contract_code: str
    state: OrderState | None
    raw_state: str
    volume: Decimal | None = None
    filled_volume: Decimal | None = None
    cancel_reason: str | None = None
    created_time: int | None = None
    updated_time: int | None = None
    ts: int | None = None
    kind: Literal["order", "algo"] = "order"
    topic: str = "orders"

    @property
    def final(self) -> bool:
        """True when nothing more will happen to the order (filled, cancelled, rejected)."""
        return self.state is not None and self.state.final

    @property
    def complete(self) -> bool:
        """True for a final push whose volumes add up (HTX may push ``filled`` twice, and an
        IOC's ``partially_canceled`` before the last fill): filled + cancelled = volume.

        Without the volumes a final state is taken as complete.
        """
        if not self.final:
            return False
        if self.state is OrderState.FILLED and None not in (self.volume, self.filled_volume):
            return self.filled_volume == self.volume
        return True


@dataclass(frozen=True, slots=True)
class AuthAck:
    """The answer to ``op: auth``: ``ok`` when ``err-code`` is 0."""

    ok: bool
    code: int
    message: str
    user_id: str | None = None
    cid: str | None = None


@dataclass(frozen=True, slots=True)
class SubAck:
    """The answer to ``op: sub`` / ``op: unsub`` (or an ``op: error``, ``op`` then "error")."""

    op: str
    ok: bool
    code: int
    message: str
    topic: str | None = None
    contract_code: str | None = None
    cid: str | None = None


@dataclass(frozen=True, slots=True)
class Ping:
    """The server's heartbeat; answer it with :func:`pong_for` (same ``ts``)."""

    ts: int | str
    style: Literal["op", "bare"] = "op"


@dataclass(frozen=True, slots=True)
class Close:
    """``op: close``: the server is about to close the connection (reconnect)."""


@dataclass(frozen=True, slots=True)
class Updates:
    """An order push: every order it names (``orders`` pushes one, ``match_orders`` a list)."""

    topic: str
    updates: tuple[OrderUpdate, ...]
    ts: int | None = None


@dataclass(frozen=True, slots=True)
class TradeAnswer:
    """The trade socket's answer to an op, matched by ``cid``: the REST envelope it carries."""

    cid: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Other:
    """A frame this library does not act on (kept for logs)."""

    message: object


Push = AuthAck | SubAck | Ping | Close | Updates | TradeAnswer | Other


def decode_frame(data: str | bytes | bytearray | memoryview) -> Any:
    """A frame as JSON: text, or binary (gzip, raw deflate or plain). ``ValueError`` when it is
    neither JSON nor a compressed JSON."""
    try:
        if isinstance(data, str):
            return _decode.decode(data)
        raw = bytes(data)
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        elif raw[:1] not in (b"{", b"[", b" ", b"\n"):
            raw = zlib.decompress(raw, -zlib.MAX_WBITS)
        return _decode.decode(raw)
    except (msgspec.DecodeError, OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"frame is not JSON: {exc}") from None


def pong_for(ping: Ping) -> bytes:
    """The pong a ping asks for, as a text payload."""
    if ping.style == "bare":
        return _encode({"pong": ping.ts})
    return _encode({"op": "pong", "ts": ping.ts})


def judge_push(message: object) -> Push:
    """What one decoded frame means (see the module's docstring)."""
    if not isinstance(message, dict):
        return Other(message)
    op = message.get("op")
    if op is None:
        if "ping" in message:
            return Ping(message["ping"], "bare")
        cid = message.get("cid")
        if cid is not None and ("code" in message or "data" in message):
            return TradeAnswer(str(cid), message)
        return Other(message)
    if op == "ping":
        ts = message.get("ts")
        return Ping(ts if isinstance(ts, int | str) else 0)
    if op == "close":
        return Close()
    if op == "auth":
        code, text = _err(message)
        data = message.get("data")
        uid = data.get("user-id") if isinstance(data, dict) else None
        return AuthAck(code == 0, code, text, None if uid is None else str(uid),
                       _opt_text(message.get("cid")))
    if op in ("sub", "unsub", "error"):
        code, text = _err(message)
        return SubAck(op, code == 0 and op != "error", code, text,
                      _opt_text(message.get("topic")), _opt_text(message.get("contract_code")),
                      _opt_text(message.get("cid")))
    if op == "notify":
        return _notify(message)
    if op in ("recv", "result") and message.get("cid") is not None:
        return TradeAnswer(str(message["cid"]), message)
    return Other(message)


def _err(message: dict[str, Any]) -> tuple[int, str]:
    """``err-code`` (number or digit string, 0 when absent) and ``err-msg``."""
    raw = message.get("err-code", message.get("err_code", 0))
    if isinstance(raw, str):
        raw = int(raw) if raw.lstrip("-").isdigit() else -1
    if not isinstance(raw, int) or isinstance(raw, bool):
        raw = -1
    text = message.get("err-msg", message.get("err_msg", ""))
    return raw, "" if text is None else str(text)


def _notify(message: dict[str, Any]) -> Push:
    """An ``op: notify`` frame: ``orders`` / ``algo_orders`` / ``match_orders`` become
    updates; other topics are :class:`Other`."""
    topic_raw = message.get("topic")
    if not isinstance(topic_raw, str):
        return Other(message)
    topic = topic_raw.split(".", 1)[0].lower()
    if topic not in ("orders", "algo_orders", "match_orders"):
        return Other(message)
    data = message.get("data")
    if data is None:  # v1's shape: the order's fields beside op and topic
        data = message
    items = data if isinstance(data, list) else [data]
    code = message.get("contract_code")
    if not isinstance(code, str) and "." in topic_raw:
        code = topic_raw.split(".", 1)[1].upper()
    ts = _millis(message.get("ts"))
    updates = []
    for item in items:
        if not isinstance(item, dict):
            continue
        update = _update(item, topic, code if isinstance(code, str) else None, ts)
        if update is not None:
            updates.append(update)
    return Updates(topic, tuple(updates), ts)


def _update(item: dict[str, Any], topic: str, code: str | None,
            ts: int | None) -> OrderUpdate | None:
    """One order of a push; None without an id."""
    algo = topic == "algo_orders" or item.get("algo_id") is not None
    if algo:
        oid = _id(item.get("algo_id"))
        cid = _id(item.get("algo_client_order_id"))
    else:
        oid = _id(item.get("order_id_str")) or _id(item.get("order_id")) or _id(
            item.get("orderId"))
        cid = _id(item.get("client_order_id")) or _id(item.get("clientOrderId"))
    if not oid:
        return None
    raw = item.get("state", item.get("status"))
    raw_text = "" if raw is None else str(raw)
    if algo:
        state = _ALGO_STATES.get(raw_text.lower()) if raw_text else None
    else:
        state = None if raw is None or isinstance(raw, float) else state_for_status(raw)
    contract = item.get("contract_code")
    reason = item.get("cancel_reason")
    return OrderUpdate(
        order_id=oid,
        client_order_id=cid or None,
        contract_code=str(contract) if isinstance(contract, str) else (code or ""),
        state=state,
        raw_state=raw_text,
        volume=_decimal(item.get("volume")),
        filled_volume=_decimal(item.get("trade_volume")),
        cancel_reason=str(reason) if reason not in (None, "") else None,
        created_time=_millis(item.get("created_time", item.get("created_at"))),
        updated_time=_millis(item.get("updated_time")),
        ts=ts,
        kind="algo" if algo else "order",
        topic=topic,
    )


def algo_state(raw: str) -> OrderState | None:
    """The state of a v5 algo order's ``state`` text; None when unknown."""
    return _ALGO_STATES.get(raw.lower())


def _id(raw: object) -> str:
    """An id as a decimal string ('' when absent); floats are refused (digits may be lost)."""
    if raw is None or isinstance(raw, bool | float):
        return ""
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, str):
        return raw.strip()
    return ""


def _decimal(raw: object) -> Decimal | None:
    """A volume as an exact decimal (numbers or strings); None when absent or unreadable."""
    if raw is None or raw == "" or isinstance(raw, bool):
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


def _millis(raw: object) -> int | None:
    """Milliseconds as HTX sends them (a number or a digit string); None otherwise."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw)
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return None


def _opt_text(raw: object) -> str | None:
    """A field as text, None when absent."""
    return None if raw is None else str(raw)
