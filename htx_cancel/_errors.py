"""The error tree: every exception this library raises derives from HTXError.

    HTXError
    ├── TransportError          the request did not get an HTTP answer (connection, DNS, reset)
    │   └── RequestTimeout      no complete answer within the configured timeout
    ├── DecodeError             an answer came back but is not the JSON HTX sends
    ├── APIError                the exchange answered with an error (``code``, ``message``)
    │   └── AuthenticationError signature, key or timestamp rejected (403, 1253, 12001-12008)
    ├── RateLimiterError        the shared limiter backend could not be used
    └── CancelFailed            raised by ``CancelReport.raise_for_failures()``

Input errors are plain ``ValueError`` raised before anything is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._report import CancelReport

__all__ = [
    "APIError",
    "AuthenticationError",
    "CancelFailed",
    "DecodeError",
    "HTXError",
    "RateLimiterError",
    "RequestTimeout",
    "TransportError",
]

AUTH_CODES = frozenset({403, 1253, *range(12001, 12009)})


class HTXError(Exception):
    """Root of every error raised by htx_cancel."""


class TransportError(HTXError):
    """The request got no HTTP answer: connection refused, reset, closed early."""


class RequestTimeout(TransportError):
    """No complete answer arrived within the configured timeout."""


class DecodeError(HTXError):
    """The answer's body is not the JSON the exchange sends."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class APIError(HTXError):
    """The exchange rejected a whole request; ``code`` is HTX's ``err_code``."""

    def __init__(self, code: int, message: str, *, status: int | None = None) -> None:
        super().__init__(f"HTX error {code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class AuthenticationError(APIError):
    """The exchange rejected the key, the signature or the timestamp."""


class RateLimiterError(HTXError):
    """The rate limiter's backend (e.g. Redis) could not be reached or used."""


class CancelFailed(HTXError):
    """Some ids were not confirmed cancelled; ``report`` holds every outcome."""

    def __init__(self, report: CancelReport) -> None:
        text = (f"{len(report.failed)} failed and {len(report.unknown)} unknown "
                f"of {report.total} ids")
        if not report.total and report.failed_batches:
            text = f"the request failed: {report.failed_batches[-1].error}"
        super().__init__(text)
        self.report = report


def api_error(code: int, message: str, *, status: int | None = None) -> APIError:
    """Build the right APIError subclass for an exchange error code."""
    cls = AuthenticationError if code in AUTH_CODES else APIError
    return cls(code, message, status=status)
