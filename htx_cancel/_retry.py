"""Retry policy, and the one classifier of HTX's whole-request codes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

__all__ = ["Action", "RetryPolicy", "backoff", "classify", "worth_repeating"]

RATE_LIMITED = 1032
# Over the limit: v1's 1032; v5's own code is unconfirmed, so the words other clients map too.
RATE_LIMITED_CODES = frozenset({RATE_LIMITED, "rate-too-many-requests",
                                "base-request-exceed-frequency-limit"})
# A v1 path on an account HTX moved to its new (v5) system: 6023 seen live, 6002 in the Java
# SDK's checklist. Never worth repeating: the same request is refused the same way.
MIGRATED_CODES = frozenset({6023, 6002})
BUSY = 1004
MAINTENANCE = 1431
TIMESTAMP = 12001  # "Invalid submission time": the clock is off, the key may be fine
AUTH_CODES = frozenset({403, 1253, *range(12002, 12009)})
TIMEOUT_CODES = frozenset({"timeout"})
AUTH_WORDS = ("signature", "access-key", "accesskey", "api-key", "apikey", "login")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try.

    ``max_attempts`` counts the first attempt. Before attempt n+1 the client waits a backoff
    that doubles from ``backoff`` up to ``backoff_max``, with equal jitter (half of it fixed,
    half random). No retry starts later than ``deadline`` seconds after the call began (None:
    no deadline); a batch's first attempt always goes.
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
        """Seconds to wait before attempt ``attempt + 1`` (equal jitter)."""
        return backoff(attempt, self.backoff, self.backoff_max, rng)


def backoff(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before attempt ``attempt + 1``: doubling from ``base`` up to ``cap``, equal
    jitter (half of it fixed, half random)."""
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return rng.uniform(ceiling / 2, ceiling)


class Action(Enum):
    """What one attempt's result asks for: the verdict kinds of the attempt machine."""

    OK = "ok"  # the exchange answered for the request
    RETRY = "retry"  # transient rejection (busy): back off and try again
    PAUSE = "pause"  # rate limited: the limiter holds the pool until its reset, then again
    RESYNC = "resync"  # timestamp rejected: measure server time, then try once more
    AUTH = "auth"  # key or signature rejected: stop the whole call
    MIGRATED = "migrated"  # a v1 path on an account on the v5 system: stop the whole call
    FAIL = "fail"  # final rejection: every id of the batch failed with it
    LOST = "lost"  # no usable answer: the request may have reached the exchange
    NOT_SENT = "not_sent"  # the request certainly never left


def classify(code: int | str) -> Action:
    """The action for a whole-request code, numeric or not (``"api-signature-not-valid"``)."""
    if code in RATE_LIMITED_CODES:
        return Action.PAUSE
    if code in MIGRATED_CODES:
        return Action.MIGRATED
    if code == BUSY:
        return Action.RETRY
    if code == TIMESTAMP:
        return Action.RESYNC
    if isinstance(code, str):
        text = code.lower()
        if text in TIMEOUT_CODES:
            return Action.LOST
        if any(word in text for word in AUTH_WORDS):
            return Action.AUTH
        return Action.FAIL
    if code in AUTH_CODES:
        return Action.AUTH
    return Action.FAIL


def worth_repeating(code: int | str) -> bool:
    """True when a request that is safe to repeat (a read, an arm of the switch) should be
    sent again after this whole-request code: busy, rate limited, HTX's "timeout" (outcome
    unknown), or maintenance (which a cancel does not wait out, but a read may)."""
    return code == MAINTENANCE or classify(code) in (Action.RETRY, Action.PAUSE, Action.LOST)
