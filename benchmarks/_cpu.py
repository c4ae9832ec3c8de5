"""Scenario 1: client CPU per request with limits off, a full batch a request (v5 10, v1 25)."""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from htx_cancel import CancelClient

from ._ccxt import CcxtClient, ccxt_version
from ._common import CONTRACT, Section, library_client, median, percentile
from ._config import Sizes
from ._floor import FloorClient, run_batches, sender
from ._server import ACCESS_KEY, SECRET_KEY, ExchangeOptions, ExchangeProcess
from ._wire import ApiName, wire

__all__ = ["run_cpu"]

WARMUP = 8
FLOOR = "floor (hand-written aiohttp)"
Run = Callable[[list[str], int], Awaitable[int]]
Closer = Callable[[], Awaitable[Any]]


async def _measure(ex: ExchangeProcess, run: Run, per_request: int, requests: int,
                   in_flight: int) -> tuple[float, float, int]:
    """(CPU s, wall s, ids cancelled) for ``requests`` requests after a warm-up."""
    ex.clear()
    ids = ex.seed((requests + WARMUP) * per_request)
    warm, ids = ids[:WARMUP * per_request], ids[WARMUP * per_request:]
    await run(warm, in_flight)
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    cancelled = await run(ids, in_flight)
    cpu1, wall1 = time.process_time(), time.perf_counter()
    return cpu1 - cpu0, wall1 - wall0, cancelled


async def _runners(url: str, api: ApiName, sizes: Sizes, closers: list[Closer],
                   notes: list[str]) -> dict[str, Run]:
    """Every client of the scenario on ``api``, by name."""
    route = wire(api).order
    per = route.per_request
    runners: dict[str, Run] = {}

    floor = FloorClient(url, ACCESS_KEY, SECRET_KEY)
    await floor.__aenter__()
    closers.append(floor.__aexit__)
    floor_send = sender(floor.send, route, CONTRACT)
    runners[FLOOR] = lambda ids, k: run_batches(floor_send, ids, per, k)

    lib = library_client(url, None, api=api, max_in_flight=100)
    closers.append(lib.close)

    async def lib_send(part: list[str]) -> int:
        return len((await lib.cancel_orders(CONTRACT, part)).cancelled)

    runners["htx_cancel (a call per request)"] = lambda ids, k: run_batches(lib_send, ids, per, k)

    lib_clients: dict[int, CancelClient] = {
        k: library_client(url, None, api=api, max_in_flight=k) for k in (1, sizes.cpu_in_flight)}
    closers.extend(c.close for c in lib_clients.values())

    async def lib_one_call(ids: list[str], k: int) -> int:
        report = await lib_clients[k].cancel_orders(CONTRACT, ids)
        return len(report.cancelled)

    runners["htx_cancel (one call, all ids)"] = lib_one_call

    version = ccxt_version()
    if version is not None:
        cc = CcxtClient(url, ACCESS_KEY, SECRET_KEY, throttle=False)
        closers.append(cc.exchange.close)
        cc_send = sender(cc.send, route, CONTRACT)
        runners[f"ccxt {version} htx (throttle off)"] = (
            lambda ids, k: run_batches(cc_send, ids, per, k))
    elif not notes:
        notes.append("ccxt is not installed (pip install ccxt): its rows are missing.")
    return runners


async def run_cpu(ex: ExchangeProcess, sizes: Sizes, apis: Sequence[ApiName]) -> Section:
    """Every client on every API, sequential and ``cpu_in_flight`` in flight, interleaved
    over rounds (each round starts one client further along)."""
    url = ex.start(ExchangeOptions(rate_limits=False))
    per = ", ".join(f"{api} {wire(api).order.per_request}" for api in apis)
    section = Section(
        "cpu", f"1. Client CPU per request (limits off; ids a request: {per})",
        ["api", "client", "in flight", "CPU µs/request", "vs floor", "vs floor p25-p75",
         "requests/s (wall)", "cancelled"])
    closers: list[Closer] = []
    runners: dict[tuple[ApiName, str], Run] = {}
    try:
        for api in apis:
            found = await _runners(url, api, sizes, closers, section.notes)
            runners.update({(api, name): run for name, run in found.items()})
        results: dict[tuple[ApiName, str, int], list[tuple[float, float, int]]] = {}
        keys = list(runners)
        for rnd in range(sizes.cpu_rounds):
            for k in (1, sizes.cpu_in_flight):
                order = keys[rnd % len(keys):] + keys[:rnd % len(keys)]
                for api, name in order:
                    m = await _measure(ex, runners[(api, name)], wire(api).order.per_request,
                                       sizes.cpu_requests, k)
                    results.setdefault((api, name, k), []).append(m)
    finally:
        for close in closers:
            await close()

    n = sizes.cpu_requests
    for api in apis:
        total = n * wire(api).order.per_request
        for k in (1, sizes.cpu_in_flight):
            floor = [c for c, _, _ in results[(api, FLOOR, k)]]
            for a, name in keys:
                if a != api:
                    continue
                ms = results[(api, name, k)]
                # each round's CPU against the floor's in the same round (paired: the load of
                # the shared machine drifts between rounds, less within one)
                ratios = sorted(c / f for (c, _, _), f in zip(ms, floor, strict=True))
                section.rows.append({
                    "api": api, "client": name, "in flight": k,
                    "CPU µs/request": round(median([c for c, _, _ in ms]) / n * 1e6, 1),
                    "vs floor": round(median(ratios), 3),
                    "vs floor p25-p75": f"{percentile(ratios, 25):.3f}-"
                                        f"{percentile(ratios, 75):.3f}",
                    "requests/s (wall)": round(n / median([w for _, w, _ in ms])),
                    "cancelled": f"{min(c for _, _, c in ms)}/{total}",
                })
    section.notes.append(
        f"{n} requests per measurement, {sizes.cpu_rounds} interleaved rounds (every client of "
        "every API in each round, each round starting one client further along); CPU is "
        "time.process_time() of the client process (the exchange runs in another), the median "
        "over the rounds. vs floor: the median over the rounds of the client's CPU divided by "
        "the floor's on the same API in the same round; p25-p75: the spread of those ratios.")
    return section
