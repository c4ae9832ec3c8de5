"""A bot as a strict user writes it: ``mypy --strict`` on this file is test_user_types.py.

Never run, only type-checked. Each line marked ``# FAILS TODAY`` is where the library's types
stop a strict user now (the comment above it says what the type should say); the test wants
exactly those lines to fail, so a line the library's types make pass must lose its mark, and a
new failure anywhere else is caught. A line with ``# type: ignore[...]`` is a mistake the types
must catch: mypy --strict reports an ignore that nothing needed, so a mistake that type-checks
fails the test too.
"""

from __future__ import annotations

import asyncio
from typing import Any, assert_type

import msgspec

from htx_cancel import CancelClient, CancelReport, Credentials, LimiterStats, OrderState

BTC = "BTC-USDT"


class Placed(msgspec.Struct):
    """What the bot decodes a placement's answer into."""

    order_id: str
    client_order_id: int | None = None


async def trade(client: CancelClient) -> list[str]:
    """Place, watch the limits, cancel; the v5 API (the default)."""
    # client.limiter is always a Limiter (one that never waits with limits off): a bot need
    # not assert it is there.
    stats: LimiterStats = client.limiter.stats()
    print(stats)
    body = {"contract_code": BTC, "side": "buy", "type": "limit", "volume": "1"}
    # request() returns the JSON object as a dict, or the answer's data decoded into a msgspec
    # type given as type=.
    raw = await client.request("/v5/trade/order", body)
    assert_type(raw, dict[str, Any])
    placed = await client.request("/v5/trade/order", body, type=Placed)
    report = await client.cancel_orders(BTC, order_ids=[placed.order_id])
    assert_type(report, CancelReport)
    for failure in report.failed.values():
        # Failure.code is `int | str` (HTX sends words too); Failure.number is the numeric
        # view, so comparing codes type-checks.
        if (failure.number or 0) > 1000:
            print(failure.message)
    gone = [id_ for id_, state in report.states.items() if state is OrderState.CANCELLED]
    # One id string where a list belongs is a type error, not 16 one-digit ids at run time.
    await client.cancel_orders(BTC, order_ids="1234")  # type: ignore[arg-type]
    # v5's filters are Literal types, as margin and priority are.
    await client.cancel_all_orders(BTC, side="buy", position_side="long")
    await client.cancel_all_orders(BTC, side="bye")  # type: ignore[arg-type]
    await client.cancel_algo_orders(BTC, algo_ids=["1"])
    await client.cancel_all_orders()
    return gone


async def trade_v1(client: CancelClient) -> None:
    """The v1 methods, as they are."""
    await client.cancel_trigger_orders(BTC, ["1"], margin="cross")
    await client.cancel_trigger_orders(BTC, ["1"], margin="crossed")  # type: ignore[arg-type]
    # direction and offset are Literal types too.
    await client.cancel_all_track_orders(BTC, direction="buy", offset="open")
    track = client.cancel_all_track_orders
    await track(BTC, direction="up")  # type: ignore[arg-type]
    await client.cancel_all_tpsl_orders(BTC, direction="sell")
    trigger = client.cancel_all_trigger_orders
    await trigger(BTC, offset="opening")  # type: ignore[arg-type]
    await client.cancel_tpsl_orders(BTC, "1")  # type: ignore[arg-type]


async def main() -> None:
    creds = Credentials.from_env()
    async with CancelClient(creds) as client:
        await trade(client)
    async with CancelClient(creds, api="v1") as v1:
        await trade_v1(v1)


if __name__ == "__main__":
    asyncio.run(main())
