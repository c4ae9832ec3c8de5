"""Scenario: ``verify=True`` on v5 for many ids, with the order stream and without.

The fake exchange runs in this process with HTX's limits (72 per 3 s, trade and read), a cancel
lag (reads and pushes show an order ``new`` for 50 ms after its accepted cancel) and a few fills
during cancels. For each run: read requests used, the time from the last cancel answer to the
last state (what verification adds after the cancel), and whether every state is the
exchange's own and no id is left unknown.
"""

from __future__ import annotations

import time
from collections import Counter

from htx_cancel import CancelClient, OrderState, RateLimiter, RateLimits, RequestEvent
from htx_cancel._catalog import CATALOG
from htx_cancel._order_state import state_for_status
from htx_cancel.testing import FakeExchange

from ._common import CONTRACT, CREDS, Section, rate_bound
from ._config import Sizes
from ._server import ACCESS_KEY, SECRET_KEY, ExchangeProcess

__all__ = ["run_streams"]

COLUMNS = ["states from", "exchange", "ids", "cancel requests", "read requests",
           "reads per 100 ids", "read bound s", "after last cancel s", "elapsed s",
           "states wrong", "unknown", "states"]
LIMITS = RateLimits(trade=(72, 3.0), read=(72, 3.0))
READS = ("/v5/trade/order", "/v5/trade/order/opens", "/v5/trade/order/history")


class _LastCancel:
    """When the last cancel answer of the call came."""

    def __init__(self) -> None:
        self.at = 0.0

    def __call__(self, event: RequestEvent) -> None:
        ep = CATALOG.get(event.endpoint)
        if ep is not None and ep.is_cancel:
            self.at = time.perf_counter()


async def _run(n: int, stream: bool, fills: float) -> dict[str, object]:
    async with FakeExchange({ACCESS_KEY: SECRET_KEY}, cancel_lag=0.05,
                            fill_during_cancel=fills, seed=20) as ex:
        ids = ex.seed(CONTRACT, n=n)
        last = _LastCancel()
        client = CancelClient(CREDS, base_url=ex.base_url, rate_limits=LIMITS,
                              limiter=RateLimiter(LIMITS), stream=stream, on_request=last)
        async with client:
            if stream:
                await client.open_stream()
            ex.clear_records()
            t0 = time.perf_counter()
            report = await client.cancel_orders(CONTRACT, ids, verify=True)
            end = time.perf_counter()
        reads = [r for r in ex.requests if r.path in READS and r.method == "GET"]
        cancels = [r for r in ex.requests if r.path == "/v5/trade/cancel_batch_orders"]
        truth = {i: state_for_status(ex.v5_state_of(i) or "") for i in ids}
    wrong = sum(1 for i in ids if report.states.get(i) != truth[i])
    states = Counter(str(s) for s in report.states.values())
    return {
        "states from": "stream" if stream else "listings",
        "exchange": f"lag 50 ms, {fills:.0%} fill" if fills else "lag 50 ms", "ids": n,
        "cancel requests": len(cancels), "read requests": len(reads),
        "reads per 100 ids": round(100 * len(reads) / n, 2),
        "read bound s": round(rate_bound(len(reads), LIMITS.read), 1) if reads else 0,
        "after last cancel s": round(end - last.at, 3), "elapsed s": round(end - t0, 2),
        "states wrong": wrong, "unknown": len(report.unknown),
        "states": ", ".join(f"{v} {k}" for k, v in sorted(states.items())),
    }


async def run_streams(ex: ExchangeProcess, sizes: Sizes) -> Section:
    """``sizes.stream_ids`` ids cancelled with ``verify=True``: listings, then the stream."""
    del ex  # the exchange runs here, with its lag and fills
    n = sizes.stream_ids
    section = Section("stream", f"v5 verification of {n} ids: the listings or the order stream",
                      COLUMNS)
    for stream, fills in ((False, 0.01), (True, 0.01), (True, 0.0)):
        section.rows.append(await _run(n, stream, fills))
    section.notes += [
        "HTX's limits (72 per 3 s, trade and read); the fake's cancel lag 50 ms, 1% of orders "
        "fill during their cancel (filled: a failure with its state).",
        "Without the stream: the history and the open-orders listing, 100 orders a page, walked "
        "by order id from the ids asked about, as batches settle; order info for what neither "
        "settled. With it: the pushes, no read at all unless a push is missing.",
        f"states wrong: ids whose reported state is not the exchange's own; {OrderState.FILLED} "
        "ids are in report.failed.",
        "The fake pushes an order that fills during its cancel's lag as new (its lagged view) "
        "and nothing after; verification waits for a final push until no push came for "
        "VerifyPolicy.stream_quiet (0.5 s), then reads those ids from the listings: the stream "
        "row with fills shows that cost, the row without fills what the stream gives when "
        "every change is pushed.",
    ]
    return section
