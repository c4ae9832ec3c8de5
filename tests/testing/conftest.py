"""Fixtures for the fake exchange's tests: signed requests on a plain aiohttp session."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import aiohttp
import msgspec
import pytest_asyncio
from multidict import CIMultiDictProxy

from htx_cancel._signing import Signer, canonical_query, format_timestamp
from htx_cancel.testing import FakeExchange
from htx_cancel.testing.pytest_plugin import fake_credentials, fake_exchange

__all__ = ["Api", "Reply", "api", "fake_credentials", "fake_exchange", "make_api", "session"]


class Reply:
    """One answer: status, raw body, decoded JSON (or None) and headers."""

    def __init__(self, status: int, raw: bytes, headers: CIMultiDictProxy[str]) -> None:
        self.status = status
        self.raw = raw
        self.headers = headers
        try:
            self.json: Any = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            self.json = None

    @property
    def err_code(self) -> Any:
        return self.json.get("err_code") if isinstance(self.json, dict) else None

    @property
    def successes(self) -> list[str]:
        text = self.json["data"]["successes"]
        return text.split(",") if text else []

    @property
    def errors(self) -> dict[str, int]:
        return {
            e["client_order_id"] if e["order_id"] == "" else e["order_id"]: e["err_code"]
            for e in self.json["data"]["errors"]
        }


class Api:
    """Signs and sends requests to a FakeExchange the way a client would."""

    def __init__(self, session: aiohttp.ClientSession, exchange: FakeExchange) -> None:
        self.session = session
        self.exchange = exchange
        self.access = "test-access"
        self.secret = "test-secret"

    def url(self, name: str, **overrides: Any) -> str:
        host = overrides.get("host", f"127.0.0.1:{self.exchange.port}")
        real = "/linear-swap-api/" + (name if "/" in name else f"v1/{name}")  # v3/swap_hisorders
        path = overrides.get("path", real)
        stamp = overrides.get("timestamp", format_timestamp(time.time()))
        signer = Signer(overrides.get("access", self.access),
                        overrides.get("secret", self.secret), host)
        params = signer.params("POST", path, stamp)
        signature = quote(params.pop("Signature"), safe="")
        return f"{self.exchange.base_url}{real}?{canonical_query(params)}&Signature={signature}"

    async def post(
        self, name: str, body: dict[str, Any], wait: float = 5.0, **overrides: Any
    ) -> Reply:
        client_timeout = aiohttp.ClientTimeout(total=wait)
        async with self.session.post(
            self.url(name, **overrides), data=msgspec.json.encode(body), timeout=client_timeout
        ) as resp:
            return Reply(resp.status, await resp.read(), resp.headers)


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest_asyncio.fixture
async def api(session: aiohttp.ClientSession, fake_exchange: FakeExchange) -> Api:
    return Api(session, fake_exchange)


@pytest_asyncio.fixture
async def make_api(session: aiohttp.ClientSession) -> Callable[[FakeExchange], Api]:
    return lambda exchange: Api(session, exchange)
