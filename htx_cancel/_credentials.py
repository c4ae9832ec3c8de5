"""API credentials, kept out of every repr, log line and error message."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

__all__ = ["Credentials"]


class Credentials:
    """An HTX API key: an access key with an HMAC secret key, or with an Ed25519 private key.

    ``repr`` shows only a prefix of the access key. Build Ed25519 credentials with
    [`ed25519()`][htx_cancel.Credentials.ed25519].

    :param access_key: the API key's access key (empty or blank is a ValueError).
    :param secret_key: its HMAC secret key (empty or blank is a ValueError).
    """

    __slots__ = ("_ed25519", "access_key", "secret_key")

    access_key: str
    secret_key: str
    _ed25519: Any  # cryptography's Ed25519PrivateKey, for Ed25519 keys

    def __init__(self, access_key: str, secret_key: str) -> None:
        if not isinstance(access_key, str) or not access_key.strip():
            raise ValueError("access_key must be a non-empty string")
        if not isinstance(secret_key, str) or not secret_key.strip():
            raise ValueError("secret_key must be a non-empty string")
        object.__setattr__(self, "access_key", access_key)
        object.__setattr__(self, "secret_key", secret_key)
        object.__setattr__(self, "_ed25519", None)

    @classmethod
    def ed25519(cls, access_key: str, private_key: str | bytes | Any) -> Credentials:
        """Credentials for an Ed25519 API key (``SignatureMethod=Ed25519``).

        ``private_key`` is a PEM (PKCS#8) private key as text or bytes, the raw 32-byte private
        key, or a ``cryptography`` ``Ed25519PrivateKey``. Needs the ``cryptography`` package
        (``pip install 'htx_cancel[ed25519]'``).

        :param access_key: the API key's access key (empty or blank is a ValueError).
        :param private_key: the Ed25519 private key: PEM (PKCS#8) text or bytes, the raw 32 bytes,
            or a ``cryptography`` ``Ed25519PrivateKey``.
        """
        if not isinstance(access_key, str) or not access_key.strip():
            raise ValueError("access_key must be a non-empty string")
        key = _load_ed25519(private_key)
        self = object.__new__(cls)
        object.__setattr__(self, "access_key", access_key)
        object.__setattr__(self, "secret_key", "")
        object.__setattr__(self, "_ed25519", key)
        return self

    @property
    def signature_method(self) -> str:
        """``"HmacSHA256"`` or ``"Ed25519"``."""
        return "HmacSHA256" if self._ed25519 is None else "Ed25519"

    @property
    def ed25519_sign(self) -> Callable[[bytes], bytes] | None:
        """The Ed25519 private key's ``sign`` (None for an HMAC key)."""
        return None if self._ed25519 is None else self._ed25519.sign

    @classmethod
    def from_env(
        cls, access_var: str = "HTX_ACCESS_KEY", secret_var: str = "HTX_SECRET_KEY"
    ) -> Credentials:
        """Read an HMAC key pair from environment variables (names are configurable).

        :param access_var: the variable holding the access key (default ``HTX_ACCESS_KEY``).
        :param secret_var: the variable holding the secret key (default ``HTX_SECRET_KEY``); a
            variable unset or empty is a ValueError naming it.
        """
        access = os.environ.get(access_var, "")
        secret = os.environ.get(secret_var, "")
        pairs = ((access_var, access), (secret_var, secret))
        missing = [name for name, value in pairs if not value]
        if missing:
            raise ValueError(f"missing environment variable(s): {', '.join(missing)}")
        return cls(access, secret)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Credentials are immutable")

    def __repr__(self) -> str:
        kind = "secret_key" if self._ed25519 is None else "ed25519_key"
        return f"Credentials(access_key='{self.access_key[:4]}…', {kind}='***')"

    __str__ = __repr__

    def _identity(self) -> tuple[object, ...]:
        """What equality compares: the access key and the key material."""
        if self._ed25519 is None:
            return (self.access_key, self.secret_key)
        return (self.access_key, _raw_public(self._ed25519))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self.access_key)

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("Credentials cannot be pickled")


def _load_ed25519(private_key: object) -> Any:
    """A cryptography Ed25519PrivateKey from PEM text/bytes, 32 raw bytes or a key object."""
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("Ed25519 keys need the cryptography package: "
                          "pip install 'htx_cancel[ed25519]'") from None
    if isinstance(private_key, Ed25519PrivateKey):
        return private_key
    if isinstance(private_key, str):
        private_key = private_key.encode()
    if not isinstance(private_key, bytes):
        raise TypeError("private_key must be PEM text or bytes, 32 raw bytes or an "
                        "Ed25519PrivateKey")
    if len(private_key) == 32 and not private_key.startswith(b"-----"):
        return Ed25519PrivateKey.from_private_bytes(private_key)
    try:
        key = load_pem_private_key(private_key.strip(), password=None)
    except (ValueError, TypeError):
        raise ValueError("private_key is not an unencrypted PEM private key "
                         "nor 32 raw bytes") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"private_key is a {type(key).__name__}, not an Ed25519 key")
    return key


def _raw_public(key: Any) -> bytes:
    """The raw public key bytes of an Ed25519 private key (for equality)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)  # type: ignore[no-any-return]
