"""What the library and the floor spend per request apart from the network (a profile by parts).

``python -m benchmarks.send_cost [--api v5|v1|both] [--calls N]``

The transport is stubbed (an answer made once per body, then looked up), so what is measured is
the work of each client itself: the library's ``cancel_orders`` (a call per request, and one
call for all ids) against the floor's signing, ``json.dumps``, ``json.loads`` and counting (the
same code as ``_floor.py``, without aiohttp). Then the parts, each with ``timeit``. The best of
seven runs is reported (this is CPU-bound code: the minimum is the least disturbed run).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import time
import timeit
from collections.abc import Callable, Sequence
from urllib.parse import quote

import msgspec

from htx_cancel import CancelClient, CancelReport, Credentials
from htx_cancel._catalog import CATALOG
from htx_cancel._ids import validate_contract_code, validate_ids
from htx_cancel._models import cancel_body
from htx_cancel._protocol import Call, judge_cancel
from htx_cancel._signing import Signer
from htx_cancel._transports import Answer, Request

from ._wire import APIS, ApiName, wire

__all__ = ["main"]

CONTRACT = "BTC-USDT"
HOST = "127.0.0.1:1"
_decode = msgspec.json.Decoder()


def _answer(api: ApiName, body: bytes) -> bytes:
    """The exchange's answer cancelling every id of ``body``."""
    ids = _decode.decode(body)["order_id"]
    if api == "v5":
        return json.dumps({"code": 200, "message": "Success", "ts": 1796417410668, "data": [
            {"order_id": i, "client_order_id": "", "code": 200, "message": "成功"}
            for i in reversed(ids)]}).encode()
    return json.dumps({"status": "ok", "data": {"errors": [], "successes": ids},
                       "ts": 1796417410668}).encode()


class _Stub:
    """A transport that answers every cancel (each body's answer is made once)."""

    def __init__(self, api: ApiName) -> None:
        self.api = api
        self.answers: dict[bytes, bytes] = {}

    async def handle(self, request: Request) -> Answer:
        body = request.body or b""
        raw = self.answers.get(body)
        if raw is None:
            raw = self.answers[body] = _answer(self.api, body)
        return Answer(200, raw)

    async def close(self) -> None:
        return None


def _floor_send(api: ApiName, answers: dict[bytes, bytes]) -> Callable[[list[str]], int]:
    """The floor's own work for one request (``_floor.py`` without aiohttp)."""
    route = wire(api).order
    access, secret = quote("bench-access", safe=""), b"bench-secret"

    def send(part: list[str]) -> int:
        stamp = quote(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), safe="")
        query = (f"AccessKeyId={access}&SignatureMethod=HmacSHA256"
                 f"&SignatureVersion=2&Timestamp={stamp}")
        digest = hmac.new(secret, f"POST\n{HOST}\n{route.path}\n{query}".encode(),
                          hashlib.sha256).digest()
        signature = quote(base64.b64encode(digest).decode(), safe="")
        _url = f"http://{HOST}{route.path}?{query}&Signature={signature}"
        body = json.dumps(route.body(CONTRACT, part)).encode()
        raw = answers.get(body) or _answer(api, body)
        return route.cancelled(json.loads(raw))

    return send


async def _whole(api: ApiName, calls: int) -> dict[str, float]:
    """µs per request: the floor's work, the library a call per request, one call."""
    per = wire(api).order.per_request
    ids = [str(1085350265253935191 + 7919 * i) for i in range(calls * per)]
    parts = [ids[i:i + per] for i in range(0, len(ids), per)]
    stub = _Stub(api)
    client = CancelClient(Credentials("bench-access", "bench-secret"), api=api,
                          base_url=f"http://{HOST}", rate_limits=None, transport=stub,
                          max_in_flight=1)
    route = wire(api).order
    bodies = [json.dumps(route.body(CONTRACT, part)).encode() for part in parts]
    floor = _floor_send(api, {body: _answer(api, body) for body in bodies})

    async def per_call() -> None:
        for part in parts:
            await client.cancel_orders(CONTRACT, part)

    async def one_call() -> None:
        await client.cancel_orders(CONTRACT, ids)

    def floor_all() -> None:
        for part in parts:
            floor(part)

    await per_call()  # the stub learns every answer
    best: dict[str, float] = {}
    for _ in range(7):
        for name, run in (("floor's own work", None), ("library, a call per request", per_call),
                          ("library, one call for all ids", one_call)):
            t0 = time.process_time()
            if run is None:
                floor_all()
            else:
                await run()
            us = (time.process_time() - t0) / calls * 1e6
            best[name] = min(best.get(name, us), us)
    await client.close()
    return best


def _parts(api: ApiName) -> dict[str, float]:
    """µs per request of each part, with timeit."""
    route = wire(api).order
    ids = [str(1085350265253935191 + 7919 * i) for i in range(route.per_request)]
    ep = CATALOG[route.path.lstrip("/") if api == "v5" else route.record]
    field = ep.id_fields[0]
    body = cancel_body(ep.ids_as, CONTRACT, field, ids)
    raw = _answer(api, body)
    signer = Signer("bench-access", "bench-secret", HOST)
    now = time.time()
    floor = _floor_send(api, {json.dumps(route.body(CONTRACT, ids)).encode(): raw})

    def report_cycle() -> None:
        call = Call(None, "high", CancelReport())
        call.open(ep.name, ids, field, 1.0)
        call.finish()

    work: Sequence[tuple[str, Callable[[], object]]] = (
        ("library: validate_ids x2 + validate_contract_code",
         lambda: (validate_ids(ids), validate_ids(()), validate_contract_code(CONTRACT))),
        ("library: cancel_body (msgspec)", lambda: cancel_body(ep.ids_as, CONTRACT, field, ids)),
        ("library: Signer.query", lambda: signer.query("POST", ep.path, now)),
        ("library: judge_cancel (decode + merge)",
         lambda: judge_cancel(200, raw, ep, ids, field, retried=False)),
        ("library: Call, open, finish (the report)", report_cycle),
        ("floor: all its work (sign, dumps, loads, count)", lambda: floor(ids)),
    )
    n = 20_000
    return {name: min(timeit.repeat(f, number=n, repeat=5)) / n * 1e6 for name, f in work}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.send_cost",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--api", choices=("v5", "v1", "both"), default="both")
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    apis: tuple[ApiName, ...] = APIS if args.api == "both" else (args.api,)
    print("| api | what | µs per request |\n| --- | --- | --- |")
    for api in apis:
        per = wire(api).order.per_request
        for name, us in asyncio.run(_whole(api, args.calls)).items():
            print(f"| {api} | {name} ({per} ids a request, network stubbed) | {us:.1f} |")
        for name, us in _parts(api).items():
            print(f"| {api} | {name} | {us:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
