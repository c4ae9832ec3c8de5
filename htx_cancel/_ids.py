"""Id validation, de-duplication and chunking: pure functions, run before any I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, MutableSequence, Sequence
from collections.abc import Set as AbstractSet
from typing import Literal, TypeAlias

__all__ = ["Ids", "chunk", "validate_choice", "validate_contract_code", "validate_ids"]

MAX_ID = 2**63 - 1
_MAX_TEXT = str(MAX_ID)
_PLAIN = re.compile(r"[1-9][0-9]{0,18}").fullmatch  # ASCII digits only, no leading zero
_CONTRACT = re.compile(r"[A-Z0-9_-]+").fullmatch
Ids: TypeAlias = (MutableSequence[str] | MutableSequence[int] | MutableSequence[str | int]
                  | tuple[str | int, ...] | AbstractSet[str | int] | Iterator[str | int] | range)
"""Ids as a caller passes them: a list, tuple, set, dict keys, a generator or a range of str or
int ids; never one string (which would be its characters)."""
Direction = Literal["buy", "sell"]
Offset = Literal["open", "close"]
Side = Literal["buy", "sell"]
PositionSide = Literal["long", "short", "both"]
DIRECTIONS: tuple[Direction, ...] = ("buy", "sell")
OFFSETS: tuple[Offset, ...] = ("open", "close")
SIDES: tuple[Side, ...] = ("buy", "sell")
POSITION_SIDES: tuple[PositionSide, ...] = ("long", "short", "both")
FILTER_CHOICES: dict[str, tuple[str, ...]] = {
    "direction": DIRECTIONS, "offset": OFFSETS, "side": SIDES, "position_side": POSITION_SIDES,
}


def _normalise(raw: object, what: str) -> str:
    """One id as a canonical decimal string, or ValueError naming it."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise ValueError(f"{what} {raw!r} must be a str or int, not {type(raw).__name__}")
    text = str(raw)
    if not text:
        raise ValueError(f"empty {what}")
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{what} {text!r} must contain only the digits 0-9")
    if text[0] == "0":
        raise ValueError(f"{what} {text!r} must be a positive integer without leading zeros")
    if len(text) > 19 or int(text) > MAX_ID:
        raise ValueError(f"{what} {text!r} is out of range [1, {MAX_ID}]")
    return text


def validate_ids(ids: Iterable[object], what: str = "order_id") -> list[str]:
    """Validate ids and drop duplicates, keeping first-seen order.

    An id is a positive decimal integer in [1, 2**63-1] given as ``str`` or ``int``; anything
    else (empty, spaces, commas, signs, floats, leading zeros) raises ``ValueError`` naming it.
    """
    if isinstance(ids, (str, bytes)):
        raise ValueError(f"{what}s must be a sequence of ids, not a single {type(ids).__name__}")
    seen: dict[str, None] = {}
    for raw in ids:
        # fast path for the usual case, a well-formed str id; anything else is checked in full
        if type(raw) is str and _PLAIN(raw) and (len(raw) < 19 or raw <= _MAX_TEXT):
            seen[raw] = None
        else:
            seen[_normalise(raw, what)] = None
    return list(seen)


def chunk(ids: Sequence[str], size: int) -> list[Sequence[str]]:
    """Split ids into consecutive batches of at most ``size``, order kept."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def validate_contract_code(contract_code: object) -> str:
    """A contract code such as ``BTC-USDT``; upper-cased, ValueError if empty or malformed."""
    if not isinstance(contract_code, str) or not contract_code.strip():
        raise ValueError(f"contract_code must be a non-empty string, got {contract_code!r}")
    code = contract_code.strip().upper()
    if not _CONTRACT(code):
        raise ValueError(f"contract_code {contract_code!r} contains invalid characters")
    return code


def validate_choice(name: str, value: object, allowed: tuple[str, ...]) -> str | None:
    """None or one of ``allowed``; ValueError naming the bad value otherwise."""
    if value is None:
        return None
    if isinstance(value, str) and value in allowed:
        return value
    raise ValueError(f"{name} must be one of {', '.join(allowed)} or None, got {value!r}")
