"""Prometheus metrics for a client and its limiter (needs the ``metrics`` extra).

::

    from prometheus_client import start_http_server
    from htx_cancel.metrics import Metrics

    metrics = Metrics()                           # registers in prometheus_client's REGISTRY
    async with CancelClient(creds, on_request=metrics.observe) as client:
        metrics.watch(client.limiter, account="uid-123")
        start_http_server(9464)

Two sources feed it. :meth:`Metrics.observe` is the client's ``on_request`` callback: one
:class:`~htx_cancel._events.RequestEvent` per attempt becomes request counts by endpoint and
outcome, a count of requests the exchange rejected for the rate limit (1032), and histograms of
the time spent waiting for the limiter and of the request latency. :meth:`Metrics.watch` adds a
limiter whose ``stats()`` is read at every scrape: slots in use, held and free per pool, how
full each pool is (``htx_cancel_pool_utilization``, the one to put on a dashboard: 1.0 is the
account's limit), waiters per priority, pauses and the outside use seen in the exchange's
headers.

Only this module imports ``prometheus_client``; the library never does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ._events import RequestEvent

__all__ = ["LATENCY_BUCKETS", "WAIT_BUCKETS", "ClientCollector", "LimiterCollector", "Metrics"]

# Waits run from nothing (a free slot, a few microseconds) to a full window (3 s) and beyond
# when the account is saturated; latencies from a local round trip to a slow exchange.
WAIT_BUCKETS = (0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PoolStatsLike(Protocol):
    """The shape of ``htx_cancel._limits.stats.PoolStats`` this module reads."""

    @property
    def name(self) -> str: ...
    @property
    def limit(self) -> int: ...
    @property
    def period(self) -> float: ...
    @property
    def in_flight(self) -> int: ...
    @property
    def held(self) -> int: ...
    @property
    def free(self) -> int: ...
    @property
    def outside(self) -> int: ...
    @property
    def paused_for(self) -> float: ...


class LimiterStatsLike(Protocol):
    """The shape of ``htx_cancel._limits.stats.LimiterStats`` this module reads."""

    @property
    def pools(self) -> Mapping[str, PoolStatsLike]: ...
    @property
    def waiting(self) -> Mapping[str, int]: ...
    @property
    def granted(self) -> int: ...
    @property
    def pauses(self) -> int: ...
    @property
    def outside_seen(self) -> int: ...
    @property
    def backend(self) -> str: ...


class StatsSource(Protocol):
    """Anything with ``stats()``: ``RateLimiter`` and ``RedisLimiter``."""

    def stats(self) -> LimiterStatsLike: ...


class LimiterCollector(Collector):
    """Gauges read from limiters' ``stats()`` at scrape time, labelled by account."""

    __slots__ = ("_namespace", "_sources")

    def __init__(self, namespace: str = "htx_cancel") -> None:
        self._namespace = namespace
        self._sources: dict[str, StatsSource] = {}

    def add(self, limiter: StatsSource, account: str) -> None:
        """Watch ``limiter`` under the label ``account`` (replacing one of the same name)."""
        self._sources[account] = limiter

    def remove(self, account: str) -> None:
        """Stop watching the limiter of ``account``."""
        self._sources.pop(account, None)

    def _name(self, name: str) -> str:
        """The metric's full name."""
        return f"{self._namespace}_{name}"

    def collect(self) -> Iterator[Metric]:
        """One family per figure, a sample per account and pool (or priority)."""
        pool_labels = ["account", "pool"]
        pool = {
            "limit": GaugeMetricFamily(self._name("pool_limit"),
                                       "Requests the pool allows per period", labels=pool_labels),
            "period": GaugeMetricFamily(self._name("pool_period_seconds"),
                                        "The pool's window length", labels=pool_labels),
            "in_flight": GaugeMetricFamily(self._name("pool_in_flight"),
                                           "Slots granted to requests not yet answered",
                                           labels=pool_labels),
            "held": GaugeMetricFamily(self._name("pool_held"),
                                      "Slots of answered requests held until a window after "
                                      "their answer", labels=pool_labels),
            "free": GaugeMetricFamily(self._name("pool_free"), "Slots a request can take now",
                                      labels=pool_labels),
            "outside": GaugeMetricFamily(self._name("pool_outside"),
                                         "Slots the exchange's headers say someone else uses",
                                         labels=pool_labels),
            "paused_for": GaugeMetricFamily(self._name("pool_paused_seconds"),
                                            "Seconds until the pool's 1032 pause ends (0: none)",
                                            labels=pool_labels),
        }
        used = GaugeMetricFamily(self._name("pool_utilization"),
                                 "Share of the pool in use, held or used outside (1: at the "
                                 "limit)", labels=pool_labels)
        waiting = GaugeMetricFamily(self._name("limiter_waiting"),
                                    "Requests waiting for a slot, by priority",
                                    labels=["account", "priority"])
        granted = CounterMetricFamily(self._name("limiter_granted"), "Slots granted",
                                      labels=["account"])
        pauses = CounterMetricFamily(self._name("limiter_pauses"),
                                     "Pools paused after a 1032", labels=["account"])
        outside = GaugeMetricFamily(self._name("limiter_outside_seen"),
                                    "Most requests of others the exchange counted in one answer",
                                    labels=["account"])
        backend = GaugeMetricFamily(self._name("limiter_backend"),
                                    "Where the pools are kept now (1 for the backend in use): "
                                    "in-process, redis, or fallback (Redis unusable)",
                                    labels=["account", "backend"])
        for account, source in list(self._sources.items()):
            stats = source.stats()
            for name, p in stats.pools.items():
                labels = [account, name]
                for field, family in pool.items():
                    family.add_metric(labels, float(getattr(p, field)))
                busy = p.in_flight + p.held + p.outside
                used.add_metric(labels, min(1.0, busy / p.limit) if p.limit else 0.0)
            for priority, n in stats.waiting.items():
                waiting.add_metric([account, priority], float(n))
            granted.add_metric([account], float(stats.granted))
            pauses.add_metric([account], float(stats.pauses))
            outside.add_metric([account], float(stats.outside_seen))
            backend.add_metric([account, stats.backend], 1.0)
        yield from pool.values()
        yield from (used, waiting, granted, pauses, outside, backend)

    def describe(self) -> Iterable[Metric]:
        """Nothing up front: the families are known only at scrape time."""
        return ()


