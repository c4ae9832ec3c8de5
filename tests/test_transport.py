"""The aiohttp transport, with aioresponses standing in for the network."""

from __future__ import annotations

import re

import aiohttp
import pytest

from htx_cancel import ConnectError, RequestTimeout, Timeouts, TransportError
from htx_cancel._transports import AiohttpTransport, Request
from tests.conftest import Mocked as aioresponses

URL = "http://127.0.0.1:9/linear-swap-api/v1/swap_cancel?AccessKeyId=a&Signature=SECRETSIG"
ANY = re.compile(r"^http://127\.0\.0\.1:9/.*$")


async def test_answer_carries_status_body_and_ratelimit_headers() -> None:
    t = AiohttpTransport()
    with aioresponses() as m:
        m.post(ANY, status=200, body=b'{"status":"ok"}', content_type="text/plain",
               headers={"ratelimit-limit": "72", "ratelimit-interval": "3000",
                        "ratelimit-remaining": "70", "ratelimit-reset": "1700000003000"})
        answer = await t.handle(Request("POST", URL, b"{}"))
    await t.close()
    assert answer.status == 200 and answer.body == b'{"status":"ok"}'
    assert answer.ratelimit is not None
    assert (answer.ratelimit.limit, answer.ratelimit.interval_ms,
            answer.ratelimit.remaining, answer.ratelimit.reset_ms) == (72, 3000, 70,
                                                                       1700000003000)


async def test_missing_or_bad_headers_give_no_ratelimit() -> None:
    t = AiohttpTransport()
    with aioresponses() as m:
        m.post(ANY, status=502, body=b"<html>bad gateway</html>",
               headers={"ratelimit-limit": "x"})
        answer = await t.handle(Request("POST", URL, b"{}"))
    await t.close()
    assert answer.status == 502 and answer.ratelimit is None


@pytest.mark.parametrize(
    ("exc", "expected"),
    [(aiohttp.ServerDisconnectedError(), TransportError),
     (aiohttp.ClientConnectionError(f"boom while fetching {URL}"), TransportError),
     (TimeoutError(), RequestTimeout)],
)
async def test_foreign_errors_are_translated_without_the_signed_url(
        exc: Exception, expected: type[Exception]) -> None:
    t = AiohttpTransport()
    with aioresponses() as m:
        m.post(ANY, exception=exc)
        with pytest.raises(expected) as info:
            await t.handle(Request("POST", URL, b"{}"))
    await t.close()
    assert "SECRETSIG" not in str(info.value) and "Signature" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


async def test_a_lent_session_is_not_closed() -> None:
    async with aiohttp.ClientSession() as session:
        t = AiohttpTransport(session)
        await t.close()
        assert not session.closed


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Timeouts(total=0)


async def test_a_refused_connection_is_known_never_sent() -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = AiohttpTransport()
    with pytest.raises(ConnectError) as info:
        await t.handle(Request("POST", f"http://127.0.0.1:{port}/x?Signature=SECRETSIG", b"{}"))
    await t.close()
    assert "SECRETSIG" not in str(info.value)


@pytest.mark.parametrize(("exc", "never_sent"), [
    (aiohttp.ConnectionTimeoutError(), True),
    (aiohttp.ServerDisconnectedError(), False),
    (aiohttp.SocketTimeoutError(), False),
])
async def test_only_connect_failures_are_never_sent(exc: Exception, never_sent: bool) -> None:
    t = AiohttpTransport()
    with aioresponses() as m:
        m.post(ANY, exception=exc)
        with pytest.raises(TransportError) as info:
            await t.handle(Request("POST", URL, b"{}"))
    await t.close()
    assert isinstance(info.value, ConnectError) is never_sent
