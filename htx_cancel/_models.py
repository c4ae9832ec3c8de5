"""Wire models: msgspec Structs for HTX's answers, the decoders built once, and code parsing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = ["BatchData", "Envelope", "ErrorItem", "Head", "RateLimitHeaders", "TimestampAnswer",
           "code_of", "decode_any", "decode_envelope", "decode_timestamp", "encode_body",
           "head_of"]

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
    ``message``; ``ts`` as a number or a string. Unknown fields are ignored.
    """

    status: str = ""
    err_code: Code | None = None
    err_msg: str | None = None
    err_code_dash: Code | None = msgspec.field(default=None, name="err-code")
    err_msg_dash: str | None = msgspec.field(default=None, name="err-msg")
    code: Code | None = None
    msg: str | None = None
    message: str | None = None
    ts: int | str = 0

    def raw_code(self) -> Code | None:
        """The whole-request code, whichever field carries it."""
        if self.err_code is not None:
            return self.err_code
        return self.err_code_dash if self.err_code_dash is not None else self.code

    def text(self) -> str:
        """The whole-request message, whichever field carries it."""
        return self.err_msg or self.err_msg_dash or self.msg or self.message or ""


class Envelope(Head, frozen=True):
    """A cancel endpoint's answer: the head, and the batch result in ``data``."""

    data: BatchData | None = None


@dataclass(frozen=True, slots=True)
class RateLimitHeaders:
    """The exchange's ``ratelimit-*`` headers: limit, window (ms), remaining, reset (ms).

    HTX does not say whether ``ratelimit-reset`` is an epoch time or a delay; both are read.
    """

    limit: int
    interval_ms: int
    remaining: int
    reset_ms: int

    def reset_in(self, server_now: float) -> float:
        """Seconds until the exchange's window resets, given the exchange's epoch seconds now.

        An epoch reset is compared with ``server_now``; a delay is taken as it is. Never
        negative, never longer than the window.
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
_timestamp_decoder = msgspec.json.Decoder(TimestampAnswer)
_any_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()

decode_envelope = _envelope_decoder.decode
decode_timestamp = _timestamp_decoder.decode
decode_any = _any_decoder.decode
encode_body = _encoder.encode


def head_of(obj: Any) -> Head:
    """The head of an already decoded answer; ``msgspec.ValidationError`` if it has none."""
    return msgspec.convert(obj, Head)
