from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from htx_cancel._signing import (
    Signer,
    canonical_query,
    format_timestamp,
    pre_sign_string,
    sign,
    signed_query,
)


def test_go_sdk_vector_for_a_pre_sign_string() -> None:
    payload = "GET\napi.huobi.pro\n/v1/account/history\naccount-id=1&currency=btcusdt"
    assert sign("secret", payload) == "HUP3n78npIuTzVKyjEOrPictRKEUTRoYs7Ld5y38hmA="


def test_go_sdk_vector_for_a_whole_request() -> None:
    query = signed_query("GET", "api.huobi.pro", "/v1/account/accounts", "access", "secret",
                         "2019-11-21T10:00:00")
    params = dict(parse_qsl(query))
    assert params["Signature"] == "rWnLcMt3XBAsmXoNHtTQVpvMbH/cE1PXFwQAGeYwt3s="
    # the signature is percent-encoded in the query: / becomes %2F, = becomes %3D
    assert query.endswith("&Signature=rWnLcMt3XBAsmXoNHtTQVpvMbH%2FcE1PXFwQAGeYwt3s%3D")


def test_timestamp_is_truncated_not_rounded() -> None:
    assert format_timestamp(1574330400.999) == "2019-11-21T10:00:00"
    assert format_timestamp(0) == "1970-01-01T00:00:00"


def test_canonical_query_sorts_and_encodes() -> None:
    q = canonical_query({"b": "x y", "Timestamp": "2019-11-21T10:00:00", "A": "+/="})
    assert q == "A=%2B%2F%3D&Timestamp=2019-11-21T10%3A00%3A00&b=x%20y"


def test_pre_sign_string_lowercases_host_and_has_no_trailing_newline() -> None:
    assert pre_sign_string("post", "API.HBDM.com:8080", "/p", "a=1") == \
        "POST\napi.hbdm.com:8080\n/p\na=1"


def test_only_the_four_signature_parameters_are_signed() -> None:
    query = signed_query("POST", "api.hbdm.com", "/linear-swap-api/v1/swap_cancel", "ak", "sk",
                         "2024-01-02T03:04:05")
    names = [k for k, _ in parse_qsl(query)]
    assert names == ["AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp",
                     "Signature"]


@given(
    access=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                   max_size=40),
    secret=st.text(min_size=1, max_size=40),
    epoch=st.floats(min_value=0, max_value=4_000_000_000),
    host=st.sampled_from(["api.hbdm.com", "127.0.0.1:8080", "API.HBDM.VN"]),
)
def test_precomputed_signer_matches_the_pure_function(access: str, secret: str, epoch: float,
                                                      host: str) -> None:
    path = "/linear-swap-api/v1/swap_cancel"
    expected = signed_query("POST", host, path, access, secret, format_timestamp(epoch))
    signer = Signer(access, secret, host)
    assert signer.query("POST", path, epoch) == expected
    assert signer.query("POST", path, epoch) == expected  # cached timestamp path
