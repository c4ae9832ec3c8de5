"""htx_cancel: cancel HTX USDT-margined swap orders from asyncio, within the rate limits."""

from ._catalog import CATALOG, Endpoint, Kind, Margin, endpoint_for
from ._client import CancelClient
from ._clock import Clock, LoopClock
from ._credentials import Credentials
from ._errors import (
    APIError,
    AuthenticationError,
    CancelFailed,
    DecodeError,
    HTXError,
    RateLimiterError,
    RequestTimeout,
    TransportError,
)
from ._ids import validate_contract_code, validate_ids
from ._limiter import DEFAULT_LIMITS, Limiter, RateLimiter, RateLimits, shared_limiter
from ._models import RateLimitHeaders
from ._report import BatchRecord, CancelReport, Failure
from ._retry import RetryPolicy
from ._transport import AiohttpTransport, Answer, Timeouts, Transport

__version__ = "0.1.0"

__all__ = [
    "CATALOG",
    "DEFAULT_LIMITS",
    "APIError",
    "AiohttpTransport",
    "Answer",
    "AuthenticationError",
    "BatchRecord",
    "CancelClient",
    "CancelFailed",
    "CancelReport",
    "Clock",
    "Credentials",
    "DecodeError",
    "Endpoint",
    "Failure",
    "HTXError",
    "Kind",
    "Limiter",
    "LoopClock",
    "Margin",
    "RateLimitHeaders",
    "RateLimiter",
    "RateLimiterError",
    "RateLimits",
    "RequestTimeout",
    "RetryPolicy",
    "Timeouts",
    "Transport",
    "TransportError",
    "endpoint_for",
    "shared_limiter",
    "validate_contract_code",
    "validate_ids",
]
