"""Cancels over HTX's trade socket (``/linear-swap-trade``), HTTP when the socket is down.

:class:`TradeSocketTransport` is a :class:`~htx_cancel._transports.Transport`: the send chain
(limiter slot, signing, the attempt machine, the judge, the fold) is the same for every request;
only where a v5 cancel travels changes. A ``POST /v5/trade/cancel_batch_orders`` (``cancel_order``,
``cancel_all_orders``) goes as ``{"op": <name>, "cid": <n>, "data": <the same JSON body>}`` on the
socket and its answer, matched by ``cid``, comes back as the HTTP answer would have (the REST
envelope; camelCase ids renamed). Everything else, and every cancel while the socket is not up,
goes over HTTP. A cancel that left on the socket and got no answer is a
:class:`~htx_cancel.TransportError` (it may have arrived): the attempt machine repeats it, over
HTTP if the socket is still down (cancels are idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from .._clock import Clock
from .._errors import HTXError, RequestTimeout, TransportError
from .._models import RateLimitHeaders
from .._protocol._push import AuthAck, Close, Ping, TradeAnswer, decode_frame, judge_push, pong_for
from .._signing import Signer, format_timestamp
from ._base import Answer, Request, Transport
from ._ws import WsConnection, WsConnector

__all__ = ["TRADE_OPS", "TRADE_PATH", "TradeSocketStats", "TradeSocketTransport"]

log = logging.getLogger("htx_cancel")

TRADE_PATH = "/linear-swap-trade"
TRADE_OPS = {
    "/v5/trade/cancel_batch_orders": "cancel_batch_orders",
    "/v5/trade/cancel_all_orders": "cancel_all_orders",
    "/v5/trade/cancel_order": "cancel_order",
}
"""REST path -> the trade socket's op of the same request."""

_CAMEL = {"orderId": "order_id", "clientOrderId": "client_order_id"}
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class TradeSocketStats:
    """The trade socket: ``connected``; cancels sent on it and over HTTP instead;
    ``reconnects``; ``lost``: cancels that left on it and got no answer."""

    connected: bool
    on_socket: int
    over_http: int
    reconnects: int
    lost: int


