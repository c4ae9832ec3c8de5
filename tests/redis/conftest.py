"""Fixtures for the Redis limiter tests: a reachable Redis and a fresh account per test.

``REDIS_URL`` names the server (default ``redis://127.0.0.1:6379/0``). The tests skip only when
``REDIS_URL`` is unset and nothing answers at the default; a set ``REDIS_URL`` that does not
answer is an error, so CI (which starts a server) never skips them silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

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
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2.0, socket_timeout=5.0)
    try:
        keys = [k async for k in client.scan_iter(match=f"htx_cancel:{{{name}}}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()



# -- a hang is a failure, with the stacks of what never finished ----------------------------

HANG_LIMIT = float(os.environ.get("HTX_TEST_HANG_LIMIT") or 120.0)  # seconds per test
HARD_LIMIT = HANG_LIMIT * 1.5  # then the whole run exits, with every thread's stack


def _await_chain(awaitable: Any) -> list[str]:
    """Where a coroutine waits: each frame of its ``await`` chain, then what it awaits last."""
    lines = []
    seen = 0
    while awaitable is not None and seen < 100:
        seen += 1
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "gi_frame", None) \
            or getattr(awaitable, "ag_frame", None)
        if frame is None:
            break
        code = frame.f_code
        lines.append(f"    {code.co_filename}:{frame.f_lineno} in {code.co_name}")
        awaitable = (getattr(awaitable, "cr_await", None)
                     or getattr(awaitable, "gi_yieldfrom", None)
                     or getattr(awaitable, "ag_await", None))
    if awaitable is not None:
        lines.append(f"    awaiting {awaitable!r}")
    return lines


def task_stacks(loop: asyncio.AbstractEventLoop) -> str:
    """Every unfinished task of ``loop``, with the chain of awaits it is stopped at."""
    out = []
    for task in asyncio.all_tasks(loop):
        if task is asyncio.current_task(loop) or task.done():
            continue
        out.append(f"  {task!r}")
        out += _await_chain(task.get_coro())
    return "\n".join(out) or "  (no task)"


def _real_stderr(config: pytest.Config) -> int:
    """A descriptor of the run's own stderr, outside pytest's capture (for faulthandler)."""
    fd: int | None = config.stash.get(_STDERR, None)
    if fd is None:
        capman = config.pluginmanager.getplugin("capturemanager")
        with capman.global_and_fixture_disabled() if capman is not None \
                else contextlib.nullcontext():
            fd = os.dup(sys.__stderr__.fileno() if sys.__stderr__ is not None else 2)
        config.stash[_STDERR] = fd
    return fd


_STDERR = pytest.StashKey[int]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[object]:
    """The last resort, for a loop that blocks: past HARD_LIMIT, every thread's stack is
    printed and the run exits (instead of running into CI's time limit)."""
    faulthandler.dump_traceback_later(HARD_LIMIT, exit=True, file=_real_stderr(item.config))
    try:
        return (yield)
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest_asyncio.fixture(autouse=True)
async def _no_hang(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """A test (with its fixtures) that runs past HANG_LIMIT fails: every task of its loop is
    printed with the awaits it is stopped at, then cancelled."""
    loop = asyncio.get_running_loop()
    stacks: list[str] = []

    def expire() -> None:
        stacks.append(task_stacks(loop))
        print(f"{request.node.nodeid}: still running after {HANG_LIMIT:.0f} s; its tasks:\n"
              f"{stacks[0]}", file=sys.stderr)
        for task in asyncio.all_tasks(loop):
            task.cancel()

    handle = loop.call_later(HANG_LIMIT, expire)
    try:
        yield
    finally:
        handle.cancel()
    if stacks:
        pytest.fail(f"hung: still running after {HANG_LIMIT:.0f} s; its tasks:\n{stacks[0]}",
                    pytrace=False)
