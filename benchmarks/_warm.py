"""Scenario: a fresh client's first burst, cold against warmed (``client.warm()``), over TLS.

The fake exchange runs in its process; in front of it, in a third process,
``benchmarks._tls_delay.DelayedTLS`` (a self-signed certificate for 127.0.0.1, every byte half
the round trip late each way, the TLS handshakes' included). So this process's loop does the
client's work alone: what it measures is what a bot's loop would pay.

For each API, the first burst of a new client: 72 requests, the trade pool's whole window (v1:
25 ids each, 1800 ids; v5: 10 each, 720 ids), from the call to the last answer, on a cold client
(every connection opened by the burst) and on one that ran ``warm()`` first. Beside it, the
loop's longest stall during the burst: a task sleeping 1 ms in a loop records how late it wakes.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import ssl
import statistics
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp

from htx_cancel import CancelClient, RateLimiter, RateLimits

from ._common import CONTRACT, CREDS, Section
from ._config import Sizes
from ._server import ExchangeOptions, ExchangeProcess
from ._tls_delay import DelayedTLS
from ._wire import ApiName

__all__ = ["run_warm"]

COLUMNS = ["api", "client", "requests", "ids", "runs", "median ms", "min ms", "max ms",
           "stall median ms", "stall max ms", "opened in burst", "warm-up ms",
           "warm-up stall ms", "keeper round stall ms", "cancelled"]
RTT = 0.030
REQUESTS = 72
PER_REQUEST = {"v5": 10, "v1": 25}
LIMITS = RateLimits(trade=(72, 3.0), read=(72, 3.0))
_TICK = 0.001


class _CountingTLS(DelayedTLS):
    """The delayed TLS front, counting the TLS connections it accepted."""

    accepted = 0

    async def _tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        await super()._tls(reader, writer)


def _cert(front: DelayedTLS) -> bytes:
    """The front's certificate (PEM), for the client to trust."""
    return Path(front._dir.name, "cert.pem").read_bytes()


async def _front_main(conn: Connection, target_port: int) -> None:
    """Serve the front until told to stop: its port and certificate, then counts on demand."""
    loop = asyncio.get_running_loop()
    front = _CountingTLS(target_port, RTT)
    async with front:
        conn.send((front.port, _cert(front)))
        while True:
            try:
                cmd = await loop.run_in_executor(None, conn.recv)
            except (EOFError, OSError):
                return
            if cmd != "count":
                return
            conn.send(front.accepted)


def _front(conn: Connection, target_port: int) -> None:
    """Entry point of the front's process."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_front_main(conn, target_port))


class _Front:
    """The TLS front in its own process; ``accepted()`` asks it how many connections it took."""

    def __init__(self, target_port: int) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_front, args=(child, target_port), daemon=True,
                                 name="tls-front")
        self._proc.start()
        child.close()
        if not self._conn.poll(60):
            raise TimeoutError("the TLS front did not start")
        self.port, cert = self._conn.recv()
        self.ssl = ssl.create_default_context(cadata=cert.decode())

    def accepted(self) -> int:
        self._conn.send("count")
        if not self._conn.poll(10):
            raise TimeoutError("the TLS front did not answer")
        count: int = self._conn.recv()
        return count

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.send("stop")
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)


class _Stalls:
    """A task sleeping 1 ms in a loop; the most it woke late, in seconds."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(_TICK)
            self.worst = max(self.worst, loop.time() - before - _TICK)

    async def __aenter__(self) -> _Stalls:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def _once(ex: ExchangeProcess, front: _Front, api: ApiName,
                warm: bool) -> dict[str, float]:
    """One new client's first burst: times in seconds, connections, cancelled."""
    ex.clear()  # the last run's requests would count as another client's, in the headers
    ids = ex.seed(REQUESTS * PER_REQUEST[api])
    connector = aiohttp.TCPConnector(ssl=front.ssl, limit=100 + REQUESTS)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = CancelClient(CREDS, api=api, base_url=f"https://127.0.0.1:{front.port}",
                              session=session, limiter=RateLimiter(LIMITS))
        async with client:
            warm_s = warm_stall = keeper_stall = 0.0
            if warm:
                async with _Stalls() as stalls:
                    t0 = time.perf_counter()
                    ready = await client.warm(keep=False)
                    warm_s = time.perf_counter() - t0
                warm_stall = stalls.worst
                assert ready == REQUESTS, f"warm-up: {ready} of {REQUESTS} ready"
                async with _Stalls() as stalls:  # a keeper's round: the same, on open ones
                    await client.warm(keep=False)
                keeper_stall = stalls.worst
            before = front.accepted()
            async with _Stalls() as stalls:
                t0 = time.perf_counter()
                report = await client.cancel_orders(CONTRACT, ids)
                elapsed = time.perf_counter() - t0
            opened = front.accepted() - before
    return {"elapsed": elapsed, "stall": stalls.worst, "opened": opened,
            "cancelled": len(report.cancelled), "ids": len(ids), "warm": warm_s,
            "warm_stall": warm_stall, "keeper_stall": keeper_stall}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def run_warm(ex: ExchangeProcess, sizes: Sizes, apis: Sequence[ApiName]) -> Section:
    """Cold and warmed first bursts on each API, ``socket_runs`` times each, alternating."""
    url = ex.start(ExchangeOptions(rate_limits=False))
    port = int(url.rsplit(":", 1)[1])
    runs = sizes.socket_runs
    section = Section("warm", f"A fresh client's first burst, cold and warmed: {REQUESTS} "
                      f"requests, TLS, {RTT * 1000:g} ms round trip", COLUMNS)
    front = _Front(port)
    try:
        for api in apis:
            results: dict[bool, list[dict[str, float]]] = {False: [], True: []}
            for _ in range(runs):  # alternate, so that drift touches both alike
                for warm in (False, True):
                    results[warm].append(await _once(ex, front, api, warm))
            for warm in (False, True):
                rs = results[warm]
                times = [r["elapsed"] for r in rs]
                stalls = [r["stall"] for r in rs]
                section.rows.append({
                    "api": api, "client": "warmed" if warm else "cold", "requests": REQUESTS,
                    "ids": int(rs[-1]["ids"]), "runs": runs,
                    "median ms": _ms(statistics.median(times)), "min ms": _ms(min(times)),
                    "max ms": _ms(max(times)),
                    "stall median ms": _ms(statistics.median(stalls)),
                    "stall max ms": _ms(max(stalls)),
                    "opened in burst": int(max(r["opened"] for r in rs)),
                    "warm-up ms": _ms(statistics.median(r["warm"] for r in rs)) if warm else "",
                    "warm-up stall ms": _ms(max(r["warm_stall"] for r in rs)) if warm else "",
                    "keeper round stall ms": (_ms(max(r["keeper_stall"] for r in rs)) if warm
                                              else ""),
                    "cancelled": f"{int(rs[-1]['cancelled'])}/{int(rs[-1]['ids'])}"})
    finally:
        front.close()
    section.notes += [
        "From the call to the last answer of a new client's first call (the key is proven by "
        "one request before the other 71 go). Cold: the burst opens its connections (TCP, TLS, "
        "then the request). Warmed: the same after `await client.warm()` (72 unsigned GETs of "
        "the public timestamp, all at once); its time and stall are the warm-up's own, at "
        "start-up. Keeper round: the stall of one more round on the open connections (what the "
        "keeper costs the loop every 15 s while idle).",
        "Stall: the most a task sleeping 1 ms woke late during the burst (the client's work and "
        "its TLS handshakes on this loop). The exchange and the TLS front run in two other "
        "processes, on the same two cores.",
    ]
    return section
