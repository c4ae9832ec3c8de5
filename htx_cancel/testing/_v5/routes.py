"""The v5 route table: every ``/v5/...`` path the fake serves, its method, pools and handler.

This is the fake's own table (the exchange does not take its rules from the client's catalog).
Trade-permission paths take the trade pool, read paths the read pool (72 / 3 s each, as for
v1); an algo pool of its own is added to ``/v5/algo/cancel_orders`` only when asked
(``algo_limit``): HTX states none.
"""

from __future__ import annotations

from .._routes import READ, TRADE, Route
from . import account_paths as acc
from . import cancel, place, reads
from .request import Handler

__all__ = ["ALGO_POOL", "V5_ROUTES", "v5_route"]

ALGO_POOL = "algo"

_TABLE: tuple[tuple[str, str, str, Handler], ...] = (
    # method, path, permission, handler
    ("POST", "/v5/trade/cancel_order", TRADE, cancel.cancel_order),
    ("POST", "/v5/trade/cancel_batch_orders", TRADE, cancel.cancel_batch_orders),
    ("POST", "/v5/trade/cancel_all_orders", TRADE, cancel.cancel_all_orders),
    ("POST", "/v5/trade/cancel-after", TRADE, acc.cancel_after),
    ("POST", "/v5/algo/cancel_orders", TRADE, cancel.cancel_algo_orders),
    ("POST", "/v5/trade/order", TRADE, place.place_order),
    ("POST", "/v5/trade/batch_orders", TRADE, place.place_batch_orders),
    ("POST", "/v5/algo/order", TRADE, place.place_algo_order),
    ("POST", "/v5/position/mode", TRADE, acc.set_position_mode),
    ("POST", "/v5/position/lever", TRADE, acc.set_lever),
    ("POST", "/v5/account/asset_mode", TRADE, acc.set_asset_mode),
    ("POST", "/v5/position/margin", TRADE, acc.empty_object),
    ("POST", "/v5/trade/position", TRADE, acc.empty_object),
    ("POST", "/v5/trade/position_all", TRADE, acc.empty_list),
    ("GET", "/v5/trade/order", READ, reads.order_info),
    ("GET", "/v5/trade/order/opens", READ, reads.order_opens),
    ("GET", "/v5/trade/order/history", READ, reads.order_history),
    ("GET", "/v5/trade/order/details", READ, acc.empty_list),
    ("GET", "/v5/algo/order", READ, reads.algo_info),
    ("GET", "/v5/algo/order/opens", READ, reads.algo_opens),
    ("GET", "/v5/algo/order/history", READ, reads.algo_history),
    ("GET", "/v5/position/mode", READ, acc.get_position_mode),
    ("GET", "/v5/position/lever", READ, acc.get_lever),
    ("GET", "/v5/position/risk/limit", READ, acc.empty_list),
    ("GET", "/v5/position/risk/limit_tier", READ, acc.empty_list),
    ("GET", "/v5/account/fee_deduction_currency", READ, acc.empty_list),
    ("GET", "/v5/trade/position/opens", READ, acc.empty_list),
    ("GET", "/v5/account/balance", READ, acc.account_balance),
    ("GET", "/v5/account/bills", READ, acc.empty_list),
    ("GET", "/v5/account/asset_mode", READ, acc.get_asset_mode),
)

V5_ROUTES: dict[tuple[str, str], tuple[Route, Handler]] = {
    (method, path): (Route(path, method, path, (pool,), "v5"), handler)
    for method, path, pool, handler in _TABLE
}
"""(method, path) -> the route and its handler."""


def v5_route(method: str, path: str, *, algo_pool: bool = False) -> tuple[Route, Handler] | None:
    """The route for a request, None when the fake serves no such v5 path and method.

    ``algo_pool`` adds the algo pool to ``/v5/algo/cancel_orders`` (its headers then describe
    that pool).
    """
    found = V5_ROUTES.get((method.upper(), path))
    if found is None or not algo_pool or path != "/v5/algo/cancel_orders":
        return found
    route, handler = found
    return Route(route.name, route.method, route.path, (*route.pools, ALGO_POOL), "v5"), handler
