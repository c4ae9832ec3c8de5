"""The tests' shorthand for MockTransport answers: a dict is 200 with that JSON.

``MockTransport`` takes a handler that returns an ``Answer`` (or raises what the network
would); these tests write many answers, so :func:`replying` lets a handler return the short
forms below and turns each into what MockTransport takes:

- a JSON-able value: ``Answer.json(value)``;
- ``(status, value)`` / ``(status, value, headers)``: ``value`` as JSON, or as it is when it is
  ``str`` / ``bytes``;
- ``REFUSED`` / ``LOST`` / ``TIMEOUT``: raise ``ConnectError`` / ``TransportError`` /
  ``RequestTimeout``; an ``HTXError`` is raised as it is; an ``Answer`` is kept.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from htx_cancel import Answer, ConnectError, HTXError, RequestTimeout, TransportError
from htx_cancel.testing import MockRequest

REFUSED = ConnectError("not sent: connection refused (mock)")
LOST = TransportError("failed: connection closed without an answer (mock)")
TIMEOUT = RequestTimeout("timed out (mock)")


def answer_for(reply: Any) -> Answer:
    """The Answer a short form stands for; raises the error a fate stands for."""
    if isinstance(reply, HTXError):
        raise type(reply)(*reply.args)
    if isinstance(reply, Answer):
        return reply
    if isinstance(reply, tuple):
        status, value, *rest = reply
        headers = rest[0] if rest else None
        if isinstance(value, (str, bytes)):
            return Answer.text(value, status, headers=headers)
        return Answer.json(value, status, headers=headers)
    return Answer.json(reply)


def replying(handler: Callable[[MockRequest], Any]) -> Callable[[MockRequest], Any]:
    """A MockTransport handler from one that returns the short forms (sync or async)."""

    async def handle(request: MockRequest) -> Answer:
        reply = handler(request)
        if inspect.isawaitable(reply):
            reply = await reply
        return answer_for(reply)

    return handle


