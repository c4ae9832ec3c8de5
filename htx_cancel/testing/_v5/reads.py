"""v5 reads: order info, open orders, history, and the same for strategy (algo) orders.

Listings page by an order id cursor (see `paging()`): orders are listed by order
id, which grows with time, so ``from`` = the last id seen and ``direct=next`` walks on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .._answers import JSON
from .._orders import Order
from .._process import Processed
from .account import V5Account
from .codes import NOT_FOUND, V5Error, empty, illegal
from .envelope import ok
from .params import Params, as_object, choice, contract, id_text, millis, paging, text
from .request import V5Request
from .views import (
    ALGO_TYPES,
    FINISHED,
    algo_fields,
    algo_state,
    algo_type_of,
    is_algo,
    order_fields,
    order_type_of,
    state,
)

__all__ = [
    "HISTORY_DEFAULT_MS",
    "HISTORY_MAX_MS",
    "algo_history",
    "algo_info",
    "algo_opens",
    "order_history",
    "order_info",
    "order_opens",
    "page",
]

HISTORY_DEFAULT_MS = 48 * 3600 * 1000  # history without a window: the last 48 hours
HISTORY_MAX_MS = 90 * 24 * 3600 * 1000  # and at most 90 days back
MARGIN_MODES = ("cross", "isolated")
ALGO_ENDED = ("effective", "canceled", "failed")


def page(orders: Iterable[Order], p: Params) -> list[Order]:
    """One page of ``orders``: by order id, after (``next``) or before (``prev``) ``from``.

    ``from`` 0 (the default) starts at the first order for ``next`` and at the last for
    ``prev``; the page always lists in ascending id order.
    """
    cursor, limit, direct = paging(p)
    ordered = sorted(orders, key=lambda o: int(o.order_id))
    if direct == "next":
        return [o for o in ordered if int(o.order_id) > cursor][:limit]
    before = [o for o in ordered if cursor == 0 or int(o.order_id) < cursor]
    return before[-limit:]


def _listing(p: Params, orders: list[Order], fields: Callable[[Order, float], JSON],
             now: float, ts: int) -> Processed:
    """The page as a v5 answer: ``data`` is a bare list of orders."""
    chosen = page(orders, p)
    return Processed(ok([fields(o, now) for o in chosen], ts),
                     ids=tuple(o.order_id for o in chosen))


def _margin(p: Params, order: Order) -> bool:
    """True when the order matches the ``margin_mode`` filter (if any)."""
    margin = choice(p, "margin_mode", MARGIN_MODES)
    return margin in (None, order.margin)


def order_info(acct: V5Account, req: V5Request) -> Processed:
    """``GET /v5/trade/order``: one order by ``order_id`` or ``client_order_id`` (order_id
    wins); optional ``contract_code`` and ``margin_mode`` must match. ``data`` is the order;
    not found (or a client id no longer valid) is a whole-request 1061."""
    p = as_object(req.body)
    code = contract(p, acct.book.contracts, required=False)
    order_id = id_text(p, "order_id")
    cid = id_text(p, "client_order_id")
    if order_id is None and cid is None:
        raise empty("order_id")
    order = (acct.order(order_id, code) if order_id is not None
             else acct.shown_by_client(str(cid)))
    if order is None or code not in (None, order.contract_code) or not _margin(p, order):
        raise V5Error(*NOT_FOUND)
    field = "order_id" if order_id is not None else "client_order_id"
    return Processed(ok(order_fields(order, acct.now()), req.ts), id_field=field,
                     ids=(order_id or str(cid),))


def order_opens(acct: V5Account, req: V5Request) -> Processed:
    """``GET /v5/trade/order/opens``: live regular orders (new, partially filled), paged.

    Optional filters ``contract_code``, ``margin_mode``, ``order_id``, ``client_order_id``.
    """
    p = as_object(req.body)
    code = contract(p, acct.book.contracts, required=False)
    order_id = id_text(p, "order_id")
    cid = id_text(p, "client_order_id")
    now = acct.now()
    live = [o for o in acct.book.orders.values()
            if o.kind == "order" and state(o, now) in ("new", "partially_filled")
            and code in (None, o.contract_code) and _margin(p, o)
            and order_id in (None, o.order_id) and cid in (None, o.client_order_id)]
    return _listing(p, live, order_fields, now, req.ts)


def _states(p: Params, allowed: Iterable[str]) -> frozenset[str] | None:
    """The state filter, named ``state`` or ``states``, comma-joined; None when absent."""
    allowed = tuple(allowed)
    raw = text(p, "state") or text(p, "states")
    if raw is None:
        return None
    chosen = frozenset(raw.split(","))
    if not chosen <= set(allowed):
        raise illegal("state", f"some of {', '.join(allowed)} are required")
    return chosen


def _window(p: Params, ts: int) -> tuple[int, int]:
    """``start_time`` / ``end_time`` (ms): the last 48 h by default, at most 90 days back."""
    end = millis(p, "end_time") or ts
    start = millis(p, "start_time")
    if start is None:
        start = end - HISTORY_DEFAULT_MS
    if start > end:
        raise illegal("start_time", "it must not be after end_time")
    return max(start, ts - HISTORY_MAX_MS), end


def order_history(acct: V5Account, req: V5Request) -> Processed:
    """``GET /v5/trade/order/history``: finished regular orders (filled, partially canceled,
    canceled) of one contract and margin mode, both required; ``state`` (or ``states``) filters,
    ``type`` too; ``start_time`` / ``end_time`` on the creation time; paged."""
    p = as_object(req.body)
    code = contract(p, acct.book.contracts)
    choice(p, "margin_mode", MARGIN_MODES, required=True)
    wanted = _states(p, sorted(FINISHED)) or FINISHED
    kind = choice(p, "type", ("limit", "market", "post_only"))
    start, end = _window(p, req.ts)
    now = acct.now()
    done = [o for o in acct.book.orders.values()
            if o.kind == "order" and o.contract_code == code and _margin(p, o)
            and state(o, now) in wanted and start <= o.created_at <= end
            and kind in (None, order_type_of(o)[0])]
    return _listing(p, done, order_fields, now, req.ts)


def _algo_type(p: Params) -> str:
    """The required ``type`` (or ``algo_type``) of an algo read."""
    name = "type" if p.get("type") not in (None, "") else "algo_type"
    value = choice(p, name, ALGO_TYPES, required=True)
    assert value is not None
    return value


def algo_info(acct: V5Account, req: V5Request) -> Processed:
    """``GET /v5/algo/order``: one strategy order by ``algo_id`` or ``algo_client_order_id``
    (algo_id wins) and ``type``, required; not found is a whole-request 1061."""
    p = as_object(req.body)
    kind = _algo_type(p)
    code = contract(p, acct.book.contracts, required=False)
    algo_id = id_text(p, "algo_id")
    acid = id_text(p, "algo_client_order_id")
    if algo_id is None and acid is None:
        raise empty("algo_id")
    order = (acct.algo(algo_id, code) if algo_id is not None
             else acct.shown_algo_by_client(str(acid)))
    if order is None or algo_type_of(order) != kind or code not in (None, order.contract_code):
        raise V5Error(*NOT_FOUND)
    field = "algo_id" if algo_id is not None else "algo_client_order_id"
    return Processed(ok(algo_fields(order, acct.now()), req.ts), id_field=field,
                     ids=(algo_id or str(acid),))


def _algos(acct: V5Account, p: Params, kind: str, code: str | None) -> list[Order]:
    """Strategy orders of one type on the contract (any contract when None)."""
    return [o for o in acct.book.orders.values()
            if is_algo(o) and algo_type_of(o) == kind and code in (None, o.contract_code)
            and _margin(p, o)]


def algo_opens(acct: V5Account, req: V5Request) -> Processed:
    """``GET /v5/algo/order/opens``: active strategy orders of one ``type`` (required), paged;
    optional ``contract_code``, ``algo_id``, ``algo_client_order_id``."""
    p = as_object(req.body)
    kind = _algo_type(p)
    code = contract(p, acct.book.contracts, required=False)
    algo_id = id_text(p, "algo_id")
    acid = id_text(p, "algo_client_order_id")
    now = acct.now()
    live = [o for o in _algos(acct, p, kind, code)
            if algo_state(o, now) == "active" and algo_id in (None, o.order_id)
            and acid in (None, o.algo_client_order_id)]
    return _listing(p, live, algo_fields, now, req.ts)


def algo_history(acct: V5Account, req: V5Request) -> Processed:
    """``GET /v5/algo/order/history``: ended strategy orders (effective, canceled, failed) of
    one ``type`` (required); optional ``contract_code``, ``margin_mode``, ``state`` /
    ``states``, time window; paged."""
    p = as_object(req.body)
    kind = _algo_type(p)
    code = contract(p, acct.book.contracts, required=False)
    wanted = _states(p, ALGO_ENDED) or frozenset(ALGO_ENDED)
    start, end = _window(p, req.ts)
    now = acct.now()
    ended = [o for o in _algos(acct, p, kind, code)
             if algo_state(o, now) in wanted and start <= o.created_at <= end]
    return _listing(p, ended, algo_fields, now, req.ts)
