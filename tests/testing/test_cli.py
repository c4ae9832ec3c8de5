"""The command line: argument parsing, the serve coroutine, and a real subprocess."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from htx_cancel.testing import FakeExchange
from htx_cancel.testing.__main__ import SeedSpec, build_parser, parse_seed_spec, serve

ROOT = Path(__file__).resolve().parents[2]


def test_defaults() -> None:
    options = build_parser().parse_args([])
    assert options.host == "127.0.0.1"
    assert options.port == 8080
    assert options.window == "sliding"
    assert not options.no_rate_limits
    assert options.seed_orders == []
    assert options.outsider_rate is None and options.error_style == "err_code"


def test_seed_specs() -> None:
    options = build_parser().parse_args(
        ["--seed-orders", "BTC-USDT:order:10", "ETH-USDT:tpsl:2:cross", "--window", "fixed"]
    )
    assert options.seed_orders == [
        SeedSpec("BTC-USDT", "order", 10),
        SeedSpec("ETH-USDT", "tpsl", 2, "cross"),
    ]
    assert options.window == "fixed"
    for bad in ("BTC-USDT:order", "BTC-USDT:nope:1", "BTC-USDT:order:x", "BTC-USDT:order:1:x"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_seed_spec(bad)


async def test_serve_until_stopped(tmp_path: Path) -> None:
    ids_file = tmp_path / "ids.txt"
    options = build_parser().parse_args(
        ["--port", "0", "--seed-orders", "BTC-USDT:order:3", "--seed", "1",
         "--ids-out", str(ids_file), "--no-rate-limits", "--outsider-rate", "2",
         "--fill-before-cancel", "0.25", "--cancelling-seconds", "1.5",
         "--error-style", "code_msg", "--ts-as-string"]
    )  # fmt: skip
    stop = asyncio.Event()
    ready: asyncio.Future[FakeExchange] = asyncio.get_running_loop().create_future()
    out = io.StringIO()
    task = asyncio.create_task(serve(options, stop=stop, on_ready=ready.set_result, out=out))
    exchange = await asyncio.wait_for(ready, 5)
    assert f"listening on {exchange.base_url}" in out.getvalue()
    assert "seeded 3 orders" in out.getvalue()
    assert set(ids_file.read_text().split()) == exchange.open_ids()
    assert not exchange.pools.enabled
    assert exchange.outsider is not None and exchange.outsider.rate == 2.0
    assert exchange.book.fill_before_cancel == 0.25 and exchange.book.cancelling_seconds == 1.5
    assert exchange.error_style == "code_msg" and exchange.ts_as_string
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_module_runs_in_a_subprocess() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "htx_cancel.testing", "--port", "0",
        "--seed-orders", "BTC-USDT:order:5",
        stdout=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        second = (await asyncio.wait_for(proc.stdout.readline(), 5)).decode()
        base_url = first.split()[-1]
        assert base_url.startswith("http://127.0.0.1:")
        assert second.strip() == "seeded 5 orders"
        async with (
            aiohttp.ClientSession() as session,
            session.get(base_url + "/api/v1/timestamp") as resp,
        ):
            assert (await resp.json(content_type=None))["status"] == "ok"
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 5) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_busy_port_is_one_line_and_exit_1() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    async with FakeExchange() as busy:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "htx_cancel.testing", "--port", str(busy.port),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 1
    assert out == b""
    lines = err.decode().splitlines()
    assert len(lines) == 1, lines
    assert f"cannot listen on 127.0.0.1:{busy.port}: address already in use" in lines[0]
    assert "Traceback" not in err.decode()
