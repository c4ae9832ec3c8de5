"""ccxt's async HTX client pointed at the fake exchange (optional: ccxt is in the bench extra).

The request goes through ``exchange.request(path, ["contract", "private"], "POST", params)``:
the very call an implicit method makes, with ccxt's own signing, throttle, session and error
handling. On v5 the path is one of ccxt's own (``v5/trade/cancel_batch_orders``, implicit
``contractPrivatePostV5TradeCancelBatchOrders``; a JSON array body such as the algo cancel's
goes as it is); ccxt 4.5 no longer lists the ``linear-swap-api/v1`` private endpoints among its
implicit methods (there is no ``contractPrivatePostLinearSwapApiV1SwapCancel``), but signs and
sends them the same way. Every request costs 1 here (ccxt's own cost table has 0.41679 for the
v5 trade paths at ``rateLimit`` 100 ms: the same 24 a second), so ``rateLimit`` alone sets the
pace.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ._wire import Body, Route, rate_limited

__all__ = ["CcxtClient", "ccxt_version"]


def ccxt_version() -> str | None:
    """ccxt's version, or None when it is not installed."""
    try:
        import ccxt
    except ImportError:
        return None
    return str(ccxt.__version__)


class CcxtClient:
    """``ccxt.async_support.htx`` with its contract host set to the fake exchange."""

    def __init__(self, base_url: str, access_key: str, secret_key: str, *,
                 throttle: bool, rate_limit_ms: float = 100.0) -> None:
        import ccxt.async_support as ccxt_async

        self.exchange: Any = ccxt_async.htx({
            "apiKey": access_key,
            "secret": secret_key,
            "enableRateLimit": throttle,
            "rateLimit": rate_limit_ms,
        })
        # The signature names the host the request goes to; with a port, host:port.
        self.exchange.urls["hostnames"]["contract"] = urlsplit(base_url).netloc
        self.exchange.urls["api"]["contract"] = "http://{hostname}"
        self.rejected = 0
        self.errors = 0

    async def __aenter__(self) -> CcxtClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.exchange.close()

    async def send(self, route: Route, body: Body) -> dict[str, Any]:
        """One request through ccxt (throttle, sign, fetch, decode, error mapping)."""
        params: Body = list(body) if isinstance(body, list) else dict(body)
        answer: dict[str, Any] = await self.exchange.request(
            route.ccxt_path, ["contract", "private"], "POST", params, {"cost": 1})
        return answer

    async def send_retrying(self, route: Route, body: Body,
                            max_attempts: int = 30) -> dict[str, Any]:
        """Retry 1032 up to ``max_attempts``: on v1 ccxt raises ExchangeError with the body, on
        v5 (``{"code": 1032, ...}``) ccxt 4.5 returns the answer as a success."""
        import ccxt

        for _ in range(max_attempts):
            try:
                answer = await self.send(route, body)
            except ccxt.BaseError as exc:
                if "1032" not in str(exc):
                    self.errors += 1
                    return {}
            else:
                if not rate_limited(answer):
                    return answer
            self.rejected += 1
        return {}
