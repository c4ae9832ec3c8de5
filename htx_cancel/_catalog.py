"""The private endpoints of HTX's USDT-margined futures, both APIs, as data.

Two tables over one machine: ``v5`` (``/v5/trade/...``, ``/v5/algo/...``; every account trades
through it since HTX retired v1 on 13 Jul 2026) and ``v1`` (``/linear-swap-api/v1/...``). What
differs between them (paths, ids per request, how ids travel, body fields, filters, pools, the
answer's shape) is a field of an `Endpoint` or of an `Api`; nothing else in the
library names endpoints. Every private endpoint has Trade or Read permission: trade endpoints
draw on the account's trade pool, read endpoints on its read pool; v1's strategy cancels
(trigger, tp/sl, track) and v5's algo cancel have a 5/s pool of their own as well.

Where HTX's v5 facts are unconfirmed, the choice is made here, once (docs/v5.md lists them):
algo cancels take at most 10 ids and go as a JSON array of ``{contract_code, algo_id}`` objects
(ccxt and gocryptotrader; HTX.Net and the Java SDK send one object), and are given v1's 5/s
strategy pool besides the trade pool (no HTX statement found: the safe side).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "APIS",
    "CATALOG",
    "KINDS",
    "MARGINS",
    "PRIORITIES",
    "READ_POOL",
    "TRADE_POOL",
    "V1",
    "V5",
    "Api",
    "ApiName",
    "Endpoint",
    "IdsAs",
    "Kind",
    "Margin",
    "Priority",
    "api_table",
    "endpoint_for",
    "endpoint_for_path",
]

ApiName = Literal["v5", "v1"]
Kind = Literal["order", "algo", "trigger", "tpsl", "track"]
Margin = Literal["isolated", "cross"]
Priority = Literal["high", "normal", "low"]
IdsAs = Literal["comma", "array", "items"]
APIS: tuple[ApiName, ...] = ("v5", "v1")
KINDS: tuple[Kind, ...] = ("order", "algo", "trigger", "tpsl", "track")
MARGINS: tuple[Margin, ...] = ("isolated", "cross")
PRIORITIES: tuple[Priority, ...] = ("high", "normal", "low")

TRADE_POOL = "trade"
READ_POOL = "read"
PATH_PREFIX = "/linear-swap-api/v1/"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One private endpoint: where it is, what it takes, which rate-limit pools it draws on.

    ``kind`` is the order kind a cancel endpoint cancels (None for every other endpoint);
    ``margin`` the margin mode of a v1 endpoint (v5 endpoints have none: None); ``pools`` the
    pools the request takes a slot in, the account pool first. ``ids_as`` says how a by-id
    cancel carries its ids: ``"comma"`` one comma-joined string (v1), ``"array"`` a JSON array
    of strings (v5), ``"items"`` a JSON array of one object per id (v5 algo). ``filters`` are
    the optional body fields a cancel-all accepts.
    """

    name: str
    kind: Kind | None
    margin: Margin | None
    cancel_all: bool
    max_ids: int  # ids per call; 0 for endpoints that take no id list
    id_fields: tuple[str, ...]
    pools: tuple[str, ...]
    filters: tuple[str, ...] = ()
    path: str = ""  # default: PATH_PREFIX + name
    method: str = "POST"
    api: ApiName = "v1"
    ids_as: IdsAs = "comma"

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

    @property
    def directions(self) -> bool:
        """True when the (v1) cancel-all accepts a direction (buy, sell)."""
        return "direction" in self.filters

    @property
    def offsets(self) -> bool:
        """True when the (v1) cancel-all accepts an offset (open, close)."""
        return "offset" in self.filters


_V1_ALL = ("direction", "offset")


def _cancel(name: str, kind: Kind, margin: Margin, *, all_: bool = False, max_ids: int = 0,
            ids: tuple[str, ...] = ("order_id",),
            filters: tuple[str, ...] = _V1_ALL) -> Endpoint:
    """A v1 cancel endpoint; strategy endpoints get their own pool named after them."""
    pools = (TRADE_POOL,) if kind == "order" else (TRADE_POOL, name)
    return Endpoint(name, kind, margin, all_, max_ids, () if all_ else ids, pools,
                    filters if all_ else ())


