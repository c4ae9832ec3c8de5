"""Wire models: msgspec Structs for HTX's answers, the decoders built once, and code parsing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = [
    "BatchData",
    "Envelope",
    "ErrorItem",
    "Head",
    "Item",
    "ItemsEnvelope",
    "RateLimitHeaders",
    "TimestampAnswer",
    "cancel_body",
    "code_of",
    "decode_any",
    "decode_envelope",
    "decode_items",
    "decode_timestamp",
    "encode_body",
    "head_of",
    "id_text",
]

# A ratelimit-reset above this is an epoch time in ms (2001-09-09); below, a delay in ms.
_EPOCH_MS = 1_000_000_000_000

Code = int | str


class ErrorItem(msgspec.Struct, frozen=True):
    """One per-id error in a batch answer."""

    order_id: str | int | None = None
    client_order_id: str | int | None = None
    err_code: int | str = 0
    err_msg: str = ""


class BatchData(msgspec.Struct, frozen=True):
    """The ``data`` of a batch answer: per-id errors and the comma-joined successes."""

    errors: list[ErrorItem] = []
    successes: str | None = ""


class Head(msgspec.Struct, frozen=True):
    """What every answer may say about the whole request, in any of the shapes HTX uses.

    ``status`` ``"ok"`` / ``"error"`` / ``"maintain"``, or absent; the code as ``err_code``,
    ``err-code`` or ``code`` and the message as ``err_msg``, ``err-msg``, ``msg`` or
    ``message`` (v5 may send ``"message": null``, ``"success": true``, no ``ts``); ``ts`` as
    a number or a string. Unknown fields are ignored.
    """

    status: str = ""
    err_code: Code | None = None
    err_msg: str | None = None
    err_code_dash: Code | None = msgspec.field(default=None, name="err-code")
    err_msg_dash: str | None = msgspec.field(default=None, name="err-msg")
    code: Code | None = None
    msg: str | None = None
    message: str | None = None
    success: bool | None = None
    ts: int | str | None = 0

    def raw_code(self) -> Code | None:
        """The whole-request code, whichever field carries it."""
        if self.err_code is not None:
            return self.err_code
        return self.err_code_dash if self.err_code_dash is not None else self.code

    def text(self) -> str:
        """The whole-request message, whichever field carries it."""
        return self.err_msg or self.err_msg_dash or self.msg or self.message or ""


class Envelope(Head, frozen=True):
    """A v1 cancel endpoint's answer: the head, and the batch result in ``data``."""

    data: BatchData | None = None


class Item(msgspec.Struct, frozen=True):
    """One per-id result of a v5 answer (batch cancel, algo cancel, cancel-all).

    HTX's shape is ``{order_id, client_order_id, code, message}`` (algo: ``algo_id``,
    ``algo_client_order_id``); the Java SDK models ``success``, ``error_code``, ``error_msg``.
    Every field is optional; ids may be strings or exact JSON integers (never floats).
    """

    order_id: str | int | None = None
    client_order_id: str | int | None = None
    algo_id: str | int | None = None
    algo_client_order_id: str | int | None = None
    code: Code | None = None
    message: str | None = None
    msg: str | None = None
    success: bool | None = None
    error_code: Code | None = None
    error_msg: str | None = None

    def id_for(self, field: str) -> str:
        """The id this item gives in ``field`` (``order_id``, ``algo_id``...), "" if none."""
        return id_text(getattr(self, field, None))

    def text(self) -> str:
        """The item's message, whichever field carries it."""
        return self.message or self.msg or self.error_msg or ""


class ItemsEnvelope(Head, frozen=True):
    """A v5 cancel answer: the head, and per-id results in ``data`` (a list; a single
    object for ``cancel_order``)."""

    data: list[Item] | Item | None = None

    def items(self) -> list[Item]:
        """``data`` as a list."""
        data = self.data
        if data is None:
            return []
        return data if isinstance(data, list) else [data]


@dataclass(frozen=True, slots=True)
class RateLimitHeaders:
    """The exchange's ``ratelimit-*`` headers: limit, window (ms), remaining, reset (ms).

    HTX does not say whether ``ratelimit-reset`` is an epoch time or a delay; both are read.

    :param limit: ``ratelimit-limit``: requests allowed per window.
    :param interval_ms: ``ratelimit-interval``: the window, in ms.
    :param remaining: ``ratelimit-remaining``: requests left in this window.
    :param reset_ms: ``ratelimit-reset``, in ms: an epoch time or a delay.
    """

    limit: int
    interval_ms: int
    remaining: int
    reset_ms: int

    def reset_in(self, server_now: float) -> float:
        """Seconds until the exchange's window resets, given the exchange's epoch seconds now.

        An epoch reset is compared with ``server_now``; a delay is taken as it is. Never
        negative, never longer than the window.

        :param server_now: the exchange's time now, epoch seconds.
        """
        if self.reset_ms >= _EPOCH_MS:
            delay = self.reset_ms / 1000 - server_now
        else:
            delay = self.reset_ms / 1000
        return min(max(delay, 0.0), self.interval_ms / 1000)


class TimestampAnswer(msgspec.Struct, frozen=True):
    """``GET /api/v1/timestamp``; ``ts`` in epoch ms, as a number or a string."""

    status: str = ""
    ts: int | str = 0

    def millis(self) -> int:
        """``ts`` as an int (0 when it is not a number)."""
        return self.ts if isinstance(self.ts, int) else int(self.ts) if self.ts.isdigit() else 0


def id_text(raw: str | int | None) -> str:
    """An id as its decimal string ("" when absent); ints are exact, never through a float."""
    if raw is None:
        return ""
    return raw if isinstance(raw, str) else str(raw)


def code_of(raw: Code | None) -> Code:
    """A code as an int when it is numeric (``1032``, ``"1032"``), else the string itself."""
    if isinstance(raw, int):
        return raw
    if raw is None:
        return 0
    text = raw.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    return text


_envelope_decoder = msgspec.json.Decoder(Envelope)
_items_decoder = msgspec.json.Decoder(ItemsEnvelope)
_timestamp_decoder = msgspec.json.Decoder(TimestampAnswer)
_any_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()

decode_envelope = _envelope_decoder.decode
decode_items = _items_decoder.decode
decode_timestamp = _timestamp_decoder.decode
decode_any = _any_decoder.decode
encode_body = _encoder.encode


def cancel_body(ids_as: str, contract_code: str, field: str, ids: Sequence[str]) -> bytes:
    """A by-id cancel's JSON body, ids carried as the endpoint says.

    ``"comma"``: ``{"contract_code": c, field: "1,2"}`` (v1); ``"array"``: ``{"contract_code":
    c, field: ["1", "2"]}`` (v5); ``"items"``: ``[{"contract_code": c, field: "1"}, ...]`` (v5
    algo cancels).
    """
    if ids_as == "comma":
        return _encoder.encode({"contract_code": contract_code, field: ",".join(ids)})
    if ids_as == "array":
        return _encoder.encode({"contract_code": contract_code, field: list(ids)})
    if ids_as == "items":
        return _encoder.encode([{"contract_code": contract_code, field: i} for i in ids])
    raise ValueError(f"unknown id encoding {ids_as!r}")


def head_of(obj: Any) -> Head:
    """The head of an already decoded answer; ``msgspec.ValidationError`` if it has none."""
    return msgspec.convert(obj, Head)
