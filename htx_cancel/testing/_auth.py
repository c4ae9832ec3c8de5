"""Signature Version 2 checks, the way HTX's gateway answers them.

The exchange computes signatures itself, from HTX's published rules, instead of borrowing the
client's signer: a mistake in one is then caught by the other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

__all__ = [
    "TIMESTAMP_TOLERANCE",
    "AuthFailure",
    "Ed25519Key",
    "canonical_query",
    "hmac_signature",
    "load_ed25519_key",
    "pre_sign_string",
    "verify",
]

Ed25519Key = object  # cryptography's Ed25519PublicKey; typed loosely so the extra stays optional

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


def canonical_query(params: Mapping[str, str]) -> str:
    """HTX's sorted query: names in ASCII order, names and values percent-encoded (UTF-8,
    uppercase hex, only ``A-Z a-z 0-9 - _ . ~`` left as they are), joined by ``&``."""
    return "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items())
    )


def pre_sign_string(method: str, host: str, path: str, query: str) -> str:
    """``METHOD\nhost\npath\nquery``: the text HTX signs (host lower-cased, no final newline)."""
    return f"{method.upper()}\n{host.lower()}\n{path}\n{query}"


def hmac_signature(secret: str, payload: str) -> str:
    """base64 of HMAC-SHA256 of ``payload`` under ``secret``."""
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _first_values(query: Mapping[str, str]) -> dict[str, str]:
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


def load_ed25519_key(key: object) -> Ed25519Key:
    """An Ed25519 public key from 32 raw bytes, PEM (bytes or str) or a key object.

    Imports ``cryptography`` (the ``ed25519`` extra) only when called.
    """
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Ed25519 keys need the 'cryptography' package: pip install 'htx_cancel[ed25519]'"
        ) from exc
    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, str):
        key = key.encode()
    if isinstance(key, bytes) and len(key) == 32:
        return Ed25519PublicKey.from_public_bytes(key)
    if isinstance(key, bytes) and key.lstrip().startswith(b"-----BEGIN"):
        loaded = load_pem_public_key(key)
        if isinstance(loaded, Ed25519PublicKey):
            return loaded
    raise ValueError("an Ed25519 public key must be 32 raw bytes, PEM, or an Ed25519PublicKey")


def _ed25519_ok(public_key: Ed25519Key, signature: str, payload: str) -> bool:
    """True when ``signature`` (base64) is the key's Ed25519 signature of ``payload``."""
    from cryptography.exceptions import InvalidSignature

    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, payload.encode())  # type: ignore[attr-defined]
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def verify(
    method: str,
    host: str | None,
    path: str,
    query: Mapping[str, str],
    credentials: Mapping[str, str],
    server_wall: float,
    ed25519_keys: Mapping[str, Ed25519Key] | None = None,
) -> AuthFailure | None:
    """None when the request is signed by a known key with a fresh timestamp, else the failure.

    ``query`` holds every parameter of the request (a GET request's own ones are signed with the
    four others; a WebSocket ``auth`` message's fields work the same way). ``credentials`` are
    HmacSHA256 secrets by access key; ``ed25519_keys`` Ed25519 public keys. A key answers only
    to its own ``SignatureMethod``.
    """
    access_key = query.get("AccessKeyId")
    signature = query.get("Signature")
    if not access_key or not signature or not host:
        return BAD_SIGNATURE
    secret = credentials.get(access_key)
    public_key = None if ed25519_keys is None else ed25519_keys.get(access_key)
    if secret is None and public_key is None:
        return UNKNOWN_KEY
    if query.get("SignatureVersion") != "2":
        return BAD_SIGNATURE
    payload = pre_sign_string(method, host, path, canonical_query(_first_values(query)))
    method_name = query.get("SignatureMethod")
    if method_name == "HmacSHA256" and secret is not None:
        good = hmac.compare_digest(hmac_signature(secret, payload).encode(), signature.encode())
    elif method_name == "Ed25519" and public_key is not None:
        good = _ed25519_ok(public_key, signature, payload)
    else:
        good = False
    if not good:
        return BAD_SIGNATURE
    stamp = _parse_timestamp(query.get("Timestamp", ""))
    if stamp is None or abs(stamp - server_wall) > TIMESTAMP_TOLERANCE:
        return BAD_TIMESTAMP
    return None
