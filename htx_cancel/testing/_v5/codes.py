"""Every code the fake's v5 side answers, in one place.

HTX documents no v5 failure codes: the numbers are v1's (``HTX_FACTS.md``), used where a v5
answer needs one. Whole-request errors are ``{"code": <int>, "message": ..., "ts": ...}``;
per-item results of batch cancels carry the same ``code`` / ``message`` pairs. Messages are the
fake's text (clients must match on codes, never on messages).
"""

from __future__ import annotations

__all__ = [
    "CANCELLING",
    "CLIENT_NOT_INT",
    "CLIENT_REPEATED",
    "ENVELOPE_OK",
    "FILLED",
    "INPUT",
    "ITEM_OK",
    "ITEM_OK_MESSAGE",
    "MIGRATED",
    "NOTHING",
    "NOT_FOUND",
    "NO_CONTRACT",
    "NO_PATH",
    "OK",
    "RATE_LIMITED",
    "REPEATED",
    "TOO_MANY",
    "VOLUME",
    "V5Error",
    "empty",
    "illegal",
]

OK = 200
ENVELOPE_OK = "Success"
ITEM_OK_MESSAGE = "成功"  # per-item success text, as HTX's batch examples show it
ITEM_OK = (OK, ITEM_OK_MESSAGE)

# Per item (batch cancels, algo cancels, cancel-all) and whole-request (single cancel, lookups)
NOT_FOUND = (1061, "This order doesn't exist.")  # unknown, other contract, or client id expired
CANCELLING = (1062, "Cancelling. Please be patient.")  # the timed cancelling phase
FILLED = (1063, "The order has been executed.")  # filled (algo: triggered), by order/algo id
REPEATED = (1071, "Repeated withdraw.")  # already cancelled, asked by order/algo id

# Whole-request
NO_CONTRACT = (1014, "This contract doesn't exist.")
INPUT = (1030, "Input error.")  # the body is not JSON
RATE_LIMITED = (1032, "The number of access exceeded the limit.")
VOLUME = (1040, "Invalid amount, please modify and order again.")
CLIENT_REPEATED = (1050, "Customer's order number is repeated. Please try again later.")
NOTHING = (1051, "No orders to cancel.")  # cancel-all with nothing open (answer style)
TOO_MANY = (1052, "The number exceeds the batch limit.")
CLIENT_NOT_INT = (1065, "The form number of client isn't an integer.")
NO_PATH = (404, "Resources do not exist")

MIGRATED: dict[int, str] = {
    # v1 paths on an account that trades on v5 (``migrated=True``), in the v1 envelope
    6023: "The new feature is temporarily unavailable.",
    6002: "The interface is no longer available for this account.",
}


class V5Error(Exception):
    """A whole-request failure: the v5 ``code`` and ``message``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


def empty(name: str) -> V5Error:
    """1066: a required field is missing."""
    return V5Error(1066, f"{name} cannot be empty.")


def illegal(name: str, why: str = "") -> V5Error:
    """1067: a field has a value or a shape HTX does not take."""
    return V5Error(1067, f"Illegal parameter {name}{': ' + why if why else '.'}")
