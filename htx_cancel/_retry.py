"""How hard to try: the retry policy a client is given, and its backoff formula."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryPolicy", "backoff"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try.

    ``max_attempts`` counts the first attempt. Before attempt n+1 the client waits a backoff
    that doubles from ``backoff`` up to ``backoff_max``, with equal jitter (half of it fixed,
    half random). No retry starts later than ``deadline`` seconds after the call began (None:
    no deadline); a batch's first attempt always goes.

    :param max_attempts: attempts of a request, the first included (default 4; at least 1).
    :param backoff: seconds of the first backoff (default 0.05; not negative).
    :param backoff_max: the longest backoff, in seconds (default 1.0; not negative).
    :param deadline: seconds after the call began past which no retry starts (default 60.0; None: no
        deadline; else more than 0).
    """

    max_attempts: int = 4
    backoff: float = 0.05
    backoff_max: float = 1.0
    deadline: float | None = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.backoff < 0 or self.backoff_max < 0:
            raise ValueError("backoff must not be negative")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError(f"deadline must be positive or None, got {self.deadline}")

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (equal jitter).

        :param attempt: the attempt just made (1 for the first).
        :param rng: the random source of the jitter.
        """
        return backoff(attempt, self.backoff, self.backoff_max, rng)


def backoff(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before attempt ``attempt + 1``: doubling from ``base`` up to ``cap``, equal
    jitter (half of it fixed, half random)."""
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return rng.uniform(ceiling / 2, ceiling)
