"""MockTransport: a transport that answers from a plain function, for client-logic tests."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .._transports import Answer, Request

__all__ = ["MockRequest", "MockTransport"]


class MockRequest:
    """One request the client sent, as a handler sees it.

    ``endpoint`` is the last path segment (``swap_cancel``), ``query`` the decoded query string
    (``Signature``, ``Timestamp``...), ``body`` the decoded JSON body (None for a GET), ``n``
    its number, counting from 1.

    :param method: ``GET`` or ``POST``.
    :param url: the whole signed URL (``path`` and ``query`` are read from it).
    :param raw: the body's bytes (None for a GET).
    :param n: the request's number, counting from 1.
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


Handler = Callable[[MockRequest], "Answer | Awaitable[Answer]"]


class MockTransport:
    """A [`Transport`][htx_cancel.Transport] whose answers come from ``handler(request)``.

    The handler gets a [`MockRequest`][htx_cancel.testing.MockRequest] and returns an
    [`Answer`][htx_cancel.Answer] (``Answer.json({...})``, ``Answer.json({...}, 502)``,
    ``Answer.text("<html>", 502)``, with ``headers={"ratelimit-limit": ...}`` for the rate-limit
    headers), or raises what the network would: [`htx_cancel.ConnectError`][htx_cancel.ConnectError]
    (refused: the request never left), [`htx_cancel.TransportError`][htx_cancel.TransportError]
    (sent, then the connection dropped), [`htx_cancel.RequestTimeout`][htx_cancel.RequestTimeout]
    (sent, no answer in time). It may be a coroutine function. Every request is kept in
    ``requests``.

    :param handler: called with each [`MockRequest`][htx_cancel.testing.MockRequest]; returns an
        [`Answer`][htx_cancel.Answer] (or a coroutine of one), or raises.
    """

    __slots__ = ("_handler", "closed", "requests")

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.requests: list[MockRequest] = []
        self.closed = False

    async def handle(self, request: Request) -> Answer:
        """Record the request, then answer it through the handler.

        :param request: the signed request the client sends.
        """
        seen = MockRequest(request.method, request.url, request.body, len(self.requests) + 1)
        self.requests.append(seen)
        await asyncio.sleep(0)  # a real transport always yields: requests in flight interleave
        reply = self._handler(seen)
        if inspect.isawaitable(reply):
            reply = await reply
        if not isinstance(reply, Answer):
            raise TypeError(f"a MockTransport handler returns an htx_cancel.Answer, not "
                            f"{type(reply).__name__} (use Answer.json(...))")
        return reply

    async def close(self) -> None:
        """Mark the transport closed."""
        self.closed = True
