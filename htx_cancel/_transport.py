"""The one module that imports aiohttp: signed request in, status/headers/bytes or HTXError out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from yarl import URL

from ._errors import ConnectError, RequestTimeout, TransportError
from ._models import RateLimitHeaders

__all__ = ["AiohttpTransport", "Answer", "RateLimitHeaders", "Timeouts", "Transport"]

_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
_QUERY = re.compile(r"\?\S*")
# Errors raised before a connection existed: the request certainly never left. (A failure on
# a reused keep-alive connection is a ServerDisconnectedError or similar, never one of these.)
_NOT_SENT: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,
    *((aiohttp.ConnectionTimeoutError,) if hasattr(aiohttp, "ConnectionTimeoutError") else ()),
)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed for connecting and for a whole request (connect, send, read)."""

    total: float = 10.0
    connect: float = 3.0

    def __post_init__(self) -> None:
        if self.total <= 0 or self.connect <= 0:
            raise ValueError(f"timeouts must be positive, got total={self.total} "
                             f"connect={self.connect}")


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: status, the rate-limit headers if present, and the raw body."""

    status: int
    body: bytes
    ratelimit: RateLimitHeaders | None = None


class Transport(Protocol):
    """What the client needs from a transport; see :class:`AiohttpTransport`."""

    async def post(self, url: str, body: bytes) -> Answer:
        """POST a JSON body to an already signed, already encoded URL.

        Raise :class:`ConnectError` when the request certainly never left (refused, DNS,
        connect timeout), :class:`RequestTimeout` or :class:`TransportError` when it may have.
        """
        ...

    async def get(self, url: str) -> Answer:
        """GET an already encoded URL."""
        ...

    async def close(self) -> None:
        """Release connections this transport owns."""
        ...


class AiohttpTransport:
    """Keep-alive aiohttp transport. Closes its session only if it made it."""

    __slots__ = ("_limit", "_owns", "_session", "_timeout")

    def __init__(self, session: aiohttp.ClientSession | None = None, *,
                 timeouts: Timeouts = Timeouts(), connection_limit: int = 100) -> None:
        self._session = session
        self._owns = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeouts.total, connect=timeouts.connect,
                                              sock_connect=timeouts.connect)
        self._limit = connection_limit

    def _ensure(self) -> aiohttp.ClientSession:
        """The session, made in the running loop on first use."""
        session = self._session
        if session is None or (self._owns and session.closed):
            connector = aiohttp.TCPConnector(limit=self._limit, keepalive_timeout=60,
                                             ttl_dns_cache=300)
            session = self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, skip_auto_headers=("User-Agent",))
        return session

    async def post(self, url: str, body: bytes) -> Answer:
        """POST ``body``; errors come back as TransportError / RequestTimeout."""
        return await self._request("POST", url, body)

    async def get(self, url: str) -> Answer:
        """GET ``url``."""
        return await self._request("GET", url, None)

    async def _request(self, method: str, url: str, body: bytes | None) -> Answer:
        """Send one request and read the whole body, translating foreign errors once."""
        session = self._ensure()
        try:
            async with session.request(method, URL(url, encoded=True), data=body,
                                       headers=_JSON_HEADERS, timeout=self._timeout) as resp:
                data = await resp.read()
                return Answer(resp.status, data, _ratelimit(resp.headers))
        except _NOT_SENT as exc:
            raise ConnectError(f"{method} not sent: {_clean(exc)}") from None
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise RequestTimeout(f"{method} timed out ({_clean(exc)})") from None
        except aiohttp.ClientError as exc:
            raise TransportError(f"{method} failed: {_clean(exc)}") from None

    async def close(self) -> None:
        """Close the session if this transport made it."""
        if self._owns and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None if self._owns else self._session


def _ratelimit(headers: object) -> RateLimitHeaders | None:
    """Parse ``ratelimit-*`` headers; None when absent or malformed."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    try:
        return RateLimitHeaders(int(get("ratelimit-limit")), int(get("ratelimit-interval")),
                                int(get("ratelimit-remaining")), int(get("ratelimit-reset")))
    except (TypeError, ValueError):
        return None


def _clean(exc: BaseException) -> str:
    """An exception's text without any query string (signed URLs must not leak)."""
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {_QUERY.sub('?…', text)}"
