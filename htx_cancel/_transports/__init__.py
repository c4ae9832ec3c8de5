"""Transports: the only layer that does network I/O (and the only one importing aiohttp).

One seam, `Transport` ``handle(request) -> answer``: the HTTP transport here, the mock in
``htx_cancel.testing``.
"""

from ._base import Answer, Request, Timeouts, Transport, ratelimit_of
from ._http import AiohttpTransport

__all__ = ["AiohttpTransport", "Answer", "Request", "Timeouts", "Transport", "ratelimit_of"]