class ClientSource(Protocol):
    """What :class:`ClientCollector` reads: a client's ``stats()`` (``ClientStats``)."""

    def stats(self) -> object: ...


class ClientCollector(Collector):
    """Gauges read from clients' ``stats()`` at scrape time, labelled by account: the order
    stream's health, the trade socket's counts, the cancellation ratio (HTX's placement ban:
    3,000 placed in 10 minutes, over 99% cancelled within 3 s)."""

    __slots__ = ("_namespace", "_sources")

    def __init__(self, namespace: str = "htx_cancel") -> None:
        self._namespace = namespace
        self._sources: dict[str, ClientSource] = {}

    def add(self, client: ClientSource, account: str) -> None:
        """Watch ``client`` under the label ``account`` (replacing one of the same name)."""
        self._sources[account] = client

    def remove(self, account: str) -> None:
        """Stop watching the client of ``account``."""
        self._sources.pop(account, None)

    def collect(self) -> Iterator[Metric]:
        """One family per figure, a sample per account."""
        n = self._namespace
        labels = ["account"]
        connected = GaugeMetricFamily(f"{n}_stream_connected",
                                      "1 while the order stream is up", labels=labels)
        reconnects = CounterMetricFamily(f"{n}_stream_reconnects",
                                         "Order stream connections after the first",
                                         labels=labels)
        pushes = CounterMetricFamily(f"{n}_stream_pushes", "Order updates received",
                                     labels=labels)
        age = GaugeMetricFamily(f"{n}_stream_last_message_age_seconds",
                                "Seconds since the order stream's last frame", labels=labels)
        socket_up = GaugeMetricFamily(f"{n}_trade_socket_connected",
                                      "1 while the trade socket is up", labels=labels)
        on_socket = CounterMetricFamily(f"{n}_trade_socket_cancels",
                                        "Cancel requests sent on the trade socket",
                                        labels=labels)
        over_http = CounterMetricFamily(f"{n}_trade_socket_fallbacks",
                                        "Cancel requests sent over HTTP while the trade "
                                        "socket was down", labels=labels)
        ratio = GaugeMetricFamily(f"{n}_cancel_ratio",
                                  "Share of the last 10 minutes' placements cancelled within "
                                  "3 s (HTX bans placements at 3,000 placed and over 0.99)",
                                  labels=labels)
        placed = GaugeMetricFamily(f"{n}_cancel_ratio_placed",
                                   "Orders placed in the last 10 minutes", labels=labels)
        for account, client in list(self._sources.items()):
            stats: Any = client.stats()
            stream, trade, rs = stats.stream, stats.trade_socket, stats.cancel_ratio
            if stream is not None:
                connected.add_metric([account], 1.0 if stream.connected else 0.0)
                reconnects.add_metric([account], float(stream.reconnects))
                pushes.add_metric([account], float(stream.pushes))
                if stream.last_message_age is not None:
                    age.add_metric([account], stream.last_message_age)
            if trade is not None:
                socket_up.add_metric([account], 1.0 if trade.connected else 0.0)
                on_socket.add_metric([account], float(trade.on_socket))
                over_http.add_metric([account], float(trade.over_http))
            ratio.add_metric([account], rs.ratio)
            placed.add_metric([account], float(rs.placed))
        yield from (connected, reconnects, pushes, age, socket_up, on_socket, over_http, ratio,
                    placed)

    def describe(self) -> Iterable[Metric]:
        """Nothing up front: the families are known only at scrape time."""
        return ()


