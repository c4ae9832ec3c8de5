"""What the caller tells the limiter about a request once it is over: one value, one call."""

from __future__ import annotations

from dataclasses import dataclass

from .._models import RateLimitHeaders

__all__ = ["NOT_SENT", "SENT", "Feedback"]


@dataclass(frozen=True, slots=True)
class Feedback:
    """How a granted request ended, for :meth:`Limiter.finish`.

    ``sent``: False when the request certainly never left (its slots go straight back); True
    when it may have reached the exchange (its slots stay counted for a window after now).
    ``headers``: the answer's ``ratelimit-*`` headers, if it had them. ``reset_in``: seconds to
    the exchange's reset per those headers (computed by the caller with the server's time).
    ``rate_limited``: the exchange answered with its over-limit code (1032 on v1): the pool the
    headers name (or every pool of the request) pauses until the reset.
    """

    sent: bool = True
    headers: RateLimitHeaders | None = None
    reset_in: float | None = None
    rate_limited: bool = False

    def __post_init__(self) -> None:
        if not self.sent and (self.headers is not None or self.rate_limited):
            raise ValueError("a request that was never sent has no answer: "
                             "headers and rate_limited need sent=True")


SENT = Feedback()
"""A request that may have been sent, answer unknown or without headers."""

NOT_SENT = Feedback(sent=False)
"""A request that certainly never left."""
