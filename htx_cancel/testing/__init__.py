"""Test helpers: a fake clock and a fake HTX exchange (a real aiohttp server on 127.0.0.1)."""

from ._clock import FakeClock
from ._exchange import FakeExchange
from ._faults import Fault, FaultInjector, FaultKind
from ._mock import MockRequest, MockTransport
from ._orders import Order
from ._outsider import Outsider
from ._records import RequestRecord
from ._switch import CancelAfterSwitch, SwitchFiring

__all__ = [
    "CancelAfterSwitch",
    "FakeClock",
    "FakeExchange",
    "Fault",
    "FaultInjector",
    "FaultKind",
    "MockRequest",
    "MockTransport",
    "Order",
    "Outsider",
    "RequestRecord",
    "SwitchFiring",
]
