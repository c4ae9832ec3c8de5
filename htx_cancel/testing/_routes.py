"""What the fake exchange knows about each path it serves: its name, method, pools and family."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["READ", "TRADE", "Family", "Route"]

Family = Literal["v1", "v5"]
TRADE = "trade"
READ = "read"


@dataclass(frozen=True, slots=True)
class Route:
    """One private path as the exchange serves it.

    ``name`` is what records, faults and the outsider call it: the v1 endpoint name
    (``swap_cancel``) or the v5 path (``/v5/trade/cancel_batch_orders``). ``pools`` lists the
    rate-limit pools a request takes a slot in, the account pool first; the last one is the pool
    whose ``ratelimit-*`` headers the answer carries. ``family`` decides the answer envelope.
    """

    name: str
    method: str
    path: str
    pools: tuple[str, ...]
    family: Family
