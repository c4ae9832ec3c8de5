"""The command line on HTX's v5 API (the default) against the fake exchange's v5."""

from __future__ import annotations

import pytest

from htx_cancel.testing import FakeExchange

from .conftest import Run

pytestmark = pytest.mark.usefixtures("keys")


def _cancel(ex: FakeExchange, kind: str, *more: str) -> list[str]:
    return ["cancel", "--contract", "BTC-USDT", "--kind", kind, "--base-url", ex.base_url,
            "--json", *more]


async def test_cancel_orders_and_client_ids_on_v5(exchange: FakeExchange, run: Run) -> None:
    oids = exchange.seed("BTC-USDT", "order", "isolated", 25, with_client_ids=True)
    cids = [str(exchange.client_id_of(i)) for i in oids[20:]]
    result = await run(*_cancel(exchange, "order", *oids[:20]))
    assert result.status == 0, result.err
    doc = result.json
    assert doc["cancelled"] == oids[:20] and doc["api"] == "v5"
    assert [len(b["ids"]) for b in doc["batches"]] == [10, 10]  # v5: 10 ids a request
    assert {b["endpoint"] for b in doc["batches"]} == {"v5/trade/cancel_batch_orders"}
    by_client = await run(*_cancel(exchange, "order", "--client-order-ids", *cids))
    assert by_client.status == 0, by_client.err
    assert by_client.json["cancelled"] == cids
    assert exchange.open_ids() == set()
    assert all(r.path.startswith("/v5/") for r in exchange.requests)


@pytest.mark.parametrize("kind", ["algo", "trigger", "tpsl", "track"])
async def test_cancel_algo_orders_on_v5(exchange: FakeExchange, run: Run, kind: str) -> None:
    seeded = "trigger" if kind == "algo" else kind
    ids = exchange.seed("BTC-USDT", seeded, "isolated", 12)
    result = await run(*_cancel(exchange, kind, *ids))
    assert result.status == 0, result.err
    assert result.json["cancelled"] == ids
    assert {b["endpoint"] for b in result.json["batches"]} == {"v5/algo/cancel_orders"}
    assert exchange.open_ids() == set()


async def test_rerun_of_cancelled_ids_succeeds_on_v5(exchange: FakeExchange, run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "order", "isolated", 12)
    first = await run(*_cancel(exchange, "order", *ids[:6]))
    assert first.status == 0, first.err
    again = await run(*_cancel(exchange, "order", "--verify", *ids))
    assert again.status == 0, again.out
    assert sorted(again.json["cancelled"]) == sorted(ids) and again.json["failed"] == {}
    assert again.json["states"] == dict.fromkeys(ids, "cancelled")


async def test_cancel_all_of_a_contract_with_filters(exchange: FakeExchange, run: Run) -> None:
    btc = exchange.seed("BTC-USDT", "order", "isolated", 6)
    eth = exchange.seed("ETH-USDT", "order", "isolated", 4)
    result = await run("cancel-all", "--contract", "BTC-USDT", "--base-url", exchange.base_url,
                       "--json")
    assert result.status == 0, result.err
    assert sorted(result.json["cancelled"]) == sorted(btc)
    assert exchange.open_ids() == set(eth)
    [request] = [r for r in exchange.requests if r.path == "/v5/trade/cancel_all_orders"]
    assert request.body.get("contract_code") == "BTC-USDT"
    filtered = await run("cancel-all", "--contract", "ETH-USDT", "--side", "buy",
                         "--position-side", "long", "--base-url", exchange.base_url, "--json")
    assert filtered.status == 0, filtered.err
    last = [r for r in exchange.requests if r.path == "/v5/trade/cancel_all_orders"][-1]
    assert (last.body.get("side"), last.body.get("position_side")) == ("buy", "long")


async def test_cancel_all_of_the_account_needs_all_contracts(exchange: FakeExchange,
                                                             run: Run) -> None:
    ids = [*exchange.seed("BTC-USDT", "order", "isolated", 3),
           *exchange.seed("ETH-USDT", "order", "isolated", 3)]
    refused = await run("cancel-all", "--base-url", exchange.base_url)
    assert refused.status == 2 and "--all-contracts" in refused.err
    assert exchange.requests == [] and exchange.open_ids() == set(ids)
    result = await run("cancel-all", "--all-contracts", "--base-url", exchange.base_url,
                       "--json")
    assert result.status == 0, result.err
    assert sorted(result.json["cancelled"]) == sorted(ids) and exchange.open_ids() == set()
    [request] = exchange.requests
    assert "contract_code" not in request.body


async def test_cancel_after_on_v5(exchange: FakeExchange, run: Run) -> None:
    armed = await run("cancel-after", "--timeout", "30", "--base-url", exchange.base_url,
                      "--json")
    assert armed.status == 0, armed.err
    assert armed.json["armed"] is True and armed.json["api"] == "v5"
    assert isinstance(armed.json["trigger_time"], int)
    off = await run("cancel-after", "--off", "--base-url", exchange.base_url)
    assert off.status == 0 and "disarmed" in off.out
    assert [r.path for r in exchange.requests] == ["/v5/trade/cancel-after"] * 2


async def test_demo_on_v5(run: Run) -> None:
    result = await run("demo", "--api", "v5", "--orders", "100", "--trigger", "10", "--tpsl",
                       "10", "--track", "10", "--client-share", "0", "--faults", "--json")
    assert result.status == 0, result.err
    doc = result.json
    assert doc["ok"] is True and all(c["ok"] for c in doc["checks"])
    assert {row["endpoint"] for row in doc["endpoints"]} == {"v5/trade/cancel_batch_orders",
                                                             "v5/algo/cancel_orders"}
    assert doc["answered_1032"] == 1
    [rate] = [c["check"] for c in doc["checks"] if c["check"].startswith("never over")]
    busiest = int(rate.split("strategy endpoints ")[1].split("/")[0])
    assert 0 < busiest <= 5  # the algo pool is counted (and held to 5 a second)
