"""Scenario: cancels over the trade socket against HTTP, with TLS and a 30 ms round trip.

The fake exchange runs in this process behind :class:`~benchmarks._tls_delay.DelayedTLS`
(a self-signed certificate; every byte half the round trip late each way, the TLS handshake
included). Time from the call to the last answer for ``socket_ids`` ids (720: the trade pool's
whole 3 s burst, 72 requests of 10) on a cold client (new connections) and a warm one (the same
client after one such call and a pause for the pool's window), over HTTP and over the socket.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp

from htx_cancel import CancelClient, RateLimiter, RateLimits
from htx_cancel.testing import FakeExchange

from ._common import CONTRACT, CREDS, Section
from ._config import Sizes
from ._server import ACCESS_KEY, SECRET_KEY, ExchangeProcess
from ._tls_delay import DelayedTLS

__all__ = ["run_socket"]

COLUMNS = ["transport", "client", "ids", "runs", "median ms", "min ms", "max ms", "on socket",
           "over http", "cancelled"]
RTT = 0.030
LIMITS = RateLimits(trade=(72, 3.0), read=(72, 3.0))


async def _once(socket: bool, warm: bool, n: int) -> tuple[float, int, int, int]:
    """One measured call on a fresh exchange: seconds, socket and HTTP requests, cancelled."""
    async with FakeExchange({ACCESS_KEY: SECRET_KEY}) as ex, DelayedTLS(ex.port, RTT) as front:
        ids = ex.seed(CONTRACT, n=2 * n)
        connector = aiohttp.TCPConnector(ssl=front.client_ssl, limit=100)
        async with aiohttp.ClientSession(connector=connector) as session:
            client = CancelClient(CREDS, base_url=f"https://127.0.0.1:{front.port}",
                                  session=session, rate_limits=LIMITS,
                                  limiter=RateLimiter(LIMITS), trade_socket=socket)
            async with client:
                if warm:
                    await client.cancel_orders(CONTRACT, ids[n:])
                    await asyncio.sleep(3.0 + 4 * RTT)  # the pool's window after the answers
                before = client.stats().trade_socket
                t0 = time.perf_counter()
                report = await client.cancel_orders(CONTRACT, ids[:n])
                elapsed = time.perf_counter() - t0
                after = client.stats().trade_socket
    if before is None or after is None:
        return elapsed, 0, n // 10, len(report.cancelled)
    return (elapsed, after.on_socket - before.on_socket, after.over_http - before.over_http,
            len(report.cancelled))


async def run_socket(ex: ExchangeProcess, sizes: Sizes) -> Section:
    """HTTP and the trade socket, cold and warm, ``socket_runs`` times each."""
    del ex  # the exchange runs here, behind TLS and the delay line
    n, runs = sizes.socket_ids, sizes.socket_runs
    section = Section("socket", f"Trade socket against HTTP: {n} ids, TLS, {RTT * 1000:g} ms "
                      "round trip", COLUMNS)
    for socket in (False, True):
        for warm in (False, True):
            results = [await _once(socket, warm, n) for _ in range(runs)]
            times = [r[0] * 1000 for r in results]
            section.rows.append({
                "transport": "socket" if socket else "http",
                "client": "warm" if warm else "cold", "ids": n, "runs": runs,
                "median ms": round(statistics.median(times), 1),
                "min ms": round(min(times), 1), "max ms": round(max(times), 1),
                "on socket": results[-1][1], "over http": results[-1][2],
                "cancelled": results[-1][3]})
    section.notes += [
        "From the call to the last answer. Cold: a new client (TCP, TLS and, for the socket, "
        "the WebSocket upgrade and its auth op). Warm: the same client after a first call "
        "and a pause of the pool's 3 s window.",
        "The fake exchange shares this process and its two cores; the delay line adds half the "
        "round trip each way to every byte, the handshakes' included.",
    ]
    return section
