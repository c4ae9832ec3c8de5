"""The order stream: ``/ws/v5/notification``, kept open, its pushes handed to whoever listens.

One :class:`OrderStream` per client, started on first use: it connects, authenticates (the
``auth`` op, signed like a GET of the path), subscribes ``orders`` for every contract asked for
(or ``*``), answers the server's pings, and on any loss reconnects with a growing, jittered
backoff and subscribes again. Listeners are the bot's ``order_updates()`` iterators (a queue
each) and verification's :class:`Watch` es (every push since the watch began, and whether the
stream stayed up meanwhile: a reconnect breaks a watch, so verification asks REST about the
gap). Its health (:class:`StreamHealth`) is in ``client.stats()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from ._clock import Clock
from ._errors import HTXError
from ._order_state import OrderState
from ._protocol._push import (
    AuthAck,
    Close,
    OrderUpdate,
    Ping,
    SubAck,
    Updates,
    decode_frame,
    judge_push,
    pong_for,
)
from ._signing import Signer, format_timestamp
from ._transports._ws import WsConnection, WsConnector

__all__ = ["NOTIFICATION_PATH", "OrderStream", "StreamGap", "StreamHealth", "Watch"]

log = logging.getLogger("htx_cancel")

NOTIFICATION_PATH = "/ws/v5/notification"
ALL = "*"
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class StreamHealth:
    """The order stream at one moment.

    ``connected``: authenticated and reading. ``subscribed``: the contracts (or ``*``) the
    exchange acknowledged on this connection. ``reconnects``: connections made after the first.
    ``pushes``: order updates received. ``last_message_age``: seconds since the last frame
    (None before the first). ``auth_error``: why the exchange refused the key, if it did.
    """

    connected: bool
    subscribed: tuple[str, ...]
    reconnects: int
    pushes: int
    last_message_age: float | None
    auth_error: str | None = None


@dataclass(frozen=True, slots=True)
class StreamGap:
    """The stream was down from ``since`` to ``until`` (the client's clock): pushes of that
    time were lost; read REST for the orders that matter (``order_updates(gaps=True)``)."""

    since: float
    until: float


class Watch:
    """Every push since it began, by order id and client order id, and whether the stream
    stayed up meanwhile (verification's view; see ``_verification.PushWatch``)."""

    __slots__ = ("_by_client", "_by_id", "_changed", "_covers", "_last", "_stream", "broken")

    def __init__(self, stream: OrderStream) -> None:
        self._stream = stream
        self._covers = frozenset(stream.subscribed)
        self._by_id: dict[str, OrderUpdate] = {}
        self._by_client: dict[str, OrderUpdate] = {}
        self._changed = asyncio.Event()
        self._last = 0.0  # the loop's time of the last push
        self.broken = not stream.connected

    def intact(self, contract_code: str) -> bool:
        """True while every push for the contract since the watch began was received."""
        return not self.broken and bool(self._covers & {contract_code, ALL})

    def state(self, field: str, id_: str) -> OrderState | None:
        """The latest state a push gave the order; None when none came."""
        book = self._by_client if field == "client_order_id" else self._by_id
        update = book.get(id_)
        return None if update is None else update.state

    def update(self, field: str, id_: str) -> OrderUpdate | None:
        """The latest push of the order; None when none came."""
        book = self._by_client if field == "client_order_id" else self._by_id
        return book.get(id_)

    async def wait_final(self, contract_code: str, field: str, ids: Sequence[str],
                         within: float, quiet: float | None = None) -> None:
        """Return once every id has a final pushed state, the stream breaks, ``within``
        seconds pass, or (``quiet``) no push came for that long."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        end = start + within
        waiting = list(ids)
        while not self.broken:
            waiting = [i for i in waiting
                       if (s := self.state(field, i)) is None or not s.final]
            now = loop.time()
            stop = end if quiet is None else min(end, max(start, self._last) + quiet)
            left = stop - now
            if not waiting or left <= 0:
                return
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    def close(self) -> None:
        """Stop collecting pushes."""
        self._stream._watches.discard(self)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _push(self, update: OrderUpdate) -> None:
        self._last = asyncio.get_running_loop().time()
        _keep(self._by_id, update.order_id, update)
        if update.client_order_id:
            _keep(self._by_client, update.client_order_id, update)
        self._changed.set()

    def _break(self) -> None:
        self.broken = True
        self._changed.set()


def _keep(book: dict[str, OrderUpdate], key: str, update: OrderUpdate) -> None:
    """Keep the newer push of an order; a final state is never replaced by a live one."""
    old = book.get(key)
    if old is not None and old.final and not update.final:
        return
    book[key] = update


class _Listener:
    """One ``order_updates()`` iterator: its contract and its queue."""

    __slots__ = ("contract_code", "event", "gaps", "items")

    def __init__(self, contract_code: str, gaps: bool) -> None:
        self.contract_code = contract_code
        self.gaps = gaps
        self.items: deque[OrderUpdate | StreamGap] = deque()
        self.event = asyncio.Event()

    def put(self, item: OrderUpdate | StreamGap) -> None:
        self.items.append(item)
        self.event.set()


class OrderStream:
    """The client's notification socket (see the module's docstring).

    ``stamp()`` is the exchange's time (epoch seconds) to sign with. ``backoff`` is the first
    wait before reconnecting, doubled up to ``backoff_max`` (with jitter) while attempts fail.
    ``idle_timeout``: a connection that sends nothing that long is taken for dead (HTX pings
    every few seconds).
    """

    def __init__(self, url: str, signer: Signer, connector: WsConnector, clock: Clock,
                 stamp: Callable[[], float], *, path: str = NOTIFICATION_PATH,
                 backoff: float = 0.1, backoff_max: float = 5.0, idle_timeout: float = 30.0,
                 auth_timeout: float = 10.0, rng: random.Random | None = None) -> None:
        self._url = url
        self._signer = signer
        self._connector = connector
        self._clock = clock
        self._stamp = stamp
        self._path = path
        self._backoff = backoff
        self._backoff_max = backoff_max
        self._idle = idle_timeout
        self._auth_timeout = auth_timeout
        self._rng = rng or random.Random()
        self._wanted: dict[str, None] = {}
        self._acked: set[str] = set()
        self._conn: WsConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._watches: set[Watch] = set()
        self._listeners: set[_Listener] = set()
        self._connected = False
        self._closing = False
        self._connections = 0
        self._pushes = 0
        self._last: float | None = None
        self._down_since: float | None = None
        self._auth_error: str | None = None
        self._cid = 0
        self._subbing: set[asyncio.Task[None]] = set()

    # -- state ---------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while authenticated and reading."""
        return self._connected

    @property
    def subscribed(self) -> frozenset[str]:
        """The contracts (or ``*``) acknowledged on the current connection."""
        return frozenset(self._acked) if self._connected else frozenset()

    def covers(self, contract_code: str) -> bool:
        """True when the current connection receives the contract's pushes."""
        return self._connected and bool(self._acked & {contract_code, ALL})

    def health(self) -> StreamHealth:
        """Connected, subscriptions, reconnects, pushes, the age of the last frame."""
        age = None if self._last is None else max(0.0, self._clock.now() - self._last)
        return StreamHealth(self._connected, tuple(sorted(self.subscribed)),
                            max(0, self._connections - 1), self._pushes, age, self._auth_error)

    # -- use -----------------------------------------------------------------------------------

    async def ensure(self, contract_code: str, within: float) -> bool:
        """Subscribe ``orders`` of a contract (or ``*``), starting the stream if need be; True
        once the exchange acknowledged it, False if that did not happen ``within`` seconds."""
        if contract_code not in self._wanted and ALL not in self._wanted:
            self._wanted[contract_code] = None
            conn = self._conn
            if conn is not None and self._connected:
                await self._sub(conn, contract_code)
        self.start()
        loop = asyncio.get_running_loop()
        end = loop.time() + within
        while not self.covers(contract_code):
            left = end - loop.time()
            if left <= 0 or self._auth_error is not None:
                return self.covers(contract_code)
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return True

    def want(self, contract_code: str) -> None:
        """Subscribe a contract (or ``*``) as soon as the stream can, without waiting; starts
        the stream if need be."""
        if contract_code not in self._wanted and ALL not in self._wanted:
            self._wanted[contract_code] = None
            conn = self._conn
            if conn is not None and self._connected:
                task = asyncio.get_running_loop().create_task(self._sub(conn, contract_code))
                self._subbing.add(task)
                task.add_done_callback(self._subbing.discard)
        self.start()

    def watch(self) -> Watch:
        """A :class:`Watch` collecting every push from now on (close it when done)."""
        watch = Watch(self)
        self._watches.add(watch)
        return watch

    async def updates(self, contract_code: str, *, gaps: bool = False,
                      within: float = 10.0) -> AsyncIterator[OrderUpdate | StreamGap]:
        """Every order update of the contract (``*``: all) from now on, until the iterator is
        closed; with ``gaps`` a :class:`StreamGap` after each reconnect."""
        listener = _Listener(contract_code, gaps)
        self._listeners.add(listener)
        try:
            if not await self.ensure(contract_code, within):
                log.warning("order stream: %s not subscribed yet (%s); waiting on", contract_code,
                            self._auth_error or "not connected")
            while True:
                while listener.items:
                    yield listener.items.popleft()
                listener.event.clear()
                await listener.event.wait()
        finally:
            self._listeners.discard(listener)

    def start(self) -> None:
        """Run the connection in the background (once)."""
        if self._task is None or self._task.done():
            self._closing = False
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        """Close the connection and stop reconnecting."""
        self._closing = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for watch in list(self._watches):
            watch._break()

    # -- the connection ------------------------------------------------------------------------

    async def _run(self) -> None:
        """Connect, serve, and reconnect with backoff until closed."""
        delay = self._backoff
        while not self._closing:
            started = self._clock.now()
            try:
                conn = await self._connector.connect(self._url)
            except HTXError as exc:
                log.info("order stream: connect failed (%s); again in %.2f s", exc, delay)
            else:
                try:
                    await self._serve(conn)
                except HTXError as exc:
                    log.info("order stream: connection lost (%s)", exc)
                finally:
                    self._down()
                    self._conn = None
                    await conn.close()
                if self._clock.now() - started > 10 * self._backoff_max:
                    delay = self._backoff  # it had been up a while: start the backoff over
            if self._closing:
                return
            if self._auth_error is not None:
                delay = max(delay, self._backoff_max)  # a refused key: do not hammer
            await self._clock.sleep(delay * (0.5 + self._rng.random()))
            delay = min(delay * 2, self._backoff_max)

    async def _serve(self, conn: WsConnection) -> None:
        """Authenticate, subscribe, then read frames until the connection ends."""
        stamp = format_timestamp(self._stamp())
        auth: dict[str, Any] = {"op": "auth", "type": "api",
                                **self._signer.params("GET", self._path, stamp)}
        await conn.send(_encode(auth))
        loop = asyncio.get_running_loop()
        end = loop.time() + self._auth_timeout
        while True:  # until the auth ack (pings may come first)
            frame = await conn.receive(max(0.01, end - loop.time()))
            if frame is None:
                return
            push = self._judge(frame)
            if isinstance(push, Ping):
                await conn.send(pong_for(push))
            elif isinstance(push, AuthAck):
                if not push.ok:
                    why = f"{push.code}: {push.message}"
                    level = logging.ERROR if why != self._auth_error else logging.INFO
                    self._auth_error = why
                    log.log(level, "order stream: the exchange refused the key (%s)", why)
                    self._changed.set()
                    return
                break
            elif isinstance(push, Close):
                return
        self._auth_error = None
        self._conn = conn
        self._connections += 1
        self._connected = True
        self._acked.clear()
        if self._down_since is not None:
            gap = StreamGap(self._down_since, self._clock.now())
            self._down_since = None
            for listener in self._listeners:
                if listener.gaps:
                    listener.put(gap)
        log.info("order stream connected (%s)", "reconnect" if self._connections > 1
                 else "first connection")
        for code in list(self._wanted):
            await self._sub(conn, code)
        self._changed.set()
        while True:
            frame = await conn.receive(self._idle)
            if frame is None:
                return
            push = self._judge(frame)
            if isinstance(push, Ping):
                await conn.send(pong_for(push))
            elif isinstance(push, Updates):
                self._deliver(push)
            elif isinstance(push, SubAck):
                self._acked_sub(push)
            elif isinstance(push, Close):
                log.info("order stream: the exchange closes the connection")
                return

    def _judge(self, frame: str | bytes) -> Any:
        """A frame as what it means (unreadable frames are logged and skipped)."""
        self._last = self._clock.now()
        try:
            return judge_push(decode_frame(frame))
        except ValueError as exc:
            log.warning("order stream: %s", exc)
            return None

    async def _sub(self, conn: WsConnection, code: str) -> None:
        """Ask for a contract's (or every contract's) ``orders`` pushes (a connection that is
        gone subscribes everything again when it is back)."""
        self._cid += 1
        message = {"op": "sub", "cid": f"htx-cancel-{self._cid}", "topic": "orders",
                   "contract_code": code}
        try:
            await conn.send(_encode(message))
        except HTXError as exc:
            log.info("order stream: sub %s not sent (%s); sent again on reconnect", code, exc)

    def _acked_sub(self, ack: SubAck) -> None:
        """A sub ack: the contract's pushes now come (or why not)."""
        if ack.op == "sub" and ack.ok and ack.contract_code:
            self._acked.add(ack.contract_code)
            self._changed.set()
        elif not ack.ok:
            log.warning("order stream: %s %s refused (%s: %s)", ack.op, ack.contract_code,
                        ack.code, ack.message)

    def _deliver(self, push: Updates) -> None:
        """Hand each update to the watches and the listeners of its contract."""
        for update in push.updates:
            if update.kind != "order":
                continue
            self._pushes += 1
            for watch in self._watches:
                watch._push(update)
            for listener in self._listeners:
                if listener.contract_code in (ALL, update.contract_code):
                    listener.put(update)

    def _down(self) -> None:
        """The connection ended: every watch has a gap from now on."""
        if self._connected and not self._closing:
            self._down_since = self._clock.now()
            log.warning("order stream: disconnected; reconnecting")
        self._connected = False
        self._acked.clear()
        for watch in list(self._watches):
            watch._break()
        self._changed.set()
