"""The private endpoints of HTX's USDT-margined swaps, as data: paths, ids per call, pools.

Every private endpoint has Trade or Read permission (HTX's API list says which). Trade endpoints
draw on the account's trade pool, read endpoints on its read pool; strategy cancels (trigger,
tp/sl, track) have a 5/s pool of their own as well. To add an endpoint, add a line to
``_OTHERS`` (or ``_CANCELS``); nothing else in the library names endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CATALOG",
    "KINDS",
    "MARGINS",
    "PRIORITIES",
    "READ_POOL",
    "TRADE_POOL",
    "Endpoint",
    "Kind",
    "Margin",
    "Priority",
    "endpoint_for",
    "endpoint_for_path",
]

Kind = Literal["order", "trigger", "tpsl", "track"]
Margin = Literal["isolated", "cross"]
Priority = Literal["high", "normal", "low"]
KINDS: tuple[Kind, ...] = ("order", "trigger", "tpsl", "track")
MARGINS: tuple[Margin, ...] = ("isolated", "cross")
PRIORITIES: tuple[Priority, ...] = ("high", "normal", "low")

TRADE_POOL = "trade"
READ_POOL = "read"
PATH_PREFIX = "/linear-swap-api/v1/"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One private endpoint: where it is, what it takes, which rate-limit pools it draws on.

    ``kind`` is the order kind a cancel endpoint cancels (None for every other endpoint);
    ``pools`` lists the pools the request takes a slot in, the account pool first.
    """

    name: str
    kind: Kind | None
    margin: Margin
    cancel_all: bool
    max_ids: int  # ids per call; 0 for endpoints that take no id list
    id_fields: tuple[str, ...]
    pools: tuple[str, ...]
    directions: bool = False  # accepts direction (buy/sell)
    offsets: bool = False  # accepts offset (open/close)
    path: str = ""  # default: PATH_PREFIX + name
    method: str = "POST"

    def __post_init__(self) -> None:
        if not self.pools:
            raise ValueError(f"endpoint {self.name!r} needs at least one pool")
        if not self.path:
            object.__setattr__(self, "path", PATH_PREFIX + self.name)

    @property
    def strategy(self) -> bool:
        """True when the endpoint has a pool of its own besides the account pool."""
        return len(self.pools) > 1

    @property
    def permission(self) -> str:
        """``"trade"`` or ``"read"`` (HTX's permission table), from the account pool."""
        return READ_POOL if self.pools[0] == READ_POOL else TRADE_POOL

    @property
    def is_cancel(self) -> bool:
        """True for the cancel endpoints (by id or cancel-all)."""
        return self.kind is not None


def _cancel(name: str, kind: Kind, margin: Margin, *, all_: bool = False, max_ids: int = 0,
            ids: tuple[str, ...] = ("order_id",), direction: bool = False,
            offset: bool = False) -> Endpoint:
    """A cancel endpoint; strategy endpoints get their own pool named after them."""
    pools = (TRADE_POOL,) if kind == "order" else (TRADE_POOL, name)
    return Endpoint(name, kind, margin, all_, max_ids, () if all_ else ids, pools,
                    direction, offset)


def _trade(name: str, margin: Margin = "isolated") -> Endpoint:
    """A trade-permission endpoint that is not a cancel (placement, leverage, close...)."""
    return Endpoint(name, None, margin, False, 0, (), (TRADE_POOL,))


def _read(name: str, margin: Margin = "isolated", *, max_ids: int = 0,
          ids: tuple[str, ...] = (), version: str = "v1") -> Endpoint:
    """A read-permission endpoint (order info, open orders, account...)."""
    path = f"/linear-swap-api/{version}/{name}"
    key = name if version == "v1" else f"{version}/{name}"
    return Endpoint(key, None, margin, False, max_ids, ids, (READ_POOL,), path=path)


