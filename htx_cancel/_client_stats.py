"""A client's state at one moment (``client.stats()``): its limiter, its sockets, its ratio."""

from __future__ import annotations

from dataclasses import dataclass

from ._limits import LimiterStats
from ._ratio import RatioStats
from ._stream import StreamHealth
from ._transports._trade_ws import TradeSocketStats

__all__ = ["ClientStats"]


@dataclass(frozen=True, slots=True)
class ClientStats:
    """``limiter``: the limiter's pools (None when limiting is off, or when the limiter cannot
    say). ``stream``: the order stream's health (None until it is opened). ``trade_socket``:
    the trade socket's counts (None unless ``trade_socket=True``). ``cancel_ratio``: the
    rolling 10 minutes of placements and quick cancels (HTX's placement ban)."""

    limiter: LimiterStats | None
    stream: StreamHealth | None
    trade_socket: TradeSocketStats | None
    cancel_ratio: RatioStats
