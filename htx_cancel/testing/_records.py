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
    """One request to a private endpoint, as the server saw it (in ``ex.requests``).

    :param seq: its number, counting from 1 in arrival order.
    :param arrival: the server's monotonic time when the request arrived (after ``latency``), in
        seconds.
    :param path: the request's path.
    :param endpoint: the v1 endpoint name or the v5 path (on the trade socket: the op).
    :param access_key: the ``AccessKeyId`` it was signed with; None without one.
    :param query: the decoded query string without ``Signature`` (``AccessKeyId``,
        ``Timestamp``...).
    :param body: the decoded JSON body (empty for a GET; on the trade socket the op's ``data``).
    :param id_field: the id field of a cancel by ids (``order_id``, ``client_order_id``...); None
        otherwise.
    :param ids: the ids that field carried.
    :param status: the HTTP status of the answer (0 before it is answered).
    :param err_code: the whole-request error code (an int, or a string code); None without one.
    :param fault: the injected fault it consumed, if any.
    :param accepted: True when the rate limiter counted it.
    :param cancelled: the order ids this request cancelled.
    :param placed: the order ids it created.
    :param answered: the server's monotonic time when it was answered, in seconds; None before.
    :param method: ``POST``, ``GET``, or ``WS`` for an op on the trade socket.
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
