"""Every failure of redis-py's becomes RateLimiterError at one place (no server needed)."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import (
    ClusterCrossSlotError,
    ConnectionError,
    NoScriptError,
    RedisClusterException,
    ResponseError,
)

from htx_cancel import RateLimiterError
from htx_cancel._limits.redis_client import guarded, make_client


async def fail(exc: BaseException) -> None:
    raise exc


@pytest.mark.parametrize("exc", [
    ConnectionError("refused"),
    ResponseError("ERR something"),
    NoScriptError("NOSCRIPT"),
    ClusterCrossSlotError(),
    RedisClusterException("no node for the slot"),  # not a RedisError
    ExceptionGroup("pipeline", [ResponseError("CROSSSLOT")]),
    OSError("network unreachable"),
    TimeoutError(),
], ids=lambda e: type(e).__name__)
async def test_each_failure_becomes_rate_limiter_error(exc: BaseException) -> None:
    with pytest.raises(RateLimiterError, match=r"cannot reach Redis.*no request was sent"):
        await guarded(fail(exc))


async def test_cancellation_and_bugs_are_not_translated() -> None:
    with pytest.raises(asyncio.CancelledError):
        await guarded(fail(asyncio.CancelledError()))
    with pytest.raises(KeyError):
        await guarded(fail(KeyError("a bug of ours")))


def test_a_url_redis_py_does_not_take_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        make_client("nope://x")
    client = make_client("rediss://user:pw@127.0.0.1:6380/0")  # TLS: redis-py's own support
    assert client.connection_pool.connection_class.__name__ == "SSLConnection"
