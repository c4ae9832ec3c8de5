"""ccxt's async HTX client pointed at the fake exchange (optional: ccxt is in the bench extra).

ccxt 4.5 no longer lists the ``linear-swap-api/v1`` private endpoints among HTX's implicit
methods (there is no ``contractPrivatePostLinearSwapApiV1SwapCancel``), so the request goes
through ``exchange.request(path, ["contract", "private"], "POST", params)``: the very call an
implicit method makes, with ccxt's own signing, throttle, session and error handling.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

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

    async def post(self, endpoint: str, body: dict[str, str]) -> dict[str, Any]:
        """One request through ccxt (throttle, sign, fetch, decode, error mapping)."""
        answer: dict[str, Any] = await self.exchange.request(
            f"linear-swap-api/v1/{endpoint}", ["contract", "private"], "POST", dict(body),
            {"cost": 1})
        return answer

    async def post_retrying(self, endpoint: str, body: dict[str, str],
                            max_attempts: int = 30) -> dict[str, Any]:
        """Retry 1032 (ccxt raises ExchangeError with the body) up to ``max_attempts``."""
        import ccxt

        for _ in range(max_attempts):
            try:
                return await self.post(endpoint, body)
            except ccxt.BaseError as exc:
                if "1032" not in str(exc):
                    self.errors += 1
                    return {}
                self.rejected += 1
        return {}
