"""``htx-cancel cancel``: ids from arguments, files and stdin; JSON; exit statuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from htx_cancel.testing import FakeExchange

from .conftest import Run

pytestmark = pytest.mark.usefixtures("keys")


def _args(ex: FakeExchange, kind: str, *more: str) -> list[str]:
    return ["cancel", "--contract", "BTC-USDT", "--kind", kind, "--api", "v1",
            "--base-url", ex.base_url, *more]


async def test_cancel_ids_from_arguments(exchange: FakeExchange, run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "order", "isolated", 60)
    result = await run(*_args(exchange, "order", "--json", *ids))
    assert result.status == 0, result.err
    doc = result.json
    assert doc["cancelled"] == ids
    assert doc["failed"] == {} and doc["unknown"] == {} and doc["ok"] is True
    assert set(doc["cancelled"]) == exchange.cancelled_ids()
    assert sorted(len(b["ids"]) for b in doc["batches"]) == [10, 25, 25]
    assert {r.endpoint for r in exchange.requests} == {"swap_cancel"}
    assert sum(len(r.cancelled) for r in exchange.requests) == 60
    assert "60 ids: 60 cancelled, 0 failed, 0 unknown" in result.err


async def test_cancel_human_summary(exchange: FakeExchange, run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "tpsl", "cross", 12)
    result = await run(*_args(exchange, "tpsl", "--margin", "cross", *ids))
    assert result.status == 0, result.err
    assert "swap_cross_tpsl_cancel" in result.out
    assert "12 ids: 12 cancelled, 0 failed, 0 unknown" in result.out
    assert exchange.open_ids() == set()


async def test_cancel_ids_file_with_comments_and_duplicates(
    exchange: FakeExchange, run: Run, tmp_path: Path
) -> None:
    ids = exchange.seed("BTC-USDT", "trigger", "cross", 15)
    path = tmp_path / "ids.txt"
    path.write_text("# trigger orders\n\n" + "\n".join(ids) + f"\n  {ids[0]}  \n")
    result = await run(*_args(exchange, "trigger", "--margin", "cross", "--json",
                              "--ids-file", str(path)))
    assert result.status == 0, result.err
    assert result.json["cancelled"] == ids  # the duplicate is sent and reported once
    assert [len(r.ids) for r in exchange.requests] == [10, 5]
    assert {r.endpoint for r in exchange.requests} == {"swap_cross_trigger_cancel"}


@pytest.mark.parametrize("how", [["-"], ["--ids-file", "-"]])
async def test_cancel_client_ids_from_stdin(exchange: FakeExchange, run: Run,
                                            how: list[str]) -> None:
    oids = exchange.seed("BTC-USDT", "order", "isolated", 30, with_client_ids=True)
    cids = [str(exchange.client_id_of(i)) for i in oids]
    result = await run(*_args(exchange, "order", "--client-order-ids", "--json", *how),
                       stdin="\n".join(cids))
    assert result.status == 0, result.err
    assert result.json["cancelled"] == cids
    assert exchange.cancelled_ids() == set(oids)
    assert {r.id_field for r in exchange.requests} == {"client_order_id"}


async def test_cancel_reports_failures_with_exit_1(exchange: FakeExchange, run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "track", "isolated", 4)
    exchange.fill(ids[0])
    missing = "123456789012345678"
    result = await run(*_args(exchange, "track", "--json", *ids, missing))
    assert result.status == 1
    doc = result.json
    assert doc["cancelled"] == ids[1:]
    assert doc["failed"] == {
        ids[0]: {"code": 1061, "message": "This order doesn't exist."},
        missing: {"code": 1061, "message": "This order doesn't exist."},
    }
    assert doc["ok"] is False
    human = await run(*_args(exchange, "track", *ids[1:]))  # already cancelled now: 1071
    assert human.status == 0  # "make sure these are gone": 1071 counts as cancelled
    assert "3 cancelled, 0 failed" in human.out
    again = await run(*_args(exchange, "track", *ids))  # 1071 for three, 1061 for the fill
    assert again.status == 1
    assert "3 cancelled, 1 failed" in again.out
    assert "1061" in again.out and "1071" not in again.out


async def test_recancel_of_cancelled_ids_succeeds(exchange: FakeExchange, run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "order", "isolated", 30)
    first = await run(*_args(exchange, "order", "--json", *ids[:10]))
    assert first.status == 0
    again = await run(*_args(exchange, "order", "--json", *ids))  # 10 of them answer 1071
    assert again.status == 0, again.out
    doc = again.json
    assert doc["ok"] is True and doc["failed"] == {}
    assert sorted(doc["cancelled"]) == sorted(ids)
    [batch_a, batch_b] = [r for r in exchange.requests if r.endpoint == "swap_cancel"][1:]
    assert len(batch_a.cancelled) + len(batch_b.cancelled) == 20  # 1071 for the first ten


async def test_cancel_unknown_outcome_is_exit_1(exchange: FakeExchange, run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "order", "isolated", 3)
    exchange.faults.script("swap_cancel", ["drop_after"] * 8)
    result = await run(*_args(exchange, "order", "--json", *ids))
    assert result.status == 1
    assert set(result.json["unknown"]) == set(ids)
    assert all(result.json["unknown"].values())  # every unknown id says why


async def test_rejected_key_costs_one_request_and_says_so(exchange: FakeExchange, run: Run,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTX_ACCESS_KEY", "cli-access")
    monkeypatch.setenv("HTX_SECRET_KEY", "not-the-secret")
    ids = exchange.seed("BTC-USDT", "order", "isolated", 60)
    result = await run(*_args(exchange, "order", *ids))
    assert result.status == 1
    assert "cancel failed: the exchange rejected the key: 1253" in result.out
    assert len(exchange.requests) == 1 and exchange.open_ids() == set(ids)
    as_json = await run(*_args(exchange, "order", "--json", *ids))
    assert as_json.json["error"].startswith("the exchange rejected the key: 1253")
    assert "cancel failed: the exchange rejected the key" in as_json.err


async def test_batches_say_how_each_attempt_went(exchange: FakeExchange, run: Run) -> None:
    ids = exchange.seed("BTC-USDT", "order", "isolated", 3)
    exchange.faults.script("swap_cancel", ["error_500_before"])
    result = await run(*_args(exchange, "order", "--json", *ids))
    assert result.status == 0, result.err
    [batch] = result.json["batches"]
    assert (batch["attempts"], batch["outcome"], batch["status"]) == (2, "ok", 200)
    assert len(batch["errors"]) == 1 and "500" in batch["errors"][0]


@pytest.mark.parametrize(("old", "client_ids"), [("regular", False), ("client", True)])
async def test_old_kind_names_still_work_with_a_note(exchange: FakeExchange, run: Run,
                                                     old: str, client_ids: bool) -> None:
    oids = exchange.seed("BTC-USDT", "order", "isolated", 3, with_client_ids=True)
    ids = [str(exchange.client_id_of(i)) for i in oids] if client_ids else oids
    result = await run(*_args(exchange, old, "--json", *ids))
    assert result.status == 0, result.err
    assert result.json["cancelled"] == ids and exchange.open_ids() == set()
    new = "--kind order --client-order-ids" if client_ids else "--kind order"
    assert f"--kind {old} is deprecated, use {new}" in result.err
    field = "client_order_id" if client_ids else "order_id"
    assert {r.id_field for r in exchange.requests} == {field}


async def test_cancel_all_old_kind_name(exchange: FakeExchange, run: Run) -> None:
    exchange.seed("BTC-USDT", "order", "isolated", 3)
    result = await run("cancel-all", "--contract", "BTC-USDT", "--kind", "regular",
                       "--api", "v1", "--base-url", exchange.base_url, "--json")
    assert result.status == 0, result.err
    assert len(result.json["cancelled"]) == 3 and "--kind regular is deprecated" in result.err
