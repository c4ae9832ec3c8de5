"""CancelClient: the public calls. Validate, pick the endpoint, chunk, hand batches to the driver.

The attempt machine (``_attempt``) decides what each batch does next; the driver (``_driver``)
does it. This module checks input before anything is sent and folds outcomes into reports.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator, Mapping, Sized
from itertools import islice
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload
from urllib.parse import urlsplit

import msgspec

from ._catalog import ApiName, Endpoint, Kind, Margin, Priority, api_table, endpoint_for_path
from ._client_stats import ClientStats
from ._clock import Clock, LoopClock
from ._credentials import Credentials
from ._errors import DecodeError, TransportError
from ._events import RequestObserver
from ._ids import (
    FILTER_CHOICES,
    Direction,
    Ids,
    Offset,
    PositionSide,
    Side,
    chunk,
    validate_choice,
    validate_contract_code,
    validate_ids,
)
from ._limits import (
    DEFAULT_LIMITS,
    Limiter,
    LimiterStats,
    RateLimits,
    check_priority,
    shared_limiter,
)
from ._models import cancel_body, encode_body
from ._order_state import OrderState
from ._pace import DEFAULT_BUDGET, Pacer
from ._protocol import Call, Target, targets_for_ids, targets_from_report
from ._protocol._push import OrderUpdate
from ._ratio import CancelRatio, placed_ids
from ._report import CancelReport
from ._retry import RetryPolicy
from ._send import Batch, Driver
from ._signing import Signer
from ._stream import ALL, NOTIFICATION_PATH, OrderStream, StreamGap, Watch
from ._switch import CancelAfter, FailureCallback
from ._transports import AiohttpTransport, Timeouts, Transport
from ._transports._trade_ws import TRADE_PATH, TradeSocketTransport
from ._transports._warm import KEEP_INTERVAL, PUBLIC_PATH, Warmer
from ._transports._ws import WsConnector, ws_url
from ._unlimited import Unlimited
from ._verification import Verifier, VerifyPolicy

if TYPE_CHECKING:
    import aiohttp

__all__ = ["CancelClient"]

T = TypeVar("T")

ID_SLICE = 1_000  # ids validated between two yields to the loop


def _signed_host(base_url: str) -> tuple[str, str]:
    """The base URL without a trailing slash, and the host as the signature must name it."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ValueError(f"base_url must be the exchange's address alone (scheme, host, port), "
                         f"without a path or query: got {base_url!r}")
    host = parts.hostname.lower()
    default = 443 if parts.scheme == "https" else 80
    if parts.port is not None and parts.port != default:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}", host


