"""API credentials, kept out of every repr, log line and error message."""

from __future__ import annotations

import os

__all__ = ["Credentials"]


class Credentials:
    """An HTX API key pair; ``repr`` shows only a prefix of the access key."""

    __slots__ = ("_secret_bytes", "access_key", "secret_key")

    access_key: str
    secret_key: str
    _secret_bytes: bytes

    def __init__(self, access_key: str, secret_key: str) -> None:
        if not isinstance(access_key, str) or not access_key.strip():
            raise ValueError("access_key must be a non-empty string")
        if not isinstance(secret_key, str) or not secret_key.strip():
            raise ValueError("secret_key must be a non-empty string")
        object.__setattr__(self, "access_key", access_key)
        object.__setattr__(self, "secret_key", secret_key)
        object.__setattr__(self, "_secret_bytes", secret_key.encode())

    @classmethod
    def from_env(
        cls, access_var: str = "HTX_ACCESS_KEY", secret_var: str = "HTX_SECRET_KEY"
    ) -> Credentials:
        """Read the key pair from environment variables (names are configurable)."""
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
        return f"Credentials(access_key='{self.access_key[:4]}…', secret_key='***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (self.access_key, self.secret_key) == (other.access_key, other.secret_key)

    def __hash__(self) -> int:
        return hash(self.access_key)

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("Credentials cannot be pickled")
