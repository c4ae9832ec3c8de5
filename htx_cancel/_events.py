"""What the client tells an observer about each request it sends (for metrics and logs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["RequestEvent", "RequestObserver", "RequestOutcome"]

RequestOutcome = Literal[
    "ok",  # the exchange answered the request (per-id errors may still be inside)
    "api_error",  # a whole-request error from the exchange (code in ``code``)
    "rate_limited",  # 1032 or HTTP 429
    "auth_error",  # key, signature or timestamp rejected
    "http_error",  # 5xx or a body that is not HTX's JSON
    "not_sent",  # the request certainly never reached the exchange (connection refused)
    "transport_error",  # no answer: the request may have reached the exchange
    "timeout",  # no complete answer in time: the request may have reached the exchange
]


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """One attempt of one request, as the client saw it. Times are seconds of its clock.

    :param endpoint: the endpoint's name.
    :param priority: the priority it was sent at (``high``, ``normal``, ``low``).
    :param outcome: how the attempt ended: ``ok`` (answered; per-id errors may be inside),
        ``api_error``, ``rate_limited`` (1032 or HTTP 429), ``auth_error``, ``http_error`` (5xx or a
        body that is not HTX's JSON), ``not_sent`` (it certainly never reached the exchange),
        ``transport_error`` or ``timeout`` (it may have).
    :param status: the HTTP status; None without an answer.
    :param code: the exchange's error code for ``api_error``, ``rate_limited`` and ``auth_error``;
        None otherwise.
    :param wait: seconds from asking the limiter to being granted.
    :param latency: seconds from sending to the answer (or the error).
    """

    endpoint: str
    priority: str
    outcome: RequestOutcome
    status: int | None  # HTTP status, None without an answer
    code: int | str | None  # the exchange's code for api_error / rate_limited / auth_error
    wait: float  # from asking the limiter to being granted
    latency: float  # from sending to the answer (or the error)


RequestObserver = Callable[[RequestEvent], None]
