"""Ed25519 API keys: SignatureMethod=Ed25519 verified against a registered public key."""

from __future__ import annotations

import base64
import time
import urllib.parse

import msgspec
import pytest

from htx_cancel._signing import canonical_query, format_timestamp, pre_sign_string
from htx_cancel.testing import FakeExchange

ed25519 = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")

BODY = {"contract_code": "BTC-USDT", "order_id": "123456789012345678"}


def ed_url(ex: FakeExchange, key: object, access: str, method: str = "Ed25519") -> str:
    """A URL signed with an Ed25519 private key, the way HTX's signing page describes."""
    path = "/linear-swap-api/v1/swap_cancel"
    params = {"AccessKeyId": access, "SignatureMethod": method, "SignatureVersion": "2",
              "Timestamp": format_timestamp(time.time())}
    query = canonical_query(params)
    payload = pre_sign_string("POST", f"127.0.0.1:{ex.port}", path, query)
    signature = base64.b64encode(key.sign(payload.encode())).decode()  # type: ignore[attr-defined]
    return f"{ex.base_url}{path}?{query}&Signature={urllib.parse.quote(signature, safe='')}"


@pytest.mark.parametrize("form", ["raw", "pem", "object"])
async def test_ed25519_signature_accepted(session, form: str) -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    public = private.public_key()
    given = {
        "raw": public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        "pem": public.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "object": public,
    }[form]
    async with FakeExchange(ed25519_keys={"ed-access": given}) as ex:
        async with session.post(ed_url(ex, private, "ed-access"),
                                data=msgspec.json.encode(BODY)) as resp:
            answer = msgspec.json.decode(await resp.read())
        assert answer["status"] == "ok"
        assert ex.requests[-1].accepted and ex.requests[-1].access_key == "ed-access"
        assert ex.credentials == {}  # no default HMAC key when only Ed25519 keys are given


async def test_wrong_key_or_method_is_1253(session) -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    other = ed25519.Ed25519PrivateKey.generate()
    keys = {"ed-access": private.public_key()}
    async with FakeExchange({"hmac-access": "secret"}, ed25519_keys=keys) as ex:
        for url in (ed_url(ex, other, "ed-access"),
                    ed_url(ex, private, "ed-access", method="HmacSHA256"),
                    ed_url(ex, private, "hmac-access")):
            async with session.post(url, data=msgspec.json.encode(BODY)) as resp:
                assert msgspec.json.decode(await resp.read())["err_code"] == 1253
        async with session.post(ed_url(ex, private, "nobody"), json=BODY) as resp:
            assert resp.status == 403
        assert not any(r.accepted for r in ex.requests)


def test_bad_public_key_is_refused() -> None:
    with pytest.raises(ValueError, match="Ed25519"):
        FakeExchange(ed25519_keys={"a": b"short"})
