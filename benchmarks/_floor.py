"""The floor: a minimal hand-written signed POST with aiohttp, and that client behind aiolimiter.

Everything a cancel request needs and nothing more: one session, the four signature parameters
signed inline with hmac/hashlib/base64 and ``urllib.parse.quote``, the JSON body posted, the bytes
read and decoded. The same code serves both APIs: only the path and the body differ
(``_wire.py``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from aiolimiter import AsyncLimiter
from yarl import URL

from ._wire import Body, Route, rate_limited

__all__ = ["FloorClient", "LimitedFloor", "Post", "Send", "run_batches", "sender"]

_HEADERS = {"Content-Type": "application/json"}
Post = Callable[[Route, Body], Awaitable[dict[str, Any]]]
Send = Callable[[list[str]], Awaitable[int]]


class FloorClient:
    """One signed POST per call; the cheapest way to talk to the exchange from aiohttp."""

    def __init__(self, base_url: str, access_key: str, secret_key: str) -> None:
        self._base = base_url.rstrip("/")
        self._host = urlsplit(base_url).netloc.lower()
        self._access = quote(access_key, safe="")
        self._secret = secret_key.encode()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> FloorClient:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, path: str, body: Body) -> dict[str, Any]:
        """Sign, POST ``body`` to ``path`` (``/v5/trade/cancel_batch_orders``...), decode."""
        assert self._session is not None
        stamp = quote(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), safe="")
        query = (f"AccessKeyId={self._access}&SignatureMethod=HmacSHA256"
                 f"&SignatureVersion=2&Timestamp={stamp}")
        digest = hmac.new(self._secret, f"POST\n{self._host}\n{path}\n{query}".encode(),
                          hashlib.sha256).digest()
        signature = quote(base64.b64encode(digest).decode(), safe="")
        url = URL(f"{self._base}{path}?{query}&Signature={signature}", encoded=True)
        async with self._session.post(url, data=json.dumps(body).encode(),
                                      headers=_HEADERS) as resp:
            raw = await resp.read()
        answer: dict[str, Any] = json.loads(raw)
        return answer

    async def send(self, route: Route, body: Body) -> dict[str, Any]:
        """POST to the route's path (the shape ``run_batches`` and ``LimitedFloor`` take)."""
        return await self.post(route.path, body)


class LimitedFloor:
    """The floor client behind aiolimiter, as a user would configure it.

    One ``AsyncLimiter(N, T)`` for the trade pool and one ``AsyncLimiter(n, t)`` per endpoint
    with a pool of its own (v1's strategy endpoints, v5's algo cancel); such a request acquires
    its own and then the trade limiter. A 1032 answer is counted and the batch goes round again
    (through the limiters), at most ``max_attempts`` times.
    """

    def __init__(self, floor: FloorClient, trade: tuple[int, float],
                 strategy: tuple[int, float], max_attempts: int = 30) -> None:
        self.floor = floor
        self.trade = AsyncLimiter(*trade)
        self._strategy_limit = strategy
        self._strategy: dict[str, AsyncLimiter] = {}
        self.max_attempts = max_attempts
        self.rejected = 0

    async def send(self, route: Route, body: Body) -> dict[str, Any]:
        """Post until the answer is not 1032 (or the attempts run out)."""
        answer: dict[str, Any] = {}
        for _ in range(self.max_attempts):
            if route.own_pool is None:
                async with self.trade:
                    answer = await self.floor.post(route.path, body)
            else:
                own = self._strategy.get(route.path)
                if own is None:
                    own = self._strategy[route.path] = AsyncLimiter(*self._strategy_limit)
                async with own, self.trade:
                    answer = await self.floor.post(route.path, body)
            if not rate_limited(answer):
                return answer
            self.rejected += 1
        return answer


def sender(post: Post, route: Route, contract: str) -> Send:
    """A batch of ids -> one request to ``route`` through ``post``; the ids it cancelled."""

    async def send(part: list[str]) -> int:
        return route.cancelled(await post(route, route.body(contract, part)))

    return send


async def run_batches(send: Send, ids: list[str], per_request: int, in_flight: int) -> int:
    """Send ``ids`` in batches with ``in_flight`` workers; the number of ids cancelled."""
    batches = [ids[i:i + per_request] for i in range(0, len(ids), per_request)]
    pending = iter(batches)
    cancelled = 0

    async def worker() -> None:
        nonlocal cancelled
        for part in pending:
            done = await send(part)  # (not "+= await": that reads the total before awaiting)
            cancelled += done

    async with asyncio.TaskGroup() as group:
        for _ in range(min(in_flight, len(batches))):
            group.create_task(worker())
    return cancelled
