"""HTX Signature Version 2 (HmacSHA256 or Ed25519): pure functions of their arguments."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from urllib.parse import quote

__all__ = [
    "ED25519",
    "HMAC_SHA256",
    "Signer",
    "canonical_query",
    "format_timestamp",
    "pre_sign_string",
    "sign",
    "sign_ed25519",
]

_SAFE = "-_.~"
HMAC_SHA256 = "HmacSHA256"
ED25519 = "Ed25519"
SignBytes = Callable[[bytes], bytes]  # an Ed25519 private key's ``sign``


def format_timestamp(epoch_seconds: float) -> str:
    """UTC ``YYYY-MM-DDThh:mm:ss`` for an epoch time, fraction truncated."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(epoch_seconds)))


def _encode(value: str) -> str:
    """Percent-encode as HTX expects: UTF-8, uppercase hex, only unreserved kept."""
    return quote(value, safe=_SAFE)


def canonical_query(params: Mapping[str, str]) -> str:
    """Sort by name, percent-encode names and values, join with ``&``."""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params.items()))


def pre_sign_string(method: str, host: str, path: str, query: str) -> str:
    """The four lines HTX signs, with no trailing newline."""
    return f"{method.upper()}\n{host.lower()}\n{path}\n{query}"


def sign(secret_key: str | bytes, payload: str) -> str:
    """base64(HMAC-SHA256(secret, payload))."""
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign_ed25519(sign_bytes: SignBytes, payload: str) -> str:
    """base64 of the Ed25519 signature of the payload (``sign_bytes`` is the key's ``sign``)."""
    return base64.b64encode(sign_bytes(payload.encode())).decode()


class Signer:
    """HTX's Signature V2 for one key and host, the per-key work done once.

    `query()` gives the signed query string of a REST request, `params()` every signed
    parameter as values (the WebSocket ``auth`` message carries them in JSON). ``host`` is the
    host the request goes to, with ``:port`` only when the Host header has one. For POST only
    the four signature parameters are signed; a GET signs its own parameters with them. With
    ``ed25519`` (a private key's ``sign``) requests are signed with Ed25519 instead of HMAC.
    """

    __slots__ = ("_access", "_ed25519", "_host", "_mac", "_prefix", "_secret", "_stamp",
                 "_stamp_second")

    def __init__(self, access_key: str, secret_key: str | bytes, host: str, *,
                 ed25519: SignBytes | None = None) -> None:
        key = secret_key.encode() if isinstance(secret_key, str) else secret_key
        self._mac = hmac.new(key, digestmod=hashlib.sha256)
        self._ed25519 = ed25519
        self._access = access_key
        self._secret = key
        self._host = host.lower()
        method = HMAC_SHA256 if ed25519 is None else ED25519
        self._prefix = (f"AccessKeyId={_encode(access_key)}"
                        f"&SignatureMethod={method}&SignatureVersion=2&Timestamp=")
        self._stamp_second = -1
        self._stamp = ""

    def query(self, method: str, path: str, epoch_seconds: float,
              params: Mapping[str, str] | None = None) -> str:
        """The signed query string for a request at ``epoch_seconds``.

        ``params`` are a GET request's own parameters: HTX signs them with the four others.
        """
        second = int(epoch_seconds)
        if params:
            signed = self.params(method, path, format_timestamp(second), params)
            signature = signed.pop("Signature")
            return f"{canonical_query(signed)}&Signature={_encode(signature)}"
        if second != self._stamp_second:
            self._stamp_second = second
            self._stamp = _encode(format_timestamp(second))
        query = self._prefix + self._stamp
        payload = f"{method.upper()}\n{self._host}\n{path}\n{query}".encode()
        if self._ed25519 is None:
            mac = self._mac.copy()
            mac.update(payload)
            digest = mac.digest()
        else:
            digest = self._ed25519(payload)
        signature = base64.b64encode(digest).decode()
        # base64's only reserved characters; three replaces beat quote() and str.translate
        signature = signature.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
        return f"{query}&Signature={signature}"

    def params(self, method: str, path: str, timestamp: str,
               extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Every signed parameter of a request at ``timestamp`` (``YYYY-MM-DDThh:mm:ss``), the
        ``Signature`` (plain base64) included: ``extra`` (a GET's own parameters) signed too."""
        params = {
            "AccessKeyId": self._access,
            "SignatureMethod": HMAC_SHA256 if self._ed25519 is None else ED25519,
            "SignatureVersion": "2",
            "Timestamp": timestamp,
        }
        if extra:
            params.update(extra)
        payload = pre_sign_string(method.upper(), self._host, path, canonical_query(params))
        params["Signature"] = (sign(self._secret, payload) if self._ed25519 is None
                               else sign_ed25519(self._ed25519, payload))
        return params
