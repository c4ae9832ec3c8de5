"""Answer bodies of the fake exchange, encoded once with msgspec."""

from __future__ import annotations

from typing import Literal

import msgspec

from ._orders import CancelOutcome

__all__ = [
    "ERROR_STYLES",
    "ERR_BUSY",
    "ERR_MAINTENANCE_1431",
    "ERR_RATE_LIMITED",
    "HTML_502",
    "HTML_504",
    "ErrorStyle",
    "batch_answer",
    "encode",
    "error_answer",
    "maintain_answer",
    "raw_http_head",
    "restyle",
]

JSON = dict[str, object]

ERR_RATE_LIMITED = (1032, "The number of access exceeded the limit.")
ERR_BUSY = (1004, "System busy. Please try again later.")
ERR_MAINTENANCE_1431 = (1431, "The system is under maintenance. Please try again later.")

ErrorStyle = Literal[
    "err_code", "err-code", "code_msg", "code_message", "code_msg_bare", "code_message_bare"
]
ERROR_STYLES: dict[str, tuple[str, str, bool]] = {
    # style: (code key, message key, whether "status": "error" is there)
    "err_code": ("err_code", "err_msg", True),
    "err-code": ("err-code", "err-msg", True),
    "code_msg": ("code", "msg", True),
    "code_message": ("code", "message", True),
    "code_msg_bare": ("code", "msg", False),
    "code_message_bare": ("code", "message", False),
}

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


def error_answer(code: int | str, message: str, ts: int) -> JSON:
    """A whole-request failure, in HTX's documented shape."""
    return {"status": "error", "err_code": code, "err_msg": message, "ts": ts}


def restyle(answer: JSON, style: str, ts_as_string: bool) -> JSON:
    """The answer in another of the shapes HTX really sends (error keys, ``ts`` as a string)."""
    if style != "err_code" and answer.get("status") == "error" and "err_code" in answer:
        code_key, message_key, with_status = ERROR_STYLES[style]
        styled: JSON = {"status": "error"} if with_status else {}
        styled[code_key] = answer["err_code"]
        styled[message_key] = answer["err_msg"]
        styled["ts"] = answer["ts"]
        answer = styled
    if ts_as_string and isinstance(answer.get("ts"), int):
        answer = {**answer, "ts": str(answer["ts"])}
    return answer


def maintain_answer() -> JSON:
    """What every endpoint answers during maintenance: exactly this, no ``ts``."""
    return {"status": "maintain"}


def batch_answer(outcome: CancelOutcome, by_client: bool, ts: int) -> JSON:
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
