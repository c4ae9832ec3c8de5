"""``cancel-all``, ``time``, ``demo``, Ctrl-C, and the installed command."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console

from htx_cancel import CATALOG
from htx_cancel.cli._main import run_async
from htx_cancel.cli._progress import NullTracker, RichTracker, make_tracker
from htx_cancel.cli._summary import bound
from htx_cancel.testing import FakeExchange

from .conftest import Run


def _all(ex: FakeExchange, kind: str, *more: str) -> list[str]:
    return ["cancel-all", "--contract", "BTC-USDT", "--kind", kind, "--api", "v1",
            "--base-url", ex.base_url,
            *more]


@pytest.mark.usefixtures("keys")
async def test_cancel_all_one_direction(exchange: FakeExchange, run: Run) -> None:
    buys = exchange.seed("BTC-USDT", "trigger", "isolated", 6, direction="buy")
    sells = exchange.seed("BTC-USDT", "trigger", "isolated", 4, direction="sell")
    result = await run(*_all(exchange, "trigger", "--direction", "buy", "--json"))
    assert result.status == 0, result.err
    assert sorted(result.json["cancelled"]) == sorted(buys)
    assert exchange.open_ids() == set(sells)
    [record] = exchange.requests
    assert record.endpoint == "swap_trigger_cancelall"
    assert record.body["direction"] == "buy"


@pytest.mark.usefixtures("keys")
async def test_cancel_all_regular_cross_and_nothing_left(exchange: FakeExchange,
                                                         run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "order", "cross", 5, offset="close")
    result = await run(*_all(exchange, "order", "--margin", "cross", "--offset", "close"))
    assert result.status == 0, result.err
    assert "swap_cross_cancelall" in result.out and "5 cancelled" in result.out
    assert exchange.cancelled_ids() == set(ids)
    again = await run(*_all(exchange, "order", "--margin", "cross", "--json"))
    assert again.status == 0  # 1051: nothing to cancel is not a failure
    assert again.json["cancelled"] == [] and "error" not in again.json


@pytest.mark.usefixtures("keys")
async def test_cancel_all_whole_request_error_is_exit_1(exchange: FakeExchange,
                                                        run: Run) -> None:
    result = await run("cancel-all", "--contract", "NOPE-USDT", "--kind", "track",
                       "--api", "v1", "--base-url", exchange.base_url, "--json")
    assert result.status == 1
    assert result.json["error"].startswith("1014")


async def test_time(exchange: FakeExchange, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTX_ACCESS_KEY", raising=False)  # no keys needed
    exchange.clock_skew = 2.0
    result = await run("time", "--base-url", exchange.base_url, "--json")
    assert result.status == 0, result.err
    assert abs(result.json["offset_ms"] - 2000) < 500
    assert result.json["exchange"] == exchange.base_url
    human = await run("time", "--base-url", exchange.base_url)
    assert human.status == 0 and "ahead of" in human.out and exchange.base_url in human.out
    assert exchange.timestamp_requests == 2 and exchange.requests == []


async def test_time_unreachable(run: Run) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    result = await run("time", "--base-url", f"http://127.0.0.1:{port}")
    assert result.status == 1 and "htx-cancel time:" in result.err


async def test_demo_small(run: Run) -> None:
    result = await run("demo", "--orders", "100", "--trigger", "10", "--tpsl", "10",
                       "--track", "10")
    assert result.status == 0, result.out + result.err
    assert "seeded 130 open orders" in result.out
    assert "cancelling 140 ids (5 unknown, 5 duplicates)" in result.out
    assert result.out.count("✓") == 6 and "✗" not in result.out
    assert "✓ every state matches the exchange (135/135 ids" in result.out
    for endpoint in ("cancel_batch_orders (cid)", "cancel_batch_orders", "algo/cancel_orders"):
        assert endpoint in result.out  # v5, the default
    v1 = await run("demo", "--api", "v1", "--orders", "100", "--trigger", "10", "--tpsl", "10",
                   "--track", "10")
    assert v1.status == 0 and "✗" not in v1.out, v1.out + v1.err
    for endpoint in ("swap_cancel", "swap_cross_cancel (cid)", "swap_trigger_cancel",
                     "swap_cross_track_cancel"):
        assert endpoint in v1.out


async def test_demo_json(run: Run) -> None:
    result = await run("demo", "--orders", "30", "--trigger", "5", "--tpsl", "0",
                       "--track", "0", "--unknown", "2", "--duplicates", "1", "--fills", "0",
                       "--json")
    assert result.status == 0, result.out + result.err
    doc = result.json
    assert len(doc["cancelled"]) == 35
    assert [f["code"] for f in doc["failed"].values()] == [1061, 1061]
    assert all(check["ok"] for check in doc["checks"])
    # How long it took, against the least time the limits allow, in all and per endpoint.
    attempts: Counter[str] = Counter()  # per table row: endpoint, and id field
    pools: Counter[str] = Counter()
    for batch in doc["batches"]:
        cid = " (cid)" if batch["id_field"] == "client_order_id" else ""
        attempts[batch["endpoint"] + cid] += batch["attempts"]
        for pool in CATALOG[batch["endpoint"]].pools:
            pools[pool] += batch["attempts"]
    rows = {row["endpoint"]: row for row in doc["endpoints"]}
    assert {name: row["requests"] for name, row in rows.items()} == attempts
    assert doc["requests"] == sum(attempts.values())
    assert doc["bound_s"] == bound(pools)
    assert doc["elapsed_s"] >= max(row["elapsed_s"] for row in rows.values()) > 0
    assert doc["answered_1032"] == 0


async def test_demo_json_bound_of_a_run_past_one_window(run: Run) -> None:
    result = await run("demo", "--orders", "1900", "--trigger", "0", "--tpsl", "0",
                       "--track", "0", "--cross-share", "0", "--client-share", "0",
                       "--unknown", "0", "--duplicates", "0", "--fills", "0", "--no-verify",
                       "--json")
    assert result.status == 0, result.err
    doc = result.json
    assert doc["requests"] == 190  # 1900 ids, 10 a request on v5: more than two windows' 72
    assert doc["bound_s"] == 6.0  # so a third window of the trade pool
    assert doc["elapsed_s"] >= doc["bound_s"]  # the limiter never beats the bound


@pytest.mark.usefixtures("keys")
async def test_interrupt_reports_what_was_done(exchange: FakeExchange,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    ids = exchange.seed("BTC-USDT", "order", "isolated", 2500)  # 100 requests: over 3 s
    task = asyncio.create_task(run_async(
        ["cancel", "--contract", "BTC-USDT", "--kind", "order", "--api", "v1", "--base-url",
         exchange.base_url, "--json", "--ids-file", "-"]))
    sys_stdin = io.StringIO("\n".join(ids))
    # run_async reads sys.stdin when the command starts: give it the ids first.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", sys_stdin)
        await asyncio.sleep(0.5)
    task.cancel()
    status = await task
    assert status == 130
    doc = json.loads(capsys.readouterr().out)
    assert doc["interrupted"] is True and doc["ok"] is False
    assert 0 < len(doc["cancelled"]) < len(ids)
    assert set(doc["cancelled"]) <= exchange.cancelled_ids()
    assert sorted(doc["cancelled"] + doc["pending"]) == sorted(ids)


def test_bound() -> None:
    assert bound({}) == 0
    assert bound({"trade": 72}) == 0
    assert bound({"trade": 73}) == 3
    assert bound({"trade": 157, "swap_trigger_cancel": 9}) == 6
    assert bound({"trade": 20, "swap_tpsl_cancel": 16}) == 3


def test_tracker_draws_only_on_a_terminal() -> None:
    plain = Console(file=io.StringIO())
    assert isinstance(make_tracker(plain, True), NullTracker)
    buffer = io.StringIO()
    tty = Console(file=buffer, force_terminal=True, width=100)
    assert isinstance(make_tracker(tty, False), NullTracker)
    tracker = make_tracker(tty, True)
    assert isinstance(tracker, RichTracker)
    with tracker:
        tracker.add("swap_cancel", 50)
        tracker.add("swap_cancelall", None)
        tracker.show("swap_cancel", 25, 2)
    text = buffer.getvalue()
    assert "all ids" in text and "swap_cancel" in text and "25/50" in text


def _script() -> Path:
    """The installed console script, next to this interpreter (the venv's bin)."""
    script = Path(sys.executable).parent / "htx-cancel"
    if not script.exists():
        pytest.skip("htx-cancel is not installed next to this interpreter")
    return script


def test_installed_command_runs_the_demo() -> None:
    done = subprocess.run(
        [str(_script()), "demo", "--orders", "50", "--trigger", "5", "--tpsl", "5",
         "--track", "5"],
        capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every seeded order cancelled (65/65)" in done.stdout


def test_sigint_stops_cleanly_with_130() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [str(_script()), "demo", "--orders", "3000", "--trigger", "0", "--tpsl", "0",
         "--track", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        while "cancelling" not in proc.stdout.readline():
            pass
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, out + err
    assert "interrupted" in out and "Traceback" not in err
    assert "✗ every seeded order cancelled" in out
