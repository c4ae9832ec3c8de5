"""The pytest plugin's fixtures."""

from __future__ import annotations

import pytest

from htx_cancel._credentials import Credentials
from htx_cancel.testing import FakeExchange


async def test_fixtures(fake_exchange: FakeExchange, fake_credentials: Credentials) -> None:
    assert fake_exchange.base_url.startswith("http://127.0.0.1:")
    assert fake_credentials == Credentials("test-access", "test-secret")
    assert fake_exchange.credentials == {"test-access": "test-secret"}


async def test_lifecycle_errors() -> None:
    ex = FakeExchange()
    with pytest.raises(RuntimeError):
        _ = ex.base_url
    await ex.start()
    try:
        with pytest.raises(RuntimeError):
            await ex.start()
    finally:
        await ex.close()
    await ex.close()  # closing twice is fine
