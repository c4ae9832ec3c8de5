"""The attempt loop as a pure state machine: judge each attempt, then say what to do next.

No I/O and no clock of its own: the client's driver sends, sleeps and re-syncs when told to,
and feeds back what happened with the time it happened. Judging is pure too: an answer (HTTP
status, body) or a transport error becomes a :class:`Verdict`, every whole-request code going
through the one classifier in ``_retry``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Literal

import msgspec

from ._catalog import Endpoint
from ._errors import (
    APIError,
    AuthenticationError,
    ConnectError,
    DecodeError,
    HTXError,
    MigratedAccountError,
    RequestTimeout,
    TransportError,
)
from ._events import RequestOutcome
from ._models import (
    Envelope,
    Head,
    ItemsEnvelope,
    code_of,
    decode_any,
    decode_envelope,
    decode_items,
    head_of,
)
from ._report import (
    NOT_SENT,
    BatchOutcome,
    Failure,
    merge_all,
    merge_batch,
    merge_items,
    merge_items_all,
)
from ._retry import MAINTENANCE, RATE_LIMITED, Action, RetryPolicy, classify

__all__ = ["RESYNC", "SEND", "Attempts", "Done", "Sleep", "Step", "Verdict", "judge_cancel",
           "judge_error", "judge_head", "judge_request"]

NO_ORDERS = 1051  # cancel-all with nothing open: not a failure
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


# -- judging ---------------------------------------------------------------------------------


def judge_error(exc: TransportError) -> Verdict:
    """A transport error: never sent (connect failed) or lost (it may have arrived)."""
    if isinstance(exc, ConnectError):
        return Verdict(Action.NOT_SENT, str(exc), error=exc)
    outcome: RequestOutcome = "timeout" if isinstance(exc, RequestTimeout) else "transport_error"
    return Verdict(Action.LOST, str(exc), error=exc, outcome=outcome)


def _judge_status(status: int) -> Verdict | None:
    """What the HTTP status alone decides, before the body is read."""
    if status >= 500:
        return Verdict(Action.LOST, f"HTTP {status} from the exchange",
                       error=DecodeError(f"HTTP {status} from the exchange", status=status))
    if status == 429:  # the CDN's limiter: nothing reached the exchange; HTX's code for it
        return _rejected(Failure(RATE_LIMITED, "HTTP 429 Too Many Requests"), status)
    return None


def _not_json(status: int) -> Verdict:
    """An answer that is not HTX's JSON: nothing learned, the request may have arrived."""
    text = f"HTTP {status}: answer is not HTX's JSON"
    return Verdict(Action.LOST, text, error=DecodeError(text, status=status))


def judge_head(head: Head, status: int) -> Verdict | None:
    """None when the answer says the request succeeded, else the verdict on its rejection.

    Every envelope HTX uses: ``status`` ok / error / maintain, and codes as ``err_code``,
    ``err-code`` or ``code`` (``{"code": 200, ...}`` is a success), numeric or not.
    """
    if head.status == "ok":
        return None
    if head.status == "maintain":
        return _rejected(Failure(MAINTENANCE, "exchange under maintenance"), status)
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
    return _rejected(Failure(code, head.text()), status)


def _rejected(failure: Failure, status: int) -> Verdict:
    """A whole-request rejection, classified by its code."""
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
    return Verdict(action, f"{failure.code}: {failure.message}", failure=failure, error=error)


