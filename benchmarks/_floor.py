"""The floor: a minimal hand-written signed POST with aiohttp, and that client behind aiolimiter.

Everything a cancel request needs and nothing more: one session, the four signature parameters
signed inline with hmac/hashlib/base64 and ``urllib.parse.quote``, the JSON body posted, the bytes
read and decoded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from aiolimiter import AsyncLimiter
from yarl import URL

__all__ = ["PATH", "FloorClient", "LimitedFloor", "run_batches"]

PATH = "/linear-swap-api/v1/"
_HEADERS = {"Content-Type": "application/json"}
RATE_LIMITED = 1032


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

    async def post(self, endpoint: str, body: dict[str, str]) -> dict[str, Any]:
        """Sign, POST ``body`` to ``endpoint`` (e.g. ``swap_cancel``), decode the answer."""
        assert self._session is not None
        path = PATH + endpoint
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


class LimitedFloor:
    """The floor client behind aiolimiter, as a user would configure it.

    One ``AsyncLimiter(N, T)`` for the trade pool and one ``AsyncLimiter(n, t)`` per strategy
    endpoint; a strategy request acquires its own and then the trade limiter. A 1032 answer is
    counted and the batch goes round again (through the limiters), at most ``max_attempts`` times.
    """

    def __init__(self, floor: FloorClient, trade: tuple[int, float],
                 strategy: tuple[int, float], max_attempts: int = 30) -> None:
        self.floor = floor
        self.trade = AsyncLimiter(*trade)
        self._strategy_limit = strategy
        self._strategy: dict[str, AsyncLimiter] = {}
        self.max_attempts = max_attempts
        self.rejected = 0

    async def post(self, endpoint: str, body: dict[str, str]) -> dict[str, Any]:
        """Post until the answer is not 1032 (or the attempts run out)."""
        answer: dict[str, Any] = {}
        for _ in range(self.max_attempts):
            if endpoint == "swap_cancel":
                async with self.trade:
                    answer = await self.floor.post(endpoint, body)
            else:
                own = self._strategy.get(endpoint)
                if own is None:
                    own = self._strategy[endpoint] = AsyncLimiter(*self._strategy_limit)
                async with own, self.trade:
                    answer = await self.floor.post(endpoint, body)
            if answer.get("err_code") != RATE_LIMITED:
                return answer
            self.rejected += 1
        return answer


async def run_batches(post: Any, endpoint: str, field: str, contract: str, ids: list[str],
                      per_request: int, in_flight: int) -> int:
    """Send ``ids`` in batches with ``in_flight`` workers; the number of ids cancelled."""
    batches = [ids[i:i + per_request] for i in range(0, len(ids), per_request)]
    pending = iter(batches)
    cancelled = 0

    async def worker() -> None:
        nonlocal cancelled
        for part in pending:
            answer = await post(endpoint, {"contract_code": contract, field: ",".join(part)})
            data = answer.get("data") or {}
            successes = data.get("successes") or ""
            cancelled += len(successes.split(",")) if successes else 0

    async with asyncio.TaskGroup() as group:
        for _ in range(min(in_flight, len(batches))):
            group.create_task(worker())
    return cancelled
