"""Fixtures for the Redis limiter tests: a reachable Redis and a fresh account per test.

``REDIS_URL`` names the server (default ``redis://127.0.0.1:6379/0``). The tests skip only when
``REDIS_URL`` is unset and nothing answers at the default; a set ``REDIS_URL`` that does not
answer is an error, so CI (which starts a server) never skips them silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

redis = pytest.importorskip("redis.asyncio")

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def _url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_URL


async def _answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(await client.ping())
    except (OSError, redis.RedisError):
        return False
    finally:
        await client.aclose()


def _log_tail() -> str:
    """The end of the server's log when the run says where it is (``.ci/run`` sets REDIS_LOG)."""
    path = os.environ.get("REDIS_LOG")
    if not path:
        return ""
    try:
        lines = Path(path).read_text().splitlines()[-20:]
    except OSError as exc:
        return f" (its log {path}: {exc})"
    return f"; the end of its log {path}:\n" + "\n".join(lines)


@pytest_asyncio.fixture
async def redis_url() -> str:
    """The URL of a Redis server that answers."""
    url = _url()
    if not await _answers(url):
        if "REDIS_URL" in os.environ:
            pytest.fail(f"REDIS_URL is set but Redis does not answer at {url}{_log_tail()}")
        pytest.skip(f"no Redis at {url} (set REDIS_URL to run these tests)")
    return url


@pytest_asyncio.fixture
async def account(redis_url: str) -> AsyncIterator[str]:
    """A fresh account name; its keys are deleted afterwards."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=f"htx_cancel:{{{name}}}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()