def judge_cancel(status: int, body: bytes, endpoint: Endpoint, ids: Sequence[str],
                 field: str | None, *, retried: bool) -> Verdict:
    """Judge a cancel answer; when it settles the batch, ``value`` is the batch outcome.

    The endpoint's API says the answer's shape: v1's ``{errors, successes}`` or v5's list of
    per-id items (matched by the request's id ``field``). ``retried``: an earlier attempt may
    have reached the exchange (a cancel-all's answer then may not list all it cancelled).
    """
    if status >= 429:
        early = _judge_status(status)
        if early is not None:
            return early
    v5 = endpoint.api == "v5"
    try:
        env: Head = decode_items(body) if v5 else decode_envelope(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _not_json(status)  # not HTX's JSON, or an id as a float (digits may be lost)
    verdict = judge_head(env, status)
    cancel_all = endpoint.cancel_all
    if verdict is None:
        if cancel_all:
            value = (merge_items_all(env.items()) if isinstance(env, ItemsEnvelope)
                     else merge_all(env.data if isinstance(env, Envelope) else None))
            return Verdict(Action.OK, _LOST_NOTE if retried else "", value=value)
        if isinstance(env, ItemsEnvelope):
            return Verdict(Action.OK, value=merge_items(ids, field or "order_id", env.items()))
        assert isinstance(env, Envelope)
        return Verdict(Action.OK, value=merge_batch(ids, env.data))
    if cancel_all and verdict.failure is not None and verdict.failure.code == NO_ORDERS:
        # After a lost attempt, "nothing open" may be because that attempt cancelled it all.
        note = f"{NO_ORDERS}: {verdict.failure.message}"
        return Verdict(Action.OK, f"{note}; {_LOST_NOTE}" if retried else note,
                       value=BatchOutcome())
    return verdict


def judge_request(status: int, body: bytes) -> Verdict:
    """Judge any private request's answer; when it succeeded, ``value`` is the decoded JSON."""
    early = _judge_status(status)
    if early is not None:
        return early
    try:
        obj = decode_any(body)
        head = head_of(obj)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _not_json(status)
    verdict = judge_head(head, status)
    return Verdict(Action.OK, value=obj) if verdict is None else verdict


# -- the machine -----------------------------------------------------------------------------


class Step:
    """An instruction to the driver: ``SEND`` or ``RESYNC`` (constants), or :class:`Sleep`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


class Sleep(Step):
    """Wait ``delay`` seconds, then send again."""

    __slots__ = ("delay",)

    def __init__(self, delay: float) -> None:
        super().__init__("SLEEP")
        self.delay = delay

    def __repr__(self) -> str:
        return f"Sleep({self.delay:.3f})"


SEND = Step("SEND")
RESYNC = Step("RESYNC")


class Done:
    """The attempts are over.

    ``outcome``: ``"ok"`` (``last.value`` holds the result), ``"failed"`` (``failure`` is
    definite: nothing the exchange did went unreported) or ``"unknown"`` (an attempt may have
    reached the exchange and no answer says what it did). ``stop`` asks the driver to stop the
    whole call (the key or signature was rejected).
    """

    __slots__ = ("failure", "last", "outcome", "reason", "stop")

    def __init__(self, outcome: Literal["ok", "failed", "unknown"], reason: str,
                 last: Verdict | None, failure: Failure | None = None,
                 stop: bool = False) -> None:
        self.outcome = outcome
        self.reason = reason
        self.last = last
        self.failure = failure
        self.stop = stop

    def __repr__(self) -> str:
        return f"Done({self.outcome}, {self.reason!r})"


class Attempts:
    """The retry rules for one request, fed verdicts and the time, telling what comes next.

    Every request the library sends goes through one of these: cancels, reads, the switch,
    placements. ``retry_lost=False`` is for requests that are not idempotent (placements): once
    an attempt may have reached the exchange, it is not sent again; only what certainly never
    left (connect errors, 1032) is retried. ``patient=True`` is for requests that are safe to
    repeat and worth waiting for (verification's reads, the switch): maintenance (1431) is
    backed off and tried again too, as busy is. ``limited=False`` when no limiter holds the
    pool after a 1032: the machine then sleeps until the reset itself (or a backoff, without
    headers). ``attempts`` overrides the policy's ``max_attempts`` for this request.
    """

    __slots__ = ("_deadline", "_delivered", "_last", "_limit", "_limited", "_patient",
                 "_policy", "_resynced", "_retry_lost", "_rng", "attempts")

    def __init__(self, policy: RetryPolicy, deadline: float | None, rng: random.Random, *,
                 retry_lost: bool = True, limited: bool = True, patient: bool = False,
                 attempts: int | None = None) -> None:
        self._policy = policy
        self._deadline = deadline
        self._rng = rng
        self._retry_lost = retry_lost
        self._limited = limited
        self._patient = patient
        self._limit = policy.max_attempts if attempts is None else max(1, attempts)
        self._delivered = False
        self._resynced = False
        self._last: Verdict | None = None
        self.attempts = 0

    @property
    def delivered(self) -> bool:
        """True when an earlier attempt may have reached the exchange."""
        return self._delivered

    def may_send(self, now: float) -> Done | None:
        """With a slot granted, just before sending: None to go ahead, or why not.

        A retry never starts after the deadline (whatever it waited for: a backoff, a 1032
        pause, a re-sync); a batch's first attempt always goes.
        """
        if self.attempts and self._deadline is not None and now >= self._deadline:
            return self.give_up("the retry deadline passed")
        self.attempts += 1
        return None

    def stopped(self, failure: Failure) -> Done:
        """The call stopped on an authentication failure before this request was sent."""
        if self.attempts:
            return self.give_up("the call stopped: key or signature rejected")
        return Done("failed", f"not sent: {failure.code}: {failure.message}", None, failure)

    def feed(self, verdict: Verdict, now: float) -> Step | Done:
        """Take one attempt's verdict; say what to do next."""
        self._last = verdict
        action = verdict.action
        if action is Action.OK:
            return Done("ok", verdict.reason, verdict)
        if action is Action.LOST:
            self._delivered = True
            return self._backoff(now) if self._retry_lost else self.give_up()
        if action is Action.NOT_SENT:
            return self._backoff(now)
        if action is Action.PAUSE:
            if self.attempts >= self._limit:
                return self.give_up()
            if self._limited:  # the limiter holds the pool until the reset: no backoff
                return SEND
            wait = verdict.wait
            if wait is None:
                wait = self._policy.delay(self.attempts, self._rng)
            return self._sleep(now, wait, "the pool's reset comes after the retry deadline")
        if action is Action.RETRY and self._retry_lost:
            return self._backoff(now)
        if (action is Action.FAIL and self._patient and verdict.failure is not None
                and verdict.failure.code == MAINTENANCE):
            return self._backoff(now)
        if action is Action.RESYNC and not self._resynced:
            self._resynced = True
            self._limit += 1  # the rejected attempt does not count
            return RESYNC
        if action in (Action.AUTH, Action.RESYNC, Action.MIGRATED):
            # a rejected key, a timestamp still rejected after a re-sync, a migrated account:
            # every other request of the call would be refused the same way
            done = self.give_up()
            done.stop = True
            return done
        return self.give_up()

    def _backoff(self, now: float) -> Step | Done:
        """Sleep before the next attempt, unless attempts or time ran out."""
        if self.attempts >= self._limit:
            return self.give_up()
        return self._sleep(now, self._policy.delay(self.attempts, self._rng))

    def _sleep(self, now: float, delay: float, why: str = "") -> Step | Done:
        """Sleep ``delay`` before the next attempt, unless that ends past the deadline."""
        if self._deadline is not None and now + delay >= self._deadline:
            return self.give_up(why)
        return Sleep(delay)

    def give_up(self, why: str = "") -> Done:
        """End here: failed if nothing may have reached the exchange unanswered, else unknown."""
        last = self._last
        reason = last.reason if last is not None else "never sent"
        if why:
            reason = f"{reason} ({why})" if last is not None else why
        if not self._delivered:
            if last is not None and last.failure is not None:
                return Done("failed", reason, last, last.failure)
            return Done("failed", reason, last, Failure(NOT_SENT, reason))
        if last is not None and last.failure is not None:
            reason = f"{reason}, after an earlier attempt got no answer"
        return Done("unknown", reason, last)
