"""MockTransport: a transport that answers from a plain function, for client-logic tests."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .._errors import ConnectError, HTXError, RequestTimeout, TransportError
from .._transport import Answer, _ratelimit

__all__ = ["MockRequest", "MockTransport"]


class MockRequest:
    """One request the client sent, as a handler sees it.

    ``endpoint`` is the last path segment (``swap_cancel``), ``query`` the decoded query string
    (``Signature``, ``Timestamp``...), ``body`` the decoded JSON body (None for a GET), ``n``
    its number, counting from 1.
    """

    __slots__ = ("body", "endpoint", "method", "n", "path", "query", "raw", "url")

    def __init__(self, method: str, url: str, raw: bytes | None, n: int) -> None:
        parts = urlsplit(url)
        self.method = method
        self.url = url
        self.path = parts.path
        self.endpoint = parts.path.rsplit("/", 1)[-1]
        self.query = dict(parse_qsl(parts.query))
        self.raw = raw
        self.body: Any = json.loads(raw) if raw else None
        self.n = n

    def __repr__(self) -> str:
        return f"MockRequest({self.method} {self.path} #{self.n})"


class _Fate:
    """A way for a request to get no answer."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"MockTransport.{self.name}"


Reply = Any
Handler = Callable[[MockRequest], "Reply | Awaitable[Reply]"]


class MockTransport:
    """A :class:`htx_cancel.Transport` whose answers come from ``handler(request)``.

    The handler gets a :class:`MockRequest` and returns one of:

    - a JSON-able value (dict, list): status 200 with that JSON;
    - ``(status, value)`` or ``(status, value, headers)``: ``value`` as JSON, or sent as it is
      when it is ``bytes`` or ``str`` (a body that is not JSON); ``headers`` may carry the
      ``ratelimit-*`` headers;
    - an :class:`htx_cancel.Answer`;
    - ``MockTransport.REFUSED`` (the connection was refused: the request never left),
      ``MockTransport.LOST`` (sent, then the connection dropped: no answer) or
      ``MockTransport.TIMEOUT`` (sent, no answer in time);
    - or it raises (or returns) an :class:`htx_cancel.HTXError` to raise.

    The handler may be a coroutine function. Every request is kept in ``requests``.
    """

    REFUSED = _Fate("REFUSED")
    LOST = _Fate("LOST")
    TIMEOUT = _Fate("TIMEOUT")

    __slots__ = ("_handler", "closed", "requests")

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.requests: list[MockRequest] = []
        self.closed = False

    async def post(self, url: str, body: bytes) -> Answer:
        """Answer a POST through the handler."""
        return await self._answer("POST", url, body)

    async def get(self, url: str) -> Answer:
        """Answer a GET through the handler."""
        return await self._answer("GET", url, None)

    async def close(self) -> None:
        """Mark the transport closed."""
        self.closed = True

    async def _answer(self, method: str, url: str, body: bytes | None) -> Answer:
        """Record the request, ask the handler, turn its reply into an Answer or an error."""
        request = MockRequest(method, url, body, len(self.requests) + 1)
        self.requests.append(request)
        await asyncio.sleep(0)  # a real transport always yields: requests in flight interleave
        reply = self._handler(request)
        if inspect.isawaitable(reply):
            reply = await reply
        return _to_answer(method, reply)


def _to_answer(method: str, reply: Reply) -> Answer:
    """An Answer for a handler's reply, or the error it stands for."""
    if reply is MockTransport.REFUSED:
        raise ConnectError(f"{method} not sent: connection refused (mock)")
    if reply is MockTransport.LOST:
        raise TransportError(f"{method} failed: connection closed without an answer (mock)")
    if reply is MockTransport.TIMEOUT:
        raise RequestTimeout(f"{method} timed out (mock)")
    if isinstance(reply, HTXError):
        raise reply
    if isinstance(reply, Answer):
        return reply
    status, value, headers = 200, reply, None
    if isinstance(reply, tuple):
        status, value, *rest = reply
        headers = rest[0] if rest else None
    if isinstance(value, str):
        value = value.encode()
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    limits = _ratelimit(_Headers(headers)) if headers else None
    return Answer(status, data, limits)


class _Headers:
    """Case-insensitive lookup over a plain dict of headers."""

    __slots__ = ("_items",)

    def __init__(self, headers: Mapping[str, object]) -> None:
        self._items = {k.lower(): str(v) for k, v in headers.items()}

    def get(self, name: str) -> str | None:
        """The header's value, or None."""
        return self._items.get(name.lower())