def _trade(name: str, margin: Margin = "isolated") -> Endpoint:
    """A v1 trade-permission endpoint that is not a cancel (placement, leverage, close...)."""
    return Endpoint(name, None, margin, False, 0, (), (TRADE_POOL,))


def _read(name: str, margin: Margin = "isolated", *, max_ids: int = 0,
          ids: tuple[str, ...] = (), version: str = "v1") -> Endpoint:
    """A v1 read-permission endpoint (order info, open orders, account...)."""
    path = f"/linear-swap-api/{version}/{name}"
    key = name if version == "v1" else f"{version}/{name}"
    return Endpoint(key, None, margin, False, max_ids, ids, (READ_POOL,), path=path)


def _v5(path: str, method: str = "POST", *, pools: tuple[str, ...] | None = None,
        kind: Kind | None = None, all_: bool = False, max_ids: int = 0,
        ids: tuple[str, ...] = (), ids_as: IdsAs = "array",
        filters: tuple[str, ...] = ()) -> Endpoint:
    """A v5 endpoint, named by its path; a GET is a read, anything else a trade."""
    name = path.lstrip("/")
    if method == "GET":
        name = f"GET {name}"
    if pools is None:
        pools = (READ_POOL,) if method == "GET" else (TRADE_POOL,)
    return Endpoint(name, kind, None, all_, max_ids, ids, pools, filters, path, method, "v5",
                    ids_as)


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
    _cancel("swap_cancelall", "order", "isolated", all_=True),
    _cancel("swap_cross_cancelall", "order", "cross", all_=True),
    _cancel("swap_trigger_cancelall", "trigger", "isolated", all_=True),
    _cancel("swap_cross_trigger_cancelall", "trigger", "cross", all_=True),
    _cancel("swap_tpsl_cancelall", "tpsl", "isolated", all_=True, filters=("direction",)),
    _cancel("swap_cross_tpsl_cancelall", "tpsl", "cross", all_=True, filters=("direction",)),
    _cancel("swap_track_cancelall", "track", "isolated", all_=True),
    _cancel("swap_cross_track_cancelall", "track", "cross", all_=True),
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

_ALGO_CANCEL = "/v5/algo/cancel_orders"

_V5 = (
    # Cancels (trade). One contract a request; order ids and client ids never share one.
    _v5("/v5/trade/cancel_batch_orders", kind="order", max_ids=10,
        ids=("order_id", "client_order_id")),
    _v5("/v5/trade/cancel_order", max_ids=1, ids=("order_id", "client_order_id")),
    _v5("/v5/trade/cancel_all_orders", kind="order", all_=True,
        filters=("side", "position_side")),
    _v5(_ALGO_CANCEL, kind="algo", max_ids=10, ids=("algo_id", "algo_client_order_id"),
        ids_as="items", pools=(TRADE_POOL, _ALGO_CANCEL.lstrip("/"))),
    _v5("/v5/trade/cancel-after"),
    # Placement and the rest of trade permission.
    _v5("/v5/trade/order"),
    _v5("/v5/trade/batch_orders"),
    _v5("/v5/trade/position"),  # close a position
    _v5("/v5/trade/position_all"),
    _v5("/v5/algo/order"),
    _v5("/v5/position/lever"),
    _v5("/v5/position/mode"),
    _v5("/v5/position/margin"),
    _v5("/v5/account/asset_mode"),
    # Read permission: orders, algo orders, positions, account.
    _v5("/v5/trade/order", "GET", max_ids=1, ids=("order_id", "client_order_id")),
    _v5("/v5/trade/order/opens", "GET"),
    _v5("/v5/trade/order/history", "GET"),
    _v5("/v5/trade/order/details", "GET"),
    _v5("/v5/trade/position/opens", "GET"),
    _v5("/v5/algo/order", "GET"),
    _v5("/v5/algo/order/opens", "GET"),
    _v5("/v5/algo/order/history", "GET"),
    _v5("/v5/position/lever", "GET"),
    _v5("/v5/position/mode", "GET"),
    _v5("/v5/position/risk/limit", "GET"),
    _v5("/v5/position/risk/limit_tier", "GET"),
    _v5("/v5/account/balance", "GET"),
    _v5("/v5/account/bills", "GET"),
    _v5("/v5/account/asset_mode", "GET"),
    _v5("/v5/account/fee_deduction_currency", "GET"),
)

