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


def signed_query(method: str, host: str, path: str, access: str, secret: str, timestamp: str,
                 params: dict[str, str] | None = None) -> str:
    """A signed query string as the library's client signs it (these tests act as clients)."""
    signed = Signer(access, secret, host).params(method, path, timestamp, params)
    signature = quote(signed.pop("Signature"), safe="")
    return f"{canonical_query(signed)}&Signature={signature}"


__all__ = [
    "Api",
    "Reply",
    "V5Api",
    "api",
    "fake_credentials",
    "fake_exchange",
    "make_api",
    "make_v5",
    "session",
    "v5",
]


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
    def code(self) -> Any:
        """The v5 envelope's ``code``."""
        return self.json.get("code") if isinstance(self.json, dict) else None

    @property
    def data(self) -> Any:
        return self.json["data"]

    def items(self, *, algo: bool = False) -> dict[str, int]:
        """A v5 batch answer's items: order (algo) id, or the client id when that is "",
        -> the item's code."""
        first, second = (("algo_id", "algo_client_order_id") if algo
                         else ("order_id", "client_order_id"))
        return {item[first] or item[second]: item["code"] for item in self.json["data"]}

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
        query = signed_query("POST", host, path, overrides.get("access", self.access),
                             overrides.get("secret", self.secret), stamp)
        return f"{self.exchange.base_url}{real}?{query}"

    async def post(
        self, name: str, body: dict[str, Any], wait: float = 5.0, **overrides: Any
    ) -> Reply:
        client_timeout = aiohttp.ClientTimeout(total=wait)
        async with self.session.post(
            self.url(name, **overrides), data=msgspec.json.encode(body), timeout=client_timeout
        ) as resp:
            return Reply(resp.status, await resp.read(), resp.headers)


class V5Api:
    """Signs and sends v5 requests to a FakeExchange: GET parameters are signed with the rest."""

    def __init__(self, session: aiohttp.ClientSession, exchange: FakeExchange) -> None:
        self.session = session
        self.exchange = exchange
        self.access = "test-access"
        self.secret = "test-secret"

    def url(self, method: str, path: str, params: dict[str, str] | None = None,
            **overrides: Any) -> str:
        host = overrides.get("host", f"127.0.0.1:{self.exchange.port}")
        stamp = overrides.get("timestamp", format_timestamp(time.time()))
        query = signed_query(method, host, overrides.get("signed_path", path),
                             overrides.get("access", self.access),
                             overrides.get("secret", self.secret), stamp, params)
        return f"{self.exchange.base_url}{path}?{query}"

    async def post(self, path: str, body: Any = None, *, raw: bytes | None = None,
                   **overrides: Any) -> Reply:
        data = raw if raw is not None else b"" if body is None else msgspec.json.encode(body)
        async with self.session.post(self.url("POST", path, **overrides), data=data,
                                     timeout=aiohttp.ClientTimeout(total=5)) as resp:
            return Reply(resp.status, await resp.read(), resp.headers)

    async def get(self, path: str, params: dict[str, Any] | None = None,
                  **overrides: Any) -> Reply:
        strings = {k: str(v) for k, v in (params or {}).items()}
        async with self.session.get(self.url("GET", path, strings, **overrides),
                                    timeout=aiohttp.ClientTimeout(total=5)) as resp:
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


@pytest_asyncio.fixture
async def v5(session: aiohttp.ClientSession, fake_exchange: FakeExchange) -> V5Api:
    return V5Api(session, fake_exchange)


@pytest_asyncio.fixture
async def make_v5(session: aiohttp.ClientSession) -> Callable[[FakeExchange], V5Api]:
    return lambda exchange: V5Api(session, exchange)
