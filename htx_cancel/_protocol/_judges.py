"""The judges: every answer HTX gives, in every shape, turned into a :class:`Verdict`.

Pure functions, no I/O. An answer (HTTP status, body) or a transport error becomes a verdict:
what the attempt machine should make of it (``action``), the settled value when the exchange
answered for the request (a batch outcome, a decoded answer), the exchange's failure, the error
a caller would get. The envelope of every answer is read by :func:`judge_head` alone, whatever
its shape (v1 ``status``/``err_code``, v5 ``code``/``message``, the variants of both); every
whole-request code goes through the one classifier (``_codes.classify``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from .._catalog import Endpoint
from .._errors import (
    APIError,
    AuthenticationError,
    ConnectError,
    DecodeError,
    HTXError,
    MigratedAccountError,
    RequestTimeout,
    TransportError,
)
from .._events import RequestOutcome
from .._models import (
    Envelope,
    Head,
    ItemsEnvelope,
    code_of,
    decode_any,
    decode_envelope,
    decode_items,
    head_of,
)
from .._report import Failure
from ._codes import MAINTENANCE, NO_ORDERS, RATE_LIMITED, Action, classify
from ._merge import BatchOutcome, merge_all, merge_batch, merge_items, merge_items_all

__all__ = ["Verdict", "judge_cancel", "judge_error", "judge_head", "judge_request",
           "parse_cancel_after"]

_LOST_NOTE = "an earlier attempt got no answer: what it cancelled is not listed"
_PROVES_KEY = frozenset({Action.OK, Action.RETRY, Action.PAUSE, Action.FAIL})
_EVENT: dict[Action, RequestOutcome] = {
    Action.OK: "ok", Action.RETRY: "api_error", Action.FAIL: "api_error",
    Action.PAUSE: "rate_limited", Action.RESYNC: "auth_error", Action.AUTH: "auth_error",
    Action.LOST: "http_error", Action.NOT_SENT: "not_sent", Action.MIGRATED: "api_error",
}


class Verdict:
    """What one attempt came to: an action, and what goes with it.

    ``value`` is the settled result (a batch outcome, or a request's decoded answer) when
    ``action`` is OK; ``failure`` the exchange's code and message for a rejection; ``reason``
    a line for the batch record; ``error`` the exception a caller of ``request()`` would get;
    ``wait``, for a 1032, the seconds until the pool resets as its headers say (None: unknown).
    """

    __slots__ = ("action", "error", "failure", "outcome", "reason", "value", "wait")

    def __init__(self, action: Action, reason: str = "", *, failure: Failure | None = None,
                 value: Any = None, error: HTXError | None = None,
                 outcome: RequestOutcome | None = None) -> None:
        self.action = action
        self.reason = reason
        self.failure = failure
        self.value = value
        self.error = error
        self.outcome: RequestOutcome = outcome or _EVENT[action]
        self.wait: float | None = None

    @property
    def proves_key(self) -> bool:
        """True when the exchange got past checking the key and signature."""
        return self.action in _PROVES_KEY

    def __repr__(self) -> str:
        return f"Verdict({self.action.name}, {self.reason!r})"


def judge_error(exc: TransportError) -> Verdict:
    """A transport error: never sent (connect failed) or lost (it may have arrived)."""
    if isinstance(exc, ConnectError):
        return Verdict(Action.NOT_SENT, str(exc), error=exc)
    outcome: RequestOutcome = "timeout" if isinstance(exc, RequestTimeout) else "transport_error"
    return Verdict(Action.LOST, str(exc), error=exc, outcome=outcome)


def _judge_status(status: int, reset_in: float | None = None) -> Verdict | None:
    """What the HTTP status alone decides, before the body is read."""
    if status >= 500:
        return Verdict(Action.LOST, f"HTTP {status} from the exchange",
                       error=DecodeError(f"HTTP {status} from the exchange", status=status))
    if status == 429:  # the CDN's limiter: nothing reached the exchange; HTX's code for it
        return _rejected(Failure(RATE_LIMITED, "HTTP 429 Too Many Requests"), status, reset_in)
    return None


def _not_json(status: int) -> Verdict:
    """An answer that is not HTX's JSON: nothing learned, the request may have arrived."""
    text = f"HTTP {status}: answer is not HTX's JSON"
    return Verdict(Action.LOST, text, error=DecodeError(text, status=status))


def judge_head(head: Head, status: int, reset_in: float | None = None) -> Verdict | None:
    """None when the answer says the request succeeded, else the verdict on its rejection.

    Every envelope HTX uses: ``status`` ok / error / maintain, and codes as ``err_code``,
    ``err-code`` or ``code`` (``{"code": 200, ...}`` is a success), numeric or not; v5's
    ``success`` without a code. ``reset_in``: seconds to the pool's reset, as the answer's
    headers say, kept as the wait of a rate-limited verdict.
    """
    if head.status == "ok":
        return None
    if head.status == "maintain":
        return _rejected(Failure(MAINTENANCE, "exchange under maintenance"), status, reset_in)
    raw = head.raw_code()
    if raw is None:
        if head.success is not None:  # v5's ``{"success": true, ...}`` without a code
            return None if head.success else _rejected(Failure(0, head.text() or
                                                               "success: false"), status)
        if not head.status:
            return _not_json(status)
        return _rejected(Failure(0, head.text() or f"status {head.status!r} without a code"),
                         status)
    code = code_of(raw)
    if code == 200 and head.status in ("", "ok"):
        return None
    return _rejected(Failure(code, head.text()), status, reset_in)


def _rejected(failure: Failure, status: int, reset_in: float | None = None) -> Verdict:
    """A whole-request rejection, classified by its code; a rate limit waits ``reset_in``."""
    action = classify(failure.code)
    cls = AuthenticationError if action in (Action.AUTH, Action.RESYNC) else APIError
    if action is Action.MIGRATED:  # every id fails with a message that says to use v5
        moved = MigratedAccountError(failure.code, failure.message, status=status)
        failure = Failure(failure.code, moved.message)
        return Verdict(action, f"{failure.code}: {failure.message}", failure=failure,
                       error=moved)
    error = cls(failure.code, failure.message, status=status)
    if action is Action.LOST:  # the exchange's own "timeout": outcome unknown
        return Verdict(action, f"{failure.code}: {failure.message}", error=error,
                       outcome="api_error")
    verdict = Verdict(action, f"{failure.code}: {failure.message}", failure=failure, error=error)
    if action is Action.PAUSE:
        verdict.wait = reset_in
    return verdict


def judge_cancel(status: int, body: bytes, endpoint: Endpoint, ids: Sequence[str],
                 field: str | None, *, retried: bool, reset_in: float | None = None) -> Verdict:
    """Judge a cancel answer; when it settles the batch, ``value`` is the batch outcome.

    The endpoint's API says the answer's shape: v1's ``{errors, successes}`` or v5's list of
    per-id items (matched by the request's id ``field``). ``retried``: an earlier attempt may
    have reached the exchange (a cancel-all's answer then may not list all it cancelled).
    """
    if status >= 429:
        early = _judge_status(status, reset_in)
        if early is not None:
            return early
    v5 = endpoint.api == "v5"
    try:
        env: Head = decode_items(body) if v5 else decode_envelope(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _not_json(status)  # not HTX's JSON, or an id as a float (digits may be lost)
    verdict = judge_head(env, status, reset_in)
    cancel_all = endpoint.cancel_all
    if verdict is None:
        if cancel_all:
            value = (merge_items_all(env.items()) if isinstance(env, ItemsEnvelope)
                     else merge_all(env.data if isinstance(env, Envelope) else None))
            return Verdict(Action.OK, _LOST_NOTE if retried else "", value=value)
        if isinstance(env, ItemsEnvelope):
            return Verdict(Action.OK, value=merge_items(ids, field or "order_id", env.items(),
                                                        retried=retried))
        assert isinstance(env, Envelope)
        return Verdict(Action.OK, value=merge_batch(ids, env.data))
    if cancel_all and verdict.failure is not None and verdict.failure.code == NO_ORDERS:
        # After a lost attempt, "nothing open" may be because that attempt cancelled it all.
        note = f"{NO_ORDERS}: {verdict.failure.message}"
        return Verdict(Action.OK, f"{note}; {_LOST_NOTE}" if retried else note,
                       value=BatchOutcome())
    return verdict


def judge_request(status: int, body: bytes, *, reset_in: float | None = None) -> Verdict:
    """Judge any private request's answer; when it succeeded, ``value`` is the decoded JSON."""
    early = _judge_status(status, reset_in)
    if early is not None:
        return early
    try:
        obj = decode_any(body)
        head = head_of(obj)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _not_json(status)
    verdict = judge_head(head, status, reset_in)
    return Verdict(Action.OK, value=obj) if verdict is None else verdict


# -- the switch ----------------------------------------------------------------------------------


class _Times(msgspec.Struct, frozen=True):
    """``data`` of a cancel-after answer: the exchange's time and when it will cancel (ms)."""

    current_time: int | str = 0  # strings seen for ``ts``: accept them here too
    trigger_time: int | str = 0


class _CancelAfterData(msgspec.Struct, frozen=True):
    """What a cancel-after answer holds beyond its head (which ``judge_head`` reads)."""

    data: _Times | None = None


def parse_cancel_after(answer: object) -> tuple[int, int]:
    """The ``(current_time, trigger_time)`` of a cancel-after answer, in epoch ms.

    The answer's head is judged by the one reader of HTX's envelopes (``judge_head``): an
    error answer raises its :class:`APIError` (:class:`AuthenticationError` for a rejected
    key), one that is not HTX's JSON :class:`DecodeError`. A disarm answers without times:
    ``(0, 0)``.
    """
    try:
        obj = decode_any(answer) if isinstance(answer, (bytes, bytearray, memoryview)) else answer
        head = head_of(obj)
        parsed = msgspec.convert(obj, _CancelAfterData)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise DecodeError(f"cancel-after answer is not the expected shape: {exc}") from None
    verdict = judge_head(head, 200)
    if verdict is not None:
        error = verdict.error
        raise error if error is not None else DecodeError(verdict.reason)
    times = parsed.data or _Times()
    return _ms(times.current_time), _ms(times.trigger_time)


def _ms(raw: int | str) -> int:
    """Epoch ms as an int; 0 when it is not a number (the answer then did not say)."""
    if isinstance(raw, int):
        return raw
    return int(raw) if raw.isascii() and raw.isdigit() else 0
