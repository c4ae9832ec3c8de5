"""The command line: argument parsing, the serve coroutine, and a real subprocess."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from htx_cancel._signing import format_timestamp
from htx_cancel.testing import FakeExchange
from htx_cancel.testing.__main__ import SeedSpec, build_parser, parse_seed_spec, serve

from .conftest import signed_query

ROOT = Path(__file__).resolve().parents[2]


def test_defaults() -> None:
    options = build_parser().parse_args([])
    assert options.host == "127.0.0.1"
    assert options.port == 8080
    assert options.window == "sliding"
    assert not options.no_rate_limits
    assert options.seed_orders == []
    assert options.outsider_rate is None and options.error_style == "err_code"
    assert options.api == "v5" and options.migrated_code == 6023 and options.v5_style == []


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
         "--error-style", "code_msg", "--ts-as-string", "--api", "v1", "--cancel-lag", "0.5",
         "--v5-style", "msg", "--v5-style", "no_ts", "--cancel-all-nothing", "1051"]
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
    assert not exchange.migrated and exchange.book.cancel_lag == 0.5
    assert exchange.v5_styles == {"msg", "no_ts"} and exchange.v5.cancel_all_nothing == "1051"
    assert "v1 works too" in out.getvalue()
    stop.set()
    await asyncio.wait_for(task, 5)


def _signed(base_url: str, method: str, path: str) -> str:
    host = base_url.removeprefix("http://")
    query = signed_query(method, host, path, "test-access", "test-secret",
                         format_timestamp(time.time()))
    return f"{base_url}{path}?{query}"


async def test_module_runs_in_a_subprocess(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ids_file = tmp_path / "ids.txt"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "htx_cancel.testing", "--port", "0",
        "--seed-orders", "BTC-USDT:order:5", "--ids-out", str(ids_file),
        stdout=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        second = (await asyncio.wait_for(proc.stdout.readline(), 5)).decode()
        base_url = first.split()[-1]
        assert base_url.startswith("http://127.0.0.1:")
        assert second.strip() == "seeded 5 orders"
        third = (await asyncio.wait_for(proc.stdout.readline(), 5)).decode()
        assert "v1 private paths answer 6023" in third
        async with aiohttp.ClientSession() as session:
            async with session.get(base_url + "/api/v1/timestamp") as resp:
                assert (await resp.json(content_type=None))["status"] == "ok"
            async with session.get(base_url + "/v5/trade/nothing") as resp:
                assert resp.status == 404
                assert (await resp.json(content_type=None))["code"] == 404
            ids = ids_file.read_text().split()
            v1 = _signed(base_url, "POST", "/linear-swap-api/v1/swap_cancel")
            body = {"contract_code": "BTC-USDT", "order_id": ids[0]}
            async with session.post(v1, json=body) as resp:
                assert (await resp.json(content_type=None))["err_code"] == 6023
            v5 = _signed(base_url, "POST", "/v5/trade/cancel_batch_orders")
            async with session.post(v5, json={**body, "order_id": ids}) as resp:
                answer = await resp.json(content_type=None)
                assert answer["code"] == 200 and len(answer["data"]) == 5
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


async def test_ids_by_kind_and_the_keys_it_accepts(tmp_path: Path) -> None:
    as_json = tmp_path / "ids.json"
    per_kind = tmp_path / "{contract}-{kind}.txt"
    for target in (as_json, per_kind):
        options = build_parser().parse_args(
            ["--port", "0", "--seed-orders", "BTC-USDT:order:3", "BTC-USDT:trigger:2",
             "ETH-USDT:order:1", "--ids-out", str(target), "--access-key", "ak",
             "--secret-key", "sk"])
        stop = asyncio.Event()
        ready: asyncio.Future[FakeExchange] = asyncio.get_running_loop().create_future()
        out = io.StringIO()
        task = asyncio.create_task(serve(options, stop=stop, on_ready=ready.set_result,
                                         out=out))
        exchange = await asyncio.wait_for(ready, 5)
        text = out.getvalue()
        assert "keys it accepts: HTX_ACCESS_KEY=ak HTX_SECRET_KEY=sk" in text
        assert "seeded 6 orders (3 BTC-USDT:order, 2 BTC-USDT:trigger, 1 ETH-USDT:order)" in text
        if target is as_json:
            ids = json.loads(as_json.read_text())
        else:
            ids = {f"{c}:{k}": (tmp_path / f"{c}-{k}.txt").read_text().split()
                   for c, k in (("BTC-USDT", "order"), ("BTC-USDT", "trigger"),
                                ("ETH-USDT", "order"))}
        assert [len(v) for v in ids.values()] == [3, 2, 1]
        assert all(exchange.order(i).kind == key.split(":")[1] for key, group in ids.items()
                   for i in group)
        stop.set()
        await asyncio.wait_for(task, 5)


def test_one_plain_ids_file_for_several_kinds_is_refused(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    from htx_cancel.testing.__main__ import main

    with pytest.raises(SystemExit) as done:
        main(["--port", "0", "--seed-orders", "BTC-USDT:order:3", "BTC-USDT:trigger:2",
              "--ids-out", str(tmp_path / "ids.txt")])
    assert done.value.code == 2 and "{kind}" in capsys.readouterr().err
