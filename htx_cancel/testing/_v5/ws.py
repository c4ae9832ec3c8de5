"""What both v5 WebSockets share: connections, the ``auth`` op, frames, ping / pong.

A :class:`Stream` is one client connection as the exchange sees it; tests read
``ex.streams`` (``path``, ``access_key``, ``subscriptions``, ``received``, ``sent``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from ..._clock import Clock
from .._auth import AuthFailure

__all__ = [
    "AUTH_FIELDS",
    "WS_ERRORS",
    "Stream",
    "WsConfig",
    "auth_params",
    "authenticate",
    "decode_frame",
    "pong",
    "run_pinger",
]

AUTH_FIELDS = ("AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp", "Signature")
WS_ERRORS = {
    # HTX's futures WebSocket err-codes (v1's table; the v5 pages name none)
    2001: "Invalid authentication.",
    2002: "Authentication required.",
    2003: "Authentication failed.",
    2005: "Connection has been authenticated.",
    2010: "Topic error.",
    2011: "Contract doesn't exist.",
    2012: "Topic not subscribed.",
    2040: "Missing required parameter.",
}
UNANSWERED_PINGS = 2  # pings without a pong before the exchange closes the connection
_decode = msgspec.json.Decoder()
_encode = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class WsConfig:
    """What a WebSocket handler needs from the exchange.

    ``verify(params, host, path)`` checks an ``auth`` op's signature (None when good);
    ``ping_interval`` seconds between the server's pings; ``gzip`` sends every frame as gzip
    binary instead of text; ``uid`` is the account's user id in acks and pushes.
    """

    clock: Clock
    ts: Callable[[], int]
    verify: Callable[[Mapping[str, str], str | None, str], AuthFailure | None]
    ping_interval: float
    gzip: bool
    uid: int


class Stream:
    """One WebSocket connection: who it is, what it subscribed, every message each way."""

    __slots__ = ("_queue", "_writer", "access_key", "path", "pings", "received", "request",
                 "sent", "subscriptions", "unanswered", "ws", "zipped")

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, path: str,
                 zipped: bool) -> None:
        self.ws = ws
        self.request = request
        self.path = path
        self.zipped = zipped
        self.access_key: str | None = None
        self.subscriptions: dict[str, set[str]] = {}
        self.received: list[Any] = []
        self.sent: list[dict[str, object]] = []
        self.pings: list[int] = []  # ts of pings not yet answered
        self.unanswered = 0
        self._queue: asyncio.Queue[dict[str, object] | None] = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._write())

    @property
    def open(self) -> bool:
        """True until the connection closes or is cut."""
        transport = self.request.transport
        return not self.ws.closed and transport is not None and not transport.is_closing()

    @property
    def authenticated(self) -> bool:
        """True once an ``auth`` op succeeded."""
        return self.access_key is not None

    def send(self, message: dict[str, object]) -> None:
        """Queue a message; frames go out in the order they were queued."""
        self._queue.put_nowait(message)

    async def _write(self) -> None:
        """Send queued messages as text (or gzip binary) frames until the connection ends."""
        while (message := await self._queue.get()) is not None:
            if self.ws.closed:
                return
            raw = _encode.encode(message)
            self.sent.append(message)
            with contextlib.suppress(ConnectionError, RuntimeError):
                if self.zipped:
                    await self.ws.send_bytes(gzip.compress(raw))
                else:
                    await self.ws.send_str(raw.decode())

    async def flush_and_close(self, code: int = 1000) -> None:
        """Send what is queued, then close the connection."""
        self._queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(self._writer), 1.0)
        await self.ws.close(code=code)

    def drop(self) -> None:
        """Cut the connection without a close frame (the client sees it go away)."""
        transport = self.request.transport
        if transport is not None:
            transport.close()

    async def finish(self) -> None:
        """Stop the writer (the connection has ended)."""
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


def decode_frame(kind: WSMsgType, data: object) -> Any:
    """A client frame as JSON (text, or binary, gzip or not); None when it is not JSON."""
    try:
        if kind is WSMsgType.TEXT and isinstance(data, str):
            return _decode.decode(data)
        if kind is WSMsgType.BINARY and isinstance(data, bytes):
            raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
            return _decode.decode(raw)
    except (msgspec.DecodeError, OSError, EOFError):
        return None
    return None


def auth_params(message: Mapping[str, Any]) -> dict[str, str]:
    """The signed fields of an ``auth`` op (and its Signature), as strings."""
    return {name: str(message[name]) for name in AUTH_FIELDS if message.get(name) is not None}


def authenticate(stream: Stream, message: Mapping[str, Any], config: WsConfig) -> dict[str, object]:
    """Check an ``auth`` op signed over ``GET\\n<host>\\n<path>\\n<sorted params>``; its ack.

    ``{"op": "auth", "type": "api", "err-code": 0, "ts": ..., "data": {"user-id": ...}}``, or
    ``err-code`` 2003 with the reason (2005 when already authenticated, 2001 for a type other
    than ``api``).
    """
    ack: dict[str, object] = {"op": "auth", "type": message.get("type"), "ts": config.ts()}
    if "cid" in message:
        ack["cid"] = message["cid"]
    if stream.authenticated:
        return {**ack, "err-code": 2005, "err-msg": WS_ERRORS[2005]}
    if message.get("type") != "api":
        return {**ack, "err-code": 2001, "err-msg": WS_ERRORS[2001]}
    failure = config.verify(auth_params(message), stream.request.headers.get("Host"),
                            stream.path)
    if failure is not None:
        return {**ack, "err-code": 2003, "err-msg": f"{WS_ERRORS[2003]} {failure.err_msg}"}
    stream.access_key = str(message["AccessKeyId"])
    return {**ack, "err-code": 0, "data": {"user-id": config.uid}}


def pong(stream: Stream, message: Mapping[str, Any]) -> None:
    """A client's pong: it answers a ping only when it echoes that ping's ``ts``."""
    ts = message.get("ts")
    if isinstance(ts, str) and ts.isdigit():
        ts = int(ts)
    if ts in stream.pings:
        stream.pings.clear()
        stream.unanswered = 0


async def run_pinger(stream: Stream, config: WsConfig) -> None:
    """Ping every ``ping_interval`` seconds; after two unanswered pings send ``op: close`` and
    close the connection (as HTX does)."""
    while not stream.ws.closed:
        await config.clock.sleep(config.ping_interval)
        if stream.unanswered >= UNANSWERED_PINGS:
            stream.send({"op": "close", "ts": config.ts()})
            await stream.flush_and_close()
            return
        ts = config.ts()
        stream.pings.append(ts)
        stream.unanswered += 1
        stream.send({"op": "ping", "ts": ts})
