"""Scenario 1: client CPU per request with limits off, 25 ids a request."""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ._ccxt import CcxtClient, ccxt_version
from ._common import CONTRACT, Section, library_client, median
from ._config import Sizes
from ._floor import FloorClient, run_batches
from ._server import ACCESS_KEY, SECRET_KEY, ExchangeOptions, ExchangeProcess

__all__ = ["run_cpu"]

PER_REQUEST = 25
WARMUP = 8
Run = Callable[[list[str], int], Awaitable[int]]


async def _measure(ex: ExchangeProcess, run: Run, requests: int, in_flight: int
                   ) -> tuple[float, float, int]:
    """(CPU s, wall s, ids cancelled) for ``requests`` requests after a warm-up."""
    ex.clear()
    ids = ex.seed((requests + WARMUP) * PER_REQUEST)
    warm, ids = ids[:WARMUP * PER_REQUEST], ids[WARMUP * PER_REQUEST:]
    await run(warm, in_flight)
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    cancelled = await run(ids, in_flight)
    cpu1, wall1 = time.process_time(), time.perf_counter()
    return cpu1 - cpu0, wall1 - wall0, cancelled


async def run_cpu(ex: ExchangeProcess, sizes: Sizes) -> Section:
    """Every client, sequential and ``cpu_in_flight`` in flight, interleaved over rounds."""
    url = ex.start(ExchangeOptions(rate_limits=False))
    section = Section(
        "cpu", "1. Client CPU per request (limits off, 25 ids a request)",
        ["client", "in flight", "CPU µs/request", "vs floor", "requests/s (wall)", "cancelled"])
    runners: dict[str, Run] = {}
    closers: list[Callable[[], Awaitable[Any]]] = []

    floor = FloorClient(url, ACCESS_KEY, SECRET_KEY)
    await floor.__aenter__()
    closers.append(floor.__aexit__)
    runners["floor (hand-written aiohttp)"] = (
        lambda ids, k: run_batches(floor.post, "swap_cancel", "order_id", CONTRACT, ids,
                                   PER_REQUEST, k))

    lib = library_client(url, None, max_in_flight=100)
    closers.append(lib.close)

    async def lib_per_call(ids: list[str], k: int) -> int:
        count = 0

        async def one(endpoint: str, body: dict[str, str]) -> dict[str, Any]:
            nonlocal count
            report = await lib.cancel_orders(CONTRACT, body["order_id"].split(","))
            count += len(report.cancelled)
            return {}

        await run_batches(one, "swap_cancel", "order_id", CONTRACT, ids, PER_REQUEST, k)
        return count

    runners["htx_cancel (a call per request)"] = lib_per_call

    lib_clients = {1: library_client(url, None, max_in_flight=1),
                   sizes.cpu_in_flight: library_client(url, None,
                                                       max_in_flight=sizes.cpu_in_flight)}
    closers.extend(c.close for c in lib_clients.values())

    async def lib_one_call(ids: list[str], k: int) -> int:
        client = lib_clients.get(k) or library_client(url, None, max_in_flight=k)
        report = await client.cancel_orders(CONTRACT, ids)
        return len(report.cancelled)

    runners["htx_cancel (one call, all ids)"] = lib_one_call

    version = ccxt_version()
    if version is not None:
        cc = CcxtClient(url, ACCESS_KEY, SECRET_KEY, throttle=False)
        closers.append(cc.exchange.close)
        runners[f"ccxt {version} htx (throttle off)"] = (
            lambda ids, k: run_batches(cc.post, "swap_cancel", "order_id", CONTRACT, ids,
                                       PER_REQUEST, k))
    else:
        section.notes.append("ccxt is not installed (pip install ccxt): its rows are missing.")

    try:
        results: dict[tuple[str, int], list[tuple[float, float, int]]] = {}
        names = list(runners)
        for rnd in range(sizes.cpu_rounds):
            for k in (1, sizes.cpu_in_flight):
                order = names[rnd % len(names):] + names[:rnd % len(names)]
                for name in order:
                    m = await _measure(ex, runners[name], sizes.cpu_requests, k)
                    results.setdefault((name, k), []).append(m)
    finally:
        for close in closers:
            await close()

    n = sizes.cpu_requests
    for k in (1, sizes.cpu_in_flight):
        floor_us = median([c for c, _, _ in results[(names[0], k)]]) / n * 1e6
        for name in names:
            ms = results[(name, k)]
            us = median([c for c, _, _ in ms]) / n * 1e6
            section.rows.append({
                "client": name, "in flight": k, "CPU µs/request": round(us, 1),
                "vs floor": round(us / floor_us, 3),
                "requests/s (wall)": round(n / median([w for _, w, _ in ms])),
                "cancelled": f"{min(c for _, _, c in ms)}/{n * PER_REQUEST}",
            })
    section.notes.append(
        f"{n} requests per measurement, median of {sizes.cpu_rounds} interleaved round(s); "
        "CPU is time.process_time() of the client process (the exchange runs in another).")
    return section
