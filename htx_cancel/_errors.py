"""The error tree: every exception this library raises derives from HTXError.

    HTXError
    ├── TransportError          no HTTP answer; the request may have reached the exchange
    │   ├── ConnectError        could not connect: the request certainly never left
    │   └── RequestTimeout      no complete answer within the configured timeout
    ├── DecodeError             an answer came back but is not the JSON HTX sends
    ├── APIError                the exchange rejected a whole request (``code``, ``message``)
    │   ├── AuthenticationError key, signature or timestamp rejected
    │   └── MigratedAccountError a v1 path on an account HTX moved to v5 (6023, 6002)
    ├── RateLimiterError        the shared limiter backend could not be used
    └── CancelFailed            raised by ``CancelReport.raise_for_failures()`` (in ``_report``)

Input errors are plain ``ValueError`` raised before anything is sent. This module imports
nothing from the package.
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConnectError",
    "DecodeError",
    "HTXError",
    "MigratedAccountError",
    "RateLimiterError",
    "RequestTimeout",
    "TransportError",
]


class HTXError(Exception):
    """Root of every error raised by htx_cancel."""


class TransportError(HTXError):
    """The request got no HTTP answer (reset, closed early): it may have reached the exchange."""


class ConnectError(TransportError):
    """No connection could be made (refused, DNS, connect timeout): nothing was sent."""


class RequestTimeout(TransportError):
    """No complete answer arrived within the configured timeout."""


class DecodeError(HTXError):
    """The answer's body is not the JSON the exchange sends; ``status`` is the HTTP status.

    :param message: what was wrong with the answer.
    :param status: the HTTP status of the answer; None when unknown.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class APIError(HTXError):
    """The exchange rejected a whole request with its own ``code`` and ``message``.

    ``code`` is HTX's code as an int, or as the string it sent when it is not numeric
    (``"api-signature-not-valid"``); ``status`` is the HTTP status of the answer.

    :param code: HTX's code: an int, or the string it sent when it is not numeric.
    :param message: HTX's message.
    :param status: the HTTP status of the answer; None when unknown.
    """

    def __init__(self, code: int | str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"HTX error {code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class AuthenticationError(APIError):
    """The exchange rejected the key, the signature or the timestamp."""


class RateLimiterError(HTXError):
    """The rate limiter's backend (e.g. Redis) could not be reached or used."""


class MigratedAccountError(APIError):
    """A v1 (``/linear-swap-api/v1``) request on an account HTX moved to its v5 system.

    HTX answers such requests 6023 ("The new feature is temporarily unavailable.") or 6002; the
    same request will be refused again. Use ``CancelClient(credentials, api="v5")``.

    :param code: HTX's code (6023 or 6002).
    :param message: HTX's message; the advice to use ``api="v5"`` is added to it.
    :param status: the HTTP status of the answer; None when unknown.
    """

    ADVICE = 'this account trades through HTX\'s v5 API: use CancelClient(..., api="v5")'

    def __init__(self, code: int | str, message: str, *, status: int | None = None) -> None:
        super().__init__(code, f"{message} ({self.ADVICE})", status=status)
