"""The WebSocket transport over aiohttp's client: connect, send a frame, receive a frame.

Nothing here knows HTX's messages (``htx_cancel._protocol._push`` reads them); aiohttp's
exceptions are translated here, once, into the library's (:class:`~htx_cancel.ConnectError`
when no connection was made, :class:`~htx_cancel.TransportError` after).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as _ssl

import aiohttp

from .._errors import ConnectError, RequestTimeout, TransportError
from ._base import Timeouts

__all__ = ["WsConnection", "WsConnector", "ws_url"]

_FRAMES = (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY)
_ENDS = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED,
         aiohttp.WSMsgType.ERROR)


def ws_url(base_url: str, path: str) -> str:
    """The WebSocket URL of ``path`` on an http(s) base URL: ``wss://`` for https, ``ws://``
    for http, the same host and port."""
    if base_url.startswith("https://"):
        return "wss://" + base_url[len("https://"):].rstrip("/") + path
    if base_url.startswith("http://"):
        return "ws://" + base_url[len("http://"):].rstrip("/") + path
    raise ValueError(f"base_url must be http(s), got {base_url!r}")


class WsConnection:
    """One open WebSocket: frames out (one writer at a time) and in."""

    __slots__ = ("_lock", "_ws")

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._lock = asyncio.Lock()

    @property
    def closed(self) -> bool:
        """True once the connection has ended (either side)."""
        return self._ws.closed

    async def send(self, payload: str | bytes) -> None:
        """Send one text frame; :class:`~htx_cancel.TransportError` when the connection is
        gone."""
        text = payload.decode() if isinstance(payload, bytes) else payload
        try:
            async with self._lock:
                await self._ws.send_str(text)
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            raise TransportError(f"WebSocket send failed: {type(exc).__name__}") from None

    async def receive(self, within: float | None = None) -> str | bytes | None:
        """The next text or binary frame; None once the connection has ended.

        ``RequestTimeout`` when nothing came ``within`` seconds.
        """
        while True:
            try:
                msg = await self._ws.receive(timeout=within)
            except TimeoutError:
                raise RequestTimeout(f"no WebSocket frame for {within} s") from None
            except (aiohttp.ClientError, ConnectionError, RuntimeError):
                return None
            if msg.type in _FRAMES:
                data: str | bytes = msg.data
                return data
            if msg.type in _ENDS:
                return None
            # PING / PONG frames are answered by aiohttp itself (autoping)

    async def close(self) -> None:
        """Close the connection (a close frame when it is still up)."""
        if not self._ws.closed:
            with contextlib.suppress(TimeoutError, aiohttp.ClientError, ConnectionError,
                                     RuntimeError):
                await asyncio.wait_for(self._ws.close(), 2.0)


class WsConnector:
    """Opens WebSockets on a session (its own, unless lent one it will not close)."""

    __slots__ = ("_owns", "_session", "_ssl", "_timeouts")

    def __init__(self, session: aiohttp.ClientSession | None = None, *,
                 timeouts: Timeouts = Timeouts(),
                 ssl: _ssl.SSLContext | bool | None = None) -> None:
        self._session = session
        self._owns = session is None
        self._timeouts = timeouts
        self._ssl = ssl

    def _ensure(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or (self._owns and session.closed):
            session = self._session = aiohttp.ClientSession(skip_auto_headers=("User-Agent",))
        return session

    async def connect(self, url: str) -> WsConnection:
        """Open a WebSocket to ``url`` (``ws://`` or ``wss://``)."""
        session = self._ensure()
        timeout = aiohttp.ClientWSTimeout(ws_receive=None, ws_close=2.0)
        ssl = True if self._ssl is None else self._ssl
        try:
            ws = await asyncio.wait_for(
                session.ws_connect(url, autoping=True, heartbeat=None, timeout=timeout,
                                   max_msg_size=16 * 1024 * 1024, ssl=ssl),
                self._timeouts.connect + 2.0)
        except (aiohttp.ClientConnectorError, TimeoutError) as exc:
            raise ConnectError(f"WebSocket not connected: {type(exc).__name__}") from None
        except (aiohttp.ClientError, ConnectionError, OSError) as exc:
            raise TransportError(f"WebSocket failed: {type(exc).__name__}: {exc}") from None
        return WsConnection(ws)

    async def close(self) -> None:
        """Close the session if this connector made it."""
        if self._owns and self._session is not None and not self._session.closed:
            await self._session.close()
        if self._owns:
            self._session = None
