"""Answer bodies of the fake exchange, encoded once with msgspec."""

from __future__ import annotations

import msgspec

from ._orders import BatchOutcome

__all__ = [
    "BUSY",
    "HTML_502",
    "HTML_504",
    "MAINTENANCE_1431",
    "RATE_LIMITED",
    "batch_answer",
    "encode",
    "error_answer",
    "maintain_answer",
    "raw_http_head",
]

JSON = dict[str, object]

RATE_LIMITED = (1032, "The number of access exceeded the limit.")
BUSY = (1004, "System busy. Please try again later.")
MAINTENANCE_1431 = (1431, "The system is under maintenance. Please try again later.")

HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
HTML_504 = (
    b"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    b"<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n"
)

_encoder = msgspec.json.Encoder()
encode = _encoder.encode


def error_answer(code: int, message: str, ts: int) -> JSON:
    """A whole-request failure."""
    return {"status": "error", "err_code": code, "err_msg": message, "ts": ts}


def maintain_answer(ts: int) -> JSON:
    """What every endpoint answers during maintenance."""
    return {"status": "maintain", "ts": ts}


def batch_answer(outcome: BatchOutcome, by_client: bool, ts: int) -> JSON:
    """A batch cancel result: per-id errors and the comma-joined successes."""
    if by_client:
        errors = [
            {"order_id": "", "client_order_id": cid, "err_code": code, "err_msg": msg}
            for cid, code, msg in outcome.errors
        ]
    else:
        errors = [
            {"order_id": oid, "err_code": code, "err_msg": msg} for oid, code, msg in outcome.errors
        ]
    data = {"errors": errors, "successes": ",".join(outcome.successes)}
    return {"status": "ok", "data": data, "ts": ts}


def raw_http_head(status: int, reason: str, content_type: str, length: int) -> bytes:
    """An HTTP/1.1 response head, for answers written straight to the socket."""
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode("ascii")
