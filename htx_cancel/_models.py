"""Wire models: msgspec Structs for HTX's answers, and the decoders built once."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

__all__ = ["BatchData", "Envelope", "ErrorItem", "RateLimitHeaders", "TimestampAnswer",
           "decode_envelope", "decode_timestamp", "encode_body"]

# A ratelimit-reset above this is an epoch time in ms (2001-09-09); below, a delay in ms.
_EPOCH_MS = 1_000_000_000_000


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


class Envelope(msgspec.Struct, frozen=True):
    """Every private endpoint's answer. Unknown fields are ignored."""

    status: str = ""
    err_code: int | str | None = None
    err_msg: str | None = None
    err_code_dash: int | str | None = msgspec.field(default=None, name="err-code")
    err_msg_dash: str | None = msgspec.field(default=None, name="err-msg")
    data: BatchData | None = None
    ts: int = 0


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
    """``GET /api/v1/timestamp``."""

    status: str = ""
    ts: int = 0


_envelope_decoder = msgspec.json.Decoder(Envelope)
_timestamp_decoder = msgspec.json.Decoder(TimestampAnswer)
_encoder = msgspec.json.Encoder()

decode_envelope = _envelope_decoder.decode
decode_timestamp = _timestamp_decoder.decode
encode_body = _encoder.encode