CATALOG: dict[str, Endpoint] = {e.name: e for e in (*_CANCELS, *_OTHERS, *_V5)}
"""Every endpoint the library knows, by name: v1 by its last path part (``swap_cancel``,
``v3/swap_hisorders``), v5 by its path (``v5/trade/cancel_batch_orders``; a GET as
``GET v5/trade/order``)."""

_BY_PATH: dict[tuple[str, str], Endpoint] = {(e.method, e.path): e for e in CATALOG.values()}


@dataclass(frozen=True, slots=True)
class Api:
    """One API's table: its cancel endpoints and the rules that differ from the other API.

    ``cancels`` maps (kind, margin, cancel-all) to the endpoint (margin None on v5, whose
    cancels take none); ``aliases`` the kinds that mean another there (on v5, trigger, tp/sl
    and track orders are all algo orders, cancelled by the same ids); ``filters`` the
    cancel-all filters the API knows; ``switch`` the dead man's switch and ``switch_flags``
    its ``on_off`` values (v5: strings, v1: ints); ``order_info`` the order lookup by margin.
    """

    name: ApiName
    cancels: Mapping[tuple[Kind, Margin | None, bool], Endpoint]
    aliases: Mapping[Kind, Kind]
    filters: tuple[str, ...]
    switch: Endpoint
    order_info: Mapping[Margin | None, Endpoint]
    margins: bool
    switch_flags: tuple[int | str, int | str] = (1, 0)  # the switch's on_off values: on, off

    @property
    def kinds(self) -> tuple[Kind, ...]:
        """The order kinds a by-id cancel takes on this API (aliases included)."""
        own = tuple(dict.fromkeys(k for k, _, _ in self.cancels))
        return (*own, *(k for k in self.aliases if k not in own))

    def kind(self, kind: str) -> Kind:
        """The API's own kind for ``kind``; ValueError when the API has no such orders."""
        if kind not in KINDS:
            raise ValueError(f"unknown order kind {kind!r}; expected one of "
                             f"{', '.join(self.kinds)}")
        own: Kind = self.aliases.get(kind, kind)
        if not any(k == own for k, _, _ in self.cancels):
            raise ValueError(f"{kind!r} orders are not on the {self.name} API; expected one "
                             f"of {', '.join(self.kinds)}")
        return own

    def margin(self, margin: str | None) -> Margin | None:
        """The margin mode a cancel names: v1 needs one (isolated by default), v5 none."""
        if not self.margins:
            if margin is not None:
                raise ValueError(f"margin={margin!r} is a v1 filter: v5 cancels take no margin "
                                 "mode (use api='v1' for the v1 endpoints)")
            return None
        if margin is None:
            return "isolated"
        if margin not in MARGINS:
            raise ValueError(f"unknown margin mode {margin!r}; expected 'isolated' or 'cross'")
        return margin

    def cancel(self, kind: str, margin: str | None = None, *,
               cancel_all: bool = False) -> Endpoint:
        """The cancel endpoint for an order kind (and, on v1, margin mode); ValueError if none."""
        own, mode = self.kind(kind), self.margin(margin)
        found = self.cancels.get((own, mode, cancel_all))
        if found is None:
            raise ValueError(f"the {self.name} API has no cancel-all for {kind!r} orders")
        return found

    def client_field(self, kind: Kind) -> str | None:
        """The client-id field of a kind's by-id cancel, None when it takes order ids only."""
        ids = self.cancel(kind).id_fields
        return ids[1] if len(ids) > 1 else None