class TradeSocketTransport:
    """v5 cancels on the trade socket, the rest (and every cancel while it is down) on
    ``http``.

    ``wait_first``: the first cancel waits that long for the first connection (a cold client);
    after that a socket that is down never delays a cancel. ``answer_timeout``: seconds a cancel
    on the socket waits for its answer.
    """

    def __init__(self, http: Transport, url: str, signer: Signer, connector: WsConnector,
                 clock: Clock, stamp: Callable[[], float], *, wait_first: float = 3.0,
                 answer_timeout: float = 10.0, backoff: float = 0.1,
                 backoff_max: float = 5.0, rng: random.Random | None = None) -> None:
        self._http = http
        self._url = url
        self._signer = signer
        self._connector = connector
        self._clock = clock
        self._stamp = stamp
        self._wait_first = wait_first
        self._answer_timeout = answer_timeout
        self._backoff = backoff
        self._backoff_max = backoff_max
        self._rng = rng or random.Random()
        self._conn: WsConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._up = asyncio.Event()
        self._tried = asyncio.Event()  # set after each connection attempt, made or not
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._cid = 0
        self._connections = 0
        self._first_done = False
        self._on_socket = 0
        self._over_http = 0
        self._lost = 0
        self._closing = False
        self._refused = False  # the key was refused (logged once at ERROR)

    @property
    def connected(self) -> bool:
        """True while the socket is authenticated."""
        return self._conn is not None

    def stats(self) -> TradeSocketStats:
        """Counts since the transport was made."""
        return TradeSocketStats(self.connected, self._on_socket, self._over_http,
                                max(0, self._connections - 1), self._lost)

    async def open(self, within: float) -> bool:
        """Start the socket and wait at most ``within`` seconds for it; True when it is up."""
        self._start()
        if self._conn is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tried.wait(), within)
        self._first_done = True
        return self._conn is not None

    async def handle(self, request: Request) -> Answer:
        """Send a v5 cancel on the socket when it is up, anything else over HTTP."""
        op = TRADE_OPS.get(_path_of(request.url)) if request.method == "POST" else None
        if op is None:
            return await self._http.handle(request)
        if not self._first_done:
            await self.open(self._wait_first)
        conn = self._conn
        if conn is None:
            self._start()
            self._over_http += 1
            return await self._http.handle(request)
        self._cid += 1
        cid = str(self._cid)
        data = _decode.decode(request.body or b"{}")
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[cid] = future
        try:
            try:
                await conn.send(_encode({"op": op, "cid": cid, "data": data}))
            except TransportError:
                # the frame never left: the request goes over HTTP instead
                self._over_http += 1
                return await self._http.handle(request)
            self._on_socket += 1
            try:
                body = await asyncio.wait_for(future, self._answer_timeout)
            except TimeoutError:
                self._lost += 1
                raise RequestTimeout(f"{op} on the trade socket: no answer in "
                                     f"{self._answer_timeout} s") from None
            except TransportError:
                self._lost += 1
                raise
        finally:
            self._waiting.pop(cid, None)
        return Answer(200, _encode(_rekey(body)), _rate_limit(body.get("rate_limit")))

    async def close(self) -> None:
        """Close the socket and the HTTP transport."""
        self._closing = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._http.close()

    # -- the connection ------------------------------------------------------------------------

    def _start(self) -> None:
        if (self._task is None or self._task.done()) and not self._closing:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        """Connect, authenticate, read answers; reconnect with backoff until closed."""
        delay = self._backoff
        while not self._closing:
            try:
                conn = await self._connector.connect(self._url)
            except HTXError as exc:
                log.info("trade socket: connect failed (%s)", exc)
                self._tried.set()
            else:
                try:
                    authed = await self._auth(conn)
                    self._tried.set()
                    if authed:
                        delay = self._backoff
                        await self._read(conn)
                except HTXError as exc:
                    log.info("trade socket: connection lost (%s)", exc)
                finally:
                    self._down(conn)
                    await conn.close()
            if self._closing:
                return
            await self._clock.sleep(delay * (0.5 + self._rng.random()))
            delay = min(delay * 2, self._backoff_max)

    async def _auth(self, conn: WsConnection) -> bool:
        """The ``auth`` op, signed like a GET of the path; True once acknowledged."""
        stamp = format_timestamp(self._stamp())
        await conn.send(_encode({"op": "auth", "type": "api",
                                 **self._signer.params("GET", TRADE_PATH, stamp)}))
        while True:
            frame = await conn.receive(10.0)
            if frame is None:
                return False
            push = judge_push(_safe(frame))
            if isinstance(push, Ping):
                await conn.send(pong_for(push))
            elif isinstance(push, AuthAck):
                if not push.ok:
                    level = logging.INFO if self._refused else logging.ERROR
                    self._refused = True
                    log.log(level, "trade socket: the exchange refused the key (%s: %s); "
                            "cancels go over HTTP", push.code, push.message)
                    return False
                self._refused = False
                self._conn = conn
                self._connections += 1
                self._up.set()
                log.info("trade socket connected")
                return True
            elif isinstance(push, Close):
                return False

    async def _read(self, conn: WsConnection) -> None:
        """Answers by ``cid`` to their cancels; pings answered."""
        while True:
            try:
                frame = await conn.receive(30.0)
            except RequestTimeout:
                return  # silent for long: taken for dead
            if frame is None:
                return
            push = judge_push(_safe(frame))
            if isinstance(push, Ping):
                await conn.send(pong_for(push))
            elif isinstance(push, TradeAnswer):
                future = self._waiting.get(push.cid)
                if future is not None and not future.done():
                    future.set_result(push.body)
            elif isinstance(push, Close):
                return

    def _down(self, conn: WsConnection) -> None:
        """The socket ended: its unanswered cancels are lost (the machine repeats them)."""
        if self._conn is conn:
            self._conn = None
            self._up.clear()
            if not self._closing:
                log.warning("trade socket: disconnected; cancels go over HTTP meanwhile")
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(TransportError("the trade socket closed before the "
                                                    "answer came"))
                future.exception()  # retrieved: the waiter raises it


def _safe(frame: str | bytes) -> object:
    """A frame as JSON, None when unreadable."""
    try:
        return decode_frame(frame)
    except ValueError:
        return None


def _path_of(url: str) -> str:
    """The path of an absolute URL, without its query."""
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    if slash < 0:
        return "/"
    return rest[slash:].split("?", 1)[0]


def _rate_limit(raw: object) -> RateLimitHeaders | None:
    """The ``rate_limit`` object some trade-socket answers carry (``{limit, interval,
    remaining, reset}``, gocryptotrader and sieblyio model it), as the REST headers would be."""
    if not isinstance(raw, dict):
        return None
    try:
        return RateLimitHeaders(*(int(raw[k]) for k in ("limit", "interval", "remaining",
                                                         "reset")))
    except (KeyError, TypeError, ValueError):
        return None


def _rekey(body: dict[str, Any]) -> dict[str, Any]:
    """The answer as REST sends it: ``cid`` dropped, camelCase item ids renamed."""
    out = {k: v for k, v in body.items() if k not in ("cid", "rate_limit")}
    data = out.get("data")
    if isinstance(data, list):
        out["data"] = [{_CAMEL.get(k, k): v for k, v in item.items()}
                       if isinstance(item, dict) else item for item in data]
    elif isinstance(data, dict):
        out["data"] = {_CAMEL.get(k, k): v for k, v in data.items()}
    return out
