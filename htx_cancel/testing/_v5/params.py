"""Reading v5 request fields (a POST body object or GET parameters) as HTX checks them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from .codes import CLIENT_NOT_INT, NO_CONTRACT, V5Error, empty, illegal

__all__ = [
    "MAX_PAGE",
    "Params",
    "as_object",
    "choice",
    "client_id",
    "contract",
    "flag",
    "id_list",
    "id_text",
    "millis",
    "number",
    "paging",
    "text",
]

Params = Mapping[str, object]
MAX_PAGE = 100  # ``limit`` of the v5 listings: default 10, at most 100
INT64_MAX = 2**63 - 1


def as_object(body: object) -> dict[str, object]:
    """The body as a JSON object (an empty body is ``{}``); 1067 for an array or a scalar."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise illegal("body", "a JSON object is required")
    return body


def text(p: Params, name: str) -> str | None:
    """A text field; None when absent, null or ``""``; 1067 when it is not a string."""
    value = p.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise illegal(name, "a string is required")
    return value


def id_text(p: Params, name: str) -> str | None:
    """One id (a string: a JSON number would have lost digits on the way); None when absent.

    An array, or a comma-joined string (v1's way of sending several), is refused with 1067.
    """
    value = p.get(name)
    if isinstance(value, list):
        raise illegal(name, "one id (a string) is required, not an array")
    one = text(p, name)
    if one is not None and "," in one:
        raise illegal(name, "one id is required, not a comma-joined list")
    return one


def choice(p: Params, name: str, allowed: Iterable[str], *, required: bool = False,
           default: str | None = None) -> str | None:
    """An enumerated field: 1066 when required and absent, 1067 when not one of ``allowed``."""
    value = text(p, name)
    if value is None:
        if required:
            raise empty(name)
        return default
    if value not in allowed:
        raise illegal(name, f"one of {', '.join(allowed)} is required")
    return value


def contract(p: Params, known: Mapping[str, str], *, required: bool = True) -> str | None:
    """``contract_code``: 1066 when required and absent, 1014 when the exchange has no such one."""
    code = text(p, "contract_code")
    if code is None:
        if required:
            raise empty("contract_code")
        return None
    if code not in known:
        raise V5Error(*NO_CONTRACT)
    return code


def number(p: Params, name: str, *, required: bool = False,
           err: tuple[int, str] | None = None) -> float | None:
    """A positive number, as a JSON number or a numeric string; 1066 / ``err`` (or 1067)."""
    value = p.get(name)
    if value is None or value == "":
        if required:
            raise empty(name)
        return None
    parsed = -1.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        parsed = float(value)
    elif isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            parsed = -1.0
    if not (parsed > 0 and math.isfinite(parsed)):
        raise V5Error(*err) if err else illegal(name)
    return int(parsed) if parsed.is_integer() else parsed


def flag(p: Params, name: str) -> bool | None:
    """A boolean: true/false, "true"/"false", 1/0 or "1"/"0"; None when absent."""
    value = p.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if value in (1, "1", "true"):
        return True
    if value in (0, "0", "false"):
        return False
    raise illegal(name, "true or false is required")


def client_id(p: Params, name: str) -> str | None:
    """A client order id: an integer in [1, 2^63-1], as a string or a JSON integer (1065)."""
    value = p.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise V5Error(*CLIENT_NOT_INT)
    digits = str(value)
    if not (digits.isascii() and digits.isdigit() and 1 <= int(digits) <= INT64_MAX):
        raise V5Error(*CLIENT_NOT_INT)
    return digits


def id_list(p: Params, name: str) -> list[str] | None:
    """An array of id strings, first occurrences kept; None when absent or ``[]``.

    A comma-joined string (v1's shape) or any other non-array is refused with 1067, as is an
    item that is not a non-empty string.
    """
    value = p.get(name)
    if value is None or value == "" or value == []:
        return None
    if not isinstance(value, list):
        raise illegal(name, "an array of strings is required")
    if any(not isinstance(item, str) or not item for item in value):
        raise illegal(name, "every id must be a non-empty string")
    return [str(item) for item in value]


def millis(p: Params, name: str) -> int | None:
    """A UTC time in epoch milliseconds (a digit string or a JSON integer); None when absent."""
    value = p.get(name)
    if value is None or value == "":
        return None
    digits = str(value)
    if isinstance(value, bool) or not isinstance(value, str | int) or not digits.isdigit():
        raise illegal(name, "epoch milliseconds are required")
    return int(digits)


def paging(p: Params) -> tuple[int, int, str]:
    """``from`` (an order id cursor, 0 = from the start), ``limit`` (1..100, default 10) and
    ``direct`` (``next`` = higher ids, the default; ``prev`` = lower ids); 1067 otherwise."""
    start = p.get("from")
    cursor = 0
    if start is not None and start != "":
        digits = str(start)
        if isinstance(start, bool) or not isinstance(start, str | int) or not digits.isdigit():
            raise illegal("from", "an order id is required")
        cursor = int(digits)
    size = p.get("limit")
    limit = 10
    if size is not None and size != "":
        digits = str(size)
        if isinstance(size, bool) or not digits.isdigit() or not 1 <= int(digits) <= MAX_PAGE:
            raise illegal("limit", f"1 to {MAX_PAGE} is required")
        limit = int(digits)
    direct = choice(p, "direct", ("next", "prev"), default="next")
    assert direct is not None
    return cursor, limit, direct
