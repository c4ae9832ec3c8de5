"""A client's state at one moment (``client.stats()``): its limiter, its sockets, its ratio."""

from __future__ import annotations

from dataclasses import dataclass

from ._limits import LimiterStats
from ._ratio import RatioStats
from ._stream import StreamHealth
from ._transports._trade_ws import TradeSocketStats
from ._transports._warm import WarmStats

__all__ = ["ClientStats"]


@dataclass(frozen=True, slots=True)
class ClientStats:
    """A client's state at one moment (``client.stats()``).

    :param limiter: the limiter's pools; None when limiting is off, or when the limiter cannot say
        without I/O (such as the Redis one).
    :param stream: the order stream's health; None until it is opened.
    :param trade_socket: the trade socket's counts; None unless ``trade_socket=True``.
    :param cancel_ratio: the rolling 10 minutes of placements and quick cancels (HTX's placement
        ban).
    :param warm: the warm-up's rounds, connections and failures; None until ``warm()`` or
        ``warm=`` started one.
    """

    limiter: LimiterStats | None
    stream: StreamHealth | None
    trade_socket: TradeSocketStats | None
    cancel_ratio: RatioStats
    warm: WarmStats | None = None
