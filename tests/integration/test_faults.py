"""Seeded random faults: whatever the exchange and the network do, every id is accounted for."""

from __future__ import annotations

import asyncio
import random

import pytest

from htx_cancel import CancelClient, CancelReport, Credentials, RateLimits, RetryPolicy, Timeouts
from htx_cancel.testing import FakeExchange

CREDS = Credentials("test-access", "test-secret")
LIMITS = RateLimits(trade=(15, 0.3), strategy=(4, 0.1), guard=0.002)
KINDS = ["error_500_before", "html_before", "busy", "rate_limit", "maintenance",
         "gateway_504_after", "drop_after", "truncate_after", "garbled_after", "hang_after"]
NO_ANSWER = ("timed out", "HTTP 5", "not JSON", "failed:", "no answer")


def check(report: CancelReport, asked: list[str], ex: FakeExchange, preexisting: set[str],
          after_seq: int) -> None:
    """The invariant of issue 3, for one report of a call whose requests came after
    ``after_seq``; ``preexisting`` were cancelled before the call."""
    outcomes = [set(report.cancelled), set(report.failed), set(report.unknown)]
    assert sum(map(len, outcomes)) == len(set(asked)), "an id is counted twice or lost"
    assert set().union(*outcomes) == set(asked)
    cancelled_here = {i for i, rec in ex.cancellations().items()
                      if i in asked and rec.seq > after_seq}
    for id_ in asked:
        if id_ in report.cancelled:
            # never reported cancelled unless the exchange cancelled it (now or before)
            assert id_ in cancelled_here or id_ in preexisting, id_
        elif id_ in cancelled_here:
            # the exchange cancelled it: cancelled, 1071, or unknown because no answer came
            if id_ in report.failed:
                assert report.failed[id_].code == 1071, (id_, report.failed[id_])
            else:
                reason = report.unknown_reasons[id_]
                assert any(s in reason for s in NO_ANSWER), reason


def client_tasks() -> set[asyncio.Task[object]]:
    """Tasks in this loop except the fake exchange's own connection handlers."""
    return {t for t in asyncio.all_tasks()
            if not getattr(t.get_coro(), "__qualname__", "").startswith("RequestHandler")}


@pytest.mark.parametrize("seed", range(6))
async def test_random_faults_lose_nothing(seed: int) -> None:
    rng = random.Random(seed)
    window = "fixed" if seed % 2 else "sliding"
    async with FakeExchange({"test-access": "test-secret"}, trade_limit=LIMITS.trade,
                            strategy_limit=LIMITS.strategy, window=window, seed=seed,
                            hang_seconds=0.6, latency=lambda: rng.uniform(0, 0.004)) as ex:
        ex.faults.randomize(seed, 0.25, kinds=KINDS)
        regular = ex.seed("BTC-USDT", "order", "isolated", 400)
        trig = ex.seed("BTC-USDT", "trigger", "cross", 60)
        tpsl = ex.seed("BTC-USDT", "tpsl", "isolated", 40)
        already = ex.seed("BTC-USDT", "order", "isolated", 5)
        ex.fill(regular[0])
        strangers = [str(10**17 + seed * 1000 + i) for i in range(5)]
        async with CancelClient(CREDS, api="v1", base_url=ex.base_url, rate_limits=LIMITS,
                                timeouts=Timeouts(total=0.25, connect=0.25), seed=seed,
                                retry=RetryPolicy(max_attempts=4, backoff=0.005,
                                                  backoff_max=0.02)) as c:
            pre = await c.cancel_orders("BTC-USDT", already)
            ex.faults.clear()
            ex.faults.randomize(seed, 0.3, kinds=KINDS)
            asked_regular = regular + already + strangers + regular[:10]
            start = ex.requests[-1].seq
            reports = await asyncio.wait_for(asyncio.gather(
                c.cancel_orders("BTC-USDT", asked_regular),
                c.cancel_trigger_orders("BTC-USDT", trig, margin="cross"),
                c.cancel_tpsl_orders("BTC-USDT", tpsl),
            ), timeout=60)
        preexisting = set(pre.cancelled) | set(pre.unknown) | set(pre.failed)
        check(reports[0], asked_regular, ex, preexisting, start)
        check(reports[1], trig, ex, set(), start)
        check(reports[2], tpsl, ex, set(), start)
        filled = regular[0]
        assert filled not in reports[0].cancelled
        # never cancelled: failed (1061, or a whole-request refusal such as an injected 1431
        # for its batch) or unknown
        assert filled in reports[0].unknown or filled in reports[0].failed
        for s in strangers:
            assert s in reports[0].failed or s in reports[0].unknown
        assert ex.rejected_1032 == 0
        assert ex.max_in_window("trade") <= LIMITS.trade[0]
        assert ex.max_in_window("swap_cross_trigger_cancel") <= LIMITS.strategy[0]
        assert ex.max_in_window("swap_tpsl_cancel") <= LIMITS.strategy[0]
        faulted = sum(1 for r in ex.requests if r.fault)
        assert faulted >= 3, (len(ex.requests), reports)  # the faults really happened


async def test_cancelling_the_caller_stops_requests_and_releases_the_limiter() -> None:
    async with FakeExchange({"test-access": "test-secret"}, trade_limit=(5, 1.0)) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 500)
        c = CancelClient(CREDS, api="v1", base_url=ex.base_url,
                         rate_limits=RateLimits(trade=(5, 1.0)))
        before = client_tasks()
        report = CancelReport()
        task = asyncio.create_task(c.cancel_orders("BTC-USDT", ids, report=report))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.05)
        assert client_tasks() == before
        sched = c.limiter.scheduler  # type: ignore[union-attr]
        assert sched.waiting == 0 and sched.pools["trade"].busy == 0
        sent = len(ex.requests)
        await asyncio.sleep(1.2)
        assert len(ex.requests) == sent == 5  # nothing more went out after the cancel
        # the caller still learns every id the exchange confirmed, once each, in order
        assert report.cancelled == ids[:125] and set(report.cancelled) == ex.cancelled_ids()
        assert not report.failed and not report.unknown
        await c.close()
