"""Headless Chromium driven over the DevTools protocol (aiohttp's WebSocket), for the docs test.

Only what the test needs: open a page at a window size, evaluate JavaScript, take a
screenshot of a region. Chromium runs with a new profile and no background networking (the
machine has no network but loopback).
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

__all__ = ["Page", "chromium", "open_page"]

START_TIMEOUT = 60.0  # seconds for Chromium to start and to load a page
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1", "--remote-debugging-port=0")


def chromium() -> str | None:
    """The Chromium binary (Debian's ``chromium``), or None when it is not installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Page:
    """One page of a Chromium, over its DevTools WebSocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._next = 0
        self._events: list[dict[str, Any]] = []

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a DevTools method; its result (events that arrive meanwhile are kept)."""
        self._next += 1
        ident = self._next
        await self._ws.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = await self._receive()
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self._events.append(message)

    async def _receive(self) -> dict[str, Any]:
        message = await self._ws.receive(timeout=START_TIMEOUT)
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"Chromium closed its DevTools connection ({message.type})")
        data: dict[str, Any] = message.json()
        return data

    async def wait_for(self, event: str) -> dict[str, Any]:
        """The next DevTools event named ``event`` (one already received counts)."""
        for i, message in enumerate(self._events):
            if message.get("method") == event:
                del self._events[: i + 1]
                return message
        while True:
            message = await self._receive()
            if message.get("method") == event:
                return message

    async def goto(self, url: str, width: int, height: int) -> None:
        """Load ``url`` in a ``width`` x ``height`` window, its fonts ready."""
        await self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=1, mobile=False)
        await self.send("Page.enable")
        await self.send("Page.navigate", url=url)
        await self.wait_for("Page.loadEventFired")
        await self.evaluate("document.fonts.ready.then(() => true)")

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (promises awaited), as JSON."""
        result = await self.send("Runtime.evaluate", expression=expression,
                                 returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def screenshot(self, x: float, y: float, width: float, height: float) -> bytes:
        """A PNG of that region of the page (page coordinates, CSS pixels)."""
        result = await self.send("Page.captureScreenshot", format="png",
                                 captureBeyondViewport=True,
                                 clip={"x": x, "y": y, "width": width, "height": height,
                                       "scale": 1})
        return base64.b64decode(result["data"])


async def _devtools_port(profile: Path, process: asyncio.subprocess.Process) -> int:
    """The port Chromium chose, from the DevToolsActivePort file it writes in its profile."""
    marker = profile / "DevToolsActivePort"
    async with asyncio.timeout(START_TIMEOUT):
        while not marker.exists() or not marker.read_text().strip():
            if process.returncode is not None:
                raise RuntimeError(f"Chromium exited with status {process.returncode}")
            await asyncio.sleep(0.05)  # Chromium writes the file once, soon after it starts
    return int(marker.read_text().split()[0])


@asynccontextmanager
async def open_page(binary: str, profile: Path) -> AsyncIterator[Page]:
    """A fresh headless Chromium with one blank page; stopped on exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBUS")}
    process = await asyncio.create_subprocess_exec(
        binary, *FLAGS, f"--user-data-dir={profile}", "about:blank",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, env=env)
    try:
        port = await _devtools_port(profile, process)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as answer:
                targets = await answer.json()
            [page] = [t for t in targets if t["type"] == "page"]
            async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                yield Page(ws)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
