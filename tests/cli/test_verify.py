"""``cancel --verify``, ``cancel-after`` and the demo's verification."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from htx_cancel import Kind, OrderState
from htx_cancel.cli._commands import utc_text
from htx_cancel.testing import FakeExchange

from .conftest import ACCESS, SECRET, Run

MISSING = "123456789012345678"


def _cancel(ex: FakeExchange, kind: str, *more: str) -> list[str]:
    return ["cancel", "--contract", "BTC-USDT", "--kind", kind, "--api", "v1", "--base-url",
            ex.base_url, *more]


def _expected(ex: FakeExchange, oid: str) -> str:
    """What order info says of a regular order: its HTX status as a state, or not found."""
    status = ex.status_of(oid)
    return {None: "not_found", 5: "partially_filled_cancelled", 6: "filled",
            7: "cancelled"}[status]


@pytest_asyncio.fixture
async def filling() -> AsyncIterator[FakeExchange]:
    """A fake exchange where a fifth of regular orders fill while being cancelled."""
    async with FakeExchange({ACCESS: SECRET}, seed=3, fill_during_cancel=0.2) as ex:
        yield ex


@pytest.mark.usefixtures("keys")
async def test_verify_json_states_match_the_exchange(filling: FakeExchange, run: Run) -> None:
    ids = filling.seed("BTC-USDT", "order", "isolated", 60)
    filling.fill(ids[0])  # filled before its cancel: answered 1061, like an unknown id
    result = await run(*_cancel(filling, "order", "--verify", "--json", *ids, MISSING))
    assert result.status == 1
    doc = result.json
    states = doc["states"]
    assert set(states) == {*ids, MISSING}
    assert states == {i: _expected(filling, i) for i in states}
    filled = {i for i, s in states.items() if s == "filled"}
    assert ids[0] in filled and len(filled) > 1  # some filled after the cancel was accepted
    assert set(doc["failed"]) == filled | {MISSING}
    assert all(doc["failed"][i]["code"] == 1061 for i in filled | {MISSING})
    assert states[MISSING] == "not_found"
    assert set(doc["cancelled"]) == {i for i, s in states.items() if s == "cancelled"}
    assert doc["ok"] is False and doc["unknown"] == {}
    reads = [r for r in filling.requests if r.endpoint == "swap_order_info"]
    assert reads and all(not r.cancelled for r in reads)  # verification reads, it cancels none
    assert (f"verified 61: cancelled {60 - len(filled)}, filled {len(filled)}, not_found 1"
            in result.err)


@pytest.mark.usefixtures("keys")
async def test_verify_all_cancelled_is_exit_0(exchange: FakeExchange, run: Run) -> None:
    oids = exchange.seed("BTC-USDT", "order", "cross", 12, with_client_ids=True)
    cids = [str(exchange.client_id_of(i)) for i in oids]
    result = await run(*_cancel(exchange, "order", "--client-order-ids", "--margin", "cross",
                                "--verify", "--json", *cids))
    assert result.status == 0, result.err
    doc = result.json
    assert doc["ok"] is True and doc["cancelled"] == cids
    assert doc["states"] == dict.fromkeys(cids, "cancelled")
    [read] = [r for r in exchange.requests if r.endpoint == "swap_cross_order_info"]
    assert read.body["client_order_id"].split(",") == cids


@pytest.mark.usefixtures("keys")
async def test_lost_answers_resolved_by_verification(exchange: FakeExchange, run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "order", "isolated", 3)
    exchange.faults.script("swap_cancel", ["drop_after"] * 8)  # cancelled, no answer learned
    plain = await run(*_cancel(exchange, "order", "--json", *ids))
    assert plain.status == 1 and set(plain.json["unknown"]) == set(ids)
    assert plain.json["states"] == {}  # nothing verified without --verify
    more = exchange.seed("BTC-USDT", "order", "isolated", 3)
    exchange.faults.script("swap_cancel", ["drop_after"] * 8)
    verified = await run(*_cancel(exchange, "order", "--json", "--verify", *more))
    assert verified.status == 0, verified.err
    assert verified.json["cancelled"] == more and verified.json["unknown"] == {}
    assert verified.json["states"] == dict.fromkeys(more, "cancelled")


@pytest.mark.usefixtures("keys")
async def test_verify_strategy_orders_from_their_listing(exchange: FakeExchange,
                                                         run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "trigger", "cross", 15)
    result = await run(*_cancel(exchange, "trigger", "--margin", "cross", "--verify",
                                "--json", *ids))
    assert result.status == 0, result.err
    assert result.json["states"] == dict.fromkeys(ids, "gone")
    assert any(r.endpoint == "swap_cross_trigger_openorders" for r in exchange.requests)


@pytest.mark.usefixtures("keys")
async def test_verify_in_the_table_and_per_id(filling: FakeExchange, run: Run) -> None:
    ids = filling.seed("BTC-USDT", "order", "isolated", 40)
    result = await run(*_cancel(filling, "order", "--verify", *ids, MISSING))
    assert result.status == 1
    states = {i: _expected(filling, i) for i in [*ids, MISSING]}
    filled = sorted(i for i, s in states.items() if s == "filled")
    assert filled
    header = next(line for line in result.out.splitlines() if line.startswith("endpoint"))
    assert header.split()[-1] == "verified"
    cancelled = sum(s == "cancelled" for s in states.values())
    assert f"cancelled {cancelled}" in result.out
    assert f"filled {len(filled)}" in result.out and "not_found 1" in result.out
    for id_ in filled:
        assert any(line.startswith(f"failed  {id_}  1061") and line.endswith("(state: filled)")
                   for line in result.out.splitlines())
    assert f"failed  {MISSING}  1061" in result.out and "(state: not_found)" in result.out
    assert f"verified 41: cancelled {cancelled}, filled {len(filled)}, not_found 1" in result.out


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(("kind", "state"), [("order", "cancelled"), ("trigger", "gone")])
async def test_verify_rerun_of_cancelled_ids_succeeds(exchange: FakeExchange, run: Run,
                                                      kind: Kind, state: str) -> None:
    ids = exchange.seed("BTC-USDT", kind, "isolated", 12)
    first = await run(*_cancel(exchange, kind, "--json", *ids[:8]))
    assert first.status == 0, first.err
    again = await run(*_cancel(exchange, kind, "--verify", "--json", *ids))  # "are they gone?"
    assert again.status == 0, again.out
    doc = again.json
    assert doc["ok"] is True and doc["failed"] == {} and doc["unknown"] == {}
    assert doc["found_cancelled"] == []  # 1071: the library counts them cancelled itself
    assert sorted(doc["cancelled"]) == sorted(ids)
    assert doc["states"] == dict.fromkeys(ids, state)
    assert exchange.open_ids() == set()


@pytest.mark.usefixtures("keys")
async def test_verify_rerun_still_fails_what_is_not_gone_by_a_cancel(exchange: FakeExchange,
                                                                   run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "order", "isolated", 4)
    exchange.fill(ids[0])  # filled: 1061, state filled
    await run(*_cancel(exchange, "order", *ids[1:]))
    again = await run(*_cancel(exchange, "order", "--verify", "--json", *ids, MISSING))
    assert again.status == 1
    doc = again.json
    assert sorted(doc["cancelled"]) == sorted(ids[1:])
    assert sorted(doc["failed"]) == sorted([ids[0], MISSING])
    assert doc["states"][ids[0]] == "filled" and doc["states"][MISSING] == "not_found"


@pytest.mark.usefixtures("keys")
async def test_without_verify_no_states_column(exchange: FakeExchange, run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "order", "isolated", 5)
    result = await run(*_cancel(exchange, "order", *ids))
    assert result.status == 0
    assert "verified" not in result.out and "state:" not in result.out
    assert not any(r.endpoint == "swap_order_info" for r in exchange.requests)


# -- cancel-after ----------------------------------------------------------------------------


def _switch(ex: FakeExchange, *more: str) -> list[str]:
    return ["cancel-after", "--api", "v1", "--base-url", ex.base_url, *more]


@pytest.mark.usefixtures("keys")
async def test_cancel_after_arms_once_and_off_disarms(exchange: FakeExchange,
                                                      run: Run) -> None:
    result = await run(*_switch(exchange, "--timeout", "30", "--json"))
    assert result.status == 0, result.err
    doc = result.json
    assert exchange.cancel_after.armed and exchange.cancel_after.arms == 1
    assert doc["armed"] is True and doc["timeout_s"] == 30
    assert doc["trigger_time"] == exchange.cancel_after.trigger_time
    assert doc["trigger_time_utc"] == utc_text(doc["trigger_time"])
    # the fake reads its clock twice (for ts, then to arm): a busy machine can tick between
    assert 30_000 <= doc["trigger_time"] - doc["current_time"] < 31_000
    assert doc["exchange"] == exchange.base_url
    [arm] = exchange.requests
    assert (arm.body["on_off"], arm.body["time_out"]) == (1, 30_000)

    human = await run(*_switch(exchange, "--timeout", "7.5"))
    assert human.status == 0, human.err
    trigger = exchange.cancel_after.trigger_time
    assert trigger is not None
    assert "armed for 7.5 s" in human.out and f"at {utc_text(trigger)}" in human.out
    assert exchange.base_url in human.out

    off = await run(*_switch(exchange, "--off"))
    assert off.status == 0 and "disarmed" in off.out
    assert not exchange.cancel_after.armed and exchange.cancel_after.fired == []
    off_json = await run(*_switch(exchange, "--off", "--json"))
    assert off_json.json == {"armed": False, "exchange": exchange.base_url, "api": "v1"}
    assert [r.body["on_off"] for r in exchange.requests] == [1, 1, 0, 0]


@pytest.mark.usefixtures("keys")
async def test_cancel_after_fires_unless_armed_again(exchange: FakeExchange, run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "order", "isolated", 3)
    result = await run(*_switch(exchange, "--timeout", "5"))
    assert result.status == 0, result.err
    exchange.cancel_after.arm(50)  # the fake's timer, shortened: what S seconds would do
    fired = await asyncio.wait_for(exchange.cancel_after.wait_fired(), 5)
    assert sorted(fired.order_ids) == sorted(ids) and exchange.open_ids() == set()


def test_utc_text() -> None:
    ms = int(datetime(2026, 11, 21, 9, 50, 33, 123_000, tzinfo=UTC).timestamp() * 1000)
    assert utc_text(ms) == "2026-11-21 09:50:33.123 UTC"


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(("argv", "message"), [
    (["--timeout", "4.9"], "at least 5 (HTX's minimum), got '4.9'"),
    (["--timeout", "nan"], "at least 5"),
    (["--timeout", "soon"], "at least 5"),
    ([], "one of the arguments --timeout --off is required"),
    (["--timeout", "10", "--off"], "not allowed with argument"),
])
async def test_cancel_after_bad_usage_sends_nothing(exchange: FakeExchange, run: Run,
                                                    argv: list[str], message: str) -> None:
    result = await run(*_switch(exchange, *argv))
    assert result.status == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert exchange.requests == [] and not exchange.cancel_after.armed


async def test_cancel_after_needs_keys(exchange: FakeExchange, run: Run,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTX_ACCESS_KEY", raising=False)
    monkeypatch.delenv("HTX_SECRET_KEY", raising=False)
    result = await run(*_switch(exchange, "--timeout", "10"))
    assert result.status == 2 and "HTX_ACCESS_KEY" in result.err
    assert exchange.requests == []


@pytest.mark.usefixtures("keys")
async def test_cancel_after_refused_is_exit_1(exchange: FakeExchange, run: Run,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTX_SECRET_KEY", "not-the-secret")
    result = await run(*_switch(exchange, "--timeout", "10"))
    assert result.status == 1 and result.out == ""
    assert result.err.startswith("htx-cancel cancel-after: the exchange rejected the key")
    assert not exchange.cancel_after.armed


@pytest.mark.usefixtures("keys")
async def test_cancel_after_unreachable_is_exit_1(run: Run) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    result = await run("cancel-after", "--api", "v1", "--base-url", f"http://127.0.0.1:{port}",
                       "--off")
    assert result.status == 1 and result.err.startswith("htx-cancel cancel-after: ")
    assert len(result.err.strip().splitlines()) == 1


async def test_cancel_after_help_says_it_arms_once(run: Run) -> None:
    result = await run("cancel-after", "--help")
    assert result.status == 0
    text = " ".join(result.out.split())
    assert "arms it once" in text and "fires when S runs out unless re-armed" in text
    assert "client.cancel_after(S) as a context manager" in text


# -- subprocesses: the installed command, as a user runs it -----------------------------------


async def _command(*argv: str) -> tuple[int, str, str]:
    """Run ``python -m htx_cancel.cli`` with the test keys; the loop keeps serving meanwhile."""
    env = {**os.environ, "HTX_ACCESS_KEY": ACCESS, "HTX_SECRET_KEY": SECRET}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "htx_cancel.cli", *argv, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_subprocess_cancel_after(exchange: FakeExchange) -> None:
    status, out, err = await _command(*_switch(exchange, "--timeout", "20", "--json"))
    assert status == 0, err
    doc = json.loads(out)
    assert doc["armed"] is True and doc["trigger_time"] == exchange.cancel_after.trigger_time
    assert exchange.cancel_after.armed


async def test_subprocess_cancel_verify_json(filling: FakeExchange) -> None:
    ids = filling.seed("BTC-USDT", "order", "isolated", 50)
    status, out, err = await _command(*_cancel(filling, "order", "--verify", "--json", *ids))
    doc = json.loads(out)
    assert doc["states"] == {i: _expected(filling, i) for i in ids}
    filled = {i for i, s in doc["states"].items() if s == "filled"}
    assert filled and set(doc["failed"]) == filled
    assert status == 1 and "verified 50:" in err


# -- the demo --------------------------------------------------------------------------------


async def test_demo_verifies_and_every_state_matches(run: Run) -> None:
    result = await run("demo", "--orders", "200", "--trigger", "20", "--tpsl", "10",
                       "--track", "10", "--fills", "0.1", "--json")
    assert result.status == 0, result.err
    doc = result.json
    checks = {c["check"].split(" (")[0]: c for c in doc["checks"]}
    assert checks["every state matches the exchange"]["ok"]
    first = next(c for c in doc["checks"] if c["check"].startswith("every seeded order"))
    assert first["ok"] and "filled during their cancel" in first["check"]
    states = doc["states"]
    filled = {i for i, s in states.items() if s == OrderState.FILLED}
    assert filled and filled <= set(doc["failed"])
    assert {"cancelled", "gone", "not_found"} <= set(states.values())
    assert "then verified" in result.err


async def test_demo_without_verification_is_caught_out(run: Run) -> None:
    result = await run("demo", "--orders", "200", "--trigger", "0", "--tpsl", "0",
                       "--track", "0", "--fills", "0.1", "--no-verify", "--json")
    assert result.status == 1
    doc = result.json
    assert doc["states"] == {} and doc["ok"] is False
    [first] = [c for c in doc["checks"] if c["check"].startswith("every seeded order")]
    assert not first["ok"] and "filled during their cancel: 0/" in first["check"]
    assert not any(c["check"].startswith("every state matches") for c in doc["checks"])
    assert "not verified (--no-verify)" in result.err
