"""Fault injection: every kind, scripting per endpoint, seeded randomness, prompt close."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from htx_cancel.testing import FakeExchange, Fault, FaultInjector, FaultKind

BTC = {"contract_code": "BTC-USDT"}


def one_order(ex: FakeExchange) -> tuple[str, dict[str, str]]:
    (oid,) = ex.seed("BTC-USDT", "order", "isolated", 1)
    return oid, {**BTC, "order_id": oid}


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("error_500_before", 500, None),
        ("html_before", 502, None),
        ("busy", 200, 1004),
        ("rate_limit", 200, 1032),
        ("maintenance_1431", 200, 1431),
        ("api_error", 200, 1056),
    ],
)
async def test_before_faults_leave_orders_alone(
    api, fake_exchange: FakeExchange, kind: str, status: int, code: int | None
) -> None:
    oid, body = one_order(fake_exchange)
    fake_exchange.faults.script(None, [kind])
    reply = await api.post("swap_cancel", body)
    assert reply.status == status
    assert reply.err_code == code
    assert fake_exchange.order_state(oid) == "open"
    record = fake_exchange.requests[-1]
    assert record.fault == FaultKind(kind)
    assert record.status == status
    assert record.cancelled == ()
    assert (await api.post("swap_cancel", body)).successes == [oid]  # the fault was used up


async def test_html_and_500_bodies_are_not_json(api, fake_exchange: FakeExchange) -> None:
    fake_exchange.faults.script(None, ["html_before", "error_500_before"])
    html = await api.post("swap_cancel", BTC)
    assert html.json is None and b"<html>" in html.raw
    assert html.headers["Content-Type"].startswith("text/html")
    text = await api.post("swap_cancel", BTC)
    assert text.json is None


async def test_maintenance(api, fake_exchange: FakeExchange) -> None:
    oid, body = one_order(fake_exchange)
    fake_exchange.faults.script(None, [FaultKind.MAINTENANCE])
    reply = await api.post("swap_cancel", body)
    assert reply.json["status"] == "maintain"
    assert fake_exchange.order_state(oid) == "open"


async def test_gateway_504_after_cancels(api, fake_exchange: FakeExchange) -> None:
    oid, body = one_order(fake_exchange)
    fake_exchange.faults.script("swap_cancel", [Fault(FaultKind.GATEWAY_504_AFTER)])
    reply = await api.post("swap_cancel", body)
    assert reply.status == 504
    assert reply.json is None
    assert fake_exchange.order_state(oid) == "cancelled"
    assert fake_exchange.requests[-1].cancelled == (oid,)


async def test_drop_after_disconnects_and_cancels(api, fake_exchange: FakeExchange) -> None:
    oid, body = one_order(fake_exchange)
    fake_exchange.faults.script(None, ["drop_after"])
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post("swap_cancel", body)
    assert fake_exchange.order_state(oid) == "cancelled"
    assert fake_exchange.requests[-1].fault is FaultKind.DROP_AFTER
    assert (await api.post("swap_cancel", body)).errors == {oid: 1071}  # session still usable


async def test_truncate_after_cuts_the_body(api, fake_exchange: FakeExchange) -> None:
    oid, body = one_order(fake_exchange)
    fake_exchange.faults.script(None, ["truncate_after"])
    with pytest.raises(aiohttp.ClientPayloadError):
        await api.post("swap_cancel", body)
    assert fake_exchange.order_state(oid) == "cancelled"
    assert fake_exchange.requests[-1].status == 200


async def test_garbled_after_is_half_json(api, fake_exchange: FakeExchange) -> None:
    oid, body = one_order(fake_exchange)
    fake_exchange.faults.script(None, ["garbled_after"])
    reply = await api.post("swap_cancel", body)
    assert reply.status == 200
    assert reply.json is None
    assert reply.raw.startswith(b'{"status":"ok"')
    assert fake_exchange.order_state(oid) == "cancelled"


async def test_hang_after_times_the_client_out(api, fake_exchange: FakeExchange) -> None:
    oid, body = one_order(fake_exchange)
    fake_exchange.faults.script(None, [Fault("hang_after", hang_seconds=0.6)])
    with pytest.raises(asyncio.TimeoutError):
        await api.post("swap_cancel", body, wait=0.15)
    assert fake_exchange.order_state(oid) == "cancelled"


async def test_hang_after_answers_late(api, fake_exchange: FakeExchange) -> None:
    oid, body = one_order(fake_exchange)
    fake_exchange.faults.hang_seconds = 0.1
    fake_exchange.faults.script(None, ["hang_after"])
    started = time.monotonic()
    reply = await api.post("swap_cancel", body)
    assert time.monotonic() - started >= 0.1
    assert reply.successes == [oid]


async def test_close_does_not_wait_for_hanging_handlers(make_api) -> None:
    ex = await FakeExchange(faults=["hang_after"], hang_seconds=30.0).start()
    api = make_api(ex)
    oid, body = one_order(ex)
    pending = asyncio.ensure_future(api.post("swap_cancel", body))
    await asyncio.sleep(0.2)
    assert ex.requests, "the request should be hanging by now"
    started = time.monotonic()
    await ex.close()
    assert time.monotonic() - started < 1.0
    with pytest.raises(aiohttp.ClientError):
        await pending
    assert ex.order_state(oid) == "cancelled"


async def test_script_targets_one_endpoint(api, fake_exchange: FakeExchange) -> None:
    fake_exchange.faults.script("swap_trigger_cancel", ["busy", "rate_limit"])
    assert (await api.post("swap_cancel", BTC)).err_code != 1004
    assert fake_exchange.faults.pending == 2
    assert (await api.post("swap_trigger_cancel", BTC)).err_code == 1004
    assert (await api.post("swap_trigger_cancel", BTC)).err_code == 1032
    assert fake_exchange.faults.pending == 0
    assert [r.fault for r in fake_exchange.requests] == [
        None,
        FaultKind.BUSY,
        FaultKind.RATE_LIMIT,
    ]
    assert len(fake_exchange.find(fault=FaultKind.BUSY)) == 1


async def test_rate_limited_requests_do_not_take_faults(make_api) -> None:
    async with FakeExchange(trade_limit=(1, 30.0), faults=["busy"]) as ex:
        api = make_api(ex)
        assert (await api.post("swap_cancel", BTC)).err_code == 1004
        ex.faults.script(None, ["busy"])
        assert (await api.post("swap_cancel", BTC)).err_code == 1032
        assert ex.faults.pending == 1


async def run_random(make_api, seed: int) -> list[FaultKind | None]:
    async with FakeExchange(rate_limits=False) as ex:
        ex.faults.randomize(seed, 0.5, kinds=["busy", "rate_limit", "gateway_504_after"])
        api = make_api(ex)
        for _ in range(30):
            await api.post("swap_cancel", BTC)
        return [r.fault for r in ex.requests]


async def test_random_faults_are_reproducible(make_api) -> None:
    first = await run_random(make_api, 42)
    assert first == await run_random(make_api, 42)
    assert first != await run_random(make_api, 43)
    assert 5 < sum(f is not None for f in first) < 25


def test_injector_checks_arguments() -> None:
    injector = FaultInjector()
    with pytest.raises(ValueError, match="probability"):
        injector.randomize(1, 1.5)
    with pytest.raises(ValueError, match="kinds"):
        injector.randomize(1, 0.5, kinds=[])
    with pytest.raises(ValueError):
        injector.script(None, ["no_such_fault"])
    injector.randomize(1, 1.0, endpoints=["swap_cancel"])
    assert injector.take("swap_trigger_cancel") is None
    assert injector.take("swap_cancel") is not None
    injector.clear()
    assert injector.take("swap_cancel") is None


@pytest.mark.parametrize("latency", [(0.001, 0.002), -1.0, "0.1"])
def test_a_latency_that_is_not_seconds_is_refused_at_once(latency: object) -> None:
    with pytest.raises(ValueError, match="latency"):
        FakeExchange(latency=latency)  # type: ignore[arg-type]
