"""Fault injection for the fake exchange: scripted queues and seeded random faults."""

from __future__ import annotations

import enum
import random
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["AFTER_KINDS", "BEFORE_KINDS", "Fault", "FaultInjector", "FaultKind", "route_name"]


def route_name(name: str) -> str:
    """A name as the exchange records it: ``v5/...`` paths get their leading ``/``."""
    method, _, path = name.rpartition(" ")
    if path.startswith("v5/"):
        path = "/" + path
    return f"{method} {path}" if method else path


class FaultKind(enum.StrEnum):
    """What goes wrong: ``*_before`` kinds leave orders untouched, ``*_after`` cancel first."""

    ERROR_500_BEFORE = "error_500_before"
    """HTTP 500 with a plain-text body; orders untouched."""
    HTML_BEFORE = "html_before"
    """HTTP 502 with an HTML page (a CDN error page); orders untouched."""
    BUSY = "busy"
    """``err_code`` 1004 "System busy"; orders untouched."""
    RATE_LIMIT = "rate_limit"
    """An injected 1032; orders untouched and the request is not counted again."""
    MAINTENANCE = "maintenance"
    """``{"status": "maintain"}``; orders untouched."""
    MAINTENANCE_1431 = "maintenance_1431"
    """``err_code`` 1431 (maintenance); orders untouched."""
    CODE_1067 = "code_1067"
    """Exactly ``{"code": 1067, "message": "Illegal parameter."}`` (HTX's 2026 shape)."""
    API_ERROR = "api_error"
    """A whole-request error with the fault's ``err_code``/``err_msg``; orders untouched."""
    GATEWAY_504_AFTER = "gateway_504_after"
    """Orders cancelled, then HTTP 504 with an HTML body (no JSON)."""
    DROP_AFTER = "drop_after"
    """Orders cancelled, then the connection is closed with no answer at all."""
    TRUNCATE_AFTER = "truncate_after"
    """Orders cancelled, then status 200 and half the body; the connection closes early."""
    GARBLED_AFTER = "garbled_after"
    """Orders cancelled, then status 200 with a complete body holding half the JSON."""
    HANG_AFTER = "hang_after"
    """Orders cancelled, then the answer waits ``hang_seconds`` (for client timeouts)."""


BEFORE_KINDS = frozenset(
    {
        FaultKind.ERROR_500_BEFORE,
        FaultKind.HTML_BEFORE,
        FaultKind.BUSY,
        FaultKind.RATE_LIMIT,
        FaultKind.MAINTENANCE,
        FaultKind.MAINTENANCE_1431,
        FaultKind.CODE_1067,
        FaultKind.API_ERROR,
    }
)
AFTER_KINDS = frozenset(FaultKind) - BEFORE_KINDS
# Random faults are ones a client must survive without losing an id; an answer in the 2026
# shape is a real refusal, so it is only ever scripted or chosen explicitly.
RANDOM_KINDS = tuple(k for k in FaultKind if k is not FaultKind.CODE_1067)


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault; ``kind`` may be a string, ``hang_seconds`` overrides the default.

    ``err_code``/``err_msg`` are used by ``api_error`` (default 1056, settlement in progress);
    the code may be a string, as HTX sometimes sends (``"api-signature-not-valid"``, ``"timeout"``).
    """

    kind: FaultKind
    hang_seconds: float | None = None
    err_code: int | str = 1056
    err_msg: str = "Settlement in progress, orders cannot be cancelled."

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", FaultKind(self.kind))

    @property
    def before(self) -> bool:
        """True when the fault answers instead of processing (orders untouched)."""
        return self.kind in BEFORE_KINDS


def _as_fault(item: Fault | FaultKind | str) -> Fault:
    """Accept a Fault, a FaultKind or its string value."""
    return item if isinstance(item, Fault) else Fault(FaultKind(item))


class FaultInjector:
    """Decides which fault, if any, the next processed request gets.

    Scripted faults come first, in order, each taken by the next request whose endpoint matches
    (``None`` matches any endpoint). Otherwise, once :meth:`randomize` was called, a seeded random
    draw decides, so the same request sequence gets the same faults.
    """

    __slots__ = ("_endpoints", "_kinds", "_probability", "_rng", "_script", "hang_seconds")

    def __init__(self, *, hang_seconds: float = 5.0) -> None:
        self.hang_seconds = hang_seconds
        self._script: list[tuple[str | None, Fault]] = []
        self._rng: random.Random | None = None
        self._probability = 0.0
        self._kinds: tuple[Fault, ...] = ()
        self._endpoints: frozenset[str] | None = None

    def script(
        self, endpoint: str | None, faults: Iterable[Fault | FaultKind | str]
    ) -> FaultInjector:
        """Queue faults for the next requests to ``endpoint`` (or to any endpoint when None).

        ``endpoint`` is a v1 endpoint name (``swap_cancel``), a v5 path
        (``/v5/trade/cancel_batch_orders``: any method) or a method and a v5 path
        (``GET /v5/trade/order``); the catalog's names (``v5/trade/...``) work too.
        """
        target = None if endpoint is None else route_name(endpoint)
        self._script.extend((target, _as_fault(f)) for f in faults)
        return self

    def randomize(
        self,
        seed: int | None,
        probability: float,
        kinds: Iterable[Fault | FaultKind | str] | None = None,
        *,
        endpoints: Iterable[str] | None = None,
    ) -> FaultInjector:
        """Give unscripted requests a ``probability`` chance of one of ``kinds``.

        The default is every kind except ``code_1067``.
        """
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be within [0, 1], got {probability!r}")
        chosen = tuple(_as_fault(k) for k in (kinds if kinds is not None else RANDOM_KINDS))
        if not chosen:
            raise ValueError("kinds must not be empty")
        self._rng = random.Random(seed)
        self._probability = probability
        self._kinds = chosen
        self._endpoints = (frozenset(route_name(e) for e in endpoints)
                           if endpoints is not None else None)
        return self

    def clear(self) -> None:
        """Drop scripted faults and stop random ones."""
        self._script.clear()
        self._rng = None
        self._probability = 0.0

    @property
    def pending(self) -> int:
        """How many scripted faults are still queued."""
        return len(self._script)

    def take(self, endpoint: str, method: str = "POST") -> Fault | None:
        """The fault for a ``method`` request to ``endpoint`` now being processed, consuming it."""
        names = (endpoint, f"{method} {endpoint}")
        for index, (target, fault) in enumerate(self._script):
            if target is None or target in names:
                del self._script[index]
                return fault
        return self._draw(names)

    def _draw(self, names: tuple[str, str]) -> Fault | None:
        """A seeded random fault, or None."""
        if self._rng is None or (self._endpoints is not None
                                 and self._endpoints.isdisjoint(names)):
            return None
        if self._rng.random() >= self._probability:
            return None
        return self._rng.choice(self._kinds)

    def hang_for(self, fault: Fault) -> float:
        """How long a ``hang_after`` fault waits."""
        return self.hang_seconds if fault.hang_seconds is None else fault.hang_seconds
