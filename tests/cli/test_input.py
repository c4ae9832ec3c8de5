"""Bad input: one line on stderr, exit status 2, nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from htx_cancel.testing import FakeExchange

from .conftest import Run


def _cancel(ex: FakeExchange, kind: str, *more: str) -> list[str]:
    return ["cancel", "--contract", "BTC-USDT", "--kind", kind, "--api", "v1",
            "--base-url", ex.base_url, *more]


def _assert_refused(ex: FakeExchange, status: int, err: str, *needles: str) -> None:
    assert status == 2
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err
    assert ex.requests == [] and ex.timestamp_requests == 0


@pytest.mark.usefixtures("keys")
async def test_malformed_id_in_file_names_file_and_line(exchange: FakeExchange, run: Run,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("123456789012345678\n# fine\n12345x\n")
    result = await run(*_cancel(exchange, "order", "--ids-file", str(path)))
    _assert_refused(exchange, result.status, result.err, f"{path}:3", "'12345x'")


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["1,2"], ("argument 1", "'1,2'")),
        (["123", "-5"], ("-5",)),
        (["0123"], ("'0123'",)),
        ([], ("no ids given",)),
        (["--kind", "stop", "1"], ("invalid choice", "'stop'")),
        (["--margin", "spot", "1"], ("invalid choice", "'spot'")),
        (["--contract", "BTC USDT", "1"], ("'BTC USDT'",)),
        (["--ids-file", "/nonexistent/ids.txt"], ("cannot read /nonexistent/ids.txt",)),
    ],
)
async def test_bad_cancel_input(exchange: FakeExchange, run: Run, argv: list[str],
                                needles: tuple[str, ...]) -> None:
    result = await run(*_cancel(exchange, "order"), *argv)
    _assert_refused(exchange, result.status, result.err, *needles)


@pytest.mark.usefixtures("keys")
async def test_client_id_out_of_range(exchange: FakeExchange, run: Run) -> None:
    result = await run(*_cancel(exchange, "order", "--client-order-ids", str(2**63)))
    _assert_refused(exchange, result.status, result.err, "client_order_id", str(2**63))


@pytest.mark.usefixtures("keys")
async def test_bad_stdin_line(exchange: FakeExchange, run: Run) -> None:
    result = await run(*_cancel(exchange, "order", "-"), stdin="1\n2\n3 4\n")
    _assert_refused(exchange, result.status, result.err, "<stdin>:3")


async def test_missing_keys(exchange: FakeExchange, run: Run,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTX_ACCESS_KEY", raising=False)
    monkeypatch.setenv("HTX_SECRET_KEY", "x")
    result = await run(*_cancel(exchange, "order", "123"))
    _assert_refused(exchange, result.status, result.err, "HTX_ACCESS_KEY")


@pytest.mark.usefixtures("keys")
async def test_offset_with_tpsl_cancel_all(exchange: FakeExchange, run: Run) -> None:
    result = await run("cancel-all", "--contract", "BTC-USDT", "--kind", "tpsl",
                       "--offset", "open", "--api", "v1", "--base-url", exchange.base_url)
    _assert_refused(exchange, result.status, result.err, "offset", "'open'")


@pytest.mark.usefixtures("keys")
async def test_client_kind_has_no_cancel_all(exchange: FakeExchange, run: Run) -> None:
    result = await run("cancel-all", "--contract", "BTC-USDT", "--kind", "client",
                       "--api", "v1", "--base-url", exchange.base_url)
    _assert_refused(exchange, result.status, result.err, "'client'")


@pytest.mark.usefixtures("keys")
async def test_client_order_ids_are_for_kind_order(exchange: FakeExchange, run: Run) -> None:
    result = await run(*_cancel(exchange, "trigger", "--client-order-ids", "123"))
    _assert_refused(exchange, result.status, result.err, "--client-order-ids", "trigger")


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize("url", ["ftp://example", "https://api.hbdm.com/linear-swap-api",
                                 "http://127.0.0.1:port", "https://", "api.hbdm.com",
                                 "https://api.hbdm.com?x=1"])
@pytest.mark.parametrize("command", [["cancel", "--contract", "BTC-USDT", "--kind", "order",
                                      "123"],
                                     ["cancel-all", "--contract", "BTC-USDT", "--kind", "order"],
                                     ["cancel-after", "--off"], ["time"]])
async def test_bad_base_url_names_the_option(exchange: FakeExchange, run: Run, url: str,
                                             command: list[str]) -> None:
    result = await run(*command, "--base-url", url)
    _assert_refused(exchange, result.status, result.err, "--base-url", repr(url))
    assert "base_url" not in result.err


@pytest.mark.usefixtures("keys")
async def test_base_url_with_a_slash_is_the_root(exchange: FakeExchange, run: Run) -> None:
    [oid] = exchange.seed("BTC-USDT", "order", "isolated", 1)
    result = await run("cancel", "--contract", "BTC-USDT", "--kind", "order", "--json",
                       "--api", "v1", "--base-url", exchange.base_url + "/", oid)
    assert result.status == 0, result.err
    assert result.json["cancelled"] == [oid] and result.json["exchange"] == exchange.base_url


async def test_usage(run: Run) -> None:
    nothing = await run()
    assert nothing.status == 2 and len(nothing.err.strip().splitlines()) == 1
    helped = await run("--help")
    assert helped.status == 0 and "cancel-all" in helped.out and "130" in helped.out
    unknown = await run("explode")
    assert unknown.status == 2 and "invalid choice" in unknown.err


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(("argv", "needles"), [
    (["cancel", "--kind", "order", "--margin", "cross", "1"],
     ("--margin cross is for --api v1",)),
    (["cancel", "--kind", "algo", "--api", "v1", "1"], ("--kind algo --api v1", "'algo'")),
    (["cancel", "--kind", "trigger", "--api", "v1", "--client-order-ids", "1"],
     ("--client-order-ids", "order ids only")),
    (["cancel-all", "--kind", "order"], ("--all-contracts",)),
    (["cancel-all", "--kind", "order", "--contract", "BTC-USDT", "--all-contracts"],
     ("--contract and --all-contracts",)),
    (["cancel-all", "--kind", "order", "--api", "v1"], ("--contract is required",)),
    (["cancel-all", "--contract", "BTC-USDT", "--direction", "buy"],
     ("--direction is a filter of the other API", "--side, --position-side")),
    (["cancel-all", "--contract", "BTC-USDT", "--api", "v1", "--side", "buy"],
     ("--side is a filter of the other API", "--direction, --offset")),
    (["cancel-all", "--contract", "BTC-USDT", "--kind", "algo"], ("no cancel-all",)),
    (["cancel-all", "--contract", "BTC-USDT", "--position-side", "up"], ("invalid choice",)),
])
async def test_api_options_are_checked_before_sending(exchange: FakeExchange, run: Run,
                                                      argv: list[str],
                                                      needles: tuple[str, ...]) -> None:
    command, *rest = argv
    contract = [] if "--contract" in rest or command == "cancel-all" else ["--contract",
                                                                          "BTC-USDT"]
    result = await run(command, *contract, *rest, "--base-url", exchange.base_url)
    _assert_refused(exchange, result.status, result.err, *needles)
