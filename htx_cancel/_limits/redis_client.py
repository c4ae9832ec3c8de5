"""The Redis client of the Redis backend: made from a URL (a single server, a cluster, TLS), and
the one place where redis-py's exceptions become :class:`~htx_cancel.RateLimiterError`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from .._errors import RateLimiterError

__all__ = ["cluster_if_clustered", "guarded", "make_client", "redis_errors", "unusable"]

T = TypeVar("T")


def redis_errors() -> tuple[type[BaseException], ...]:
    """Every exception that means Redis could not be used.

    redis-py's cluster errors do not all derive from ``RedisError`` (``RedisClusterException``
    does not), a script over keys of two slots can end as an ``ExceptionGroup``, and a socket
    can fail with ``OSError`` or a timeout of asyncio's.
    """
    from redis.exceptions import RedisClusterException, RedisError

    return (RedisError, RedisClusterException, OSError, asyncio.TimeoutError, ExceptionGroup)


def unusable(exc: BaseException) -> RateLimiterError:
    """The error raised when Redis cannot be used: it says so, and that nothing was sent."""
    return RateLimiterError(f"the Redis rate limiter cannot reach Redis "
                            f"({type(exc).__name__}: {exc}); no request was sent")


async def guarded(call: Awaitable[T]) -> T:
    """Await a Redis call; any failure of Redis's comes out as RateLimiterError."""
    try:
        return await call
    except redis_errors() as exc:
        raise unusable(exc) from exc


def _options() -> dict[str, Any]:
    """No retries inside redis-py: a failed call is reported at once (the limiter falls back,
    or raises, and tries again on its own schedule)."""
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return {"socket_connect_timeout": 1.0, "socket_timeout": 2.0,
            "retry": Retry(NoBackoff(), 0)}


def make_client(url: str) -> Any:
    """A client for ``url`` (``redis://``, ``rediss://`` for TLS, ``unix://``); ValueError for
    a URL redis-py does not take. No I/O: :func:`cluster_if_clustered` looks at the server."""
    try:
        from redis.asyncio import Redis
    except ImportError:
        raise RateLimiterError(
            "RedisLimiter needs redis-py: pip install 'htx_cancel[redis]'") from None
    return Redis.from_url(url, **_options())


async def cluster_if_clustered(client: Any, url: str) -> tuple[Any, bool]:
    """``client``, or a ``RedisCluster`` for ``url`` if the server is a node of a cluster (a
    plain client would be answered MOVED for most keys); True in the second case."""
    from redis.asyncio import RedisCluster

    info = await guarded(client.info("cluster"))
    if not info.get("cluster_enabled"):
        return client, False
    await client.aclose()
    cluster = RedisCluster.from_url(url, **_options())
    await guarded(cluster.initialize())
    return cluster, True
