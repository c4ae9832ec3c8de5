"""pytest fixtures for the fake exchange.

Enable with ``pytest_plugins = ["htx_cancel.testing.pytest_plugin"]`` in your root conftest.py.
Needs ``pytest-asyncio``. A test written as ``async def`` that takes ``fake_exchange`` or
``fake_credentials`` runs on asyncio even when the project has no asyncio configuration (the
plugin marks it ``asyncio``); other async tests need pytest-asyncio's own setup.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from ._exchange import FakeExchange

if TYPE_CHECKING:
    from .._credentials import Credentials

__all__ = [
    "TEST_ACCESS_KEY",
    "TEST_SECRET_KEY",
    "fake_credentials",
    "fake_exchange",
    "pytest_pycollect_makeitem",
]

TEST_ACCESS_KEY = "test-access"
TEST_SECRET_KEY = "test-secret"
_FIXTURES = frozenset({"fake_exchange", "fake_credentials"})


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Mark ``async def`` tests that use this plugin's fixtures as asyncio tests.

    Without it, a project with pytest-asyncio in its default strict mode and no marker gets
    "async def functions are not natively supported". Runs before pytest-asyncio looks at the
    test, and changes nothing for tests that are already marked or use ``asyncio_mode = auto``.
    """
    if not inspect.iscoroutinefunction(obj) or not name.startswith("test"):
        return
    try:
        parameters = inspect.signature(obj).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return
    marks = getattr(obj, "pytestmark", [])
    if _FIXTURES.intersection(parameters) and not any(m.name == "asyncio" for m in marks):
        pytest.mark.asyncio(obj)


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
