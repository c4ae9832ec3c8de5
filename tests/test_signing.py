from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from htx_cancel import Credentials
from htx_cancel._signing import (
    Signer,
    canonical_query,
    format_timestamp,
    pre_sign_string,
    sign,
)


def from_params(signer: Signer, method: str, path: str, epoch: float,
                extra: dict[str, str] | None = None) -> str:
    """The query string the general path (``params``) gives, to hold the fast path to."""
    params = signer.params(method, path, format_timestamp(epoch), extra)
    signature = params.pop("Signature")
    return f"{canonical_query(params)}&Signature={quote(signature, safe='')}"


def test_go_sdk_vector_for_a_pre_sign_string() -> None:
    payload = "GET\napi.huobi.pro\n/v1/account/history\naccount-id=1&currency=btcusdt"
    assert sign("secret", payload) == "HUP3n78npIuTzVKyjEOrPictRKEUTRoYs7Ld5y38hmA="


def test_go_sdk_vector_for_a_whole_request() -> None:
    signer = Signer("access", "secret", "api.huobi.pro")
    signed = signer.params("GET", "/v1/account/accounts", "2019-11-21T10:00:00")
    assert signed["Signature"] == "rWnLcMt3XBAsmXoNHtTQVpvMbH/cE1PXFwQAGeYwt3s="
    query = signer.query("GET", "/v1/account/accounts", 1574330400.5)
    assert dict(parse_qsl(query)) == signed
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
    query = Signer("ak", "sk", "api.hbdm.com").query("POST", "/linear-swap-api/v1/swap_cancel",
                                                     1704164645.0)
    assert "Timestamp=2024-01-02T03%3A04%3A05" in query
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
def test_the_fast_path_matches_the_general_one(access: str, secret: str, epoch: float,
                                               host: str) -> None:
    path = "/linear-swap-api/v1/swap_cancel"
    signer = Signer(access, secret, host)
    expected = from_params(signer, "POST", path, epoch)
    assert signer.query("POST", path, epoch) == expected
    assert signer.query("POST", path, epoch) == expected  # cached timestamp path


def _ed25519_key() -> Any:
    ed = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
    return ed.Ed25519PrivateKey.generate()


def _verify(key: Any, payload: str, signature: str) -> None:
    key.public_key().verify(base64.b64decode(signature), payload.encode())  # raises if wrong


def test_ed25519_signs_the_same_pre_sign_string() -> None:
    key = _ed25519_key()
    query = Signer("ak", "", "api.hbdm.com", ed25519=key.sign).query(
        "POST", "/linear-swap-api/v1/swap_cancel", 1704164645.0)
    params = dict(parse_qsl(query))
    assert params["SignatureMethod"] == "Ed25519" and params["SignatureVersion"] == "2"
    unsigned = query.rsplit("&Signature=", 1)[0]
    payload = pre_sign_string("POST", "api.hbdm.com", "/linear-swap-api/v1/swap_cancel", unsigned)
    _verify(key, payload, params["Signature"])


@pytest.mark.parametrize("form", ["object", "pem", "pem-bytes", "raw"])
def test_ed25519_credentials_take_pem_raw_or_a_key(form: str) -> None:
    key = _ed25519_key()
    from cryptography.hazmat.primitives import serialization

    given: Any = {
        "object": key,
        "pem": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode(),
        "pem-bytes": key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()),
        "raw": key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption()),
    }[form]
    creds = Credentials.ed25519("my-access", given)
    assert creds.signature_method == "Ed25519" and creds.ed25519_sign is not None
    assert "PRIVATE" not in repr(creds) and "my-access" not in repr(creds)
    assert creds == Credentials.ed25519("my-access", key) != Credentials("my-access", "x")
    signer = Signer("my-access", "", "127.0.0.1:8080", ed25519=creds.ed25519_sign)
    query = signer.query("post", "/linear-swap-api/v1/swap_cancel", 1_700_000_000.5)
    unsigned, signature = query.rsplit("&Signature=", 1)
    payload = pre_sign_string("POST", "127.0.0.1:8080", "/linear-swap-api/v1/swap_cancel",
                              unsigned)
    _verify(key, payload, unquote(signature))


def test_ed25519_rejects_what_is_not_an_ed25519_key() -> None:
    pytest.importorskip("cryptography")
    with pytest.raises(ValueError):
        Credentials.ed25519("a", b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----")
    with pytest.raises(ValueError):
        Credentials.ed25519("a", b"short")
    with pytest.raises(TypeError):
        Credentials.ed25519("a", 42)


def test_signer_upper_cases_the_method() -> None:
    signer = Signer("ak", "sk", "api.hbdm.com")
    assert signer.query("post", "/p", 1e9) == signer.query("POST", "/p", 1e9)
    assert signer.query("post", "/p", 1e9) == from_params(signer, "POST", "/p", 1e9)
    assert signer.params("get", "/p", "x") == signer.params("GET", "/p", "x")


def test_get_parameters_are_signed_with_the_four_others() -> None:
    signer = Signer("ak", "sk", "api.hbdm.com")
    query = signer.query("GET", "/p", 1e9, {"contract_code": "BTC-USDT", "page_index": "1"})
    expected = from_params(signer, "GET", "/p", 1e9,
                           {"contract_code": "BTC-USDT", "page_index": "1"})
    assert query == expected
    assert [k for k, _ in parse_qsl(query)] == ["AccessKeyId", "SignatureMethod",
                                                "SignatureVersion", "Timestamp",
                                                "contract_code", "page_index", "Signature"]
