"""What the fake exchange remembers about each request it received."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._faults import FaultKind

__all__ = ["Body", "RequestRecord"]

Body = dict[str, object] | list[object]
"""A request's body as recorded: its JSON (an object, or an array for some v5 paths), or a
GET request's own parameters."""


@dataclass(slots=True)
class RequestRecord:
    """One request to a private endpoint, as the server saw it.

    ``method`` is ``POST`` or ``GET``; ``endpoint`` the v1 endpoint name or the v5 path.
    ``arrival`` is the server's monotonic time when the request arrived (after ``latency``);
    ``accepted`` is True when the rate limiter counted it; ``cancelled`` holds the order ids this
    request cancelled; ``placed`` the order ids it created; ``fault`` the injected fault it
    consumed, if any. ``err_code`` is the whole-request error code (an int, or a string code).
    """

    seq: int
    arrival: float
    path: str
    endpoint: str | None
    access_key: str | None
    query: dict[str, str]
    body: Body = field(default_factory=dict)
    id_field: str | None = None
    ids: tuple[str, ...] = ()
    status: int = 0
    err_code: int | str | None = None
    fault: FaultKind | None = None
    accepted: bool = False
    cancelled: tuple[str, ...] = ()
    placed: tuple[str, ...] = ()
    answered: float | None = None
    method: str = "POST"

    @property
    def ok(self) -> bool:
        """True when the answer was HTTP 200 with no whole-request error."""
        return self.status == 200 and self.err_code is None
