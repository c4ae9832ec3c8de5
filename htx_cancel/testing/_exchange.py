"""A fake HTX USDT-margined swap exchange: a real aiohttp server, strict about what it checks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Literal, TypeAlias

import msgspec
from aiohttp import web

from .._catalog import READ_POOL, Endpoint, endpoint_for_path
from .._clock import Clock, LoopClock
from ._answers import ERR_RATE_LIMITED, ERROR_STYLES, ErrorStyle, error_answer
from ._auth import Ed25519Key, load_ed25519_key, verify
from ._faults import Fault, FaultInjector, FaultKind
from ._orders import OrderBook
from ._outsider import Outsider
from ._place import PLACEMENTS, place
from ._process import Processed, process, read_body
from ._ratelimit import ServerPools, Window
from ._reads import other, read
from ._records import RequestRecord
from ._respond import PlainText, RateHeaders, Responder
from ._routes import Route
from ._state import ExchangeState
from ._streams import NOTIFICATION_PATH, TRADE_PATH, StreamServer
from ._switch import CancelAfterSwitch
from ._v5 import codes as v5codes
from ._v5.account import CancelAllNothing, V5Account
from ._v5.envelope import V5Style, check_styles
from ._v5.envelope import error as v5_error
from ._v5.request import Handler as V5Handler
from ._v5.request import V5Request
from ._v5.routes import ALGO_POOL, v5_route
from ._v5.ws import WsConfig
from ._v5.ws_notify import Notifier
from ._v5.ws_trade import TradeKeys

CANCEL_AFTER = "linear-cancel-after"
UID = 100000001  # the fake account's user id (WebSocket acks and pushes)
HOURS = 3600.0
AUTH_FIELDS = frozenset({"AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp",
                         "Signature"})

__all__ = ["Api", "FakeExchange"]

Latency: TypeAlias = float | Callable[[], float]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Api = Literal["both", "v1", "v5"]
Process = Callable[[bytes, int], Processed]
_any_json = msgspec.json.Decoder()


class FakeExchange(ExchangeState, Responder, StreamServer):
    """HTX's USDT-margined swap private API on 127.0.0.1, for tests, benchmarks and demos.

    ``async with FakeExchange({"key": "secret"}) as ex:`` serves both API families at
    ``ex.base_url``, on one account: v5 (``/v5/trade/...``, ``/v5/algo/...``) and v1
    (``/linear-swap-api/v1/...``), as one HTX host does: cancels, placements, order info and
    listings, the dead man's switch, and plausible answers for the other reads; and the v5
    WebSockets, ``/ws/v5/notification`` (``orders`` pushes) and ``/linear-swap-trade`` (trade
    ops on the same trade pool) at :meth:`ws_url`. ``api`` serves
    one family only; ``migrated=True`` makes v1's private paths answer 6023, as HTX does for an
    account on the new system. Seed orders with :meth:`seed` or place them through the API,
    inject faults through ``ex.faults`` and inspect ``ex.requests`` afterwards. See
    ``docs/testing.md`` for every option.
    """

    def __init__(
        self,
        credentials: Mapping[str, str] | None = None,
        *,
        trade_limit: tuple[int, float] = (72, 3.0),
        strategy_limit: tuple[int, float] = (5, 1.0),
        window: Window = "sliding",
        rate_limits: bool = True,
        latency: Latency = 0.0,
        clock_skew: float = 0.0,
        faults: FaultInjector | Iterable[Fault | FaultKind | str] | None = None,
        seed: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        plain_text: PlainText = "alternate",
        hang_seconds: float = 5.0,
        clock: Clock | None = None,
        read_limit: tuple[int, float] = (72, 3.0),
        ed25519_keys: Mapping[str, object] | None = None,
        fill_before_cancel: float = 0.0,
        fill_during_cancel: float = 0.0,
        cancelling_seconds: float = 0.0,
        cancelled_retention: float = 2 * HOURS,
        client_id_retention: float = 8 * HOURS,
        cancel_after_kinds: Iterable[str] = ("order",),
        outsider_rate: float | None = None,
        outsider_endpoint: str = "swap_order",
        error_style: ErrorStyle = "err_code",
        ts_as_string: bool = False,
        api: Api = "both",
        migrated: bool = False,
        migrated_code: int = 6023,
        cancel_lag: float = 0.0,
        v5_styles: Iterable[V5Style] = (),
        cancel_all_nothing: CancelAllNothing = "empty",
        rate_headers: RateHeaders = "all",
        algo_limit: tuple[int, float] | None = None,
        position_mode: str = "single_side",
        ws_ping_interval: float = 5.0,
        ws_push_delay: float = 0.0,
        ws_gzip: bool = False,
        ws_trade_keys: TradeKeys = "snake",
    ) -> None:
        if error_style not in ERROR_STYLES:
            raise ValueError(f"error_style must be one of {', '.join(ERROR_STYLES)}")
        if api not in ("both", "v1", "v5"):
            raise ValueError(f"api must be 'both', 'v1' or 'v5', got {api!r}")
        if migrated_code not in v5codes.MIGRATED:
            raise ValueError(f"migrated_code must be one of {sorted(v5codes.MIGRATED)}")
        if rate_headers not in ("all", "v1", "none"):
            raise ValueError(f"rate_headers must be 'all', 'v1' or 'none', got {rate_headers!r}")
        if not ws_ping_interval > 0 or ws_push_delay < 0:
            raise ValueError("ws_ping_interval must be > 0 and ws_push_delay >= 0 seconds")
        if ws_trade_keys not in ("snake", "camel"):
            raise ValueError("ws_trade_keys must be 'snake' or 'camel'")
        if position_mode not in ("single_side", "dual_side"):
            raise ValueError("position_mode must be 'single_side' or 'dual_side'")
        if isinstance(cancel_lag, bool) or not isinstance(cancel_lag, int | float) or (
                cancel_lag < 0):
            raise ValueError(f"cancel_lag must be seconds (>= 0), got {cancel_lag!r}")
        for name, p in (("fill_before_cancel", fill_before_cancel),
                        ("fill_during_cancel", fill_during_cancel)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {p!r}")
        if (credentials is None) and ed25519_keys:
            credentials = {}
        self.credentials: dict[str, str] = dict(
            {"test-access": "test-secret"} if credentials is None else credentials
        )
        self.ed25519_keys: dict[str, Ed25519Key] = {
            access: load_ed25519_key(key) for access, key in (ed25519_keys or {}).items()
        }
        self.pools = ServerPools(trade_limit, strategy_limit, window, rate_limits, read_limit)
        if algo_limit is not None:
            self.pools.named[ALGO_POOL] = algo_limit
        self.algo_limit = algo_limit
        if not callable(latency) and (isinstance(latency, bool)
                                      or not isinstance(latency, (int, float)) or latency < 0):
            raise ValueError(f"latency must be seconds (>= 0) or a function returning them, "
                             f"got {latency!r}")
        self.latency: Latency = latency
        self.clock_skew = clock_skew
        self.faults = self._make_injector(faults, hang_seconds)
        self.book = OrderBook(seed, self.server_time)
        self.book.fill_before_cancel = fill_before_cancel
        self.book.fill_during_cancel = fill_during_cancel
        self.book.cancelling_seconds = cancelling_seconds
        self.book.cancel_lag = float(cancel_lag)
        self.api: Api = api
        self.migrated = migrated
        self.migrated_code = migrated_code
        self.v5_styles = check_styles(v5_styles)
        self.rate_headers: RateHeaders = rate_headers
        self.cancelled_retention = cancelled_retention
        self.client_id_retention = client_id_retention
        self.cancel_after_kinds = frozenset(cancel_after_kinds)
        self.error_style: ErrorStyle = error_style
        self.ts_as_string = ts_as_string
        self.host = host
        self.port = port
        self.plain_text: PlainText = plain_text
        self.requests: list[RequestRecord] = []
        self.rejected_1032 = 0
        self.timestamp_requests = 0
        self._clock: Clock = clock or LoopClock()
        self._answers = 0
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        self.cancel_after = CancelAfterSwitch(self._clock, self._ts, self._switch_fired)
        self.v5 = V5Account(self.book, self.cancel_after, self.server_time, seed,
                            cancel_all_nothing)
        self.v5.position_mode = position_mode
        self.uid = UID
        self.ws_trade_keys: TradeKeys = ws_trade_keys
        self.notifier = Notifier(
            WsConfig(self._clock, self._ts, self._verify_ws, ws_ping_interval, ws_gzip, UID),
            self.server_time, ws_push_delay)
        self.book.listeners.append(self.notifier.on_change)
        self.book.listeners.append(self._end_phase_on_time)
        self.outsider: Outsider | None = None
        self._outsider_plan = (outsider_rate, outsider_endpoint)
        self.app = self._make_app()

    @staticmethod
    def _make_injector(
        faults: FaultInjector | Iterable[Fault | FaultKind | str] | None, hang_seconds: float
    ) -> FaultInjector:
        """Use the given injector, or script the given faults for any endpoint."""
        if isinstance(faults, FaultInjector):
            return faults
        injector = FaultInjector(hang_seconds=hang_seconds)
        if faults is not None:
            injector.script(None, faults)
        return injector

    def _make_app(self) -> web.Application:
        """The web application: the private endpoints, the timestamp, JSON 404s for the rest."""
        app = web.Application(middlewares=[self._track_task])
        app.router.add_post("/linear-swap-api/{version}/{name}", self._private)
        app.router.add_route("*", "/v5/{tail:.+}", self._v5)
        app.router.add_get(NOTIFICATION_PATH, self._ws_gate(self._ws_notification))
        app.router.add_get(TRADE_PATH, self._ws_gate(self._ws_trade))
        app.router.add_get("/api/v1/timestamp", self._timestamp)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        return app

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> FakeExchange:
        """Listen on ``host``:``port`` (port 0 picks a free one)."""
        if self._runner is not None:
            raise RuntimeError("FakeExchange already started")
        runner = web.AppRunner(
            self.app, shutdown_timeout=0.2, access_log=None, handle_signals=False
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        rate, endpoint = self._outsider_plan
        if rate is not None:
            self.start_outsider(rate, endpoint)
        return self

    async def close(self) -> None:
        """Stop serving; in-flight handlers (e.g. hanging ones) are cancelled, not awaited."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        await self.stop_outsider()
        self.cancel_after.disarm()
        await self._close_streams()
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)
        await runner.cleanup()

    def start_outsider(self, rate: float, endpoint: str = "swap_order") -> Outsider:
        """Start another program on the account: ``rate`` requests/s to ``endpoint``'s pools.

        Stops with :meth:`stop_outsider` or when the exchange closes. Replaces a running one.
        """
        if self._runner is None:
            raise RuntimeError("start the FakeExchange before its outsider")
        if self.outsider is not None and self.outsider.running:
            raise RuntimeError("an outsider is already running: stop_outsider() first")
        pools = self._pools_for(endpoint)
        self.outsider = Outsider(rate, endpoint, self._clock, lambda now: self.pools.admit(
            pools, now))
        self.outsider.start()
        return self.outsider

    def _pools_for(self, name: str) -> tuple[str, ...]:
        """The pools of a v1 endpoint name or path, or of a v5 path (``GET /v5/...`` too)."""
        method, _, path = name.rpartition(" ")
        if path.startswith("/v5/"):
            found = (v5_route(method or "POST", path, algo_pool=self.algo_limit is not None)
                     or v5_route("GET", path))
            if found is None:
                raise ValueError(f"the fake serves no v5 path {path!r}")
            return found[0].pools
        return endpoint_for_path(name).pools

    async def stop_outsider(self) -> None:
        """Stop the outsider, if one runs (its counts stay readable)."""
        if self.outsider is not None:
            await self.outsider.stop()

    async def __aenter__(self) -> FakeExchange:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def ws_url(self, path: str = NOTIFICATION_PATH) -> str:
        """``ws://127.0.0.1:PORT/ws/v5/notification`` (or ``/linear-swap-trade``)."""
        return self.base_url.replace("http://", "ws://", 1) + path

    def _ws_gate(self, handler: Handler) -> Handler:
        """The v5 WebSockets are not served with ``api="v1"``."""

        async def gated(request: web.Request) -> web.StreamResponse:
            if self.api == "v1":
                return await self._not_found(request)
            return await handler(request)

        return gated

    def _end_phase_on_time(self, order: object, event: str) -> None:
        """A timed cancelling phase ends on time, not only at the next request (for pushes)."""
        if event == "cancelling":
            self._clock.call_at(self._clock.now() + self.book.cancelling_seconds, self.book.tick)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        if self._runner is None:
            raise RuntimeError("FakeExchange is not started")
        return f"http://{self.host}:{self.port}"

    def server_time(self) -> float:
        """The server's epoch seconds: the wall clock plus ``clock_skew``."""
        return self._clock.wall() + self.clock_skew

    def _ts(self) -> int:
        """Server epoch milliseconds."""
        return int(self.server_time() * 1000)

    # -- handlers -------------------------------------------------------------------------------

    @web.middleware
    async def _track_task(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Remember the running handler so ``close`` can cancel it."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            return await handler(request)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _timestamp(self, request: web.Request) -> web.StreamResponse:
        """``GET /api/v1/timestamp``."""
        self.timestamp_requests += 1
        return self._json({"status": "ok", "ts": self._ts()})

    async def _not_found(self, request: web.Request) -> web.StreamResponse:
        """Anything else: a JSON 404 (in v5's envelope under ``/v5/``)."""
        if request.path.startswith("/v5/"):
            answer = v5_error(*v5codes.NO_PATH, self._ts())
            return self._json(answer, status=404, family="v5")
        return self._json(error_answer(404, "Not Found", self._ts()), status=404)

    async def _private(self, request: web.Request) -> web.StreamResponse:
        """One v1 request (``/linear-swap-api/...``)."""
        try:
            endpoint = endpoint_for_path(request.path)
        except ValueError:
            return await self._not_found(request)
        if self.api == "v5":
            return await self._not_found(request)
        route = Route(endpoint.name, "POST", endpoint.path, endpoint.pools, "v1")
        return await self._serve(request, route,
                                 lambda raw, seq: self._process(endpoint, raw, seq))

    async def _v5(self, request: web.Request) -> web.StreamResponse:
        """One v5 request (``/v5/...``)."""
        found = v5_route(request.method, request.path, algo_pool=self.algo_limit is not None)
        if found is None or self.api == "v1":
            return await self._not_found(request)
        route, handler = found
        params = _own_params(request) if request.method == "GET" else None
        return await self._serve(request, route,
                                 lambda raw, seq: self._process_v5(handler, raw, params, seq))

    async def _serve(self, request: web.Request, route: Route,
                     work: Process) -> web.StreamResponse:
        """One private request: arrive, authenticate, rate-limit, fault, process, answer."""
        await self._arrive()
        self._tick()
        record = self._record(request, route)
        raw = await request.read()
        record.body = _own_params(request) if request.method == "GET" else read_body(raw)
        failure = verify(
            request.method,
            request.headers.get("Host"),
            request.path,
            request.query,
            self.credentials,
            self.server_time(),
            self.ed25519_keys,
        )
        if failure is not None:
            answer = self._error(route, failure.err_code, failure.err_msg, self._ts())
            return self._finish(record, route, answer, failure.http_status)
        if not self.pools.admit(route.pools, record.arrival):
            self.rejected_1032 += 1
            return self._finish(record, route, self._error(route, *ERR_RATE_LIMITED, self._ts()))
        record.accepted = True
        if route.family == "v1" and self.migrated:
            message = v5codes.MIGRATED[self.migrated_code]
            return self._finish(record, route, error_answer(self.migrated_code, message,
                                                             self._ts()))
        fault = self.faults.take(route.name, route.method)
        if fault is not None:
            record.fault = fault.kind
            if fault.before:
                return self._fault_before(record, route, fault)
        done = work(raw, record.seq)
        if done.body or request.method == "POST":
            record.body = done.body
        record.id_field, record.ids = done.id_field, done.ids
        record.cancelled, record.placed = done.cancelled, done.placed
        if fault is None:
            return self._finish(record, route, done.answer, err_code=done.err_code)
        return await self._fault_after(request, record, route, fault, done.answer)

    def _process_v5(self, handler: V5Handler, raw: bytes, params: dict[str, object] | None,
                    seq: int) -> Processed:
        """What a v5 path does to the account, and its answer."""
        ts = self._ts()
        body: object = params
        try:
            if params is None:
                body = _any_json.decode(raw) if raw.strip() else None
        except msgspec.DecodeError:
            return Processed(v5_error(*v5codes.INPUT, ts), v5codes.INPUT[0])
        try:
            result = handler(self.v5, V5Request(body, seq, ts))
        except v5codes.V5Error as exc:
            result = Processed(v5_error(exc.code, exc.message, ts), exc.code)
        if isinstance(body, dict | list):
            result.body = body
        return result

    def _process(self, endpoint: Endpoint, raw: bytes, seq: int) -> Processed:
        """What the endpoint does to the book, and its answer."""
        ts = self._ts()
        if endpoint.is_cancel:
            return process(endpoint, raw, self.book, seq, ts)
        if endpoint.name in PLACEMENTS:
            return place(endpoint, raw, self.book, ts)
        if endpoint.name == CANCEL_AFTER:
            answer, code = self.cancel_after.handle(raw, ts)
            return Processed(answer, code, body=read_body(raw))
        if endpoint.pools[0] == READ_POOL:
            return read(endpoint, raw, self.book, ts)
        return Processed(other(endpoint, ts), body=read_body(raw))

    def _tick(self) -> None:
        """Let time act before a request: the switch, cancelling phases, retention."""
        self.cancel_after.check()
        self.book.tick()
        self.book.forget_expired(self.cancelled_retention, self.client_id_retention)

    def _switch_fired(self) -> tuple[str, ...]:
        """The cancel-after timer ran out: cancel every open order of the chosen kinds."""
        # cancelled_by 0: no request did it (request sequence numbers start at 1).
        outcome = self.book.cancel_all(None, None, None, None, 0, "timeout-canceled-order",
                                       self.cancel_after_kinds)
        return tuple(outcome.cancelled)

    async def _arrive(self) -> None:
        """Sleep the configured latency: the request 'arrives' afterwards."""
        delay = self.latency() if callable(self.latency) else self.latency
        if delay > 0:
            await self._clock.sleep(delay)

    def _record(self, request: web.Request, route: Route) -> RequestRecord:
        """Start the record of a request arriving now."""
        self._seq += 1
        query = {k: v for k, v in request.query.items() if k != "Signature"}
        record = RequestRecord(
            self._seq,
            self._clock.now(),
            request.path,
            route.name,
            request.query.get("AccessKeyId"),
            query,
            method=route.method,
        )
        self.requests.append(record)
        return record


def _own_params(request: web.Request) -> dict[str, object]:
    """A GET request's own query parameters (first values), without the signature fields."""
    params: dict[str, object] = {}
    for key, value in request.query.items():
        if key not in AUTH_FIELDS:
            params.setdefault(key, value)
    return params
