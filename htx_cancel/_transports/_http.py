"""The HTTP transport over aiohttp: a signed request in, its answer or an HTXError out.

The only place (with the WebSocket streams beside it) that imports aiohttp; its exceptions
are translated here, once, with any query string stripped (a signed URL must not leak).
"""

from __future__ import annotations

import re

import aiohttp
from yarl import URL

from .._errors import ConnectError, RequestTimeout, TransportError
from ._base import Answer, Request, Timeouts, ratelimit_of

__all__ = ["AiohttpTransport"]

_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
_QUERY = re.compile(r"\?\S*")
# Errors raised before a connection existed: the request certainly never left. (A failure on
# a reused keep-alive connection is a ServerDisconnectedError or similar, never one of these.)
_NOT_SENT: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,
    *((aiohttp.ConnectionTimeoutError,) if hasattr(aiohttp, "ConnectionTimeoutError") else ()),
)


class AiohttpTransport:
    """Keep-alive aiohttp transport. Closes its session only if it made it.

    ``touch`` (the warm-up's request, see ``CancelClient.warm``) opens or keeps a connection
    with an unsigned GET. The session this transport makes allows ``connection_limit``
    connections in use at once plus what ``reserve`` set aside for the warm-up before it was
    made, so that a warm-up under way never makes a request wait for a connection.
    """

    __slots__ = ("_limit", "_owns", "_reserve", "_session", "_timeout")

    def __init__(self, session: aiohttp.ClientSession | None = None, *,
                 timeouts: Timeouts = Timeouts(), connection_limit: int = 100) -> None:
        self._session = session
        self._owns = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeouts.total, connect=timeouts.connect,
                                              sock_connect=timeouts.connect)
        self._limit = connection_limit
        self._reserve = 0

    @property
    def connection_limit(self) -> int:
        """Connections requests may use at once (0: no limit): this transport's own, or the
        lent session's connector's (the warm-up's reserve not counted)."""
        if self._owns:
            return self._limit
        session = self._session
        connector = None if session is None else session.connector
        return 0 if connector is None else connector.limit

    def reserve(self, connections: int) -> None:
        """Set ``connections`` aside for the warm-up, above ``connection_limit``.

        Only a session not made yet can be sized: once this transport has sent (or with a lent
        session) it does nothing, and the warm-up's requests share the connector's limit.
        """
        if self._owns and (self._session is None or self._session.closed):
            self._reserve = max(self._reserve, connections)

    def _ensure(self) -> aiohttp.ClientSession:
        """The session, made in the running loop on first use."""
        session = self._session
        if session is None or (self._owns and session.closed):
            limit = self._limit + self._reserve if self._limit else 0
            connector = aiohttp.TCPConnector(limit=limit, keepalive_timeout=60,
                                             ttl_dns_cache=300)
            session = self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, skip_auto_headers=("User-Agent",))
        return session

    async def handle(self, request: Request) -> Answer:
        """Send one request and read the whole body, translating foreign errors once."""
        session = self._ensure()
        method, url, body = request.method, request.url, request.body
        try:
            async with session.request(method, URL(url, encoded=True), data=body,
                                       headers=_JSON_HEADERS, timeout=self._timeout) as resp:
                data = await resp.read()
                return Answer(resp.status, data, ratelimit_of(resp.headers))
        except _NOT_SENT as exc:
            raise ConnectError(f"{method} not sent: {_clean(exc)}") from None
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise RequestTimeout(f"{method} timed out ({_clean(exc)})") from None
        except aiohttp.ClientError as exc:
            raise TransportError(f"{method} failed: {_clean(exc)}") from None

    async def touch(self, url: str) -> None:
        """GET ``url`` (public, unsigned) and read its answer: a connection opened, or kept.

        Raises [`ConnectError`][htx_cancel.ConnectError],
        [`RequestTimeout`][htx_cancel.RequestTimeout] or
        [`TransportError`][htx_cancel.TransportError] (also for an answer that is not a 2xx).

        :param url: the whole URL, such as ``https://api.hbdm.com/api/v1/timestamp``.
        """
        session = self._ensure()
        try:
            async with session.get(URL(url, encoded=True), timeout=self._timeout) as resp:
                await resp.read()
                status = resp.status
        except _NOT_SENT as exc:
            raise ConnectError(f"GET not sent: {_clean(exc)}") from None
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise RequestTimeout(f"GET timed out ({_clean(exc)})") from None
        except aiohttp.ClientError as exc:
            raise TransportError(f"GET failed: {_clean(exc)}") from None
        if not 200 <= status < 300:
            raise TransportError(f"GET answered HTTP {status}")

    async def close(self) -> None:
        """Close the session if this transport made it."""
        if self._owns and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None if self._owns else self._session


def _clean(exc: BaseException) -> str:
    """An exception's text without any query string (signed URLs must not leak)."""
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {_QUERY.sub('?…', text)}"