class Metrics:
    """Request counters and histograms, and the gauges of the limiters it watches.

    ``registry`` defaults to prometheus_client's global one; ``namespace`` prefixes every name.
    Pass :meth:`observe` as the client's ``on_request`` and :meth:`watch` its limiter.
    """

    __slots__ = ("_children", "_latency", "_rejected", "_requests", "_wait", "clients",
                 "limiters")

    def __init__(self, registry: CollectorRegistry | None = REGISTRY, *,
                 namespace: str = "htx_cancel") -> None:
        self._requests = Counter("requests", "Requests sent (one per attempt), by endpoint "
                                 "and outcome", ["endpoint", "outcome"], namespace=namespace,
                                 registry=registry)
        self._rejected = Counter("rate_limited", "Requests the exchange rejected for the rate "
                                 "limit (1032 or HTTP 429)", ["endpoint"], namespace=namespace,
                                 registry=registry)
        self._wait = Histogram("queue_wait_seconds", "From asking the limiter for a slot to "
                               "getting it", ["priority"], namespace=namespace,
                               buckets=WAIT_BUCKETS, registry=registry)
        self._latency = Histogram("request_latency_seconds", "From sending a request to its "
                                  "answer or error", ["endpoint"], namespace=namespace,
                                  buckets=LATENCY_BUCKETS, registry=registry)
        self.limiters = LimiterCollector(namespace)
        self.clients = ClientCollector(namespace)
        if registry is not None:
            registry.register(self.limiters)
            registry.register(self.clients)
        # labels() parses and locks on every call; the callback runs on the hot path.
        self._children: dict[tuple[str, str, str], tuple[Counter, Histogram, Histogram]] = {}

    def observe(self, event: RequestEvent) -> None:
        """Count one attempt (the client's ``on_request`` callback)."""
        key = (event.endpoint, event.outcome, event.priority)
        children = self._children.get(key)
        if children is None:
            children = (self._requests.labels(event.endpoint, event.outcome),
                        self._wait.labels(event.priority),
                        self._latency.labels(event.endpoint))
            self._children[key] = children
        count, wait, latency = children
        count.inc()
        wait.observe(event.wait)
        if event.outcome != "not_sent":  # no round trip to time
            latency.observe(event.latency)
        if event.outcome == "rate_limited":
            self._rejected.labels(event.endpoint).inc()

    def watch(self, limiter: StatsSource | None, account: str = "default") -> None:
        """Report ``limiter.stats()`` at every scrape, labelled ``account``; None: nothing."""
        if limiter is not None:
            self.limiters.add(limiter, account)

    def watch_client(self, client: ClientSource, account: str = "default") -> None:
        """Report ``client.stats()`` at every scrape, labelled ``account``: the order stream,
        the trade socket and the cancellation ratio (``watch`` covers the limiter)."""
        self.clients.add(client, account)
