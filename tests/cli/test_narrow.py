"""An 80-column terminal: the command line in a real pseudo-terminal, as a person runs it.

Every line fits, nothing is cut (no ``…``), and every number is whole: the summary wraps or
splits its table instead of truncating cells.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import re
import struct
import sys
import termios

import pytest
from rich.cells import cell_len

from htx_cancel.testing import FakeExchange

from .conftest import ACCESS, SECRET

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX terminal")

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
TIMEOUT = 120  # seconds for one run; the small demo takes about 2


def _read_all(fd: int) -> bytes:
    """Everything the terminal shows until the program closes it."""
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side closed
            return out
        if not chunk:
            return out
        out += chunk


async def _in_terminal(columns: int, *argv: str, env: dict[str, str] | None = None
                       ) -> tuple[int, list[str]]:
    """Run ``htx-cancel argv`` with stdout and stderr on a ``columns``-wide pseudo-terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, columns, 0, 0))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environ.update(env or {}, COLUMNS=str(columns), TERM="xterm")
    environ.pop("NO_COLOR", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "htx_cancel.cli", *argv, stdin=asyncio.subprocess.DEVNULL,
        stdout=slave, stderr=slave, env=environ)
    os.close(slave)
    try:
        shown = await asyncio.wait_for(asyncio.to_thread(_read_all, master), TIMEOUT)
        status = await asyncio.wait_for(process.wait(), TIMEOUT)
    finally:
        os.close(master)
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = ANSI.sub("", shown.decode("utf-8", "replace")).replace("\r\n", "\n")
    return status, text.splitlines()


def _assert_fits(lines: list[str], columns: int) -> None:
    too_wide = [line for line in lines if cell_len(line.rstrip()) > columns]
    assert too_wide == [], "\n".join(lines)
    assert not any("…" in line for line in lines), "\n".join(lines)


def _table_headers(lines: list[str]) -> list[list[str]]:
    """The header row of each table: the lines starting with ``endpoint``."""
    return [line.split() for line in lines if line.startswith("endpoint ")]


def _rows(lines: list[str], label: str) -> list[list[str]]:
    """The cells of every table row whose endpoint is ``label``."""
    return [line.split()[1:] for line in lines if line.split()[:1] == [label]]


async def test_demo_at_80_columns_cuts_no_number() -> None:
    status, lines = await _in_terminal(
        80, "demo", "--orders", "200", "--trigger", "30", "--tpsl", "20", "--track", "20",
        "--faults", "--no-progress")
    assert status == 0, "\n".join(lines)
    _assert_fits(lines, 80)
    headers = _table_headers(lines)
    # Too narrow for one table: the outcomes, then the requests and times; no column lost.
    assert [h[1:] for h in headers] == [["ids", "cancelled", "failed", "unknown", "verified"],
                                       ["req", "elapsed", "bound", "1032"]]
    text = "\n".join(lines)
    asked = int(re.search(r"cancelling (\d+) ids \(5 unknown, 5 duplicates\)", text)[1])
    outcomes, timing = _rows(lines, "all")
    assert outcomes[0] == str(asked - 5)  # the "all" row's ids, whole
    found = re.search(r"filled during their cancel: (\d+)/", text)
    filled = int(found[1]) if found else 0
    assert outcomes[2:4] == ["1061:", str(5 + filled)]  # the unknown ids and the filled ones
    assert re.fullmatch(r"\d+", timing[0]) and re.fullmatch(r"\d+\.\d\ds", timing[1])
    assert timing[3] == "1"  # the one injected 1032, as announced
    assert "1 answered 1032 (1 injected, 0 over the limit)" in " ".join(lines)


async def test_demo_at_120_columns_is_one_table() -> None:
    status, lines = await _in_terminal(
        120, "demo", "--orders", "100", "--trigger", "10", "--tpsl", "10", "--track", "10",
        "--no-progress")
    assert status == 0, "\n".join(lines)
    _assert_fits(lines, 120)
    [header] = _table_headers(lines)
    assert header == ["endpoint", "ids", "cancelled", "failed", "unknown", "req", "elapsed",
                      "bound", "1032", "verified"]
    assert _rows(lines, "v5/trade/cancel_batch_orders")  # wide enough for the full names


async def test_cancel_verify_at_80_columns_keeps_every_id_whole() -> None:
    async with FakeExchange({ACCESS: SECRET}, seed=3, fill_during_cancel=0.3) as ex:
        ids = ex.seed("BTC-USDT", "order", "cross", 12, with_client_ids=True)
        missing = "123456789012345678"
        status, lines = await _in_terminal(
            80, "cancel", "--contract", "BTC-USDT", "--kind", "order", "--margin", "cross",
            "--verify", "--no-progress", "--api", "v1", "--base-url", ex.base_url, *ids, missing,
            env={"HTX_ACCESS_KEY": ACCESS, "HTX_SECRET_KEY": SECRET})
        filled = [i for i in ids if ex.status_of(i) == 6]
    assert status == 1 and 0 < len(filled) < 9  # every failed id is listed (up to 10)
    _assert_fits(lines, 80)
    listed = [line.split()[1] for line in lines if line.startswith("failed ")]
    assert sorted(listed) == sorted([*filled, missing])  # each id whole, on its own line
    [row] = _rows(lines, "cross_cancel")  # swap_ dropped to fit
    assert row[:2] == ["13", str(12 - len(filled))]
