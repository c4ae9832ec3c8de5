"""htx_cancel: cancel HTX USDT-margined futures orders from asyncio, within the rate limits.

What a user needs is here; the rest (the endpoint catalog's lookups, the aiohttp transport,
clocks, wire models, id validation) is reachable from its module.
"""

from importlib.metadata import PackageNotFoundError, version

from ._catalog import CATALOG, Kind, Margin, Priority
from ._client import CancelClient
from ._client_stats import ClientStats
from ._credentials import Credentials
from ._errors import (
    APIError,
    AuthenticationError,
    ConnectError,
    DecodeError,
    HTXError,
    MigratedAccountError,
    RateLimiterError,
    RequestTimeout,
    TransportError,
)
from ._events import RequestEvent
from ._limits import (
    Feedback,
    Limiter,
    LimiterStats,
    PoolStats,
    RateLimiter,
    RateLimitHeaders,
    RateLimits,
    shared_limiter,
)
from ._order_state import OrderState
from ._protocol._push import OrderUpdate
from ._ratio import RatioStats
from ._report import BatchRecord, CancelFailed, CancelReport, Failure
from ._retry import RetryPolicy
from ._stream import StreamGap, StreamHealth
from ._switch import CancelAfter
from ._transports import Answer, Timeouts, Transport
from ._transports._trade_ws import TradeSocketStats
from ._transports._warm import WarmStats
from ._verification import VerifyPolicy

try:
    __version__ = version("htx_cancel")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "CATALOG",
    "APIError",
    "Answer",
    "AuthenticationError",
    "BatchRecord",
    "CancelAfter",
    "CancelClient",
    "CancelFailed",
    "CancelReport",
    "ClientStats",
    "ConnectError",
    "Credentials",
    "DecodeError",
    "Failure",
    "Feedback",
    "HTXError",
    "Kind",
    "Limiter",
    "LimiterStats",
    "Margin",
    "MigratedAccountError",
    "OrderState",
    "OrderUpdate",
    "PoolStats",
    "Priority",
    "RateLimitHeaders",
    "RateLimiter",
    "RateLimiterError",
    "RateLimits",
    "RatioStats",
    "RequestEvent",
    "RequestTimeout",
    "RetryPolicy",
    "StreamGap",
    "StreamHealth",
    "Timeouts",
    "TradeSocketStats",
    "Transport",
    "TransportError",
    "VerifyPolicy",
    "WarmStats",
    "__version__",
    "shared_limiter",
]
