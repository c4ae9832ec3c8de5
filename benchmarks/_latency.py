"""Scenario 4: latency of one cancel of one id on a warm connection."""

from __future__ import annotations

import time
from collections.abc import Sequence

from ._common import CONTRACT, Section, library_client, median, percentile
from ._config import Sizes
from ._floor import FloorClient
from ._server import ACCESS_KEY, SECRET_KEY, ExchangeOptions, ExchangeProcess
from ._wire import ApiName, wire

__all__ = ["run_latency"]

WARMUP = 10


async def _alternate(url: str, ex: ExchangeProcess, api: ApiName,
                     runs: int) -> tuple[list[float], list[float]]:
    """(library µs, floor µs): one id each, request by request, ``runs`` times."""
    route = wire(api).order
    ids = ex.seed(2 * (runs + WARMUP))
    lib_t: list[float] = []
    floor_t: list[float] = []
    lib = library_client(url, None, api=api)
    try:
        async with FloorClient(url, ACCESS_KEY, SECRET_KEY) as floor:
            for i in range(runs + WARMUP):
                a, b = ids[2 * i], ids[2 * i + 1]
                t0 = time.perf_counter()
                await lib.cancel_orders(CONTRACT, [a])
                t1 = time.perf_counter()
                await floor.post(route.path, route.body(CONTRACT, [b]))
                t2 = time.perf_counter()
                if i >= WARMUP:
                    lib_t.append((t1 - t0) * 1e6)
                    floor_t.append((t2 - t1) * 1e6)
    finally:
        await lib.close()
    return lib_t, floor_t


async def run_latency(ex: ExchangeProcess, sizes: Sizes, apis: Sequence[ApiName]) -> Section:
    """Alternate the library and the floor, one id each, ``latency_runs`` times per API."""
    url = ex.start(ExchangeOptions(rate_limits=False))
    section = Section("latency", "4. Latency of one cancel of one id (warm connection)",
                      ["api", "client", "runs", "median µs", "p90 µs", "median - floor µs"])
    for api in apis:
        lib_t, floor_t = await _alternate(url, ex, api, sizes.latency_runs)
        floor_med = median(floor_t)
        for name, ts in (("floor (hand-written aiohttp)", floor_t), ("htx_cancel", lib_t)):
            section.rows.append({"api": api, "client": name, "runs": len(ts),
                                 "median µs": round(median(ts)),
                                 "p90 µs": round(percentile(ts, 90)),
                                 "median - floor µs": round(median(ts) - floor_med)})
    section.notes.append("The two alternate request by request on one exchange, so drift "
                         "affects both alike (the library's single id goes in a batch request, "
                         "as the floor's does).")
    return section
