"""The warm-up: its rounds and keeper on fake time, the transport's touch with aioresponses."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from htx_cancel import (
    Answer,
    CancelClient,
    ConnectError,
    Credentials,
    RateLimiter,
    RateLimits,
    RequestTimeout,
    TransportError,
)
from htx_cancel._transports import AiohttpTransport
from htx_cancel._transports._warm import BUSY_RETRY, PUBLIC_PATH, Warmer
from htx_cancel.testing import FakeClock, MockTransport
from tests.conftest import Mocked as aioresponses

BASE = "http://127.0.0.1:9"
URL = f"{BASE}{PUBLIC_PATH}"
ANY = re.compile(r"^http://127\.0\.0\.1:9/.*$")
CREDS = Credentials("a", "s")


class Touches:
    """A fake ``touch``: counts calls, fails while ``failing``, waits on ``gate`` if set."""

    def __init__(self) -> None:
        self.calls = 0
        self.failing = False
        self.gate: asyncio.Event | None = None

    async def __call__(self) -> None:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.failing:
            raise ConnectError("GET not sent: refused")


# -- the warmer --------------------------------------------------------------------------------

async def test_a_round_sends_one_request_a_connection_at_once() -> None:
    touches = Touches()
    touches.gate = asyncio.Event()
    warmer = Warmer(touches, FakeClock())
    task = asyncio.create_task(warmer.round(5))
    for _ in range(5):
        await asyncio.sleep(0)
    assert touches.calls == 5  # all in flight together: each holds a connection of its own
    touches.gate.set()
    assert await task == 5
    stats = warmer.stats()
    assert (stats.connections, stats.ready, stats.rounds, stats.failures) == (5, 5, 1, 0)
    assert stats.last_error is None and not stats.keeping


async def test_failures_are_counted_and_logged_never_raised(
        caplog: pytest.LogCaptureFixture) -> None:
    touches = Touches()
    touches.failing = True
    warmer = Warmer(touches, FakeClock())
    assert await warmer.round(3) == 0
    stats = warmer.stats()
    assert (stats.ready, stats.failures) == (0, 3)
    assert stats.last_error is not None and "refused" in stats.last_error
    assert "warm-up: 3 of 3 connections failed" in caplog.text


async def test_the_keeper_sends_a_round_each_interval_on_the_clock() -> None:
    clock = FakeClock()
    touches = Touches()
    warmer = Warmer(touches, clock)
    warmer.keep(4, 10.0)
    await clock.advance(9.9)
    assert touches.calls == 0 and warmer.stats().keeping
    await clock.advance(0.1)
    assert touches.calls == 4
    await clock.advance(20.0)
    assert touches.calls == 12 and warmer.stats().rounds == 3
    await warmer.close()
    assert not warmer.stats().keeping
    await clock.advance(100.0)
    assert touches.calls == 12


async def test_the_keeper_puts_its_round_off_while_the_client_is_busy() -> None:
    clock = FakeClock()
    touches = Touches()
    busy = [True]
    warmer = Warmer(touches, clock, lambda: busy[0])
    warmer.keep(2, 5.0)
    await clock.advance(5.0 + 3 * BUSY_RETRY)
    assert touches.calls == 0 and warmer.stats().put_off == 4
    busy[0] = False
    await clock.advance(BUSY_RETRY)
    assert touches.calls == 2
    await warmer.close()


async def test_a_busy_check_that_fails_counts_as_idle() -> None:
    clock = FakeClock()
    touches = Touches()

    def broken() -> bool:
        raise RuntimeError("no stats")

    warmer = Warmer(touches, clock, broken)
    warmer.keep(2, 5.0)
    await clock.advance(5.0)
    assert touches.calls == 2 and warmer.stats().keeping
    await warmer.close()


async def test_a_failing_round_does_not_stop_the_keeper() -> None:
    clock = FakeClock()
    touches = Touches()
    touches.failing = True
    warmer = Warmer(touches, clock)
    warmer.keep(2, 1.0)
    await clock.advance(1.0)
    touches.failing = False
    await clock.advance(1.0)
    stats = warmer.stats()
    assert (stats.rounds, stats.ready, stats.failures, stats.keeping) == (2, 2, 2, True)
    await warmer.close()


async def test_warm_waits_for_the_background_warm_up_and_uses_its_round() -> None:
    touches = Touches()
    touches.gate = asyncio.Event()
    warmer = Warmer(touches, FakeClock())
    warmer.start(3, 15.0)
    waiting = asyncio.create_task(warmer.warm(3, keep=False, interval=15.0))
    await asyncio.sleep(0)
    touches.gate.set()
    assert await waiting == 3
    assert touches.calls == 3 and warmer.stats().rounds == 1  # no second round
    await warmer.close()


async def test_close_stops_a_round_under_way_and_leaves_nothing_running() -> None:
    touches = Touches()
    touches.gate = asyncio.Event()  # never set: the round hangs
    warmer = Warmer(touches, FakeClock())
    warmer.start(3, 15.0)
    await asyncio.sleep(0)
    await warmer.close()
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert others == [] and not warmer.stats().keeping


# -- the transport's touch ---------------------------------------------------------------------

async def test_touch_sends_an_unsigned_get_and_reads_the_answer() -> None:
    t = AiohttpTransport()
    with aioresponses() as m:
        m.get(URL, status=200, body=b'{"status":"ok","ts":1}')
        await t.touch(URL)
        ((method, url), calls), = m.requests.items()
    await t.close()
    assert method == "GET" and str(url) == URL and len(calls) == 1


@pytest.mark.parametrize(
    ("exc", "expected"),
    [(aiohttp.ClientConnectorError(aiohttp.client_reqrep.ConnectionKey(
        "127.0.0.1", 9, False, True, None, None, None), OSError(111, "refused")), ConnectError),
     (aiohttp.ServerDisconnectedError(), TransportError),
     (TimeoutError(), RequestTimeout)],
)
async def test_touch_translates_foreign_errors(exc: Exception,
                                               expected: type[Exception]) -> None:
    t = AiohttpTransport()
    with aioresponses() as m:
        m.get(ANY, exception=exc)
        with pytest.raises(expected):
            await t.touch(URL)
    await t.close()


async def test_touch_takes_an_answer_that_is_not_2xx_as_a_failure() -> None:
    t = AiohttpTransport()
    with aioresponses() as m:
        m.get(ANY, status=404, body=b"{}")
        with pytest.raises(TransportError, match="HTTP 404"):
            await t.touch(URL)
    await t.close()


async def test_the_reserve_sizes_only_a_session_not_made_yet() -> None:
    t = AiohttpTransport(connection_limit=100)
    t.reserve(72)
    session = t._ensure()
    assert session.connector is not None and session.connector.limit == 172
    assert t.connection_limit == 100  # what requests may use; the reserve is the warm-up's
    t.reserve(200)  # too late: the session is made
    assert session.connector.limit == 172
    await t.close()


async def test_a_lent_session_keeps_its_limit() -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=30)) as session:
        t = AiohttpTransport(session)
        t.reserve(72)
        assert t.connection_limit == 30 and t._ensure() is session
        assert session.connector is not None and session.connector.limit == 30


# -- the client's options ----------------------------------------------------------------------

async def test_the_client_warms_through_its_transport_with_aioresponses() -> None:
    with aioresponses() as m:
        m.get(URL, status=200, body=b'{"status":"ok","ts":1}', repeat=True)
        async with CancelClient(CREDS, base_url=BASE) as client:
            assert client.stats().warm is None
            assert await client.warm(4, keep=False) == 4
            stats = client.stats().warm
            assert stats is not None and (stats.connections, stats.ready) == (4, 4)
        (calls,) = m.requests.values()
    assert len(calls) == 4


async def test_warm_defaults_to_one_window_of_the_trade_pool() -> None:
    with aioresponses() as m:
        m.get(URL, status=200, body=b"{}", repeat=True)
        async with CancelClient(CREDS, base_url=BASE) as client:
            assert await client.warm(keep=False) == 72
        async with CancelClient(CREDS, base_url=BASE, max_in_flight=8) as client:
            assert await client.warm(keep=False) == 8


@pytest.mark.parametrize("bad", [-1, 1.5, "3"])
def test_bad_counts_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="warm"):
        CancelClient(CREDS, warm=bad)  # type: ignore[arg-type]


async def test_zero_or_false_is_no_warm_up() -> None:
    for off in (0, False):
        assert CancelClient(CREDS, warm=off).stats().warm is None


async def test_warm_refuses_bad_arguments_and_a_transport_that_cannot_warm() -> None:
    async with CancelClient(CREDS, base_url=BASE) as client:
        with pytest.raises(ValueError, match="connections"):
            await client.warm(0)
        with pytest.raises(ValueError, match="interval"):
            await client.warm(2, interval=0)
    mock = MockTransport(lambda request: Answer.json({}))
    with pytest.raises(ValueError, match="AiohttpTransport"):
        CancelClient(CREDS, transport=mock, warm=True)
    async with CancelClient(CREDS, transport=mock) as client:
        with pytest.raises(ValueError, match="AiohttpTransport"):
            await client.warm()


async def test_the_clients_keeper_waits_while_a_request_of_the_account_is_in_flight() -> None:
    clock = FakeClock()
    with aioresponses() as m:
        m.get(URL, status=200, body=b"{}", repeat=True)
        async with CancelClient(CREDS, base_url=BASE, clock=clock,
                                limiter=RateLimiter(RateLimits(probe=False))) as client:
            assert await client.warm(2, interval=5.0) == 2
            async with client.limiter.slot("/v5/trade/order"):  # in flight: the client is busy
                await clock.advance(5.0 + BUSY_RETRY)
                stats = client.stats().warm
                assert stats is not None and stats.rounds == 1 and stats.put_off == 2
            await clock.advance(BUSY_RETRY)
            assert client.stats().warm.rounds == 2  # type: ignore[union-attr]
