"""HTX's whole-request codes and the one classifier that turns a code into an action.

Every whole-request code of every answer (cancel, request, switch, read) goes through
`classify()`; the attempt machine acts on the `Action` it returns.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["MAINTENANCE", "MIGRATED_CODES", "NO_ORDERS", "RATE_LIMITED", "RATE_LIMITED_CODES",
           "Action", "classify"]

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
NO_ORDERS = 1051  # cancel-all with nothing open: not a failure


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
