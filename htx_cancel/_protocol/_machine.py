"""The attempt machine: one request's retries as a pure state machine.

Fed each attempt's `Verdict` and the time, it says what comes next
(`SEND`, `Sleep`, `RESYNC`, or `Done`). It owns every rule of retrying:
the attempts allowed, backoff, the deadline, what 1032 and a refused timestamp mean, what may be
sent again once it may have reached the exchange ("never sent" vs "may have arrived"), when the
whole call must stop. No I/O and no clock of its own: the client's send chain does what it says.
"""

from __future__ import annotations

import random
from typing import Literal

from .._report import NOT_SENT, Failure
from .._retry import RetryPolicy
from ._codes import MAINTENANCE, Action
from ._judges import Verdict

__all__ = ["RESYNC", "SEND", "Attempts", "Done", "Sleep", "Step"]


class Step:
    """An instruction to the driver: ``SEND`` or ``RESYNC`` (constants), or `Sleep`."""

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
