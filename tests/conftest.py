"""Shared fixtures. aioresponses (used only to test AiohttpTransport against aiohttp) is at
0.7.9, which predates aiohttp 3.14's ``stream_writer`` argument: it still needs a response
class that supplies one (checked again for this wave)."""

from __future__ import annotations

from typing import Any

import aiohttp
import aioresponses.core

pytest_plugins = ["htx_cancel.testing.pytest_plugin"]


class _SentWriter:
    """Stands for the writer of a request that was already sent."""

    output_size = 0


class _Response(aiohttp.ClientResponse):
    """A ClientResponse that aioresponses can build on any aiohttp 3.x."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, stream_writer=_SentWriter(), **kwargs)
        except TypeError:  # an older aiohttp without stream_writer
            super().__init__(*args, **kwargs)


aioresponses.core.ClientResponse = _Response  # type: ignore[misc]
Mocked = aioresponses.core.aioresponses

