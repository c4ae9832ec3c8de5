"""Scenario 2: time to cancel with HTX's limits on, against the bound the limits allow."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from htx_cancel import CancelClient, CancelReport, RateLimits

from ._ccxt import CcxtClient, ccxt_version
from ._common import CONTRACT, Section, library_client, median, rate_bound
from ._config import Sizes
from ._floor import FloorClient, LimitedFloor, run_batches
from ._server import ACCESS_KEY, SECRET_KEY, ExchangeOptions, ExchangeProcess

__all__ = ["run_limits"]

ENDPOINTS = {"order": "swap_cancel", "trigger": "swap_trigger_cancel",
             "tpsl": "swap_tpsl_cancel", "track": "swap_track_cancel"}
PER_REQUEST = {"order": 25, "trigger": 20, "tpsl": 10, "track": 10}
IN_FLIGHT = 100
COLUMNS = ["scenario", "window", "client", "kind", "requests", "elapsed s", "bound s",
           "vs bound", "1032", "max in window", "cancelled"]


def _requests(kind: str, n: int) -> int:
    return -(-n // PER_REQUEST[kind])


async def _fresh(ex: ExchangeProcess, opts: ExchangeOptions) -> tuple[str, float]:
    """A fresh exchange; the median round trip of a few requests (then forgotten)."""
    url = ex.start(opts)
    times: list[float] = []
    async with FloorClient(url, ACCESS_KEY, SECRET_KEY) as floor:
        for i in range(6):
            t0 = time.perf_counter()
            await floor.post("swap_cancel", {"contract_code": CONTRACT, "order_id": str(i + 1)})
            times.append(time.perf_counter() - t0)
    ex.clear()
    return url, median(times[1:])


def _library_call(client: CancelClient, kind: str, ids: list[str]) -> Awaitable[CancelReport]:
    if kind == "order":
        return client.cancel_orders(CONTRACT, ids)
    method: Callable[[str, list[str]], Awaitable[CancelReport]] = getattr(
        client, f"cancel_{kind}_orders")
    return method(CONTRACT, ids)


async def _timed(start: float, aw: Awaitable[int]) -> tuple[float, int]:
    count = await aw
    return time.perf_counter() - start, count


async def _run_mix(ex: ExchangeProcess, mix: dict[str, int], client: str, url: str,
                   sizes: Sizes) -> tuple[dict[str, tuple[float, int]], int]:
    """Run each kind of the mix concurrently on one client: kind -> (finish s, cancelled)."""
    ids = {kind: ex.seed(n, kind) for kind, n in mix.items()}
    rejected = 0
    if client == "htx_cancel":
        limits = RateLimits(trade=sizes.trade_limit, strategy=sizes.strategy_limit)
        lib = library_client(url, limits)
        try:
            start = time.perf_counter()

            async def one(kind: str) -> int:
                report = await _library_call(lib, kind, ids[kind])
                return len(report.cancelled)

            done = await asyncio.gather(*(_timed(start, one(k)) for k in mix))
        finally:
            await lib.close()
    elif client == "aiolimiter":
        async with FloorClient(url, ACCESS_KEY, SECRET_KEY) as floor:
            limited = LimitedFloor(floor, sizes.trade_limit, sizes.strategy_limit)
            start = time.perf_counter()
            done = await asyncio.gather(*(
                _timed(start, run_batches(limited.post, ENDPOINTS[k], "order_id", CONTRACT,
                                          ids[k], PER_REQUEST[k], IN_FLIGHT)) for k in mix))
            rejected = limited.rejected
    else:
        version = ccxt_version()
        assert version is not None
        rate_ms = sizes.trade_limit[1] * 1000 / sizes.trade_limit[0]
        async with CcxtClient(url, ACCESS_KEY, SECRET_KEY, throttle=True,
                              rate_limit_ms=rate_ms) as cc:
            start = time.perf_counter()
            done = await asyncio.gather(*(
                _timed(start, run_batches(cc.post_retrying, ENDPOINTS[k], "order_id", CONTRACT,
                                          ids[k], PER_REQUEST[k], IN_FLIGHT)) for k in mix))
            rejected = cc.rejected
    return dict(zip(mix, done, strict=True)), rejected


async def _scenario(ex: ExchangeProcess, section: Section, sizes: Sizes, name: str,
                    window: str, client: str, mix: dict[str, int]) -> None:
    opts = ExchangeOptions(trade_limit=sizes.trade_limit, strategy_limit=sizes.strategy_limit,
                           window=window, jitter=sizes.jitter)
    url, rtt = await _fresh(ex, opts)
    results, client_1032 = await _run_mix(ex, mix, client, url, sizes)
    strategy_pools = [ENDPOINTS[k] for k in mix if k != "order"]
    stats = ex.stats(*strategy_pools)
    reqs = {k: _requests(k, n) for k, n in mix.items()}
    trade_bound = rate_bound(sum(reqs.values()), sizes.trade_limit)
    mix_bound = max([trade_bound] + [rate_bound(reqs[k], sizes.strategy_limit)
                                     for k in mix if k != "order"]) + rtt
    for kind, (elapsed, cancelled) in results.items():
        pool = "trade" if kind == "order" else ENDPOINTS[kind]
        seen = stats.max_in_window.get(pool, 0)
        limit = sizes.trade_limit[0] if kind == "order" else sizes.strategy_limit[0]
        own = rtt + (rate_bound(reqs[kind], sizes.trade_limit) if kind == "order" else max(
            rate_bound(reqs[kind], sizes.strategy_limit), rate_bound(reqs[kind],
                                                                     sizes.trade_limit)))
        bound = mix_bound if len(mix) == 1 else own
        section.rows.append({
            "scenario": name, "window": window, "client": client, "kind": kind,
            "requests": reqs[kind], "elapsed s": round(elapsed, 3),
            "bound s": round(bound, 3), "vs bound": round(elapsed / bound, 3),
            "1032": stats.rejected_by_endpoint.get(ENDPOINTS[kind], 0),
            "max in window": f"{seen}/{limit}", "cancelled": f"{cancelled}/{mix[kind]}",
        })
    if len(mix) > 1:
        last = max(elapsed for elapsed, _ in results.values())
        section.rows.append({
            "scenario": name, "window": window, "client": client, "kind": "all (last)",
            "requests": sum(reqs.values()), "elapsed s": round(last, 3),
            "bound s": round(mix_bound, 3), "vs bound": round(last / mix_bound, 3),
            "1032": stats.rejected_1032,
            "max in window": f"{stats.max_in_window.get('trade', 0)}/{sizes.trade_limit[0]}",
            "cancelled": f"{sum(c for _, c in results.values())}/{sum(mix.values())}",
        })
    if client_1032 != stats.rejected_1032:
        section.notes.append(f"{name}/{window}/{client}: the client saw {client_1032} 1032 "
                             f"answers, the exchange counted {stats.rejected_1032}.")


async def run_limits(ex: ExchangeProcess, sizes: Sizes) -> Section:
    """The bulk, trigger and mix scenarios, each window mode, each client."""
    section = Section("limits", "2. Time to cancel with the rate limits on", COLUMNS)
    n, t = sizes.trade_limit
    sn, st = sizes.strategy_limit
    bulk = f"{sizes.bulk_ids} ids"
    trig = f"{sizes.trigger_ids} trigger ids"
    plans: list[tuple[str, dict[str, int], list[str]]] = [
        (bulk, {"order": sizes.bulk_ids}, ["htx_cancel", "aiolimiter", "ccxt"]),
        (trig, {"trigger": sizes.trigger_ids}, ["htx_cancel", "aiolimiter"]),
        ("mix", dict(sizes.mix), ["htx_cancel", "aiolimiter"]),
    ]
    if ccxt_version() is None:
        section.notes.append("ccxt is not installed: its rows are missing.")
    for window in sizes.windows:
        for name, mix, clients in plans:
            for client in clients:
                if client == "ccxt" and ccxt_version() is None:
                    continue
                await _scenario(ex, section, sizes, name, window, client, mix)
    section.notes.extend([
        f"Exchange limits: trade {n}/{t:g} s, strategy {sn}/{st:g} s per endpoint; arrival "
        f"jitter uniform {sizes.jitter[0] * 1000:g}-{sizes.jitter[1] * 1000:g} ms.",
        "bound = the least time the limits allow from first to last request with sliding "
        "windows + the median round trip measured on the same exchange just before. In the "
        "mix (all kinds issued together on one client) a kind's row is measured against "
        "what its own pools would allow it alone, and the 'all (last)' row against the least "
        "time for the whole mix (its slowest pool).",
        f"aiolimiter: AsyncLimiter({n}, {t:g}) for the trade pool and AsyncLimiter({sn}, {st:g}) "
        "per strategy endpoint in front of the floor client; a 1032 answer is retried through "
        "the limiters.",
        f"ccxt: enableRateLimit=True, rateLimit={t * 1000 / n:.2f} ms ({n}/{t:g} s as HTX "
        "documents it), a 1032 (ccxt raises ExchangeError) is retried.",
        "1032 = requests the exchange refused over the limit during that run (all clients "
        "retry them); max in window = most accepted arrivals in any sliding window of the pool.",
    ])
    return section
