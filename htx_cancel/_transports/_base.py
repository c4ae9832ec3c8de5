"""What every transport shares: a request in, an answer (or an HTXError) out.

One seam: `Transport` ``handle(request) -> answer``. The HTTP transport
(``AiohttpTransport``) and the test double (``htx_cancel.testing.MockTransport``) both
implement it; nothing else in the library sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from .._models import RateLimitHeaders

__all__ = ["Answer", "Request", "Timeouts", "Transport", "ratelimit_of"]

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed for connecting and for a whole request (connect, send, read).

    :param total: seconds for the whole request, connecting included (default 10.0).
    :param connect: seconds for opening the connection (default 3.0).
    """

    total: float = 10.0
    connect: float = 3.0

    def __post_init__(self) -> None:
        if self.total <= 0 or self.connect <= 0:
            raise ValueError(f"timeouts must be positive, got total={self.total} "
                             f"connect={self.connect}")


@dataclass(frozen=True, slots=True)
class Request:
    """One signed request: ``GET`` or ``POST``, the already signed and encoded URL, and the
    JSON body of a POST (None for a GET)."""

    method: str
    url: str
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: status, the raw body, and the ``ratelimit-*`` headers if present.

    :param status: the HTTP status.
    :param body: the raw body, as it came.
    :param ratelimit: the answer's ``ratelimit-*`` headers; None when it had none.
    """

    status: int
    body: bytes
    ratelimit: RateLimitHeaders | None = None

    @classmethod
    def json(cls, value: Any, status: int = 200, *,
             headers: Mapping[str, object] | None = None) -> Answer:
        """An answer whose body is ``value`` as JSON (``headers`` may carry ``ratelimit-*``).

        :param value: the body, encoded as JSON.
        :param status: the HTTP status (default 200).
        :param headers: the answer's headers (None: none); its ``ratelimit-*`` headers, if all
            there, become ``ratelimit``.
        """
        return cls(status, _encode(value), ratelimit_of(headers))

    @classmethod
    def text(cls, body: str | bytes, status: int = 200, *,
             headers: Mapping[str, object] | None = None) -> Answer:
        """An answer whose body is sent as it is (an HTML error page, a cut-off JSON).

        :param body: the body, sent as it is (text is encoded as UTF-8).
        :param status: the HTTP status (default 200).
        :param headers: the answer's headers (None: none); its ``ratelimit-*`` headers, if all
            there, become ``ratelimit``.
        """
        raw = body.encode() if isinstance(body, str) else body
        return cls(status, raw, ratelimit_of(headers))


class Transport(Protocol):
    """What the client needs from a transport: see ``AiohttpTransport`` and ``MockTransport``.

    ``handle`` sends one request and returns its answer. It raises
    [`ConnectError`][htx_cancel.ConnectError] when the request certainly never left (refused, DNS,
    connect timeout), [`RequestTimeout`][htx_cancel.RequestTimeout] or
    [`TransportError`][htx_cancel.TransportError] when it may have.
    """

    async def handle(self, request: Request) -> Answer:
        """Send ``request``; its answer.

        :param request: the signed request: method, URL and body.
        """
        ...

    async def close(self) -> None:
        """Release connections this transport owns."""
        ...


def ratelimit_of(headers: Mapping[str, object] | Any) -> RateLimitHeaders | None:
    """The ``ratelimit-*`` headers of an answer (any mapping with ``get``, case as HTX sends
    it or not); None when absent or malformed."""
    if not headers:
        return None
    get = getattr(headers, "get", None)
    if get is None:
        return None
    if not hasattr(headers, "getall"):  # a plain dict: make the lookup case-insensitive
        get = {str(k).lower(): str(v) for k, v in headers.items()}.get
    try:  # a header that is absent (None) or not a number: TypeError / ValueError
        return RateLimitHeaders(*(int(get(f"ratelimit-{name}"))  # type: ignore[arg-type]
                                  for name in ("limit", "interval", "remaining", "reset")))
    except (TypeError, ValueError):
        return None
