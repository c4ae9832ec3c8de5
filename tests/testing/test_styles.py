"""Answer-shape variants: error keys, ts as a string, string codes, maintenance, 2026 shape."""

from __future__ import annotations

import pytest

from htx_cancel.testing import FakeExchange, Fault, FaultKind

BTC = {"contract_code": "BTC-USDT"}


@pytest.mark.parametrize(
    ("style", "expected_keys"),
    [
        ("err_code", {"status", "err_code", "err_msg", "ts"}),
        ("err-code", {"status", "err-code", "err-msg", "ts"}),
        ("code_msg", {"status", "code", "msg", "ts"}),
        ("code_message", {"status", "code", "message", "ts"}),
        ("code_msg_bare", {"code", "msg", "ts"}),
        ("code_message_bare", {"code", "message", "ts"}),
    ],
)
async def test_error_styles(make_api, style: str, expected_keys: set[str]) -> None:
    async with FakeExchange(error_style=style) as ex:  # type: ignore[arg-type]
        reply = await make_api(ex).post("swap_cancel", {})
        assert set(reply.json) == expected_keys
        code_key = "err_code" if style == "err_code" else "err-code" if style == "err-code" \
            else "code"
        assert reply.json[code_key] == 1014
        assert ex.requests[-1].err_code == 1014
        ok = await make_api(ex).post("swap_cancel", {**BTC, "order_id": "1"})
        assert ok.json["status"] == "ok"  # successes keep HTX's shape


async def test_ts_as_string(make_api) -> None:
    async with FakeExchange(ts_as_string=True) as ex:
        api = make_api(ex)
        ok = await api.post("swap_cancel", {**BTC, "order_id": "1"})
        bad = await api.post("swap_cancel", {})
        assert isinstance(ok.json["ts"], str) and ok.json["ts"].isdigit()
        assert isinstance(bad.json["ts"], str)


async def test_string_codes_and_exact_shapes(api, fake_exchange: FakeExchange) -> None:
    fake_exchange.faults.script("swap_cancel", [
        Fault(FaultKind.API_ERROR, err_code="api-signature-not-valid", err_msg="bad sig"),
        Fault(FaultKind.API_ERROR, err_code="timeout", err_msg="timeout"),
        "maintenance",
        "code_1067",
    ])  # fmt: skip
    first = await api.post("swap_cancel", BTC)
    assert first.json["err_code"] == "api-signature-not-valid" and first.status == 200
    assert fake_exchange.requests[-1].err_code == "api-signature-not-valid"
    assert (await api.post("swap_cancel", BTC)).json["err_code"] == "timeout"
    assert (await api.post("swap_cancel", BTC)).json == {"status": "maintain"}
    assert (await api.post("swap_cancel", BTC)).json == {
        "code": 1067, "message": "Illegal parameter."}


def test_unknown_style_is_refused() -> None:
    with pytest.raises(ValueError, match="error_style"):
        FakeExchange(error_style="nope")  # type: ignore[arg-type]
