"""The warm-up on real HTTP against the fake exchange: connections counted at the server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from htx_cancel import CancelClient, Credentials, RateLimiter, RateLimits
from htx_cancel._transports._warm import PUBLIC_PATH
from htx_cancel.testing import FakeExchange

CREDS = Credentials("test-access", "test-secret")
LIMITS = RateLimits(trade=(72, 3.0), read=(72, 3.0))
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Server:
    """The fake exchange, seen from its side: which connection (the client's address and port)
    carried each request; the public path held while ``hold`` is set, or failed with 500."""

    def __init__(self, **kw: Any) -> None:
        self.ex = FakeExchange({"test-access": "test-secret"}, seed=7, **kw)
        self.ex.app.middlewares.append(self._watch)
        self.public: list[tuple[str, int]] = []
        self.private: list[tuple[str, int]] = []
        self.hold: asyncio.Event | None = None
        self.held = 0
        self.fail = False
        self._more_held = asyncio.Event()

    async def until_held(self, n: int) -> None:
        """Wait until the public path holds ``n`` requests unanswered."""
        while self.held < n:
            self._more_held.clear()
            await self._more_held.wait()

    @web.middleware
    async def _watch(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        transport = request.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        assert peer is not None
        if request.path == PUBLIC_PATH:
            self.public.append(peer)
            if self.hold is not None:
                self.held += 1
                self._more_held.set()
                await self.hold.wait()
            if self.fail:
                return web.json_response({"status": "error"}, status=500)
        else:
            self.private.append(peer)
        return await handler(request)

    def connections(self) -> set[tuple[str, int]]:
        """Every connection that carried a request so far."""
        return set(self.public) | set(self.private)


def client(ex: FakeExchange, **kw: Any) -> CancelClient:
    kw.setdefault("limiter", RateLimiter(LIMITS))
    return CancelClient(CREDS, base_url=ex.base_url, **kw)


@pytest.mark.parametrize(("api", "per_request"), [("v5", 10), ("v1", 25)])
async def test_n_connections_open_before_the_first_cancel_and_the_burst_reuses_them(
        api: str, per_request: int) -> None:
    server = Server()
    async with server.ex as ex, client(ex, api=api) as c:
        ids = ex.seed("BTC-USDT", n=72 * per_request)
        assert await c.warm() == 72
        warmed = set(server.public)
        assert len(warmed) == 72 and server.private == []
        report = await c.cancel_orders("BTC-USDT", ids)
        assert len(report.cancelled) == len(ids) and len(server.private) == 72
        assert set(server.private) <= warmed  # not one new connection for the burst
        assert c.stats().warm is not None and c.stats().warm.failures == 0


async def test_warm_in_the_constructor_opens_them_from_async_with() -> None:
    server = Server()
    async with server.ex as ex, client(ex, warm=12) as c:
        assert await c.warm(12) == 12  # waits for the background warm-up, sends no second round
        stats = c.stats().warm
        assert stats is not None and (stats.rounds, stats.ready, stats.keeping) == (1, 12, True)
        assert len(server.public) == len(set(server.public)) == 12


@pytest.mark.parametrize("keep", [True, False])
async def test_idle_rounds_keep_them_past_the_connectors_keepalive(keep: bool) -> None:
    server = Server()
    async with server.ex as ex:
        ids = ex.seed("BTC-USDT", n=60)
        connector = aiohttp.TCPConnector(keepalive_timeout=0.6)
        async with aiohttp.ClientSession(connector=connector) as session, client(
                ex, session=session) as c:
            await c.warm(6, keep=keep, interval=0.1)
            warmed = set(server.public)
            await asyncio.sleep(1.5)  # over two keepalive timeouts, idle
            await c.cancel_orders("BTC-USDT", ids)
            opened = set(server.private) - warmed
            rounds = c.stats().warm.rounds  # type: ignore[union-attr]
    assert len(warmed) == 6
    if keep:
        assert opened == set() and rounds > 3 and set(server.public) == warmed
    else:  # the control: without the keeper aiohttp dropped them, the burst opened its own
        assert opened and not set(server.private) & warmed and rounds == 1


async def test_a_cancel_during_the_warm_up_does_not_wait_for_it() -> None:
    server = Server()
    server.hold = asyncio.Event()
    async with server.ex as ex, client(ex) as c:
        ids = ex.seed("BTC-USDT", n=720)
        warming = asyncio.create_task(c.warm())
        await server.until_held(72)  # the warm-up holds 72 connections, unanswered
        report = await c.cancel_orders("BTC-USDT", ids)  # a whole burst, 72 requests
        assert len(report.cancelled) == 720 and len(server.private) == 72
        assert not warming.done()
        server.hold.set()
        assert await warming == 72


async def test_failures_are_in_stats_and_never_reach_a_cancel(
        caplog: pytest.LogCaptureFixture) -> None:
    server = Server()
    server.fail = True
    async with server.ex as ex, client(ex) as c:
        ids = ex.seed("BTC-USDT", n=20)
        assert await c.warm(5, keep=False) == 0
        report = await c.cancel_orders("BTC-USDT", ids)
        assert len(report.cancelled) == 20
        stats = c.stats().warm
        assert stats is not None and stats.ready == 0 and stats.failures == 5
        assert stats.last_error is not None and "HTTP 500" in stats.last_error
    assert "warm-up: 5 of 5 connections failed" in caplog.text


async def test_a_server_that_is_down_costs_nothing_but_counts() -> None:
    async with FakeExchange() as ex:
        base = ex.base_url
    async with CancelClient(CREDS, base_url=base, limiter=RateLimiter(LIMITS)) as c:
        assert await c.warm(3) == 0
        stats = c.stats().warm
        assert stats is not None and stats.failures == 3 and stats.keeping
        assert stats.last_error is not None and "not sent" in stats.last_error


def _warm_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks()
            if "Warmer" in getattr(t.get_coro(), "__qualname__", "")]


async def test_close_leaves_nothing_running() -> None:
    server = Server()
    server.hold = asyncio.Event()  # a round under way at close
    async with server.ex as ex:
        async with client(ex, warm=4) as c:
            await server.until_held(4)
            assert _warm_tasks() != []
        assert _warm_tasks() == []
        assert c.stats().warm is not None and not c.stats().warm.keeping
        server.hold.set()
