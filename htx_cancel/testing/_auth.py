"""Signature Version 2 checks, the way HTX's gateway answers them."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from multidict import MultiMapping

from .._signing import canonical_query, pre_sign_string, sign

__all__ = ["TIMESTAMP_TOLERANCE", "AuthFailure", "verify"]

TIMESTAMP_TOLERANCE = 300.0  # seconds either side of the server clock


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why a request was refused: the HTTP status and HTX's err_code / err_msg."""

    http_status: int
    err_code: int
    err_msg: str


BAD_SIGNATURE = AuthFailure(200, 1253, "Error in signature verification.")
UNKNOWN_KEY = AuthFailure(403, 403, "Incorrect Access key")
BAD_TIMESTAMP = AuthFailure(200, 12001, "Invalid submission time.")


def _first_values(query: MultiMapping[str]) -> dict[str, str]:
    """The query as a dict, keeping the first value of a repeated name, minus Signature."""
    params: dict[str, str] = {}
    for key, value in query.items():
        if key != "Signature":
            params.setdefault(key, value)
    return params


def _parse_timestamp(value: str) -> float | None:
    """Epoch seconds for ``YYYY-MM-DDThh:mm:ss`` (UTC), or None when malformed."""
    try:
        parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC).timestamp()


def verify(
    method: str,
    host: str | None,
    path: str,
    query: MultiMapping[str],
    credentials: Mapping[str, str],
    server_wall: float,
) -> AuthFailure | None:
    """None when the request is signed by a known key with a fresh timestamp, else the failure."""
    access_key = query.get("AccessKeyId")
    signature = query.get("Signature")
    if not access_key or not signature or not host:
        return BAD_SIGNATURE
    secret = credentials.get(access_key)
    if secret is None:
        return UNKNOWN_KEY
    if query.get("SignatureMethod") != "HmacSHA256" or query.get("SignatureVersion") != "2":
        return BAD_SIGNATURE
    payload = pre_sign_string(method, host, path, canonical_query(_first_values(query)))
    if not hmac.compare_digest(sign(secret, payload).encode(), signature.encode()):
        return BAD_SIGNATURE
    stamp = _parse_timestamp(query.get("Timestamp", ""))
    if stamp is None or abs(stamp - server_wall) > TIMESTAMP_TOLERANCE:
        return BAD_TIMESTAMP
    return None