_CANCELS = (
    _cancel("swap_cancel", "order", "isolated", max_ids=25, ids=("order_id", "client_order_id")),
    _cancel("swap_cross_cancel", "order", "cross", max_ids=25,
            ids=("order_id", "client_order_id")),
    _cancel("swap_trigger_cancel", "trigger", "isolated", max_ids=20),
    _cancel("swap_cross_trigger_cancel", "trigger", "cross", max_ids=10),
    _cancel("swap_tpsl_cancel", "tpsl", "isolated", max_ids=10),
    _cancel("swap_cross_tpsl_cancel", "tpsl", "cross", max_ids=10),
    _cancel("swap_track_cancel", "track", "isolated", max_ids=10),
    _cancel("swap_cross_track_cancel", "track", "cross", max_ids=10),
    _cancel("swap_cancelall", "order", "isolated", all_=True, direction=True, offset=True),
    _cancel("swap_cross_cancelall", "order", "cross", all_=True, direction=True, offset=True),
    _cancel("swap_trigger_cancelall", "trigger", "isolated", all_=True, direction=True,
            offset=True),
    _cancel("swap_cross_trigger_cancelall", "trigger", "cross", all_=True, direction=True,
            offset=True),
    _cancel("swap_tpsl_cancelall", "tpsl", "isolated", all_=True, direction=True),
    _cancel("swap_cross_tpsl_cancelall", "tpsl", "cross", all_=True, direction=True),
    _cancel("swap_track_cancelall", "track", "isolated", all_=True, direction=True, offset=True),
    _cancel("swap_cross_track_cancelall", "track", "cross", all_=True, direction=True,
            offset=True),
)

_OTHERS = (
    # Trade permission: placement, closing, leverage, the dead man's switch.
    _trade("swap_order"),
    _trade("swap_cross_order", "cross"),
    _trade("swap_batchorder"),
    _trade("swap_cross_batchorder", "cross"),
    _trade("swap_lightning_close_position"),
    _trade("swap_cross_lightning_close_position", "cross"),
    _trade("swap_switch_lever_rate"),
    _trade("swap_cross_switch_lever_rate", "cross"),
    _trade("swap_switch_position_mode"),
    _trade("swap_cross_switch_position_mode", "cross"),
    _trade("swap_trigger_order"),
    _trade("swap_cross_trigger_order", "cross"),
    _trade("swap_tpsl_order"),
    _trade("swap_cross_tpsl_order", "cross"),
    _trade("swap_track_order"),
    _trade("swap_cross_track_order", "cross"),
    _trade("linear-cancel-after"),
    # Read permission: orders, strategy listings, account and positions.
    _read("swap_order_info", max_ids=50, ids=("order_id", "client_order_id")),
    _read("swap_cross_order_info", "cross", max_ids=50, ids=("order_id", "client_order_id")),
    _read("swap_order_detail"),
    _read("swap_cross_order_detail", "cross"),
    _read("swap_openorders"),
    _read("swap_cross_openorders", "cross"),
    _read("swap_hisorders"),
    _read("swap_cross_hisorders", "cross"),
    _read("swap_hisorders_exact"),
    _read("swap_cross_hisorders_exact", "cross"),
    _read("swap_matchresults"),
    _read("swap_cross_matchresults", "cross"),
    _read("swap_matchresults_exact"),
    _read("swap_cross_matchresults_exact", "cross"),
    _read("swap_hisorders", version="v3"),
    _read("swap_cross_hisorders", "cross", version="v3"),
    _read("swap_matchresults", version="v3"),
    _read("swap_cross_matchresults", "cross", version="v3"),
    _read("swap_trigger_openorders"),
    _read("swap_cross_trigger_openorders", "cross"),
    _read("swap_trigger_hisorders"),
    _read("swap_cross_trigger_hisorders", "cross"),
    _read("swap_tpsl_openorders"),
    _read("swap_cross_tpsl_openorders", "cross"),
    _read("swap_tpsl_hisorders"),
    _read("swap_cross_tpsl_hisorders", "cross"),
    _read("swap_track_openorders"),
    _read("swap_cross_track_openorders", "cross"),
    _read("swap_track_hisorders"),
    _read("swap_cross_track_hisorders", "cross"),
    _read("swap_relation_tpsl_order"),
    _read("swap_cross_relation_tpsl_order", "cross"),
    _read("swap_account_info"),
    _read("swap_cross_account_info", "cross"),
    _read("swap_position_info"),
    _read("swap_cross_position_info", "cross"),
    _read("swap_account_position_info"),
    _read("swap_cross_account_position_info", "cross"),
    _read("swap_available_level_rate"),
    _read("swap_cross_available_level_rate", "cross"),
    _read("swap_order_limit"),
    _read("swap_fee"),
    _read("swap_position_limit"),
    _read("swap_cross_position_limit", "cross"),
    _read("swap_lever_position_limit"),
    _read("swap_cross_lever_position_limit", "cross"),
)

