"""Scenario: how long the library holds the caller's event loop while it works.

A bot quotes on the loop the library runs on. Beside each run a sampler task asks for a 1 ms
sleep over and over and records how late each wake-up is (the loop's stall as a quoting task
meets it). Rows, on each API against a strict exchange (sliding windows, the trade pool's
limit, arrival jitter): the idle loop sampled as long as the longest run (this machine stalls
an idle loop now and then: the yardstick), a hand-written client (the floor behind
aiolimiter) sending the same bursts, and the library on the bulk cancel, the heavy mix and a
verified cancel. Reported: the worst stall, p99, p99.9, how many over 5 ms and over 1 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from htx_cancel import CancelClient, RateLimiter, RateLimits

from ._common import CONTRACT, CREDS, Section, library_call, library_client, percentile, seed
from ._config import Sizes
from ._floor import FloorClient, LimitedFloor, run_batches, sender
from ._server import ACCESS_KEY, SECRET_KEY, ExchangeOptions, ExchangeProcess
from ._wire import ApiName, Wire, wire

__all__ = ["Sampler", "Stalls", "run_loop"]

TICK = 0.001
COLUMNS = ["api", "run", "ids", "elapsed s", "samples", "worst ms", "p99 ms", "p99.9 ms",
           "over 5 ms", "over 1 ms", "cancelled"]


@dataclass(slots=True)
class Stalls:
    """How late the sampler's wake-ups were, seconds."""

    late: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        late = self.late or [0.0]
        return {"samples": len(self.late), "worst ms": round(max(late) * 1000, 2),
                "p99 ms": round(percentile(late, 99) * 1000, 3),
                "p99.9 ms": round(percentile(late, 99.9) * 1000, 3),
                "over 5 ms": sum(x > 0.005 for x in late),
                "over 1 ms": sum(x > 0.001 for x in late)}


class Sampler:
    """A task sleeping ``TICK`` over and over; each wake-up's lateness goes to ``stalls``."""

    def __init__(self) -> None:
        self.stalls = Stalls()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        late = self.stalls.late
        clock = time.perf_counter
        while True:
            t0 = clock()
            await asyncio.sleep(TICK)
            late.append(max(0.0, clock() - t0 - TICK))

    async def __aenter__(self) -> Sampler:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


Work = Callable[[], Awaitable[int]]


async def _sampled(work: Work) -> tuple[float, int, Stalls]:
    async with Sampler() as sampler:
        t0 = time.perf_counter()
        cancelled = await work()
        elapsed = time.perf_counter() - t0
    return elapsed, cancelled, sampler.stalls


def _mix(w: Wire, sizes: Sizes) -> dict[str, int]:
    """The heavy mix: the bulk's regular ids with the strategy kinds of the limits' mix."""
    strategy = dict(sizes.mix_v5 if w.api == "v5" else sizes.mix)
    strategy.pop("order", None)
    return {"order": sizes.loop_ids, **strategy}


async def _one_api(ex: ExchangeProcess, section: Section, sizes: Sizes, api: ApiName) -> None:
    w = wire(api)
    limits = RateLimits(trade=sizes.trade_limit, strategy=sizes.strategy_limit)
    opts = ExchangeOptions(trade_limit=sizes.trade_limit, strategy_limit=sizes.strategy_limit,
                           window="sliding", jitter=sizes.jitter,
                           algo_limit=sizes.strategy_limit)
    n = sizes.loop_ids
    runs: list[tuple[str, dict[str, int], Callable[[str, dict[str, list[str]]], Work]]] = []

    def floor(url: str, ids: dict[str, list[str]]) -> Work:
        async def work() -> int:
            async with FloorClient(url, ACCESS_KEY, SECRET_KEY) as client:
                limited = LimitedFloor(client, sizes.trade_limit, sizes.strategy_limit)
                done = await asyncio.gather(*(
                    run_batches(sender(limited.send, w.routes[k], CONTRACT), part,
                                w.routes[k].per_request, sizes.trade_limit[0])
                    for k, part in ids.items()))
            return sum(done)
        return work

    def library(verify: bool, paced: bool = True) -> Callable[[str, dict[str, list[str]]], Work]:
        def make(url: str, ids: dict[str, list[str]]) -> Work:
            async def work() -> int:
                client = library_client(url, limits, api=api)
                if not paced:
                    client = CancelClient(CREDS, api=api, base_url=url, rate_limits=limits,
                                          limiter=RateLimiter(limits), loop_budget=None)
                async with client:
                    if verify:
                        report = await client.cancel_orders(CONTRACT, ids["order"], verify=True)
                        return len(report.cancelled)
                    reports = await asyncio.gather(*(library_call(client, k, part)
                                                     for k, part in ids.items()))
                return sum(len(r.cancelled) for r in reports)
            return work
        return make

    runs.append(("floor + aiolimiter, bursts", {"order": n}, floor))
    runs.append(("htx_cancel", {"order": n}, library(False)))
    runs.append(("htx_cancel, loop_budget=None", {"order": n}, library(False, paced=False)))
    runs.append(("htx_cancel, heavy mix", _mix(w, sizes), library(False)))
    runs.append(("htx_cancel, verified", {"order": sizes.loop_verify_ids}, library(True)))
    rows = []
    for name, mix, make in runs:
        url = ex.start(opts)
        ids = {kind: seed(ex, kind, count) for kind, count in mix.items()}
        elapsed, cancelled, stalls = await _sampled(make(url, ids))
        rows.append({"api": api, "run": name, "ids": sum(mix.values()),
                     "elapsed s": round(elapsed, 2), **stalls.summary(),
                     "cancelled": f"{cancelled}/{sum(mix.values())}"})
    longest = max(r["elapsed s"] for r in rows)
    async with Sampler() as idle:
        await asyncio.sleep(longest)
    section.rows.append({"api": api, "run": "idle loop", "ids": 0, "elapsed s": longest,
                         **idle.stalls.summary(), "cancelled": ""})
    section.rows.extend(rows)


async def run_loop(ex: ExchangeProcess, sizes: Sizes, apis: Sequence[ApiName]) -> Section:
    """The stall distribution beside the idle loop and the hand-written bursts, per API."""
    section = Section("loop", "9. The caller's event loop while the library works", COLUMNS)
    for api in apis:
        await _one_api(ex, section, sizes, api)
    n, t = sizes.trade_limit
    section.notes.extend([
        f"A sampler task sleeps {TICK * 1000:g} ms over and over beside each run; a stall is "
        "how late a wake-up came (the idle loop: the same sampler alone, as long as the "
        "longest run, in the same process and run).",
        f"Exchange: sliding windows, trade {n}/{t:g} s, strategy and algo pools "
        f"{sizes.strategy_limit[0]}/{sizes.strategy_limit[1]:g} s, arrival jitter "
        f"{sizes.jitter[0] * 1000:g}-{sizes.jitter[1] * 1000:g} ms, in its own process.",
        f"floor + aiolimiter: the hand-written aiohttp client behind AsyncLimiter({n}, {t:g}), "
        f"{n} in flight: each window's burst starts in one loop iteration.",
        "heavy mix: the bulk's regular ids and the strategy kinds of the limits' mix issued "
        "together on one client; verified: verify=True (v5 without the order stream: listings "
        "and order info; v1: order info 50 ids a read). loop_budget=None: the library with "
        "its pacer off (each request starts as soon as its slot is granted).",
    ])
    return section
