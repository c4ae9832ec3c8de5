"""Wire models: msgspec Structs for HTX's answers, and the decoders built once."""

from __future__ import annotations

import msgspec

__all__ = ["BatchData", "Envelope", "ErrorItem", "TimestampAnswer", "decode_envelope",
           "decode_timestamp", "encode_body"]


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
