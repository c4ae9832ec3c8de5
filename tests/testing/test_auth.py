"""Authentication: signature, key, timestamp, clock skew."""

from __future__ import annotations

import time

from htx_cancel._signing import format_timestamp
from htx_cancel.testing import FakeExchange

BODY = {"contract_code": "BTC-USDT", "order_id": "123456789012345678"}


async def test_good_signature_is_accepted(api, fake_exchange: FakeExchange) -> None:
    reply = await api.post("swap_cancel", BODY)
    assert reply.status == 200
    assert reply.json["status"] == "ok"
    assert reply.errors == {"123456789012345678": 1061}
    record = fake_exchange.requests[-1]
    assert record.access_key == "test-access" and record.accepted and record.err_code is None


async def test_bad_signature_is_1253(api, fake_exchange: FakeExchange) -> None:
    reply = await api.post("swap_cancel", BODY, secret="wrong")
    assert reply.status == 200
    assert reply.err_code == 1253
    assert reply.json["status"] == "error"
    assert fake_exchange.requests[-1].err_code == 1253
    assert not fake_exchange.requests[-1].accepted


async def test_signed_for_another_host_or_path_fails(api) -> None:
    assert (await api.post("swap_cancel", BODY, host="api.hbdm.com")).err_code == 1253
    other = "/linear-swap-api/v1/swap_cross_cancel"
    assert (await api.post("swap_cancel", BODY, path=other)).err_code == 1253


async def test_missing_signature_is_1253(api, fake_exchange: FakeExchange) -> None:
    async with api.session.post(fake_exchange.base_url + "/linear-swap-api/v1/swap_cancel") as r:
        assert r.status == 200
        assert b"1253" in await r.read()


async def test_unknown_key_is_403(api) -> None:
    reply = await api.post("swap_cancel", BODY, access="nobody")
    assert reply.status == 403
    assert reply.err_code == 403
    assert reply.json["err_msg"] == "Incorrect Access key"


async def test_stale_or_malformed_timestamp_is_12001(api) -> None:
    stale = format_timestamp(time.time() - 301)
    assert (await api.post("swap_cancel", BODY, timestamp=stale)).err_code == 12001
    future = format_timestamp(time.time() + 400)
    assert (await api.post("swap_cancel", BODY, timestamp=future)).err_code == 12001
    assert (await api.post("swap_cancel", BODY, timestamp="yesterday")).err_code == 12001


async def test_clock_skew_moves_server_time(api, fake_exchange: FakeExchange) -> None:
    fake_exchange.clock_skew = 1000.0
    async with api.session.get(fake_exchange.base_url + "/api/v1/timestamp") as r:
        answer = await r.json(content_type=None)
    assert answer["status"] == "ok"
    assert abs(answer["ts"] / 1000 - (time.time() + 1000)) < 5
    assert (await api.post("swap_cancel", BODY)).err_code == 12001
    skewed = format_timestamp(time.time() + 1000)
    assert (await api.post("swap_cancel", BODY, timestamp=skewed)).json["status"] == "ok"


async def test_auth_failures_are_not_counted(make_api) -> None:
    async with FakeExchange(trade_limit=(1, 10.0)) as ex:
        api = make_api(ex)
        for _ in range(3):
            assert (await api.post("swap_cancel", BODY, secret="bad")).err_code == 1253
        assert (await api.post("swap_cancel", BODY)).json["status"] == "ok"
        assert ex.rejected_1032 == 0


async def test_unknown_path_is_json_404(api, fake_exchange: FakeExchange) -> None:
    for path in ("/nope", "/linear-swap-api/v1/swap_nope", "/linear-swap-api/v1/"):
        async with api.session.post(fake_exchange.base_url + path) as r:
            assert r.status == 404
            assert (await r.json(content_type=None))["status"] == "error"


def test_own_signer_matches_published_vectors() -> None:
    from htx_cancel.testing._auth import canonical_query, hmac_signature, pre_sign_string

    payload = "GET\napi.huobi.pro\n/v1/account/history\naccount-id=1&currency=btcusdt"
    assert hmac_signature("secret", payload) == "HUP3n78npIuTzVKyjEOrPictRKEUTRoYs7Ld5y38hmA="
    query = canonical_query({"Timestamp": "2019-11-21T10:00:00", "SignatureVersion": "2",
                             "SignatureMethod": "HmacSHA256", "AccessKeyId": "access"})
    assert query == ("AccessKeyId=access&SignatureMethod=HmacSHA256&SignatureVersion=2"
                     "&Timestamp=2019-11-21T10%3A00%3A00")
    signed = hmac_signature("secret", pre_sign_string("get", "API.huobi.pro",
                                                      "/v1/account/accounts", query))
    assert signed == "rWnLcMt3XBAsmXoNHtTQVpvMbH/cE1PXFwQAGeYwt3s="
    assert canonical_query({"b": "a b", "a": "x/y+z~"}) == "a=x%2Fy%2Bz~&b=a%20b"