def _table(endpoints: tuple[Endpoint, ...]) -> dict[tuple[Kind, Margin | None, bool], Endpoint]:
    return {(e.kind, e.margin, e.cancel_all): e for e in endpoints if e.kind is not None}


V1 = Api("v1", _table(_CANCELS), {}, _V1_ALL, CATALOG["linear-cancel-after"],
         {"isolated": CATALOG["swap_order_info"], "cross": CATALOG["swap_cross_order_info"]},
         margins=True)
V5 = Api("v5", _table(_V5), {"trigger": "algo", "tpsl": "algo", "track": "algo"},
         ("side", "position_side"), CATALOG["v5/trade/cancel-after"],
         {None: CATALOG["GET v5/trade/order"]}, margins=False, switch_flags=("1", "0"))
_APIS: dict[str, Api] = {"v5": V5, "v1": V1}


def api_table(api: str) -> Api:
    """The table of ``"v5"`` or ``"v1"``; ValueError for anything else."""
    found = _APIS.get(api)
    if found is None:
        raise ValueError(f"api must be 'v5' or 'v1', got {api!r}")
    return found


def endpoint_for(kind: str, margin: str | None = "isolated", *, cancel_all: bool = False,
                 api: str = "v1") -> Endpoint:
    """Look up the cancel endpoint for an order kind (and v1 margin mode); ValueError if none."""
    table = api_table(api)
    return table.cancel(kind, margin if table.margins else None, cancel_all=cancel_all)


def endpoint_for_path(path: str, pools: tuple[str, ...] | None = None, *,
                      method: str = "POST") -> Endpoint:
    """The catalog's endpoint for a request path, or one drawing on ``pools`` if given.

    ``path`` is the path alone (``/v5/trade/order``, ``/linear-swap-api/v1/swap_order``); a
    bare name such as ``swap_order`` means the v1 path. The same v5 path may be a trade
    endpoint by POST and a read by GET (``/v5/trade/order``). A path the catalog does not know
    needs ``pools`` (e.g. ``("trade",)`` or ``("read",)``), else ``ValueError``; ``pools`` given
    for a known path replaces the catalog's.
    """
    if not isinstance(path, str) or not path or any(c in path for c in "?# "):
        raise ValueError(f"path must be a request path without query or spaces, got {path!r}")
    if not path.startswith("/"):
        path = PATH_PREFIX + path
    method = method.upper()
    known = _BY_PATH.get((method, path))
    if known is None and not path.startswith("/v5/"):
        other = _BY_PATH.get(("POST", path))  # a v1 path read by GET keeps its pools
        known = None if other is None else _with(other, method=method)
    if pools is None:
        if known is None:
            raise ValueError(f"{method} {path} is not in the catalog: pass pools=('trade',) or "
                             f"pools=('read',) (plus its own pool, if it has one)")
        return known
    pools = tuple(pools)
    if not pools or not all(isinstance(p, str) and p for p in pools):
        raise ValueError(f"pools must be a non-empty tuple of pool names, got {pools!r}")
    if known is not None:
        return _with(known, pools=pools, method=method)
    name = path.lstrip("/") if path.startswith("/v5/") else path.rsplit("/", 1)[-1] or path
    return Endpoint(name, None, None, False, 0, (), pools, path=path, method=method,
                    api="v5" if path.startswith("/v5/") else "v1")


def _with(ep: Endpoint, *, pools: tuple[str, ...] | None = None, method: str) -> Endpoint:
    """A copy of ``ep`` with other pools or another method."""
    return Endpoint(ep.name, ep.kind, ep.margin, ep.cancel_all, ep.max_ids, ep.id_fields,
                    pools or ep.pools, ep.filters, ep.path, method.upper(), ep.api, ep.ids_as)
