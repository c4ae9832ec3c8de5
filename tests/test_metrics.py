"""htx_cancel.metrics against a real prometheus_client registry."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

prometheus_client = pytest.importorskip("prometheus_client")

from prometheus_client import CollectorRegistry, generate_latest  # noqa: E402

from htx_cancel import CancelClient, Credentials, LimiterStats, PoolStats  # noqa: E402
from htx_cancel._events import RequestEvent  # noqa: E402
from htx_cancel._limits import RateLimiter, RateLimits  # noqa: E402
from htx_cancel.metrics import Metrics  # noqa: E402
from htx_cancel.testing import FakeExchange  # noqa: E402


@dataclass
class StandIn:
    """A limiter whose stats() returns whatever the test set."""

    now: LimiterStats = field(default_factory=lambda: LimiterStats({}, {}, 0, 0, 0))

    def stats(self) -> LimiterStats:
        return self.now


def _event(endpoint: str = "swap_cancel", outcome: str = "ok", *, priority: str = "high",
           wait: float = 0.0, latency: float = 0.002, code: int | None = None) -> RequestEvent:
    return RequestEvent(endpoint, priority, outcome, 200, code, wait, latency)  # type: ignore[arg-type]


def test_requests_by_endpoint_and_outcome() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    for _ in range(3):
        metrics.observe(_event())
    metrics.observe(_event("swap_trigger_cancel", "rate_limited", code=1032))
    metrics.observe(_event("swap_trigger_cancel", "timeout", latency=10.0))
    value = registry.get_sample_value
    assert value("htx_cancel_requests_total", {"endpoint": "swap_cancel", "outcome": "ok"}) == 3
    assert value("htx_cancel_requests_total",
                 {"endpoint": "swap_trigger_cancel", "outcome": "rate_limited"}) == 1
    assert value("htx_cancel_rate_limited_total", {"endpoint": "swap_trigger_cancel"}) == 1
    assert value("htx_cancel_rate_limited_total", {"endpoint": "swap_cancel"}) is None


def test_wait_and_latency_histograms() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.observe(_event(wait=0.00002, latency=0.003))
    metrics.observe(_event(wait=2.5, latency=0.2, priority="normal"))
    metrics.observe(_event(outcome="not_sent", wait=0.0, latency=0.0))
    value = registry.get_sample_value
    assert value("htx_cancel_queue_wait_seconds_count", {"priority": "high"}) == 2
    assert value("htx_cancel_queue_wait_seconds_bucket", {"priority": "high", "le": "0.0001"}) == 2
    assert value("htx_cancel_queue_wait_seconds_bucket", {"priority": "normal", "le": "2.0"}) == 0
    assert value("htx_cancel_queue_wait_seconds_bucket", {"priority": "normal", "le": "3.0"}) == 1
    # a request that never left has no latency to time
    assert value("htx_cancel_request_latency_seconds_count", {"endpoint": "swap_cancel"}) == 2
    assert value("htx_cancel_request_latency_seconds_sum",
                 {"endpoint": "swap_cancel"}) == pytest.approx(0.203)


def test_limiter_gauges_read_at_scrape_time() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    limiter = StandIn()
    metrics.watch(limiter, account="uid-1")
    metrics.watch(None)  # a client without a limiter: nothing to watch
    limiter.now = LimiterStats(
        pools={"trade": PoolStats("trade", 72, 3.0, 10, 44, 12, 6, 0.0),
               "swap_trigger_cancel": PoolStats("swap_trigger_cancel", 5, 1.0, 1, 0, 4, 0, 0.8)},
        waiting={"high": 3, "normal": 0, "low": 7}, granted=1200, pauses=2, outside_seen=5,
        backend="fallback")
    value = registry.get_sample_value
    trade = {"account": "uid-1", "pool": "trade"}
    assert value("htx_cancel_pool_limit", trade) == 72
    assert value("htx_cancel_pool_period_seconds", trade) == 3.0
    assert value("htx_cancel_pool_in_flight", trade) == 10
    assert value("htx_cancel_pool_held", trade) == 44
    assert value("htx_cancel_pool_free", trade) == 12
    assert value("htx_cancel_pool_outside", trade) == 6
    assert value("htx_cancel_pool_utilization", trade) == pytest.approx(60 / 72)
    trigger = {"account": "uid-1", "pool": "swap_trigger_cancel"}
    assert value("htx_cancel_pool_paused_seconds", trigger) == 0.8
    assert value("htx_cancel_pool_utilization", trigger) == pytest.approx(0.2)
    assert value("htx_cancel_limiter_waiting", {"account": "uid-1", "priority": "low"}) == 7
    assert value("htx_cancel_limiter_granted_total", {"account": "uid-1"}) == 1200
    assert value("htx_cancel_limiter_pauses_total", {"account": "uid-1"}) == 2
    assert value("htx_cancel_limiter_outside_seen", {"account": "uid-1"}) == 5
    assert value("htx_cancel_limiter_backend", {"account": "uid-1", "backend": "fallback"}) == 1
    limiter.now = LimiterStats({"trade": PoolStats("trade", 72, 3.0, 0, 0, 72, 0, 0.0)},
                               {}, 1300, 2, 5)
    assert value("htx_cancel_pool_utilization", trade) == 0  # read again at the next scrape
    assert b"htx_cancel_pool_utilization" in generate_latest(registry)
    metrics.limiters.remove("uid-1")
    assert value("htx_cancel_pool_limit", trade) is None


def test_two_metrics_in_one_registry_clash_but_namespaces_do_not() -> None:
    registry = CollectorRegistry()
    Metrics(registry)
    with pytest.raises(ValueError, match="Duplicated"):
        Metrics(registry)
    Metrics(registry, namespace="bot2")
    assert registry.get_sample_value("bot2_requests_total", {"endpoint": "x",
                                                             "outcome": "ok"}) is None


async def test_real_limiter_stats() -> None:
    limiter = RateLimiter()
    registry = CollectorRegistry()
    Metrics(registry).watch(limiter, account="a")
    async with FakeExchange({"k": "s"}) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 100)
        async with CancelClient(Credentials("k", "s"), api="v1", base_url=ex.base_url,
                                limiter=limiter) as client:
            await client.cancel_orders("BTC-USDT", ids)
    value = registry.get_sample_value
    trade = {"account": "a", "pool": "trade"}
    assert value("htx_cancel_pool_limit", trade) == 72
    assert value("htx_cancel_limiter_granted_total", {"account": "a"}) == 4
    parts = [value(f"htx_cancel_pool_{part}", trade)
             for part in ("in_flight", "held", "free", "outside")]
    assert sum(parts) == 72  # every slot is in exactly one state


async def test_fed_by_a_real_client() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    # A 0.2 s window at both ends keeps the 1032 pause short, on a limiter of this test's own
    # (the process-wide one for key "k" is left untouched).
    window = (72, 0.2)
    limiter = RateLimiter(RateLimits(trade=window))
    async with FakeExchange({"k": "s"}, trade_limit=window) as ex:
        ids = ex.seed("BTC-USDT", "order", "isolated", 30)
        ex.faults.script("swap_cancel", ["rate_limit"])
        async with CancelClient(Credentials("k", "s"), api="v1", base_url=ex.base_url,
                                limiter=limiter,
                                on_request=metrics.observe) as client:
            report = await client.cancel_orders("BTC-USDT", ids)
    assert sorted(report.cancelled) == sorted(ids)
    value = registry.get_sample_value
    assert value("htx_cancel_requests_total", {"endpoint": "swap_cancel", "outcome": "ok"}) == 2
    assert value("htx_cancel_rate_limited_total", {"endpoint": "swap_cancel"}) == 1
    assert limiter.stats().pauses == 1
