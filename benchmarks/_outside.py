"""Scenarios 5 and 6: a steady outsider beside a large cancel; urgent cancels past placements.

5. Another program on the account sends at a steady rate outside the limiter (a quarter of the
   trade pool) while the library cancels a large batch: requests rejected on each side, and
   the time against the bound of what the outsider leaves of the pool.
6. Hundreds of normal-priority requests queue in the limiter (a bot's placements) when an
   urgent cancel (high priority) is issued: how long it waits, against the wait for the next
   slot of the pool to come free.

Both run on each API; the outsider and the placements stand-in send cancels of one unknown id
(``_wire.Wire.outside_path``: a trade-pool request that cancels nothing, as a placement costs).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence

from htx_cancel import CancelClient, Credentials, RateLimiter, RateLimits
from htx_cancel._events import RequestEvent

from ._common import CONTRACT, CREDS, Section
from ._config import Sizes
from ._floor import FloorClient
from ._server import ExchangeOptions, ExchangeProcess
from ._wire import ApiName, wire

__all__ = ["outsider", "run_outside", "run_priority"]

OUTSIDE_SHARE = 0.25


async def outsider(url: str, rate: float, stop: asyncio.Event,
                   creds: Credentials = CREDS, api: ApiName = "v1") -> int:
    """Unlimited cancels of unknown ids (v1: cross margin; v5: ``cancel_order``), one every
    1/rate s, until ``stop``, sent by hand (no limiter, no retry); returns how many it sent
    (they draw on the trade pool exactly like placements)."""
    loop = asyncio.get_running_loop()
    w = wire(api)
    sent = 0
    tasks: set[asyncio.Task[object]] = set()
    async with FloorClient(url, creds.access_key, creds.secret_key) as other:
        start = loop.time()
        while not stop.is_set():
            task = asyncio.ensure_future(
                other.post(w.outside_path, w.outside_body(CONTRACT, sent)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
            await asyncio.sleep(max(0.0, start + sent / rate - loop.time()))
        await asyncio.gather(*tasks)
    return sent


async def run_outside(ex: ExchangeProcess, sizes: Sizes, apis: Sequence[ApiName]) -> Section:
    """The outsider scenario, each API, each window mode, default settings."""
    n, t = sizes.trade_limit
    rate = n * OUTSIDE_SHARE / t
    ids_n = sizes.outside_ids
    section = Section("outside", "5. A steady outsider beside a large cancel",
                      ["api", "window", "ids", "requests", "outsider requests", "ours 1032",
                       "outsider 1032", "elapsed s", "bound s", "vs bound", "hold"])
    for api, window in ((a, win) for a in apis for win in sizes.windows):
        w = wire(api)
        url = ex.start(ExchangeOptions(trade_limit=sizes.trade_limit,
                                       strategy_limit=sizes.strategy_limit, window=window,
                                       jitter=sizes.jitter))
        ids = ex.seed(ids_n)
        stop = asyncio.Event()
        other = asyncio.ensure_future(outsider(url, rate, stop, api=api))
        await asyncio.sleep(2 * t)  # the outsider runs steadily before the cancel starts
        limiter = RateLimiter(RateLimits(trade=sizes.trade_limit,
                                         strategy=sizes.strategy_limit))
        async with CancelClient(CREDS, api=api, base_url=url, limiter=limiter) as client:
            start = time.perf_counter()
            report = await client.cancel_orders(CONTRACT, ids)
            elapsed = time.perf_counter() - start
        stop.set()
        sent = await other
        stats = ex.stats()
        requests = sum(b.attempts for b in report.batches)
        left = n - math.ceil(rate * t)
        bound = (math.ceil(math.ceil(ids_n / w.order.per_request) / left) - 1) * t
        section.rows.append({
            "api": api, "window": window, "ids": ids_n, "requests": requests,
            "outsider requests": sent,
            "ours 1032": stats.rejected_by_endpoint.get(w.order.record, 0),
            "outsider 1032": stats.rejected_by_endpoint.get(w.outside_record, 0),
            "elapsed s": round(elapsed, 3), "bound s": round(bound, 3),
            "vs bound": round(elapsed / bound, 3) if bound else None,
            "hold": limiter.stats().pools["trade"].outside,
        })
    section.notes.extend([
        f"Exchange limits: trade {n}/{t:g} s; the outsider sends {rate:g}/s (a quarter of the "
        "pool) with the same key, outside the limiter, from 2 windows before the cancel to its "
        "end; the library runs with default settings (RateLimits() at these limits).",
        f"bound = the least time from first to last request when the pool has {n} - "
        f"{math.ceil(rate * t)} slots a window left (sliding windows).",
    ])
    return section


async def run_priority(ex: ExchangeProcess, sizes: Sizes, apis: Sequence[ApiName]) -> Section:
    """Urgent cancels issued while hundreds of placements queue in the limiter, each API."""
    n, t = sizes.trade_limit
    section = Section("priority", "6. Urgent cancels past queued placements",
                      ["api", "queued normal", "urgent cancels", "median wait s",
                       "max wait s", "max (wait - next free slot) s", "cancelled"])
    for api in apis:
        section.rows.append(await _priority(ex, sizes, api))
    section.notes.extend([
        f"Exchange limits: trade {n}/{t:g} s. {sizes.queued_normal} normal-priority requests "
        "(placements, sent through limiter.slot on the API's placement path) queue at once; "
        f"then every {t / 3:g} s an urgent cancel (client.cancel_orders, priority high by "
        "default) is issued.",
        "wait = from asking the limiter to the grant (RequestEvent.wait); next free slot = when "
        "the trade pool's next held slot came back, seen from the moment of asking (0 when one "
        "was free).",
    ])
    return section


PLACEMENT = {"v5": "/v5/trade/order", "v1": "/linear-swap-api/v1/swap_order"}


async def _priority(ex: ExchangeProcess, sizes: Sizes, api: ApiName) -> dict[str, object]:
    """One run of the priority scenario on ``api``: its row."""
    t = sizes.trade_limit[1]
    w = wire(api)
    cancel_event = w.order.path.lstrip("/") if api == "v5" else w.order.record
    url = ex.start(ExchangeOptions(trade_limit=sizes.trade_limit,
                                   strategy_limit=sizes.strategy_limit, jitter=sizes.jitter))
    ids = ex.seed(sizes.urgent_cancels)
    limiter = RateLimiter(RateLimits(trade=sizes.trade_limit, strategy=sizes.strategy_limit))
    urgent_waits: list[float] = []

    def record(event: RequestEvent) -> None:
        if event.endpoint == cancel_event:
            urgent_waits.append(event.wait)

    async with CancelClient(CREDS, api=api, base_url=url, limiter=limiter,
                            on_request=record) as client, \
            FloorClient(url, CREDS.access_key, CREDS.secret_key) as sender:

        async def placement(i: int) -> None:
            async with limiter.slot(PLACEMENT[api]):
                await sender.post(w.outside_path, w.outside_body(CONTRACT, 10**18 + i))

        placements = [asyncio.ensure_future(placement(i)) for i in range(sizes.queued_normal)]
        await asyncio.sleep(0.5)
        waits: list[float] = []
        lates: list[float] = []
        queued_at_ask: list[int] = []
        cancelled = 0
        for order_id in ids:
            await asyncio.sleep(t / 3)
            loop_now = asyncio.get_running_loop().time()
            pool = limiter.scheduler.pools["trade"]
            pool.own(loop_now)
            next_free = 0.0 if pool.free(loop_now) > 0 else max(
                0.0, (pool.releases[0][0] if pool.releases else loop_now) - loop_now)
            queued_at_ask.append(limiter.stats().waiting["normal"])
            report = await client.cancel_orders(CONTRACT, [order_id])  # priority "high"
            cancelled += len(report.cancelled)
            wait = urgent_waits[-1]
            waits.append(wait)
            lates.append(wait - next_free)
        for p in placements:
            p.cancel()
        await asyncio.gather(*placements, return_exceptions=True)
    waits.sort()
    return {
        "api": api,
        "queued normal": f"{sizes.queued_normal} ({min(queued_at_ask)}-{max(queued_at_ask)} "
                         "at each urgent cancel)",
        "urgent cancels": len(ids),
        "median wait s": round(waits[len(waits) // 2], 4), "max wait s": round(waits[-1], 4),
        "max (wait - next free slot) s": round(max(lates), 4),
        "cancelled": f"{cancelled}/{len(ids)}",
    }

