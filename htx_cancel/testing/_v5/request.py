"""One v5 request as its handler sees it, and what a handler is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._process import Processed
from .account import V5Account

__all__ = ["Handler", "V5Request"]


@dataclass(frozen=True, slots=True)
class V5Request:
    """The decoded request: ``body`` is the POST body's JSON (None when empty) or, for a GET, the
    request's own query parameters (a dict of strings); ``seq`` its record's number; ``ts`` the
    server's epoch milliseconds."""

    body: object
    seq: int
    ts: int


Handler = Callable[[V5Account, V5Request], Processed]
"""A v5 path's behaviour: apply the request to the account and build its answer.

It raises `V5Error` for a whole-request failure."""
