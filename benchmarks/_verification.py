"""Scenario: what verification costs (time, requests) and that it takes no trade slot.

v1 only: v5 verification (from the listings or the orders push; v5 order info takes one id a
request) is measured by the stream scenario (``_streams.py``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

from htx_cancel import CancelClient, RateLimiter, RateLimits, RequestEvent
from htx_cancel._catalog import CATALOG, READ_POOL, TRADE_POOL

from ._common import CONTRACT, CREDS, Section, rate_bound
from ._config import Sizes
from ._server import ExchangeOptions, ExchangeProcess
from ._wire import ApiName

__all__ = ["run_verification"]

READ_LIMIT = (72, 3.0)
COLUMNS = ["api", "run", "ids", "elapsed s", "after last cancel s", "trade req", "read req",
           "read bound s", "1032", "max trade in window", "max read in window", "states"]


class _Count:
    """Attempts by account pool, and when the last cancel of the call was answered."""

    def __init__(self) -> None:
        self.pools: Counter[str] = Counter()
        self.last_cancel = 0.0

    def __call__(self, event: RequestEvent) -> None:
        ep = CATALOG.get(event.endpoint)
        pool = ep.pools[0] if ep is not None else TRADE_POOL
        self.pools[pool] += 1
        if ep is not None and ep.is_cancel:
            self.last_cancel = time.perf_counter()


def _client(url: str, limits: RateLimits, count: _Count | None = None) -> CancelClient:
    return CancelClient(CREDS, api="v1", base_url=url, rate_limits=limits,
                        limiter=RateLimiter(limits),
                        on_request=count)


async def _run(ex: ExchangeProcess, opts: ExchangeOptions, limits: RateLimits, n: int,
               how: str) -> dict[str, object]:
    """One run on a fresh exchange: ``cancel``, ``cancel + verify`` or ``verify later``."""
    url = ex.start(opts)
    ids = ex.seed(n)
    if how == "verify later":  # cancelled earlier, by another client
        async with _client(url, limits) as other:
            await other.cancel_orders(CONTRACT, order_ids=ids)
    before = ex.stats(READ_POOL)
    count = _Count()
    async with _client(url, limits, count) as client:
        t0 = time.perf_counter()
        if how == "verify later":
            report = await client.verify(ids, CONTRACT)
        else:
            report = await client.cancel_orders(CONTRACT, order_ids=ids,
                                                verify=how == "cancel + verify")
        end = time.perf_counter()
    stats = ex.stats(READ_POOL)
    reads = count.pools[READ_POOL]
    tail = end - count.last_cancel if count.last_cancel else end - t0
    states = Counter(map(str, report.states.values()))
    return {
        "api": "v1", "run": how, "ids": n, "elapsed s": round(end - t0, 2),
        "after last cancel s": round(tail, 2) if how != "cancel" else "",
        "trade req": count.pools[TRADE_POOL], "read req": reads,
        "read bound s": round(rate_bound(reads, READ_LIMIT), 1) if reads else "",
        "1032": stats.rejected_1032 - before.rejected_1032,
        # (verify later: the pools saw the earlier cancel too; its trade figure is left out)
        "max trade in window": stats.max_in_window.get(TRADE_POOL) if count.pools[TRADE_POOL]
        or how == "cancel" else "",
        "max read in window": stats.max_in_window.get(READ_POOL),
        "states": ", ".join(f"{v} {k}" for k, v in sorted(states.items())),
    }


async def run_verification(ex: ExchangeProcess, sizes: Sizes,
                           apis: Sequence[ApiName]) -> Section:
    """Cancel ``sizes.bulk_ids`` ids with and without verification, and verify them later
    (v1 only: see the module's docstring)."""
    limits = RateLimits(trade=sizes.trade_limit, strategy=sizes.strategy_limit,
                        read=READ_LIMIT)
    opts = ExchangeOptions(trade_limit=sizes.trade_limit, strategy_limit=sizes.strategy_limit,
                           window="sliding", jitter=sizes.jitter)
    section = Section("verify", "Verification: its cost in time and requests, with HTX's limits",
                      COLUMNS)
    for how in ("cancel", "cancel + verify", "verify later") if "v1" in apis else ():
        section.rows.append(await _run(ex, opts, limits, sizes.bulk_ids, how))
    section.notes += [
        "v1 only: v5 verification (from the listings or the orders push, order info taking "
        "one id a request there) is the stream scenario's (section 8).",
        f"trade pool {sizes.trade_limit[0]} per {sizes.trade_limit[1]:g} s, read pool "
        f"{READ_LIMIT[0]} per {READ_LIMIT[1]:g} s; order info reads 50 ids a request.",
        "verify=True reads each batch's ids as they settle, so its reads overlap the cancel; "
        "after last cancel s is what verification adds after the last cancel answer.",
        "trade req equal in the first two rows: verification took no trade slot (an order "
        "still open after its cancel would take one more).",
        "read bound s: the least time the read pool allows for that many reads, without the "
        "round trips.",
    ]
    return section
