"""The documentation site as a reader sees it: built, served, and looked at in headless Chromium.

The API reference must read like a reference: every public name documented where users import
it, signatures formatted one parameter a line (not one long line cut at the edge), Sphinx
roles never printed raw, cross-references that are links and land on an anchor of the page.
Checked in the DOM and in a screenshot (the signature's lines are counted in the pixels, and
links must show in the link colour).

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped without it, except in CI.
"""

from __future__ import annotations

import functools
import io
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ._blocks import ROOT
from ._browser import Page, chromium, open_page

PIL = pytest.importorskip("PIL.Image", reason="the docs extra brings pillow")

WIDTH, HEIGHT = 1280, 900  # a laptop's window
INK = 80  # how far from the background a pixel must be to count as drawn


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built as CI builds it (strict)."""
    where = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir",
         str(where)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert built.returncode == 0, built.stdout + built.stderr
    return where


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The built site over HTTP on 127.0.0.1, as ``mkdocs serve`` would show it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest_asyncio.fixture
async def page(tmp_path: Path, served: str) -> AsyncIterator[Page]:
    """The API reference in headless Chromium."""
    binary = chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is not installed: .ci/run must install it")
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    async with open_page(binary, tmp_path / "profile") as opened:
        await opened.goto(f"{served}/reference/", WIDTH, HEIGHT)
        yield opened


def _bands(mask: list[list[bool]]) -> int:
    """Runs of consecutive rows that hold ink: the lines of text in a crop."""
    bands, inside = 0, False
    for row in mask:
        drawn = any(row)
        bands += drawn and not inside
        inside = drawn
    return bands


def _ink(png: bytes) -> list[list[bool]]:
    """Which pixels differ from the crop's background (its most common colour)."""
    image = PIL.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(image.width * image.height) or []
    background = max(colours)[1]
    pixels = image.load()
    assert pixels is not None
    return [[max(abs(a - b) for a, b in zip(pixels[x, y], background, strict=True)) > INK
             for x in range(image.width)] for y in range(image.height)]


async def _rect(page: Page, selector_js: str) -> dict[str, float]:
    """The page-coordinate box of the element ``selector_js`` evaluates to."""
    box: dict[str, float] = await page.evaluate(f"""(() => {{
        const el = {selector_js};
        el.scrollIntoView({{block: "center"}});
        const r = el.getBoundingClientRect();
        return {{x: r.left + window.scrollX, y: r.top + window.scrollY,
                 width: r.width, height: r.height}};
    }})()""")
    return box


async def test_signatures_are_formatted_and_whole(page: Page) -> None:
    signature = 'document.getElementById("htx_cancel.CancelClient").nextElementSibling'
    dom = await page.evaluate(f"""(() => {{
        const pre = {signature}.querySelector("pre");
        return {{lines: pre.innerText.trim().split("\\n").length,
                 cut: pre.scrollWidth > pre.clientWidth,
                 links: pre.querySelectorAll("a.autorefs-internal").length}};
    }})()""")
    assert dom["lines"] >= 8, dom  # one parameter a line, not one long line
    assert not dom["cut"], dom
    assert dom["links"] >= 3, dom  # Credentials, RateLimits, Limiter, ... link to the reference
    box = await _rect(page, f'{signature}.querySelector("pre")')
    mask = _ink(await page.screenshot(**box))
    assert _bands(mask) >= dom["lines"] - 1  # the reader sees the lines, not one long one
    right = max((x for row in mask for x, drawn in enumerate(row) if drawn), default=0)
    assert 0 < right < len(mask[0]) - 8  # and nothing runs into the block's right edge


async def test_cross_references_are_links_in_the_link_colour(page: Page) -> None:
    link = ('[...document.querySelectorAll(".doc-contents p a.autorefs-internal")]'
            '.find(a => a.textContent.includes("RequestEvent"))')
    colour = await page.evaluate(f"getComputedStyle({link}.querySelector('code') || {link})"
                                 ".color")
    red, green, blue = (int(part) for part in colour[colour.index("(") + 1:-1].split(",")[:3])
    box = await _rect(page, link)
    image = PIL.open(io.BytesIO(await page.screenshot(**box))).convert("RGB")
    pixels = image.load()
    assert pixels is not None
    near = sum(1 for x in range(image.width) for y in range(image.height)
               if sum(abs(a - b) for a, b in zip(pixels[x, y], (red, green, blue),
                                                 strict=True)) < 60)
    assert near > 20, (colour, near)  # drawn in the link colour, not as plain text
    target = await page.evaluate(f"""(() => {{
        const id = decodeURIComponent(new URL({link}.href).hash.slice(1));
        return [id, document.getElementById(id) !== null];
    }})()""")
    assert target == ["htx_cancel.RequestEvent", True]


async def test_reference_has_no_raw_roles_and_no_private_paths(page: Page) -> None:
    found = await page.evaluate("""(() => {
        const text = document.querySelector("article").innerText;
        const roles = text.match(/:(class|meth|func|attr|exc|mod|data|obj):`?/g) || [];
        const ids = [...document.querySelectorAll("article [id^='htx_cancel.']")].map(e => e.id);
        const links = [...document.querySelectorAll("a.autorefs-internal")];
        const broken = links.filter(a => {
            const id = decodeURIComponent(new URL(a.href).hash.slice(1));
            return new URL(a.href).pathname === location.pathname
                && document.getElementById(id) === null;
        }).map(a => a.href);
        return {roles, ids, links: links.length, broken};
    })()""")
    assert found["roles"] == []
    assert found["broken"] == []
    assert found["links"] > 50
    private = [i for i in found["ids"] if any(p.startswith("_") for p in i.split("."))]
    assert private == []
    for name in ("htx_cancel.CancelClient", "htx_cancel.CancelReport", "htx_cancel.LimiterStats",
                 "htx_cancel.testing.FakeExchange", "htx_cancel.redis_limiter.RedisLimiter"):
        assert name in found["ids"]


def test_the_screenshot_check_sees_lines() -> None:
    """The pixel check itself: two lines of text are two bands, a blank image none."""
    image = PIL.new("RGB", (40, 20), "white")
    for x in range(5, 30):
        image.putpixel((x, 4), (0, 0, 0))
        image.putpixel((x, 5), (0, 0, 0))
        image.putpixel((x, 12), (0, 0, 0))
    png = io.BytesIO()
    image.save(png, "PNG")
    assert _bands(_ink(png.getvalue())) == 2
    blank = io.BytesIO()
    PIL.new("RGB", (40, 20), "white").save(blank, "PNG")
    assert _bands(_ink(blank.getvalue())) == 0

