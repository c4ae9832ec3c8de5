"""The cancel endpoints of HTX's USDT-margined swaps, as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CATALOG",
    "KINDS",
    "MARGINS",
    "TRADE_POOL",
    "Endpoint",
    "Kind",
    "Margin",
    "endpoint_for",
]

Kind = Literal["order", "trigger", "tpsl", "track"]
Margin = Literal["isolated", "cross"]
KINDS: tuple[Kind, ...] = ("order", "trigger", "tpsl", "track")
MARGINS: tuple[Margin, ...] = ("isolated", "cross")

TRADE_POOL = "trade"
PATH_PREFIX = "/linear-swap-api/v1/"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One cancel endpoint: where it is, what it takes, which rate-limit pools it draws on."""

    name: str
    kind: Kind
    margin: Margin
    cancel_all: bool
    max_ids: int  # 0 for cancel-all endpoints, which take no ids
    id_fields: tuple[str, ...]
    pools: tuple[str, ...]
    directions: bool = False  # accepts direction (buy/sell)
    offsets: bool = False  # accepts offset (open/close)

    @property
    def path(self) -> str:
        """The request path, e.g. ``/linear-swap-api/v1/swap_cancel``."""
        return PATH_PREFIX + self.name

    @property
    def strategy(self) -> bool:
        """True when the endpoint has a pool of its own besides the trade pool."""
        return len(self.pools) > 1


def _make(name: str, kind: Kind, margin: Margin, *, all_: bool = False, max_ids: int = 0,
          ids: tuple[str, ...] = ("order_id",), direction: bool = False,
          offset: bool = False) -> Endpoint:
    """Build an endpoint; strategy endpoints get their own pool named after them."""
    pools = (TRADE_POOL,) if kind == "order" else (TRADE_POOL, name)
    return Endpoint(name, kind, margin, all_, max_ids, () if all_ else ids, pools,
                    direction, offset)


_ENDPOINTS = (
    _make("swap_cancel", "order", "isolated", max_ids=25, ids=("order_id", "client_order_id")),
    _make("swap_cross_cancel", "order", "cross", max_ids=25,
          ids=("order_id", "client_order_id")),
    _make("swap_trigger_cancel", "trigger", "isolated", max_ids=20),
    _make("swap_cross_trigger_cancel", "trigger", "cross", max_ids=10),
    _make("swap_tpsl_cancel", "tpsl", "isolated", max_ids=10),
    _make("swap_cross_tpsl_cancel", "tpsl", "cross", max_ids=10),
    _make("swap_track_cancel", "track", "isolated", max_ids=10),
    _make("swap_cross_track_cancel", "track", "cross", max_ids=10),
    _make("swap_cancelall", "order", "isolated", all_=True, direction=True, offset=True),
    _make("swap_cross_cancelall", "order", "cross", all_=True, direction=True, offset=True),
    _make("swap_trigger_cancelall", "trigger", "isolated", all_=True, direction=True,
          offset=True),
    _make("swap_cross_trigger_cancelall", "trigger", "cross", all_=True, direction=True,
          offset=True),
    _make("swap_tpsl_cancelall", "tpsl", "isolated", all_=True, direction=True),
    _make("swap_cross_tpsl_cancelall", "tpsl", "cross", all_=True, direction=True),
    _make("swap_track_cancelall", "track", "isolated", all_=True, direction=True, offset=True),
    _make("swap_cross_track_cancelall", "track", "cross", all_=True, direction=True,
          offset=True),
)

CATALOG: dict[str, Endpoint] = {e.name: e for e in _ENDPOINTS}
_BY_KEY: dict[tuple[str, str, bool], Endpoint] = {
    (e.kind, e.margin, e.cancel_all): e for e in _ENDPOINTS
}


def endpoint_for(kind: str, margin: str = "isolated", *, cancel_all: bool = False) -> Endpoint:
    """Look up the endpoint for an order kind and margin mode; ValueError if there is none."""
    if kind not in KINDS:
        raise ValueError(f"unknown order kind {kind!r}; expected one of {', '.join(KINDS)}")
    if margin not in MARGINS:
        raise ValueError(f"unknown margin mode {margin!r}; expected 'isolated' or 'cross'")
    return _BY_KEY[(kind, margin, cancel_all)]
