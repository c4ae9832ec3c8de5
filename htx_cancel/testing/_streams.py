"""The WebSocket half of :class:`FakeExchange`: ``/ws/v5/notification`` and
``/linear-swap-trade``, served by the same aiohttp application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import WSMsgType, web

from .._clock import Clock
from ._auth import AuthFailure, Ed25519Key, verify
from ._ratelimit import ServerPools
from ._records import RequestRecord
from ._routes import TRADE
from ._v5.account import V5Account
from ._v5.codes import RATE_LIMITED
from ._v5.ws import WS_ERRORS, Stream, authenticate, decode_frame, pong, run_pinger
from ._v5.ws_notify import Notifier, subscription
from ._v5.ws_trade import TRADE_OPS, TradeKeys, answer, run_op

__all__ = ["NOTIFICATION_PATH", "TRADE_PATH", "StreamServer"]

NOTIFICATION_PATH = "/ws/v5/notification"
TRADE_PATH = "/linear-swap-trade"


class StreamServer:
    """The WebSocket endpoints of :class:`FakeExchange` (see there and ``docs/testing.md``)."""

    credentials: dict[str, str]
    ed25519_keys: dict[str, Ed25519Key]
    pools: ServerPools
    requests: list[RequestRecord]
    rejected_1032: int
    v5: V5Account
    notifier: Notifier
    ws_trade_keys: TradeKeys
    _clock: Clock
    _seq: int
    server_time: Callable[[], float]

    def _ts(self) -> int:
        raise NotImplementedError

    def _tick(self) -> None:
        raise NotImplementedError

    @property
    def streams(self) -> list[Stream]:
        """Every open WebSocket connection, both paths (``Stream.path`` says which)."""
        return [s for s in self.notifier.streams if s.open]

    def drop_streams(self) -> int:
        """Cut every WebSocket connection without a close frame; how many were cut."""
        live = self.streams
        for stream in live:
            stream.drop()
        return len(live)

    async def _close_streams(self) -> None:
        """Close every connection cleanly (the exchange is closing)."""
        for stream in self.streams:
            await stream.flush_and_close(1001)

    def _verify_ws(self, params: Mapping[str, str], host: str | None,
                   path: str) -> AuthFailure | None:
        """An ``auth`` op's signature, checked like a GET request to ``path``."""
        return verify("GET", host, path, params, self.credentials, self.server_time(),
                      self.ed25519_keys)

    async def _ws_notification(self, request: web.Request) -> web.StreamResponse:
        """``/ws/v5/notification``: auth, sub / unsub, pong; pushes come from the notifier."""
        return await self._ws_serve(request, NOTIFICATION_PATH, self._notification_op)

    async def _ws_trade(self, request: web.Request) -> web.StreamResponse:
        """``/linear-swap-trade``: auth, pong and the trade ops."""
        return await self._ws_serve(request, TRADE_PATH, self._trade_op)

    async def _ws_serve(self, request: web.Request, path: str,
                        on_op: Callable[[Stream, dict[str, Any]], None]) -> web.StreamResponse:
        """One connection: read frames until it ends, ping it meanwhile."""
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        config = self.notifier.config
        stream = Stream(ws, request, path, config.gzip)
        self.notifier.streams.append(stream)
        pinger = asyncio.get_running_loop().create_task(run_pinger(stream, config))
        try:
            async for frame in ws:
                if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                message = decode_frame(frame.type, frame.data)
                stream.received.append(message)
                if not isinstance(message, dict):
                    stream.send({"op": "error", "err-code": 2040, "err-msg": WS_ERRORS[2040],
                                 "ts": self._ts()})
                    continue
                op = message.get("op")
                if op == "auth":
                    stream.send(authenticate(stream, message, config))
                elif op == "pong":
                    pong(stream, message)
                else:
                    on_op(stream, message)
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger
            await stream.finish()
            with contextlib.suppress(ValueError):
                self.notifier.streams.remove(stream)
        return ws

    def _notification_op(self, stream: Stream, message: dict[str, Any]) -> None:
        """``sub`` / ``unsub``; anything else is answered 2040."""
        if message.get("op") in ("sub", "unsub"):
            stream.send(subscription(stream, message, self.v5.book.contracts, self._ts()))
            return
        stream.send({"op": message.get("op"), "cid": message.get("cid"), "err-code": 2040,
                     "err-msg": WS_ERRORS[2040], "ts": self._ts()})

    def _trade_op(self, stream: Stream, message: dict[str, Any]) -> None:
        """One trade op: authenticated, within the trade pool, recorded like a REST request."""
        op, cid, ts = message.get("op"), message.get("cid"), self._ts()
        if not isinstance(op, str) or op not in TRADE_OPS:
            stream.send({"code": 2040, "message": f"{WS_ERRORS[2040]} (op)", "ts": ts,
                         "cid": cid})
            return
        if not stream.authenticated:
            stream.send({"code": 2002, "message": WS_ERRORS[2002], "ts": ts, "cid": cid})
            return
        self._tick()
        self._seq += 1
        data = message.get("data")
        record = RequestRecord(self._seq, self._clock.now(), TRADE_PATH, op, stream.access_key,
                               {}, body=data if isinstance(data, dict | list) else {},
                               method="WS")
        self.requests.append(record)
        if not self.pools.admit((TRADE,), record.arrival):
            self.rejected_1032 += 1
            record.status, record.err_code = 200, RATE_LIMITED[0]
            record.answered = self._clock.now()
            stream.send({"code": RATE_LIMITED[0], "message": RATE_LIMITED[1], "ts": ts,
                         "cid": cid})
            return
        record.accepted = True
        done = run_op(self.v5, op, data, record.seq, ts)
        record.status, record.err_code = 200, done.err_code
        record.id_field, record.ids = done.id_field, done.ids
        record.cancelled, record.placed = done.cancelled, done.placed
        record.answered = self._clock.now()
        stream.send(answer(done, cid, self.ws_trade_keys))
