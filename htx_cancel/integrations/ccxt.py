"""Every private USDT-margined futures request of ccxt's async ``htx`` through a limiter.

::

    import ccxt.async_support as ccxt
    from htx_cancel.integrations.ccxt import limit_ccxt

    exchange = limit_ccxt(ccxt.htx({"apiKey": key, "secret": secret}), client.limiter)
    await exchange.request("v5/trade/order", ["contract", "private"], "POST",
                           {...}, {"htx_priority": "normal"})

The slot is taken around ccxt's ``fetch2``, the step that signs and sends, so the signature's
timestamp is made after the grant, never before a wait. The request's path and method pick
the pools from the catalog: ccxt's v5 calls (``v5/trade/...``, ``v5/algo/...``,
``v5/position/...``, ``v5/account/...``; a GET of ``v5/trade/order`` is a read, a POST a
trade) and its v1 ``linear-swap-api`` calls (a path the catalog does not know takes
``unknown_pools``); other private requests (spot, coin-margined swaps: pools of their own at
HTX) and public ones pass through untouched. The ``ratelimit-*`` headers of each answer are fed
back (``slot.finish``) and an answer whose code is the over-limit code (1032, or the words ccxt
maps to it) pauses the pool, as for the library's own requests. Needs ccxt (the ``bench``
extra); it is imported by the caller, not here. Leave ccxt's own ``maxRetriesOnFailure`` at
0 (its default): a retry inside ``fetch2`` would reuse the slot.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import msgspec

from .._catalog import PRIORITIES, Endpoint, Priority, endpoint_for_path
from .._limits import Feedback, Limiter, Slot, check_priority, hold_slot
from .._models import RateLimitHeaders
from .._protocol import RATE_LIMITED_CODES

__all__ = ["limit_ccxt"]

_PREFIXES = ("linear-swap-api/", "v5/")


class _Error(msgspec.Struct, frozen=True):
    """The error fields of an HTX answer (the code may be a number or a string)."""

    err_code: int | str | None = None
    code: int | str | None = None


_decode_error = msgspec.json.Decoder(_Error).decode


def error_code(body: Any) -> int | str | None:
    """The ``err_code`` (or v5's ``code``) of an answer body; None if it has none."""
    if not body:
        return None
    try:
        answer = _decode_error(body)
    except (msgspec.DecodeError, TypeError):
        return None
    code = answer.err_code if answer.err_code is not None else answer.code
    if isinstance(code, str) and code.strip().lstrip("-").isdigit():
        return int(code)
    return code


class _Current:
    """The slot of the request this task is sending, and the headers and body of its answer."""

    __slots__ = ("body", "headers", "reset_in", "slot")

    def __init__(self, slot: Slot) -> None:
        self.slot = slot
        self.reset_in: float | None = None
        self.headers: RateLimitHeaders | None = None
        self.body: Any = None


_current: ContextVar[_Current | None] = ContextVar("htx_cancel_ccxt_request", default=None)


def endpoint_of(path: str, api: Any, method: str,
                unknown_pools: tuple[str, ...]) -> Endpoint | None:
    """The endpoint (and pools) of a ccxt request, or None when the limiter has no say."""
    private = "private" in api if isinstance(api, (list, tuple)) else api == "private"
    path = path.lstrip("/")
    if not private or not path.startswith(_PREFIXES) or path.startswith("v5/market/"):
        return None
    try:
        return endpoint_for_path("/" + path, method=method)
    except ValueError:
        return endpoint_for_path("/" + path, unknown_pools, method=method)


def read_headers(headers: Any) -> RateLimitHeaders | None:
    """The ``ratelimit-*`` headers of an answer, if it has all four."""
    if not headers:
        return None
    lower = {str(k).lower(): v for k, v in dict(headers).items()}
    try:
        return RateLimitHeaders(int(lower["ratelimit-limit"]), int(lower["ratelimit-interval"]),
                                int(lower["ratelimit-remaining"]), int(lower["ratelimit-reset"]))
    except (KeyError, ValueError):
        return None


def limit_ccxt(exchange: Any, limiter: Limiter, *, priority: Priority = "normal",
               unknown_pools: tuple[str, ...] = ("trade",)) -> Any:
    """Make ``exchange`` (``ccxt.async_support.htx``) take a slot of ``limiter`` per request.

    ``priority`` is the default; a call may pass ``{"htx_priority": "high"}`` in its
    ``config`` (the last argument of ``exchange.request``) to override it. Returns the same
    exchange object.
    """
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}, got {priority!r}")
    fetch2 = exchange.fetch2
    on_rest_response = exchange.on_rest_response
    clock = exchange.milliseconds

    async def limited_fetch2(path: str, api: Any = "public", method: str = "GET",
                             params: Any = None, config: Any = None) -> Any:
        params = {} if params is None else params
        config = {} if config is None else config
        endpoint = endpoint_of(path, api, method, unknown_pools)
        if endpoint is None:
            return await fetch2(path, api, method, params, config)
        wanted = config.get("htx_priority", priority) if isinstance(config, dict) else priority
        check_priority(wanted)
        async with hold_slot(limiter, endpoint, wanted) as slot:
            current = _Current(slot)
            token = _current.set(current)
            try:
                return await fetch2(path, api, method, params, config)
            except Exception:
                # the code of the answer, never a substring of the message: an order id may
                # hold the digits 1032
                if error_code(current.body) in RATE_LIMITED_CODES:
                    slot.finish(Feedback(headers=current.headers, reset_in=current.reset_in,
                                         rate_limited=True))
                raise
            finally:
                _current.reset(token)

    def observing(code: Any, reason: Any, url: Any, method: Any, response_headers: Any,
                  response_body: Any, request_headers: Any, request_body: Any) -> Any:
        current = _current.get()
        if current is not None:
            current.body = response_body
            rl = current.headers = read_headers(response_headers)
            if rl is not None:
                current.reset_in = rl.reset_in(clock() / 1000)
                current.slot.finish(Feedback(headers=rl, reset_in=current.reset_in))
        return on_rest_response(code, reason, url, method, response_headers, response_body,
                                request_headers, request_body)

    exchange.fetch2 = limited_fetch2
    exchange.on_rest_response = observing
    return exchange
