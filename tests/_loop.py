"""Counting event-loop iterations in tests (what yields the loop, and how often)."""

from __future__ import annotations

import asyncio


class Iterations:
    """Counts loop iterations while it runs."""

    def __init__(self) -> None:
        self.n = 0
        self._handle: asyncio.Handle | None = None

    def _tick(self) -> None:
        self.n += 1
        self._handle = asyncio.get_running_loop().call_soon(self._tick)

    def __enter__(self) -> Iterations:
        self._handle = asyncio.get_running_loop().call_soon(self._tick)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._handle is not None
        self._handle.cancel()