CATALOG: dict[str, Endpoint] = {e.name: e for e in (*_CANCELS, *_OTHERS)}
"""Every endpoint the library knows, by name (``swap_cancel``; ``v3/swap_hisorders``)."""

_BY_PATH: dict[str, Endpoint] = {e.path: e for e in CATALOG.values()}
_BY_KEY: dict[tuple[str, str, bool], Endpoint] = {
    (e.kind, e.margin, e.cancel_all): e for e in _CANCELS if e.kind is not None
}


def endpoint_for(kind: str, margin: str = "isolated", *, cancel_all: bool = False) -> Endpoint:
    """Look up the cancel endpoint for an order kind and margin mode; ValueError if none."""
    if kind not in KINDS:
        raise ValueError(f"unknown order kind {kind!r}; expected one of {', '.join(KINDS)}")
    if margin not in MARGINS:
        raise ValueError(f"unknown margin mode {margin!r}; expected 'isolated' or 'cross'")
    return _BY_KEY[(kind, margin, cancel_all)]


def endpoint_for_path(path: str, pools: tuple[str, ...] | None = None, *,
                      method: str = "POST") -> Endpoint:
    """The catalog's endpoint for a request path, or one drawing on ``pools`` if given.

    ``path`` is the path alone (``/linear-swap-api/v1/swap_order``); a bare name such as
    ``swap_order`` means the v1 path. A path the catalog does not know needs ``pools``
    (e.g. ``("trade",)`` or ``("read",)``), else ``ValueError``; ``pools`` given for a known path
    replaces the catalog's.
    """
    if not isinstance(path, str) or not path or any(c in path for c in "?# "):
        raise ValueError(f"path must be a request path without query or spaces, got {path!r}")
    if not path.startswith("/"):
        path = PATH_PREFIX + path
    known = _BY_PATH.get(path)
    if pools is None:
        if known is None:
            raise ValueError(f"{path} is not in the catalog: pass pools=('trade',) or "
                             f"pools=('read',) (plus its own pool, if it has one)")
        return known if known.method == method.upper() else _with(known, method=method)
    pools = tuple(pools)
    if not pools or not all(isinstance(p, str) and p for p in pools):
        raise ValueError(f"pools must be a non-empty tuple of pool names, got {pools!r}")
    if known is not None:
        return _with(known, pools=pools, method=method)
    name = path.rsplit("/", 1)[-1] or path
    return Endpoint(name, None, "isolated", False, 0, (), pools, path=path,
                    method=method.upper())


def _with(ep: Endpoint, *, pools: tuple[str, ...] | None = None, method: str) -> Endpoint:
    """A copy of ``ep`` with other pools or another method."""
    return Endpoint(ep.name, ep.kind, ep.margin, ep.cancel_all, ep.max_ids, ep.id_fields,
                    pools or ep.pools, ep.directions, ep.offsets, ep.path, method.upper())
