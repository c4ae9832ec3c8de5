"""Test helpers: a fake clock and a fake HTX exchange (a real aiohttp server on 127.0.0.1)."""

from ._clock import FakeClock
from ._exchange import FakeExchange
from ._faults import Fault, FaultInjector, FaultKind
from ._mock import MockRequest, MockTransport
from ._orders import Order
from ._records import RequestRecord

__all__ = [
    "FakeClock",
    "FakeExchange",
    "Fault",
    "FaultInjector",
    "FaultKind",
    "MockRequest",
    "MockTransport",
    "Order",
    "RequestRecord",
]
