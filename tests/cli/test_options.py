"""``--version``, empty id lists, the exchange line, --share, --redis/--account, demo options."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import uuid
from importlib import metadata
from pathlib import Path

import pytest

from htx_cancel._limits import RateLimiter
from htx_cancel.cli._limits import open_limiter
from htx_cancel.testing import FakeExchange

from .conftest import ACCESS, SECRET, Run


def _script() -> Path:
    """The installed console script, next to this interpreter (the venv's bin)."""
    script = Path(sys.executable).parent / "htx-cancel"
    if not script.exists():
        pytest.skip("htx-cancel is not installed next to this interpreter")
    return script


def _env() -> dict[str, str]:
    return {**os.environ, "HTX_ACCESS_KEY": ACCESS, "HTX_SECRET_KEY": SECRET}


def _cancel(ex: FakeExchange, *more: str) -> list[str]:
    return ["cancel", "--contract", "BTC-USDT", "--kind", "order", "--api", "v1",
            "--base-url", ex.base_url,
            *more]


def test_version_from_package_metadata() -> None:
    done = subprocess.run([str(_script()), "--version"], capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"htx-cancel {metadata.version('htx_cancel')}"


def test_empty_stdin_is_nothing_to_cancel() -> None:
    """``my-bot --open-ids | htx-cancel cancel ... -`` with nothing open: exit 0, no request.

    The URL has no server behind it: any request would fail the run.
    """
    for extra in ([], ["--json"]):
        done = subprocess.run(
            [str(_script()), "cancel", "--contract", "BTC-USDT", "--kind", "order",
             "--api", "v1", "--base-url", "http://127.0.0.1:9", "-", *extra],
            input="# nothing open\n\n", capture_output=True, text=True, timeout=30,
            env=_env(), check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        if extra:
            doc = json.loads(done.stdout)
            assert doc["ok"] is True and doc["cancelled"] == [] and doc["batches"] == []
            assert "nothing to cancel" in done.stderr
        else:
            assert "nothing to cancel" in done.stdout


@pytest.mark.usefixtures("keys")
async def test_empty_ids_file_sends_nothing(exchange: FakeExchange, run: Run,
                                            tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("")
    result = await run(*_cancel(exchange, "--ids-file", str(path), "--json"))
    assert result.status == 0, result.err
    assert result.json["cancelled"] == [] and result.json["ok"] is True
    assert exchange.requests == [] and exchange.timestamp_requests == 0


@pytest.mark.usefixtures("keys")
async def test_no_id_source_is_still_a_usage_error(exchange: FakeExchange, run: Run) -> None:
    result = await run(*_cancel(exchange))
    assert result.status == 2 and "no ids given" in result.err


@pytest.mark.usefixtures("keys")
async def test_summary_names_the_default_exchange(run: Run) -> None:
    # Nothing to cancel, so nothing is sent to the real exchange.
    result = await run("cancel", "--contract", "BTC-USDT", "--kind", "order", "-")
    assert result.status == 0, result.err
    assert "exchange: https://api.hbdm.com (the default" in result.out
    as_json = await run("cancel", "--contract", "BTC-USDT", "--kind", "order", "-", "--json")
    assert as_json.json["exchange"] == "https://api.hbdm.com"
    assert "exchange: https://api.hbdm.com (the default" in as_json.err


@pytest.mark.usefixtures("keys")
async def test_summary_names_the_given_exchange(exchange: FakeExchange, run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "order", "isolated", 3)
    result = await run(*_cancel(exchange, *ids))
    assert result.status == 0, result.err
    assert f"exchange: {exchange.base_url}, API v1; limits: this process alone" in result.out
    assert "(the default" not in result.out


def _limit_args(**given: object) -> argparse.Namespace:
    return argparse.Namespace(**{"redis": None, "account": None, "share": None, **given})


async def test_share_scales_every_pool() -> None:
    async with open_limiter(_limit_args(share=0.5)) as limiter:
        assert isinstance(limiter, RateLimiter)
        assert limiter.limits.share == 0.5
        assert limiter.limits.spec("trade").limit == 36
    async with open_limiter(_limit_args()) as limiter:
        assert isinstance(limiter, RateLimiter) and limiter.limits.share == 1.0


@pytest.mark.usefixtures("keys")
async def test_share_holds_a_run_to_its_part(exchange: FakeExchange, run: Run) -> None:
    """With --share 0.25 a burst of 20 requests takes 18 in the first window, not 20."""
    ids = exchange.seed("BTC-USDT", "order", "isolated", 500)
    result = await run(*_cancel(exchange, "--share", "0.25", "--json", *ids))
    assert result.status == 0, result.err
    assert len(result.json["cancelled"]) == 500
    assert exchange.max_in_window("trade") == 18
    assert "share 0.25" in result.err


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--share", "0"], "--share"),
        (["--share", "1.5"], "--share"),
        (["--redis", "redis://127.0.0.1:9/0"], "--redis and --account go together"),
        (["--account", "uid-1"], "--redis and --account go together"),
        (["--redis", "nope://x", "--account", "uid-1"], "Redis URL"),
        (["--redis", "redis://127.0.0.1:9/0", "--account", "a b"], "account"),
    ],
)
async def test_bad_sharing_options(exchange: FakeExchange, run: Run, argv: list[str],
                                   needle: str) -> None:
    result = await run(*_cancel(exchange, "123", *argv))
    assert result.status == 2, result.err
    assert needle in result.err and len(result.err.strip().splitlines()) == 1
    assert exchange.requests == []


@pytest.mark.usefixtures("keys")
async def test_unreachable_redis_is_exit_1_and_sends_nothing(exchange: FakeExchange,
                                                              run: Run) -> None:
    pytest.importorskip("redis")
    result = await run(*_cancel(exchange, "123", "--redis", "redis://:hunter2@127.0.0.1:9/0",
                                "--account", "uid-1"))
    assert result.status == 1
    assert "cannot use Redis at redis://127.0.0.1:9/0" in result.err
    assert "hunter2" not in result.err  # a password in the URL is never printed
    assert exchange.requests == [] and exchange.timestamp_requests == 0


def _redis_url() -> str:
    """REDIS_URL, or a skip when it is not set (CI sets it)."""
    pytest.importorskip("redis")
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set")
    return url


@pytest.mark.redis
async def test_two_runs_on_one_account_share_through_redis(exchange: FakeExchange,
                                                           tmp_path: Path) -> None:
    """Two processes at once, 60 requests each: together within 72 per 3 s, no 1032."""
    url = _redis_url()
    account = f"cli-{uuid.uuid4().hex[:10]}"
    runs = []
    for n in range(2):
        path = tmp_path / f"ids{n}.txt"
        path.write_text("\n".join(exchange.seed("BTC-USDT", "order", "isolated", 1500)))
        runs.append(await asyncio.create_subprocess_exec(
            str(_script()), *_cancel(exchange, "--ids-file", str(path), "--json",
                                     "--redis", url, "--account", account),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env()))
    outputs = [await asyncio.wait_for(proc.communicate(), 60) for proc in runs]
    for proc, (out, err) in zip(runs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        assert len(json.loads(out)["cancelled"]) == 1500
        assert f"account {account}" in err.decode()
    assert exchange.rejected_1032 == 0
    assert exchange.max_in_window("trade") <= 72
    assert len(exchange.requests) == 120 and exchange.open_ids() == set()


async def test_demo_json_ok_when_checks_pass(run: Run) -> None:
    """The demo asks for ids that must fail (1061): its "ok" is its checks, not the tally."""
    result = await run("demo", "--orders", "30", "--trigger", "5", "--tpsl", "0",
                       "--track", "0", "--json")
    assert result.status == 0, result.err
    doc = result.json
    assert len(doc["failed"]) == 5 and all(check["ok"] for check in doc["checks"])
    assert doc["ok"] is True


async def test_demo_faults_lose_nothing(run: Run) -> None:
    result = await run("demo", "--orders", "600", "--trigger", "40", "--tpsl", "20",
                       "--track", "20", "--faults", "0.1", "--json")
    assert result.status == 0, result.err
    doc = result.json
    assert doc["ok"] is True and doc["unknown"] == {}
    assert doc["faults"]["rate_limit"] == 1  # the one scripted 1032
    assert sum(doc["faults"].values()) > 1  # and random ones
    assert any(b["attempts"] > 1 for b in doc["batches"])
    [check] = [c for c in doc["checks"] if c["check"].startswith("retries lost nothing")]
    assert check["ok"] and "0 without a definite outcome" in check["check"]
    assert "faults in 10% of requests" in result.err and "and one 1032" in result.err
    # The announced 1032 is reported: answered once, injected, none over the limit.
    assert doc["answered_1032"] == 1
    assert sum(row["answered_1032"] for row in doc["endpoints"]) == 1
    [rate] = [c for c in doc["checks"] if c["check"].startswith("never over the rate limit")]
    assert rate["ok"] and "1 answered 1032 (1 injected, 0 over the limit)" in rate["check"]


async def test_demo_without_faults_injects_none(run: Run) -> None:
    result = await run("demo", "--orders", "50", "--trigger", "5", "--tpsl", "0",
                       "--track", "0", "--json")
    assert result.json["faults"] == {}
    assert all(b["attempts"] == 1 for b in result.json["batches"])


@pytest.mark.usefixtures("keys")
async def test_cancel_all_takes_the_sharing_options(exchange: FakeExchange, run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "tpsl", "isolated", 4)
    result = await run("cancel-all", "--contract", "BTC-USDT", "--kind", "tpsl", "--api", "v1",
                       "--base-url", exchange.base_url, "--share", "0.5", "--json")
    assert result.status == 0, result.err
    assert sorted(result.json["cancelled"]) == sorted(ids)
    assert "limits: this process alone, share 0.5" in result.err
    lonely = await run("cancel-all", "--contract", "BTC-USDT", "--kind", "tpsl", "--api", "v1",
                       "--base-url", exchange.base_url, "--account", "uid-1")
    assert lonely.status == 2 and "--redis and --account go together" in lonely.err


@pytest.mark.usefixtures("keys")
async def test_redis_without_redis_py_is_a_usage_error(exchange: FakeExchange, run: Run,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)  # as if redis-py were not installed
    result = await run(*_cancel(exchange, "123", "--redis", "redis://127.0.0.1:9/0",
                                "--account", "uid-1"))
    assert result.status == 2
    assert "pip install 'htx_cancel[redis]'" in result.err
    assert len(result.err.strip().splitlines()) == 1 and exchange.requests == []
