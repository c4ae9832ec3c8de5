"""Retry policy and the pure classification of an answer into what to do next."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

__all__ = ["Action", "RetryPolicy", "classify_code"]

RATE_LIMITED = 1032
BUSY = 1004
MAINTENANCE = 1431
TIMESTAMP_CODES = frozenset({12001})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. ``max_attempts`` counts the first attempt; backoff doubles from
    ``backoff`` up to ``backoff_max`` with full jitter; no new attempt starts later than
    ``deadline`` seconds after the call began (None: no deadline)."""

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
        """Seconds to wait before attempt ``attempt + 1`` (full jitter)."""
        ceiling = min(self.backoff_max, self.backoff * (2 ** (attempt - 1)))
        return rng.uniform(ceiling / 2, ceiling)


class Action(Enum):
    """What the client does with a whole-request error code."""

    RETRY = "retry"  # transient: back off and try again
    PAUSE = "pause"  # rate limited: pause the pool until its reset, then try again
    RESYNC = "resync"  # timestamp rejected: measure server time, then try once more
    FAIL = "fail"  # final: every id of the batch failed with this code


def classify_code(code: int) -> Action:
    """The action for a whole-request ``err_code``."""
    if code == RATE_LIMITED:
        return Action.PAUSE
    if code == BUSY:
        return Action.RETRY
    if code in TIMESTAMP_CODES:
        return Action.RESYNC
    return Action.FAIL