class CancelClient:
    """Cancels HTX USDT-margined swap orders, as fast as the rate limits allow.

    Use it as an async context manager. One client may be shared by many tasks; by default all
    clients of the same access key and limits in this process share one limiter
    ([`shared_limiter()`][htx_cancel.shared_limiter]); pass ``limiter=`` to use another.
    ``clock`` is the client's own time (retries, deadlines); a limiter keeps its own.

    ``rate_limits=None`` turns limiting off (for tests and benchmarks). ``session`` lends the
    client an aiohttp session it will not close; ``transport`` replaces the HTTP layer entirely
    (see [`htx_cancel.testing.MockTransport`][htx_cancel.testing.MockTransport]). ``on_request`` is
    called with a [`RequestEvent`][htx_cancel.RequestEvent] after every attempt.

    v5 only: ``stream=True`` keeps HTX's order stream (``/ws/v5/notification``, every
    contract) open, connecting in the background from ``async with``
    ([`open_stream()`][htx_cancel.CancelClient.open_stream] waits for it), so that ``verify=True``
    learns states from its pushes instead of the read pool; a cancel never waits for it
    (docs/streams.md); ``trade_socket=True`` sends cancels on the trade socket
    (``/linear-swap-trade``), over HTTP while it is down.

    ``warm=True`` opens the connections of one burst from ``async with`` on, in the background,
    and keeps them open while the client is idle (see
    [`warm()`][htx_cancel.CancelClient.warm] and docs/connections.md).

    :param credentials: the account's [`Credentials`][htx_cancel.Credentials] (anything else is a
        TypeError).
    :param api: ``"v5"`` (the default) or ``"v1"``: which HTX API every call speaks; anything else
        is a ValueError.
    :param base_url: the exchange's address, scheme and host (and port) only, default
        ``https://api.hbdm.com``; a path, query or fragment (``.../linear-swap-api``) or a URL that
        is not http(s) is a ValueError.
    :param rate_limits: the account's [`RateLimits`][htx_cancel.RateLimits] (default: HTX's); the
        shared limiter of this access key and these limits is used. None turns limiting off.
    :param limiter: a [`Limiter`][htx_cancel.Limiter] to draw on instead of the shared one (a
        [`RateLimiter`][htx_cancel.RateLimiter] of your own, a
        [`RedisLimiter`][htx_cancel.redis_limiter.RedisLimiter]); ``rate_limits`` is then unused.
    :param retry: the [`RetryPolicy`][htx_cancel.RetryPolicy]: attempts, backoff and the deadline of
        every call.
    :param timeouts: the [`Timeouts`][htx_cancel.Timeouts] of each HTTP request and socket connect,
        in seconds (default: 10 for a request, 3 to connect).
    :param session: an aiohttp session to send through; the client does not close it. None: the
        client makes its own and closes it in ``close()``.
    :param transport: a [`Transport`][htx_cancel.Transport] replacing the HTTP layer entirely (such
        as [`MockTransport`][htx_cancel.testing.MockTransport] in tests); ``session`` is then unused
        for REST.
    :param clock: the client's time for retries and deadlines (default: the event loop's); a limiter
        keeps its own.
    :param max_in_flight: at most this many batches of one call are sent at once (default 100); less
        than 1 is a ValueError.
    :param seed: seeds the random jitter of retry backoffs, for repeatable runs (None: unseeded).
    :param on_request: called with a [`RequestEvent`][htx_cancel.RequestEvent] after every attempt
        of every request (for metrics and logs); None: nothing is called.
    :param stream: v5 only: True keeps HTX's order stream open from ``async with`` on, so that
        ``verify=True`` learns states from its pushes; ignored on v1. Default False.
    :param trade_socket: v5 only: True sends cancels on the trade socket (``/linear-swap-trade``),
        over HTTP while it is down; ignored on v1. Default False.
    :param loop_budget: the most seconds one event-loop iteration spends starting requests
        (default 0.0008): when a window opens and a burst of requests is granted at once, they
        start a slice per iteration, the most urgent first, so that the caller's own tasks run
        between slices. None starts each request as soon as its slot is granted (a burst in
        one iteration), as does a client whose limits are off (``rate_limits=None`` and no
        ``limiter``). Not a positive number is a ValueError.
    :param warm: True opens ``warm()``'s default number of connections from ``async with`` on,
        in the background, and keeps them open until ``close()``; a number opens that many
        (0 or False: none; a negative number is a ValueError). Default False: connections open
        as requests need them. With a ``transport`` that cannot warm connections (anything but
        an ``AiohttpTransport``) it is a ValueError.
    """

    __slots__ = ("_api", "_base", "_clock", "_credentials", "_driver", "_http", "_limiter",
                 "_max_in_flight", "_ratio", "_signer", "_stream", "_stream_wanted",
                 "_trade", "_transport", "_unlimited", "_warm_burst", "_warm_wanted",
                 "_warmer", "_ws")

    def __init__(
        self,
        credentials: Credentials,
        *,
        api: ApiName = "v5",
        base_url: str = "https://api.hbdm.com",
        rate_limits: RateLimits | None = DEFAULT_LIMITS,
        limiter: Limiter | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeouts: Timeouts = Timeouts(),
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        clock: Clock | None = None,
        max_in_flight: int = 100,
        seed: int | None = None,
        on_request: RequestObserver | None = None,
        stream: bool = False,
        trade_socket: bool = False,
        loop_budget: float | None = DEFAULT_BUDGET,
        warm: bool | int = False,
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise TypeError("credentials must be a htx_cancel.Credentials")
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
        self._api = api_table(api)
        self._base, host = _signed_host(base_url)
        self._credentials = credentials
        self._clock: Clock = clock or LoopClock()
        if limiter is None and rate_limits is not None:
            limiter = shared_limiter(credentials.access_key, rate_limits)
        self._limiter = limiter
        self._unlimited = Unlimited()
        self._transport: Transport = transport or AiohttpTransport(session, timeouts=timeouts)
        self._http = self._transport  # what warms connections (the trade socket wraps it)
        # warm()'s default: one window's burst of the trade pool, as many requests as one call
        # sends at once, capped by the connector's limit in warm()
        trade = (rate_limits or DEFAULT_LIMITS).spec("trade").limit if limiter is None else (
            DEFAULT_LIMITS.trade[0])
        self._warm_burst = min(trade, max_in_flight)
        self._warm_wanted = _warm_count(warm, self._warm_burst)
        if self._warm_wanted and not callable(getattr(self._http, "touch", None)):
            raise ValueError("warm needs the HTTP transport (AiohttpTransport); this transport "
                             "cannot open connections ahead")
        self._warmer: Warmer | None = None
        self._max_in_flight = max_in_flight
        signer = Signer(credentials.access_key, credentials.secret_key, host,
                        ed25519=credentials.ed25519_sign)
        self._signer = signer
        self._ws = WsConnector(session, timeouts=timeouts)
        self._stream: OrderStream | None = None
        self._stream_wanted = stream and self._api.name == "v5"
        self._ratio = CancelRatio()
        self._trade: TradeSocketTransport | None = None
        if trade_socket and self._api.name == "v5":
            self._trade = TradeSocketTransport(
                self._transport, ws_url(self._base, TRADE_PATH), signer, self._ws,
                self._clock, self._exchange_time)
            self._transport = self._trade
        if loop_budget is not None and not loop_budget > 0:
            raise ValueError(f"loop_budget must be a positive number of seconds or None, got "
                             f"{loop_budget!r}")
        # limits off: the caller sets the pace (and a retry after a 1032 waits for the
        # exchange's reset with the whole burst: spread out, its slots would free one by one)
        pacer = None if loop_budget is None or limiter is None else Pacer(loop_budget)
        self._driver = Driver(self._base, signer, self._transport, limiter, self._clock, retry,
                              random.Random(seed), on_request, pacer)

    def __repr__(self) -> str:
        return (f"CancelClient(api={self._api.name!r}, base_url={self._base!r}, "
                f"credentials={self._credentials!r})")

    @property
    def api(self) -> ApiName:
        """``"v5"`` or ``"v1"``: the API this client speaks."""
        return self._api.name

    async def __aenter__(self) -> CancelClient:
        if self._stream_wanted:  # stream=True: connecting in the background from now
            self._order_stream().want(ALL)
        if self._warm_wanted:  # warm=: opening in the background from now
            count = min(self._warm_wanted, self._warm_cap())
            self._warming(count).start(count, KEEP_INTERVAL)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop the warm-up, close the HTTP session if the client made it, and the sockets."""
        if self._warmer is not None:
            await self._warmer.close()
        if self._stream is not None:
            await self._stream.close()
        await self._transport.close()
        await self._ws.close()

    @property
    def limiter(self) -> Limiter:
        """The rate limiter this client draws on (one that never waits when limiting is off:
        ``rate_limits=None``)."""
        return self._limiter if self._limiter is not None else self._unlimited

    @property
    def time_offset(self) -> float:
        """Seconds to add to this machine's clock to get the exchange's (see ``sync_time``)."""
        return self._driver.offset

    async def sync_time(self) -> float:
        """Measure the exchange's clock from ``GET /api/v1/timestamp``; sign with it from now on.

        Returns the offset in seconds (exchange minus local), taken at the middle of the round
        trip. Raises [`DecodeError`][htx_cancel.DecodeError] when the answer holds no time.
        """
        return await self._driver.sync_time()

    async def warm(self, connections: int | None = None, *, keep: bool = True,
                   interval: float = KEEP_INTERVAL) -> int:
        """Open connections to the exchange now, before the first burst needs them.

        Sends ``connections`` unsigned public requests at once (``GET /api/v1/timestamp``, on
        none of the account's rate limits), each opening a connection (TCP and TLS) that stays
        in the pool for the cancels. With ``keep`` the same round is sent again every
        ``interval`` seconds while the client is idle, until ``close()``, so that neither
        aiohttp nor the server closes them as idle. Returns how many answered; failures (the
        exchange down) are logged and counted in ``stats().warm``, never raised. A cancel sent
        meanwhile never waits for the warm-up. See docs/connections.md for the trade-offs.

        :param connections: how many to open (at least 1); None (the default): one window's
            burst of the trade pool (72 with HTX's limits), at most ``max_in_flight`` and the
            connection limit (100 with the client's own session).
        :param keep: True (the default) keeps them open until ``close()``; False opens them once.
        :param interval: seconds between the keeper's rounds (default 15.0, below common idle
            timeouts); it must be more than 0 (else a ValueError).
        """
        if not interval > 0:
            raise ValueError(f"interval must be more than 0 seconds, got {interval!r}")
        if connections is not None and (isinstance(connections, bool)
                                        or not isinstance(connections, int) or connections < 1):
            raise ValueError(f"connections must be at least 1, got {connections!r}")
        count = min(self._warm_burst if connections is None else connections, self._warm_cap())
        if not callable(getattr(self._http, "touch", None)):
            raise ValueError("warm() needs the HTTP transport (AiohttpTransport); this "
                             "transport cannot open connections ahead")
        return await self._warming(count).warm(count, keep=keep, interval=interval)

    def _warm_cap(self) -> int:
        """The most connections a warm-up opens: the connector's limit (none: no cap)."""
        limit = getattr(self._http, "connection_limit", 0)
        return limit if isinstance(limit, int) and limit > 0 else self._max_in_flight

    def _warming(self, count: int) -> Warmer:
        """The client's warmer, made on first use, with ``count`` set aside in its connector."""
        http = self._http
        reserve = getattr(http, "reserve", None)
        if callable(reserve):
            reserve(count)
        if self._warmer is None:
            url = f"{self._base}{PUBLIC_PATH}"
            touch = http.touch  # type: ignore[attr-defined]

            def busy() -> bool:  # requests of this account in flight: a keeper round waits
                stats_of = getattr(self._limiter, "stats", None)
                stats = stats_of() if callable(stats_of) else None
                if not isinstance(stats, LimiterStats):  # none, or a limiter that cannot say
                    close = getattr(stats, "close", None)  # an awaitable's: never awaited
                    if callable(close):
                        close()
                    return False
                return any(pool.in_flight for pool in stats.pools.values())

            self._warmer = Warmer(lambda: touch(url), self._clock, busy)
        return self._warmer

    # -- public cancels --------------------------------------------------------------------

    async def cancel(self, kind: Kind, contract_code: str, order_ids: Ids = (),
                     *, client_order_ids: Ids = (), margin: Margin | None = None,
                     priority: Priority = "high", report: CancelReport | None = None,
                     verify: bool | VerifyPolicy = False) -> CancelReport:
        """Cancel orders of one kind by id: on v5 ``order`` or ``algo`` (``trigger``, ``tpsl``
        and ``track`` mean ``algo`` there), on v1 ``order``, ``trigger``, ``tpsl``, ``track``.

        Ids are checked before anything is sent, de-duplicated and sent in batches of the
        endpoint's size (v5: 10; v1: 25, strategy 20 or 10). Order ids and client order ids go
        in separate requests; an id may not be in both lists. ``margin`` (``isolated``, the
        default, or ``cross``) picks the v1 endpoint family; v5 cancels take none. Pass
        ``report`` to watch it fill as batches settle (and keep what was confirmed if the call
        is cancelled or times out).

        ``verify=True`` (or a [`VerifyPolicy`][htx_cancel.VerifyPolicy]) then asks the exchange what
        became of every id (read pool), cancels again what is still live, and fills
        ``report.states``; see docs/verifying.md.

        :param kind: ``"order"`` or ``"algo"`` on v5 (``"trigger"``, ``"tpsl"``, ``"track"`` mean
            ``"algo"`` there); ``"order"``, ``"trigger"``, ``"tpsl"`` or ``"track"`` on v1. Another
            kind is a ValueError.
        :param contract_code: the contract, such as ``BTC-USDT`` (upper-cased; ValueError when empty
            or not letters, digits, ``-`` and ``_``).
        :param order_ids: the exchange's order ids (v5 algo: algo ids) to cancel: a list, tuple,
            set, range or iterator of ``str`` or ``int`` ids, each a positive decimal integer up to
            2**63-1 (anything else, or a single string, is a ValueError); duplicates are dropped.
        :param client_order_ids: client order ids (v5 algo: algo client order ids) to cancel: a
            list, tuple, set, range or iterator of ``str`` or ``int`` ids, each a positive decimal
            integer up to 2**63-1 (anything else, or a single string, is a ValueError); duplicates
            are dropped. An endpoint that takes order ids only, or an id in both lists, is a
            ValueError.
        :param margin: v1 only: ``"isolated"`` (the default when None) or ``"cross"`` picks the
            endpoint family; v5 cancels take none and refuse any value with ValueError.
        :param priority: the limiter queue the requests wait in: ``"high"`` (the default for
            cancels), ``"normal"`` or ``"low"``; anything else is a ValueError.
        :param report: a [`CancelReport`][htx_cancel.CancelReport] to fill as batches settle (so
            what was confirmed is kept if the call is cancelled or times out); None makes a new one.
            The report is returned either way.
        :param verify: False (the default) returns what the cancel answers said; True, or a
            [`VerifyPolicy`][htx_cancel.VerifyPolicy] for its rules, then reads what became of every
            id (read pool), cancels again what is still live and fills ``report.states``.
        """
        table = self._api
        ep = table.cancel(kind, margin)
        code = validate_contract_code(contract_code)
        check_priority(priority)
        fields = ep.id_fields
        oids = await _validated(order_ids, fields[0])
        cids = await _validated(client_order_ids, fields[-1])
        if cids and len(fields) < 2:
            raise ValueError(f"{ep.name} takes order ids only, not client order ids")
        if cids and oids:
            both = set(oids).intersection(cids)
            if both:
                raise ValueError(f"id {min(both)!r} is given both as {fields[0]} and "
                                 f"{fields[-1]}")
        jobs = [(f, ids) for f, ids in zip(fields, (oids, cids), strict=False) if ids]
        call = Call(self._driver.deadline(), priority, CancelReport() if report is None else report)
        if verify is False:
            return await self._cancel(call, ep, code, jobs)
        own = ep.kind
        assert own is not None
        targets = [Target(own, ep.margin, code, f, tuple(ids), table.name) for f, ids in jobs]
        watch = await self._watch(code) if own == "order" else None
        try:
            return await self._cancel_verified(call, ep, code, jobs, targets, priority,
                                               verify, watch)
        finally:
            if watch is not None:
                watch.close()

    async def _cancel_verified(self, call: Call, ep: Endpoint, code: str,
                               jobs: list[tuple[str, list[str]]], targets: list[Target],
                               priority: Priority, verify: bool | VerifyPolicy,
                               watch: Watch | None) -> CancelReport:
        """Cancel and verify, states from ``watch`` (the order stream) when it has them."""
        own = ep.kind
        assert own is not None
        table = self._api
        async with self._verifier(priority, call.deadline, verify, watch,
                                  call.report.order_ids) as verifier:
            # Regular orders are read as their batches settle, while the cancel goes on.
            feed = verifier.feed(own, ep.margin, code, table.name)
            call.observers.append(feed)
            await self._cancel(call, ep, code, jobs)
            feed.flush()
            if call.stop is None:  # a rejected key or a migrated account: refused again
                await verifier.run(call.report, targets)
        self._ratio.filled(i for i, s in call.report.states.items()
                           if s in (OrderState.FILLED, OrderState.PARTIALLY_FILLED_CANCELLED))
        return call.report

    async def _watch(self, contract_code: str) -> Watch | None:
        """A watch of the order stream when it covers the contract now (v5); None otherwise.

        A cancel never waits for the stream: with ``stream=True`` it is started (every
        contract) if it is not yet, and a stream not yet subscribed, down or reconnecting means
        verification reads REST this time (``open_stream()`` at start-up makes a warm client).
        """
        if self._api.name != "v5":
            return None
        if self._stream_wanted:
            self._order_stream().want(ALL)
        stream = self._stream
        if stream is None or not stream.covers(contract_code):
            return None
        return stream.watch()

    # -- the order stream and the client's state -------------------------------------------

    def _order_stream(self) -> OrderStream:
        """The client's notification socket, made on first use."""
        if self._api.name != "v5":
            raise ValueError("the order stream is a v5 feature (api='v5')")
        if self._stream is None:
            self._stream = OrderStream(ws_url(self._base, NOTIFICATION_PATH), self._signer,
                                       self._ws, self._clock, self._exchange_time)
        return self._stream

    def _exchange_time(self) -> float:
        """The exchange's time now (epoch seconds), to sign with."""
        return self._clock.wall() + self._driver.offset

    async def open_stream(self, contract_code: str = ALL, *, within: float = 5.0) -> bool:
        """Open the order stream (``/ws/v5/notification``) and subscribe ``orders`` of a
        contract (``"*"``: every contract); True once the exchange acknowledged it within
        ``within`` seconds. From then on ``verify=True`` learns states from its pushes and it
        stays open (reconnecting) until the client closes.

        :param contract_code: the contract whose ``orders`` to subscribe; ``"*"`` (the default) for
            every contract.
        :param within: seconds to wait for the exchange's acknowledgement (default 5.0); False is
            returned when it did not come in time (the stream keeps trying).
        """
        return await self._order_stream().ensure(contract_code, within)

    async def order_updates(self, contract_code: str = ALL, *, gaps: bool = False,
                            within: float = 10.0) -> AsyncIterator[OrderUpdate | StreamGap]:
        """Every order update HTX pushes for a contract (``"*"``: all) from now on.

        ``async for update in client.order_updates("BTC-USDT"):`` yields
        [`OrderUpdate`][htx_cancel.OrderUpdate] objects (order id, client id, contract, state,
        filled volume, cancel reason, times). The stream reconnects and subscribes again by itself;
        pushes sent while it was down are lost: with ``gaps=True`` a
        [`StreamGap`][htx_cancel.StreamGap] is yielded after each reconnect (read the orders that
        matter from REST). See docs/streams.md.

        :param contract_code: the contract whose updates to yield; ``"*"`` (the default) for every
            contract.
        :param gaps: True also yields a [`StreamGap`][htx_cancel.StreamGap] after each reconnect
            (default False: gaps are skipped).
        :param within: seconds to wait for the subscription before yielding (default 10.0); when it
            did not come in time a warning is logged and the iterator waits on.
        """
        async for item in self._order_stream().updates(contract_code, gaps=gaps,
                                                       within=within):
            if isinstance(item, StreamGap) and not gaps:
                continue
            yield item

    def stats(self) -> ClientStats:
        """The limiter's pools, the sockets' health and the cancellation ratio, now."""
        stats_of = getattr(self._limiter, "stats", None)
        limiter = stats_of() if callable(stats_of) else None
        return ClientStats(
            limiter if limiter is not None and not hasattr(limiter, "__await__") else None,
            None if self._stream is None else self._stream.health(),
            None if self._trade is None else self._trade.stats(),
            self._ratio.stats(self._clock.now()),
            None if self._warmer is None else self._warmer.stats())

    async def cancel_all(self, kind: Kind, contract_code: str | None = None,
                         direction: Direction | None = None, offset: Offset | None = None, *,
                         side: Side | None = None, position_side: PositionSide | None = None,
                         margin: Margin | None = None, priority: Priority = "high",
                         report: CancelReport | None = None) -> CancelReport:
        """Cancel every open order of one kind, optionally filtered.

        v5: regular orders only; ``contract_code`` None cancels every open order of the account
        on every contract; filters ``side`` (buy, sell) and ``position_side`` (long, short,
        both). v1: ``contract_code`` is required; filters ``direction`` (buy, sell) and
        ``offset`` (open, close; tp/sl takes none); ``margin`` picks the family. A filter of
        the other API is a ``ValueError``. The report lists every id the exchange's answer
        names.

        :param kind: the kind of order to cancel: ``"order"`` on v5 (its only cancel-all);
            ``"order"``, ``"trigger"``, ``"tpsl"`` or ``"track"`` on v1. Another is a ValueError.
        :param contract_code: the contract, such as ``BTC-USDT``. v5: None (the default) cancels
            every contract's orders; v1 requires it (None is a ValueError).
        :param direction: v1 only: cancel only ``"buy"`` or ``"sell"`` orders (None: both); a
            ValueError on v5.
        :param offset: v1 only: cancel only ``"open"`` or ``"close"`` orders (None: both); a
            ValueError on v5.
        :param side: v5 only: cancel only ``"buy"`` or ``"sell"`` orders (None: both); a ValueError
            on v1.
        :param position_side: v5 only: cancel only orders of the ``"long"``, ``"short"`` or
            ``"both"`` position side (None: all); a ValueError on v1.
        :param margin: v1 only: ``"isolated"`` (the default when None) or ``"cross"`` picks the
            endpoint family; v5 cancels take none and refuse any value with ValueError.
        :param priority: the limiter queue the requests wait in: ``"high"`` (the default for
            cancels), ``"normal"`` or ``"low"``; anything else is a ValueError.
        :param report: a [`CancelReport`][htx_cancel.CancelReport] to fill as batches settle (so
            what was confirmed is kept if the call is cancelled or times out); None makes a new one.
            The report is returned either way.
        """
        table = self._api
        ep = table.cancel(kind, margin, cancel_all=True)
        check_priority(priority)
        body: dict[str, str] = {}
        if contract_code is not None:
            body["contract_code"] = validate_contract_code(contract_code)
        elif table.margins:
            raise ValueError("contract_code is required by v1's cancel-all (v5 cancels every "
                             "contract's orders when it is None)")
        given = {"direction": direction, "offset": offset, "side": side,
                 "position_side": position_side}
        for name, value in given.items():
            if value is None:
                continue
            if name not in ep.filters:
                where = "v1" if name in ("direction", "offset") else "v5"
                if where != table.name:
                    raise ValueError(f"{name}= is a {where} filter; the {table.name} cancel-all "
                                     f"takes {', '.join(table.filters)}")
                raise ValueError(f"{ep.name} takes no {name}, got {value!r}")
            validate_choice(name, value, FILTER_CHOICES[name])
            body[name] = value
        call = Call(self._driver.deadline(), priority, CancelReport() if report is None else report)
        record = call.open(ep.name, (), None, self._clock.now())
        try:
            batch = Batch(ep, (), encode_body(body), record, True)
            call.settle(0, await self._driver.run_batch(call, batch), record)
        finally:
            call.finish()
            self._ratio.cancelled(call.report.cancelled, self._clock.now())
        return call.report

    async def cancel_orders(self, contract_code: str, order_ids: Ids = (),
                            client_order_ids: Ids = (), *,
                            margin: Margin | None = None, priority: Priority = "high",
                            report: CancelReport | None = None,
                            verify: bool | VerifyPolicy = False) -> CancelReport:
        """Cancel regular orders by order id and/or client order id (v5: 10 a request on
        ``cancel_batch_orders``; v1: 25 on ``swap_cancel`` / ``swap_cross_cancel``).

        :param contract_code: the contract, such as ``BTC-USDT`` (upper-cased; ValueError when empty
            or not letters, digits, ``-`` and ``_``).
        :param order_ids: the exchange's order ids to cancel: a list, tuple, set, range or iterator
            of ``str`` or ``int`` ids, each a positive decimal integer up to 2**63-1 (anything else,
            or a single string, is a ValueError); duplicates are dropped.
        :param client_order_ids: client order ids to cancel: a list, tuple, set, range or iterator
            of ``str`` or ``int`` ids, each a positive decimal integer up to 2**63-1 (anything else,
            or a single string, is a ValueError); duplicates are dropped. An id in both lists is a
            ValueError.
        :param margin: v1 only: ``"isolated"`` (the default when None) or ``"cross"`` picks the
            endpoint family; v5 cancels take none and refuse any value with ValueError.
        :param priority: the limiter queue the requests wait in: ``"high"`` (the default for
            cancels), ``"normal"`` or ``"low"``; anything else is a ValueError.
        :param report: a [`CancelReport`][htx_cancel.CancelReport] to fill as batches settle (so
            what was confirmed is kept if the call is cancelled or times out); None makes a new one.
            The report is returned either way.
        :param verify: False (the default) returns what the cancel answers said; True, or a
            [`VerifyPolicy`][htx_cancel.VerifyPolicy] for its rules, then reads what became of every
            id (read pool), cancels again what is still live and fills ``report.states``.
        """
        return await self.cancel("order", contract_code, order_ids,
                                 client_order_ids=client_order_ids, margin=margin,
                                 priority=priority, report=report, verify=verify)

    async def cancel_algo_orders(self, contract_code: str, algo_ids: Ids = (),
                                 algo_client_order_ids: Ids = (), *,
                                 priority: Priority = "high",
                                 report: CancelReport | None = None,
                                 verify: bool | VerifyPolicy = False) -> CancelReport:
        """Cancel v5 algo orders (trigger, tp/sl, trailing) by algo id and/or algo client order
        id, 10 a request on ``/v5/algo/cancel_orders`` (v5 only; on v1 use
        ``cancel_trigger_orders``, ``cancel_tpsl_orders``, ``cancel_track_orders``).

        :param contract_code: the contract, such as ``BTC-USDT`` (upper-cased; ValueError when empty
            or not letters, digits, ``-`` and ``_``).
        :param algo_ids: the algo ids to cancel: a list, tuple, set, range or iterator of ``str`` or
            ``int`` ids, each a positive decimal integer up to 2**63-1 (anything else, or a single
            string, is a ValueError); duplicates are dropped.
        :param algo_client_order_ids: the algo client order ids to cancel: a list, tuple, set, range
            or iterator of ``str`` or ``int`` ids, each a positive decimal integer up to 2**63-1
            (anything else, or a single string, is a ValueError); duplicates are dropped. An id in
            both lists is a ValueError.
        :param priority: the limiter queue the requests wait in: ``"high"`` (the default for
            cancels), ``"normal"`` or ``"low"``; anything else is a ValueError.
        :param report: a [`CancelReport`][htx_cancel.CancelReport] to fill as batches settle (so
            what was confirmed is kept if the call is cancelled or times out); None makes a new one.
            The report is returned either way.
        :param verify: False (the default) returns what the cancel answers said; True, or a
            [`VerifyPolicy`][htx_cancel.VerifyPolicy] for its rules, then reads what became of every
            id (read pool), cancels again what is still live and fills ``report.states``.
        """
        return await self.cancel("algo", contract_code, algo_ids,
                                 client_order_ids=algo_client_order_ids, priority=priority,
                                 report=report, verify=verify)

    async def cancel_trigger_orders(self, contract_code: str, order_ids: Ids,
                                    *, margin: Margin | None = None,
                                    priority: Priority = "high",
                                    report: CancelReport | None = None,
                                    verify: bool | VerifyPolicy = False) -> CancelReport:
        """Cancel trigger orders (v1: 20 a request, 10 for cross; v5: algo orders by id).

        :param contract_code: the contract, such as ``BTC-USDT`` (upper-cased; ValueError when empty
            or not letters, digits, ``-`` and ``_``).
        :param order_ids: the trigger order ids (v5: algo ids) to cancel: a list, tuple, set, range
            or iterator of ``str`` or ``int`` ids, each a positive decimal integer up to 2**63-1
            (anything else, or a single string, is a ValueError); duplicates are dropped.
        :param margin: v1 only: ``"isolated"`` (the default when None) or ``"cross"`` picks the
            endpoint family; v5 cancels take none and refuse any value with ValueError.
        :param priority: the limiter queue the requests wait in: ``"high"`` (the default for
            cancels), ``"normal"`` or ``"low"``; anything else is a ValueError.
        :param report: a [`CancelReport`][htx_cancel.CancelReport] to fill as batches settle (so
            what was confirmed is kept if the call is cancelled or times out); None makes a new one.
            The report is returned either way.
        :param verify: False (the default) returns what the cancel answers said; True, or a
            [`VerifyPolicy`][htx_cancel.VerifyPolicy] for its rules, then reads what became of every
            id (read pool), cancels again what is still live and fills ``report.states``.
        """
        return await self.cancel("trigger", contract_code, order_ids, margin=margin,
                                 priority=priority, report=report, verify=verify)

    async def cancel_tpsl_orders(self, contract_code: str, order_ids: Ids,
                                 *, margin: Margin | None = None, priority: Priority = "high",
                                 report: CancelReport | None = None,
                                 verify: bool | VerifyPolicy = False) -> CancelReport:
        """Cancel take-profit / stop-loss orders (v1: 10 a request; v5: algo orders by id).

        :param contract_code: the contract, such as ``BTC-USDT`` (upper-cased; ValueError when empty
            or not letters, digits, ``-`` and ``_``).
        :param order_ids: the tp/sl order ids (v5: algo ids) to cancel: a list, tuple, set, range or
            iterator of ``str`` or ``int`` ids, each a positive decimal integer up to 2**63-1
            (anything else, or a single string, is a ValueError); duplicates are dropped.
        :param margin: v1 only: ``"isolated"`` (the default when None) or ``"cross"`` picks the
            endpoint family; v5 cancels take none and refuse any value with ValueError.
        :param priority: the limiter queue the requests wait in: ``"high"`` (the default for
            cancels), ``"normal"`` or ``"low"``; anything else is a ValueError.
        :param report: a [`CancelReport`][htx_cancel.CancelReport] to fill as batches settle (so
            what was confirmed is kept if the call is cancelled or times out); None makes a new one.
            The report is returned either way.
        :param verify: False (the default) returns what the cancel answers said; True, or a
            [`VerifyPolicy`][htx_cancel.VerifyPolicy] for its rules, then reads what became of every
            id (read pool), cancels again what is still live and fills ``report.states``.
        """
        return await self.cancel("tpsl", contract_code, order_ids, margin=margin,
                                 priority=priority, report=report, verify=verify)

    async def cancel_track_orders(self, contract_code: str, order_ids: Ids,
                                  *, margin: Margin | None = None, priority: Priority = "high",
                                  report: CancelReport | None = None,
                                  verify: bool | VerifyPolicy = False) -> CancelReport:
        """Cancel trailing (track) orders (v1: 10 a request; v5: algo orders by id).

        :param contract_code: the contract, such as ``BTC-USDT`` (upper-cased; ValueError when empty
            or not letters, digits, ``-`` and ``_``).
        :param order_ids: the track order ids (v5: algo ids) to cancel: a list, tuple, set, range or
            iterator of ``str`` or ``int`` ids, each a positive decimal integer up to 2**63-1
            (anything else, or a single string, is a ValueError); duplicates are dropped.
        :param margin: v1 only: ``"isolated"`` (the default when None) or ``"cross"`` picks the
            endpoint family; v5 cancels take none and refuse any value with ValueError.
        :param priority: the limiter queue the requests wait in: ``"high"`` (the default for
            cancels), ``"normal"`` or ``"low"``; anything else is a ValueError.
        :param report: a [`CancelReport`][htx_cancel.CancelReport] to fill as batches settle (so
            what was confirmed is kept if the call is cancelled or times out); None makes a new one.
            The report is returned either way.
        :param verify: False (the default) returns what the cancel answers said; True, or a
            [`VerifyPolicy`][htx_cancel.VerifyPolicy] for its rules, then reads what became of every
            id (read pool), cancels again what is still live and fills ``report.states``.
        """
        return await self.cancel("track", contract_code, order_ids, margin=margin,
                                 priority=priority, report=report, verify=verify)

    async def cancel_all_orders(self, contract_code: str | None = None,
                                direction: Direction | None = None,
                                offset: Offset | None = None, *, side: Side | None = None,
                                position_side: PositionSide | None = None,
                                margin: Margin | None = None, priority: Priority = "high",
                                report: CancelReport | None = None) -> CancelReport:
        """Cancel every open regular order: on v5 of the account (or of one contract, one
        ``side``, one ``position_side``), on v1 of a contract (one ``direction``/``offset``).

        :param contract_code: the contract, such as ``BTC-USDT``. v5: None (the default) cancels
            every contract's orders; v1 requires it (None is a ValueError).
        :param direction: v1 only: cancel only ``"buy"`` or ``"sell"`` orders (None: both); a
            ValueError on v5.
        :param offset: v1 only: cancel only ``"open"`` or ``"close"`` orders (None: both); a
            ValueError on v5.
        :param side: v5 only: cancel only ``"buy"`` or ``"sell"`` orders (None: both); a ValueError
            on v1.
        :param position_side: v5 only: cancel only orders of the ``"long"``, ``"short"`` or
            ``"both"`` position side (None: all); a ValueError on v1.
        :param margin: v1 only: ``"isolated"`` (the default when None) or ``"cross"`` picks the
            endpoint family; v5 cancels take none and refuse any value with ValueError.
        :param priority: the limiter queue the requests wait in: ``"high"`` (the default for
            cancels), ``"normal"`` or ``"low"``; anything else is a ValueError.
        :param report: a [`CancelReport`][htx_cancel.CancelReport] to fill as batches settle (so
            what was confirmed is kept if the call is cancelled or times out); None makes a new one.
            The report is returned either way.
        """
        return await self.cancel_all("order", contract_code, direction, offset, side=side,
                                     position_side=position_side, margin=margin,
                                     priority=priority, report=report)

    async def cancel_all_trigger_orders(self, contract_code: str,
                                        direction: Direction | None = None,
                                        offset: Offset | None = None, *,
                                        margin: Margin | None = None,
                                        priority: Priority = "high",
                                        report: CancelReport | None = None) -> CancelReport:
        """Cancel every open trigger order of a contract (v1 only).

        :param contract_code: the contract, such as ``BTC-USDT`` (upper-cased; ValueError when empty
            or not letters, digits, ``-`` and ``_``).
        :param direction: v1 only: cancel only ``"buy"`` or ``"sell"`` orders (None: both); a
            ValueError on v5.
        :param offset: v1 only: cancel only ``"open"`` or ``"close"`` orders (None: both); a
            ValueError on v5.
        :param margin: v1 only: ``"isolated"`` (the default when None) or ``"cross"`` picks the
            endpoint family; v5 cancels take none and refuse any value with ValueError.
        :param priority: the limiter queue the requests wait in: ``"high"`` (the default for
            cancels), ``"normal"`` or ``"low"``; anything else is a ValueError.
        :param report: a [`CancelReport`][htx_cancel.CancelReport] to fill as batches settle (so
            what was confirmed is kept if the call is cancelled or times out); None makes a new one.
            The report is returned either way.
        """
        return await self.cancel_all("trigger", contract_code, direction, offset, margin=margin,
                                     priority=priority, report=report)

    async def cancel_all_tpsl_orders(self, contract_code: str,
                                     direction: Direction | None = None, *,
                                     margin: Margin | None = None,
                                     priority: Priority = "high",
                                     report: CancelReport | None = None) -> CancelReport:
        """Cancel every open tp/sl order of a contract (v1 only; it takes no offset).

        :param contract_code: the contract, such as ``BTC-USDT`` (upper-cased; ValueError when empty
            or not letters, digits, ``-`` and ``_``).
        :param direction: v1 only: cancel only ``"buy"`` or ``"sell"`` orders (None: both); a
            ValueError on v5.
        :param margin: v1 only: ``"isolated"`` (the default when None) or ``"cross"`` picks the
            endpoint family; v5 cancels take none and refuse any value with ValueError.
        :param priority: the limiter queue the requests wait in: ``"high"`` (the default for
            cancels), ``"normal"`` or ``"low"``; anything else is a ValueError.
        :param report: a [`CancelReport`][htx_cancel.CancelReport] to fill as batches settle (so
            what was confirmed is kept if the call is cancelled or times out); None makes a new one.
            The report is returned either way.
        """
        return await self.cancel_all("tpsl", contract_code, direction, margin=margin,
                                     priority=priority, report=report)

    async def cancel_all_track_orders(self, contract_code: str,
                                      direction: Direction | None = None,
                                      offset: Offset | None = None, *,
                                      margin: Margin | None = None,
                                      priority: Priority = "high",
                                      report: CancelReport | None = None) -> CancelReport:
        """Cancel every open track order of a contract (v1 only).

        :param contract_code: the contract, such as ``BTC-USDT`` (upper-cased; ValueError when empty
            or not letters, digits, ``-`` and ``_``).
        :param direction: v1 only: cancel only ``"buy"`` or ``"sell"`` orders (None: both); a
            ValueError on v5.
        :param offset: v1 only: cancel only ``"open"`` or ``"close"`` orders (None: both); a
            ValueError on v5.
        :param margin: v1 only: ``"isolated"`` (the default when None) or ``"cross"`` picks the
            endpoint family; v5 cancels take none and refuse any value with ValueError.
        :param priority: the limiter queue the requests wait in: ``"high"`` (the default for
            cancels), ``"normal"`` or ``"low"``; anything else is a ValueError.
        :param report: a [`CancelReport`][htx_cancel.CancelReport] to fill as batches settle (so
            what was confirmed is kept if the call is cancelled or times out); None makes a new one.
            The report is returned either way.
        """
        return await self.cancel_all("track", contract_code, direction, offset, margin=margin,
                                     priority=priority, report=report)

    # -- verification and the dead man's switch --------------------------------------------

    async def verify(self, ids_or_report: CancelReport | Ids,
                     contract_code: str, *, kind: Kind = "order", margin: Margin | None = None,
                     client_order_ids: Ids = (), recancel: bool = True,
                     priority: Priority = "high",
                     policy: VerifyPolicy | None = None) -> CancelReport:
        """Learn what became of orders cancelled earlier or elsewhere; cancel what is live.

        Given a [`CancelReport`][htx_cancel.CancelReport] (of calls on ``contract_code``), it is
        verified in place and returned: id fields, kinds and margin modes come from its batches.
        Given ids (order ids of ``kind`` and ``margin``, and/or ``client_order_ids``), a new report
        is returned in which they start unknown. ``recancel=False`` only looks. See
        docs/verifying.md.

        :param ids_or_report: a [`CancelReport`][htx_cancel.CancelReport] of earlier calls on
            ``contract_code`` (verified in place and returned), or order ids of ``kind`` and
            ``margin`` (a list, tuple, set, range or iterator of ``str`` or ``int`` ids, each a
            positive decimal integer up to 2**63-1 (anything else, or a single string, is a
            ValueError); duplicates are dropped.)
        :param contract_code: the contract, such as ``BTC-USDT`` (upper-cased; ValueError when empty
            or not letters, digits, ``-`` and ``_``).
        :param kind: the kind of the ids given (default ``"order"``); unused with a report.
        :param margin: v1 only: the margin mode of the ids given (``"isolated"`` when None, or
            ``"cross"``); unused with a report.
        :param client_order_ids: client order ids to verify besides the ids: a list, tuple, set,
            range or iterator of ``str`` or ``int`` ids, each a positive decimal integer up to
            2**63-1 (anything else, or a single string, is a ValueError); duplicates are dropped.
            Unused with a report.
        :param recancel: True (the default) cancels again what is still live; False only looks.
        :param priority: the limiter queue the requests wait in: ``"high"`` (the default for
            cancels), ``"normal"`` or ``"low"``; anything else is a ValueError.
        :param policy: the [`VerifyPolicy`][htx_cancel.VerifyPolicy] (None: its defaults).
        """
        check_priority(priority)
        if isinstance(ids_or_report, CancelReport):
            report = ids_or_report
            targets = targets_from_report(report, contract_code)
        else:
            report, targets = targets_for_ids(contract_code, ids_or_report, client_order_ids,
                                              kind=kind, margin=margin, api=self._api.name)
        policy = policy or VerifyPolicy()
        if not recancel:
            policy = dataclasses.replace(policy, max_recancels=0)
        async with self._verifier(priority, self._driver.deadline(), policy, None,
                                  report.order_ids) as verifier:
            await verifier.run(report, targets)
        return report

    def cancel_after(self, timeout: float, *, on_failure: FailureCallback | None = None,
                     stay_armed: bool = False, interval: float | None = None) -> CancelAfter:
        """HTX's dead man's switch: ``async with client.cancel_after(10.0) as switch:``.

        Arms ``linear-cancel-after`` (``timeout`` seconds, at least 5) on entry and re-arms it
        from one background task every ``interval`` (a third of the timeout by default) at high
        priority. A failed re-arm is logged, counted in ``switch.failures`` and passed to
        ``on_failure``. A clean exit disarms it unless ``stay_armed``; an exit by exception
        leaves it armed, so the exchange cancels every open order when it runs out.

        :param timeout: seconds after the last arm at which the exchange cancels every open order;
            at least 5 (less is a ValueError).
        :param on_failure: called with the exception of each failed re-arm (it is also logged and
            counted in ``switch.failures``); None: nothing is called.
        :param stay_armed: True leaves the switch armed after a clean exit too (default False: a
            clean exit disarms it).
        :param interval: seconds between re-arms (default None: a third of ``timeout``); it must be
            more than 0 and less than ``timeout`` (else a ValueError).
        """
        switch = self._api.switch
        return CancelAfter(self._repeatable, self._clock, timeout, on_failure=on_failure,
                           stay_armed=stay_armed, interval=interval, path=switch.path,
                           on_off=self._api.switch_flags)

    def _verifier(self, priority: Priority, deadline: float | None,
                  policy: bool | VerifyPolicy, watch: Watch | None = None,
                  order_ids: Mapping[str, str] | None = None) -> Verifier:
        """A verifier reading through ``request()`` and cancelling again within ``deadline``."""

        async def again(target: Target) -> CancelReport:
            # the ids were checked by the call that cancelled them; the call's deadline holds
            call = Call(deadline, priority, CancelReport())
            ep = api_table(target.api).cancel(target.kind, target.margin)
            return await self._cancel(call, ep, target.contract_code,
                                      [(target.field, list(target.ids))])

        rules = policy if isinstance(policy, VerifyPolicy) else VerifyPolicy()
        return Verifier(self._repeatable, again, self._clock, priority=priority, policy=rules,
                        deadline=deadline, watch=watch, order_ids=order_ids)

    async def _repeatable(self, path: str, body: Mapping[str, Any], priority: Priority, /, *,
                          method: str = "POST", attempts: int | None = None) -> Any:
        """A request that is safe to send again (verification's reads, arms of the switch):
        the attempt machine repeats it after a lost answer, busy or maintenance."""
        return await self._request(path, body, method, priority, None, repeatable=True,
                                   attempts=attempts)

    # -- any other private request ---------------------------------------------------------

    @overload
    async def request(self, path: str, body: Mapping[str, Any] | None = None, *,
                      method: str = "POST", priority: Priority = "normal",
                      pools: tuple[str, ...] | None = None) -> dict[str, Any]: ...

    @overload
    async def request(self, path: str, body: Mapping[str, Any] | None = None, *,
                      type: type[T], method: str = "POST", priority: Priority = "normal",
                      pools: tuple[str, ...] | None = None) -> T: ...

    async def request(self, path: str, body: Mapping[str, Any] | None = None, *,
                      type: type[T] | None = None, method: str = "POST",
                      priority: Priority = "normal",
                      pools: tuple[str, ...] | None = None) -> dict[str, Any] | T:
        """Send any private request through the same limiter; return its answer.

        ``path`` is a v5 path (``/v5/trade/order``) or a v1 one
        (``/linear-swap-api/v1/swap_order``, or just ``swap_order``); the same v5 path may be a
        trade by POST and a read by GET. A path the catalog does not know needs ``pools``
        (``("trade",)`` or ``("read",)``). A POST sends ``body`` as JSON; a GET signs and
        sends it as query parameters.

        The answer is the whole JSON object (``{"code": 200, "data": ...}``), or, with
        ``type`` (a ``msgspec.Struct``, a dataclass, ``list[...]``...), the answer's ``data``
        decoded into that type ([`DecodeError`][htx_cancel.DecodeError] when it does not fit). A
        whole-request error is raised as [`APIError`][htx_cancel.APIError]
        ([`AuthenticationError`][htx_cancel.AuthenticationError] for a rejected key,
        [`MigratedAccountError`][htx_cancel.MigratedAccountError] for a v1 path on a v5 account); no
        answer as [`TransportError`][htx_cancel.TransportError] or
        [`DecodeError`][htx_cancel.DecodeError].

        Placements are not idempotent: once the request may have reached the exchange it is
        never sent again. Only what certainly did not leave (a refused connection, a 1032 after
        the pause, a timestamp rejected before a re-sync) is retried.

        :param path: a v5 path (``/v5/trade/order``) or a v1 one
            (``/linear-swap-api/v1/swap_order``, or just ``swap_order``).
        :param body: the request's parameters (None: none): the JSON body of a POST, the signed
            query parameters of a GET (booleans as ``true``/``false``).
        :param type: None (the default) returns the whole JSON object; a type (a ``msgspec.Struct``,
            a dataclass, ``list[...]``...) returns the answer's ``data`` decoded into it, or raises
            [`DecodeError`][htx_cancel.DecodeError].
        :param method: ``"POST"`` (the default) or ``"GET"``, in any case; another is a ValueError.
        :param priority: the limiter queue the request waits in: ``"high"``, ``"normal"`` (the
            default) or ``"low"``; anything else is a ValueError.
        :param pools: the rate-limit pools the request counts against, such as ``("trade",)`` or
            ``("read",)``; None (the default) takes the catalog's, and a path the catalog does not
            know then is a ValueError. Given for a known path, they replace the catalog's.
        """
        answer = await self._request(path, body, method, priority, pools)
        if method.upper() == "POST":
            self._ratio.placed(placed_ids(path, answer), self._clock.now())
        if type is None:
            if not isinstance(answer, dict):
                raise DecodeError(f"{path}: the answer is not a JSON object")
            return answer
        try:
            return msgspec.convert(answer.get("data") if isinstance(answer, dict) else None,
                                   type, strict=False)
        except msgspec.ValidationError as exc:
            raise DecodeError(f"{path}: the answer's data is not a {type!r}: {exc}") from None

    async def _request(self, path: str, body: Mapping[str, Any] | None, method: str,
                       priority: Priority, pools: tuple[str, ...] | None, *,
                       repeatable: bool = False, attempts: int | None = None) -> Any:
        """Check, build and send one request through its attempts; its JSON or the error."""
        method = method.upper()
        if method not in ("GET", "POST"):
            raise ValueError(f"method must be GET or POST, got {method!r}")
        check_priority(priority)
        ep = endpoint_for_path(path, pools, method=method)
        params: dict[str, str] | None = None
        payload = b""
        if method == "GET":
            params = {str(k): _param(v) for k, v in (body or {}).items()}
        else:
            payload = encode_body({} if body is None else body)
        call = Call(self._driver.deadline(), priority, CancelReport())
        record = call.open(ep.name, (), None, self._clock.now())
        batch = Batch(ep, (), payload, record, False, params)
        done = await self._driver.request(call, batch, repeatable=repeatable, attempts=attempts)
        last = done.last
        if done.outcome == "ok" and last is not None:
            return last.value
        if last is not None and last.error is not None:
            raise last.error
        raise TransportError(f"{ep.name}: {done.reason}")

    # -- batches ---------------------------------------------------------------------------

    async def _cancel(self, call: Call, ep: Endpoint, contract_code: str,
                      jobs: list[tuple[str, list[str]]]) -> CancelReport:
        """Chunk every job and run the batches, at most ``max_in_flight`` at once."""
        parts = [(field, part) for field, ids in jobs for part in chunk(ids, ep.max_ids)]
        pending = enumerate(parts)
        report = call.report

        async def worker() -> None:
            for i, (field, part) in pending:
                record = call.open(ep.name, part, field, self._clock.now())
                body = cancel_body(ep.ids_as, contract_code, field, part)
                batch = Batch(ep, part, body, record, True)
                call.settle(i, await self._driver.run_batch(call, batch), record)

        workers = min(self._max_in_flight, len(parts))
        try:
            if workers == 1:
                await worker()
            elif workers > 1:
                async with asyncio.TaskGroup() as group:
                    for _ in range(workers):
                        group.create_task(worker())
        except BaseException:
            call.finish()  # (cancelled or failing: in one go, no await)
            raise
        else:
            steps = call.finish_steps()
            try:
                for _ in steps:
                    await asyncio.sleep(0)  # 100,000 ids would hold the loop for milliseconds
            finally:
                for _ in steps:  # cancelled meanwhile: the rest in one go
                    pass
        finally:
            self._ratio.cancelled(report.cancelled, self._clock.now())
        return report



async def _validated(ids: Ids, what: str) -> list[str]:
    """``validate_ids`` a slice at a time, yielding the loop between slices: 100,000 ids
    would otherwise hold it for tens of milliseconds in one go. Every id is checked before
    the call sends anything, as with ``validate_ids``."""
    if isinstance(ids, (str, bytes)) or (isinstance(ids, Sized) and len(ids) <= ID_SLICE):
        return validate_ids(ids, what)
    seen: dict[str, None] = {}
    rest = iter(ids)
    while part := list(islice(rest, ID_SLICE)):
        seen.update(dict.fromkeys(validate_ids(part, what)))
        await asyncio.sleep(0)
    return list(seen)


def _warm_count(warm: bool | int, default: int) -> int:
    """How many connections ``warm`` asks for (False or 0: none); less is a ValueError."""
    if warm is False or (type(warm) is int and warm == 0):
        return 0
    if warm is True:
        return default
    if isinstance(warm, bool) or not isinstance(warm, int) or warm < 1:
        raise ValueError(f"warm must be True, False or a number of connections (at least 1), "
                         f"got {warm!r}")
    return warm


def _param(value: object) -> str:
    """A GET parameter as HTX reads it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
