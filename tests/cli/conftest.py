"""Fixtures for the command line's tests: a fake exchange, keys in the environment, a runner."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from htx_cancel.cli import main
from htx_cancel.testing import FakeExchange

ACCESS, SECRET = "cli-access", "cli-secret"


@dataclass
class Result:
    """What one ``main(argv)`` run returned and printed."""

    status: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


Run = Callable[..., Awaitable[Result]]


@pytest_asyncio.fixture
async def exchange() -> AsyncIterator[FakeExchange]:
    """A fake exchange with HTX's limits that knows the CLI's test keys."""
    async with FakeExchange({ACCESS: SECRET}, seed=7) as ex:
        yield ex


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test keys in HTX_ACCESS_KEY / HTX_SECRET_KEY."""
    monkeypatch.setenv("HTX_ACCESS_KEY", ACCESS)
    monkeypatch.setenv("HTX_SECRET_KEY", SECRET)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run ``main(argv)`` in a worker thread (it runs its own event loop) and capture output."""

    async def runner(*argv: str, stdin: str = "") -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        status = await asyncio.to_thread(main, list(argv))
        captured = capsys.readouterr()
        return Result(status, captured.out, captured.err)

    return runner
