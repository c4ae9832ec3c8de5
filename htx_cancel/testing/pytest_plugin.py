"""pytest fixtures for the fake exchange.

Enable with ``pytest_plugins = ["htx_cancel.testing.pytest_plugin"]`` in your root conftest.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from ._exchange import FakeExchange

if TYPE_CHECKING:
    from .._credentials import Credentials

__all__ = ["TEST_ACCESS_KEY", "TEST_SECRET_KEY", "fake_credentials", "fake_exchange"]

TEST_ACCESS_KEY = "test-access"
TEST_SECRET_KEY = "test-secret"


@pytest_asyncio.fixture
async def fake_exchange() -> AsyncIterator[FakeExchange]:
    """A started FakeExchange that knows the key pair ``test-access`` / ``test-secret``."""
    async with FakeExchange({TEST_ACCESS_KEY: TEST_SECRET_KEY}) as exchange:
        yield exchange


@pytest.fixture
def fake_credentials() -> Credentials:
    """``Credentials("test-access", "test-secret")``, accepted by ``fake_exchange``."""
    from .._credentials import Credentials

    return Credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY)
