"""Scenario 2: time to cancel with HTX's limits on, against the bound the limits allow."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence

from htx_cancel import RateLimits

from ._ccxt import CcxtClient, ccxt_version
from ._common import CONTRACT, Section, library_call, library_client, median, rate_bound, seed
from ._config import Sizes
from ._floor import FloorClient, LimitedFloor, Post, run_batches, sender
from ._server import ACCESS_KEY, SECRET_KEY, ExchangeOptions, ExchangeProcess
from ._wire import ApiName, Wire, wire

__all__ = ["run_limits"]

IN_FLIGHT = 100
COLUMNS = ["api", "scenario", "window", "client", "kind", "requests", "elapsed s", "bound s",
           "vs bound", "1032", "max in window", "cancelled", "window lag ms", "last burst ms"]


def _windows(ex: ExchangeProcess, limit: int, period: float) -> dict[str, float]:
    """Where a bulk run's time beyond the bound went, from the exchange's arrival times.

    The accepted arrivals in order, ``limit`` a window: ``window lag ms`` is how much later than
    ``period`` each window's first arrival came after the one before (on average), ``last
    burst ms`` how long the last window's arrivals took from its first to its last.
    """
    arrivals = sorted(a for a, _, accepted in ex.timings() if accepted)
    firsts = arrivals[::limit]
    if len(firsts) < 2:
        return {}
    lag = ((firsts[-1] - firsts[0]) / (len(firsts) - 1) - period) * 1000
    return {"window lag ms": round(lag, 1),
            "last burst ms": round((arrivals[-1] - firsts[-1]) * 1000, 1)}


def _requests(w: Wire, kind: str, n: int) -> int:
    return -(-n // w.routes[kind].per_request)


async def _fresh(ex: ExchangeProcess, opts: ExchangeOptions, w: Wire) -> tuple[str, float]:
    """A fresh exchange; the median round trip of a few requests (then forgotten)."""
    url = ex.start(opts)
    times: list[float] = []
    route = w.order
    async with FloorClient(url, ACCESS_KEY, SECRET_KEY) as floor:
        for i in range(6):
            t0 = time.perf_counter()
            await floor.post(route.path, route.body(CONTRACT, [str(i + 1)]))
            times.append(time.perf_counter() - t0)
    ex.clear()
    return url, median(times[1:])


async def _timed(start: float, aw: Awaitable[int]) -> tuple[float, int]:
    count = await aw
    return time.perf_counter() - start, count


def _batches(post: Post, w: Wire, kind: str, ids: list[str]) -> Awaitable[int]:
    route = w.routes[kind]
    return run_batches(sender(post, route, CONTRACT), ids, route.per_request, IN_FLIGHT)


async def _run_mix(ex: ExchangeProcess, w: Wire, mix: dict[str, int], client: str, url: str,
                   sizes: Sizes) -> tuple[dict[str, tuple[float, int]], int]:
    """Run each kind of the mix concurrently on one client: kind -> (finish s, cancelled)."""
    ids = {kind: seed(ex, kind, n) for kind, n in mix.items()}
    rejected = 0
    if client == "htx_cancel":
        limits = RateLimits(trade=sizes.trade_limit, strategy=sizes.strategy_limit)
        lib = library_client(url, limits, api=w.api)
        try:
            start = time.perf_counter()

            async def one(kind: str) -> int:
                report = await library_call(lib, kind, ids[kind])
                return len(report.cancelled)

            done = await asyncio.gather(*(_timed(start, one(k)) for k in mix))
        finally:
            await lib.close()
    elif client == "aiolimiter":
        async with FloorClient(url, ACCESS_KEY, SECRET_KEY) as floor:
            limited = LimitedFloor(floor, sizes.trade_limit, sizes.strategy_limit)
            start = time.perf_counter()
            done = await asyncio.gather(*(
                _timed(start, _batches(limited.send, w, k, ids[k])) for k in mix))
            rejected = limited.rejected
    else:
        version = ccxt_version()
        assert version is not None
        rate_ms = sizes.trade_limit[1] * 1000 / sizes.trade_limit[0]
        async with CcxtClient(url, ACCESS_KEY, SECRET_KEY, throttle=True,
                              rate_limit_ms=rate_ms) as cc:
            start = time.perf_counter()
            done = await asyncio.gather(*(
                _timed(start, _batches(cc.send_retrying, w, k, ids[k])) for k in mix))
            rejected = cc.rejected
    return dict(zip(mix, done, strict=True)), rejected


async def _scenario(ex: ExchangeProcess, section: Section, sizes: Sizes, w: Wire, name: str,
                    window: str, client: str, mix: dict[str, int]) -> None:
    opts = ExchangeOptions(trade_limit=sizes.trade_limit, strategy_limit=sizes.strategy_limit,
                           window=window, jitter=sizes.jitter, algo_limit=sizes.strategy_limit)
    url, rtt = await _fresh(ex, opts, w)
    results, client_1032 = await _run_mix(ex, w, mix, client, url, sizes)
    own_pools = [p for k in mix if (p := w.routes[k].own_pool) is not None]
    stats = ex.stats(*own_pools)
    # (the library's rows only: the others' 1032s and bursts do not fall into windows of N)
    spread = (_windows(ex, *sizes.trade_limit) if list(mix) == ["order"]
              and client == "htx_cancel" else {})
    reqs = {k: _requests(w, k, n) for k, n in mix.items()}
    trade_bound = rate_bound(sum(reqs.values()), sizes.trade_limit)
    mix_bound = max([trade_bound] + [rate_bound(reqs[k], sizes.strategy_limit)
                                     for k in mix if w.routes[k].own_pool]) + rtt
    for kind, (elapsed, cancelled) in results.items():
        route = w.routes[kind]
        pool = route.own_pool or "trade"
        seen = stats.max_in_window.get(pool, 0)
        limit = sizes.strategy_limit[0] if route.own_pool else sizes.trade_limit[0]
        own = rtt + (max(rate_bound(reqs[kind], sizes.strategy_limit),
                         rate_bound(reqs[kind], sizes.trade_limit)) if route.own_pool
                     else rate_bound(reqs[kind], sizes.trade_limit))
        bound = mix_bound if len(mix) == 1 else own
        section.rows.append({
            "api": w.api, "scenario": name, "window": window, "client": client, "kind": kind,
            "requests": reqs[kind], "elapsed s": round(elapsed, 3),
            "bound s": round(bound, 3), "vs bound": round(elapsed / bound, 3),
            "1032": stats.rejected_by_endpoint.get(route.record, 0),
            "max in window": f"{seen}/{limit}", "cancelled": f"{cancelled}/{mix[kind]}",
            **spread,
        })
    if len(mix) > 1:
        last = max(elapsed for elapsed, _ in results.values())
        section.rows.append({
            "api": w.api, "scenario": name, "window": window, "client": client,
            "kind": "all (last)", "requests": sum(reqs.values()), "elapsed s": round(last, 3),
            "bound s": round(mix_bound, 3), "vs bound": round(last / mix_bound, 3),
            "1032": stats.rejected_1032,
            "max in window": f"{stats.max_in_window.get('trade', 0)}/{sizes.trade_limit[0]}",
            "cancelled": f"{sum(c for _, c in results.values())}/{sum(mix.values())}",
        })
    if client_1032 != stats.rejected_1032:
        section.notes.append(f"{w.api} {name}/{window}/{client}: the client saw {client_1032} "
                             f"1032 answers, the exchange counted {stats.rejected_1032}.")


def _plans(w: Wire, sizes: Sizes) -> list[tuple[str, dict[str, int], list[str]]]:
    """(scenario, kind -> ids, clients) for one API."""
    strategy = w.strategy_kinds[0]  # v5: algo; v1: trigger
    mix = dict(sizes.mix_v5 if w.api == "v5" else sizes.mix)
    return [
        (f"{sizes.bulk_ids} ids", {"order": sizes.bulk_ids}, ["htx_cancel", "aiolimiter", "ccxt"]),
        (f"{sizes.trigger_ids} {strategy} ids", {strategy: sizes.trigger_ids},
         ["htx_cancel", "aiolimiter"]),
        ("mix", mix, ["htx_cancel", "aiolimiter"]),
    ]


async def run_limits(ex: ExchangeProcess, sizes: Sizes, apis: Sequence[ApiName]) -> Section:
    """The bulk, strategy and mix scenarios, each API, each window mode, each client."""
    section = Section("limits", "2. Time to cancel with the rate limits on", COLUMNS)
    n, t = sizes.trade_limit
    sn, st = sizes.strategy_limit
    if ccxt_version() is None:
        section.notes.append("ccxt is not installed: its rows are missing.")
    for api in apis:
        w = wire(api)
        for window in sizes.windows:
            for name, mix, clients in _plans(w, sizes):
                for client in clients:
                    if client == "ccxt" and ccxt_version() is None:
                        continue
                    await _scenario(ex, section, sizes, w, name, window, client, mix)
    section.notes.extend([
        f"Exchange limits: trade {n}/{t:g} s; {sn}/{st:g} s per strategy endpoint (v1: "
        "trigger, tpsl, track) and for v5's algo cancel (the fake's algo_limit: HTX states "
        "none; the library assumes v1's 5/s, the safe side, and the exchange here holds it to "
        f"that); arrival jitter uniform {sizes.jitter[0] * 1000:g}-{sizes.jitter[1] * 1000:g} "
        "ms. Ids a request: v5 10 (orders and algo orders); v1 25 (orders), 20 (trigger), "
        "10 (tpsl, track).",
        "v5 mix: regular orders and algo orders (a third each trigger, tp, trailing stop) "
        "issued together on one client; v1 mix: regular, trigger, tpsl and track orders.",
        "bound = the least time the limits allow from first to last request with sliding "
        "windows + the median round trip measured on the same exchange just before. In the "
        "mix (all kinds issued together on one client) a kind's row is measured against "
        "what its own pools would allow it alone, and the 'all (last)' row against the least "
        "time for the whole mix (its slowest pool).",
        f"aiolimiter: AsyncLimiter({n}, {t:g}) for the trade pool and AsyncLimiter({sn}, {st:g}) "
        "per endpoint with a pool of its own, in front of the floor client; a 1032 answer is "
        "retried through the limiters.",
        f"ccxt: enableRateLimit=True, rateLimit={t * 1000 / n:.2f} ms ({n}/{t:g} s as HTX "
        "documents it), a 1032 is retried (on v1 ccxt raises it; on v5 ccxt 4.5 returns the "
        "answer as a success).",
        "1032 = requests the exchange refused over the limit during that run (all clients "
        "retry them); max in window = most accepted arrivals in any sliding window of the pool.",
        f"htx_cancel's bulk rows, from the exchange's arrival times ({n} accepted arrivals a "
        f"window): window lag = how much more than {t:g} s lay between the first arrivals of "
        "consecutive windows "
        "(on average); last burst = from the first to the last arrival of the last window. "
        "elapsed - bound is about (windows - 1) x lag + last burst - the round trip.",
    ])
    return section
