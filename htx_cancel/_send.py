"""The send chain: it does what the attempt machine says, and nothing else.

``run_batch`` / ``request`` (one request through its attempts) -> ``drive`` (the key gate,
sleeps, re-syncs, as the machine says) -> ``_attempt`` (a limiter slot) -> ``_exchange`` (sign,
send, judge). One ``Driver`` per client holds what its requests share (the clock offset, the key
gate); reports are written by the fold (``htx_cancel._protocol.Call``) alone.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence

import msgspec

from ._catalog import PRIORITIES, Endpoint
from ._clock import Clock
from ._errors import AuthenticationError, DecodeError, HTXError, TransportError
from ._events import RequestEvent, RequestObserver
from ._limits import NOT_SENT, SENT, Feedback, Limiter, Ticket
from ._models import decode_timestamp
from ._pace import Pacer
from ._protocol import (
    RESYNC,
    SEND,
    Action,
    Attempts,
    BatchOutcome,
    Call,
    Done,
    Sleep,
    Step,
    Verdict,
    fail_all,
    judge_cancel,
    judge_error,
    judge_request,
    unknown_all,
)
from ._report import BatchRecord, Failure
from ._retry import RetryPolicy
from ._signing import Signer
from ._transports import Answer, Request, Transport

__all__ = ["Batch", "Driver"]

log = logging.getLogger("htx_cancel")

RANKS = {p: i for i, p in enumerate(PRIORITIES)}  # a pacer's ranks: high first


class Batch:
    """One request's worth: where it goes, what it carries, its record."""

    __slots__ = ("body", "cancel", "endpoint", "gen", "ids", "params", "record")

    def __init__(self, endpoint: Endpoint, ids: Sequence[str], body: bytes,
                 record: BatchRecord, cancel: bool,
                 params: Mapping[str, str] | None = None) -> None:
        self.endpoint = endpoint
        self.ids = ids
        self.body = body
        self.record = record
        self.cancel = cancel  # False: a request() whose answer is returned as decoded JSON
        self.params = params
        self.gen = 0  # the clock sync generation its last attempt was signed with

    def judge(self, answer: Answer, retried: bool, reset_in: float | None) -> Verdict:
        """This request's judge on an answer: a cancel's outcome per id, or the JSON."""
        if self.cancel:
            return judge_cancel(answer.status, answer.body, self.endpoint, self.ids,
                                self.record.id_field, retried=retried, reset_in=reset_in)
        return judge_request(answer.status, answer.body, reset_in=reset_in)


class Driver:
    """Runs batches and requests for one client: limiter, signing, transport, time, key gate."""

    __slots__ = ("_base", "_clock", "_key_ok", "_limiter", "_offset", "_on_request", "_pacer",
                 "_probe", "_retry", "_rng", "_signer", "_sync_gen", "_syncing", "_transport")

    def __init__(self, base: str, signer: Signer, transport: Transport, limiter: Limiter | None,
                 clock: Clock, retry: RetryPolicy, rng: random.Random,
                 on_request: RequestObserver | None, pacer: Pacer | None = None) -> None:
        self._base = base
        self._pacer = pacer
        self._signer = signer
        self._transport = transport
        self._limiter = limiter
        self._clock = clock
        self._retry = retry
        self._rng = rng
        self._on_request = on_request
        self._offset = 0.0
        self._sync_gen = 0
        self._syncing: asyncio.Future[None] | None = None
        self._key_ok = False  # until the exchange accepts the key once, one batch at a time
        self._probe: asyncio.Future[None] | None = None

    @property
    def offset(self) -> float:
        """Seconds to add to this machine's clock to get the exchange's."""
        return self._offset

    async def sync_time(self) -> float:
        """Measure the exchange's clock from ``GET /api/v1/timestamp``; sign with it from now on.

        Returns the offset in seconds (exchange minus local), taken at the middle of the round
        trip. Raises [`DecodeError`][htx_cancel.DecodeError] when the answer holds no time.
        """
        before = self._clock.wall()
        answer = await self._transport.handle(Request("GET", f"{self._base}/api/v1/timestamp"))
        after = self._clock.wall()
        try:
            ts = decode_timestamp(answer.body)
        except msgspec.DecodeError:
            raise DecodeError(f"timestamp answer (HTTP {answer.status}) is not JSON",
                              status=answer.status) from None
        millis = ts.millis()
        if ts.status != "ok" or millis <= 0:
            raise DecodeError(f"timestamp answer has no time (HTTP {answer.status})",
                              status=answer.status)
        self._offset = millis / 1000 - (before + after) / 2
        self._sync_gen += 1
        log.info("server time synced: offset %+.3f s", self._offset)
        return self._offset

    def deadline(self) -> float | None:
        """When the retry deadline of a call starting now falls, on the client's clock."""
        d = self._retry.deadline
        return None if d is None else self._clock.now() + d

    async def request(self, call: Call, batch: Batch, *, repeatable: bool = False,
                      attempts: int | None = None) -> Done:
        """One request that is not a cancel batch.

        Not ``repeatable`` (a placement): never sent again once it may have arrived.
        ``repeatable`` (a read, an arm of the switch): tried again after a lost answer, busy
        or maintenance, up to ``attempts`` (the retry policy's by default).
        """
        machine = Attempts(self._retry, call.deadline, self._rng, retry_lost=repeatable,
                           limited=self._limiter is not None, patient=repeatable,
                           attempts=attempts)
        return await self.drive(call, batch, machine)

    async def run_batch(self, call: Call, batch: Batch) -> BatchOutcome:
        """One batch through its attempts; always returns an outcome for every id."""
        record = batch.record
        if call.stop is not None:
            failure = call.stop
            Call.closed(record, "failed", f"not sent: {failure.code}: {failure.message}")
            return fail_all(batch.ids, failure)
        machine = Attempts(self._retry, call.deadline, self._rng,
                           limited=self._limiter is not None)
        done = await self.drive(call, batch, machine)
        if done.stop and call.stop is None and done.last is not None:
            self._stop(call, batch, done.last)
        if done.outcome == "ok":
            assert done.last is not None
            Call.closed(record, "ok", done.reason or None)
            outcome: BatchOutcome = done.last.value
            return outcome
        Call.closed(record, done.outcome, done.reason)
        if done.outcome == "failed":
            assert done.failure is not None
            return fail_all(batch.ids, done.failure)
        log.warning("%s: %d ids unknown after %d attempts: %s", record.endpoint,
                    len(batch.ids), record.attempts, done.reason)
        return unknown_all(batch.ids, done.reason)

    def _stop(self, call: Call, batch: Batch, last: Verdict) -> None:
        """The key or signature was rejected: nothing more of this call is sent."""
        failure = last.failure or Failure(0, last.reason)
        call.stop = failure
        if isinstance(last.error, AuthenticationError):
            call.report.auth_failure = failure
            why = "key or signature rejected"
        else:
            why = "the account is on HTX's v5 system"
        log.info("%s: %s (%s: %s); the call stops, batches not yet sent fail with it",
                 batch.endpoint.name, why, failure.code, failure.message)

    async def drive(self, call: Call, batch: Batch, machine: Attempts) -> Done:
        """Do what the attempt machine says until it is done.

        Until the exchange has accepted this client's key once, one batch at a time goes (it
        holds the gate through its retries and a re-sync): a wrong key costs one request.
        """
        step: Step | Done = SEND
        clock = self._clock
        probe = False
        try:
            while True:
                if step is SEND:
                    if not self._key_ok and not probe:
                        probe = await self._gate(call)
                    try:
                        result = await self._attempt(call, batch, machine)
                    except HTXError as exc:  # the limiter's backend failed, before sending
                        if not batch.cancel:
                            raise  # request(): the caller gets it as it is
                        return machine.give_up(str(exc))
                    if isinstance(result, Done):
                        return result
                    if probe and result.proves_key:
                        probe = False
                        self._probed(True)
                    step = machine.feed(result, batch.record.answered_at)
                elif step is RESYNC:
                    try:
                        await self._resync(batch.gen)
                    except HTXError as exc:
                        return machine.give_up(f"time re-sync failed: {exc}")
                    step = SEND
                elif isinstance(step, Sleep):
                    await clock.sleep(step.delay)
                    step = SEND
                else:
                    assert isinstance(step, Done)
                    return step
        finally:
            if probe:
                self._probed(False)

    async def _attempt(self, call: Call, batch: Batch, machine: Attempts) -> Verdict | Done:
        """One attempt: a limiter slot, then sign, send and judge; the slot's feedback.

        Returns the verdict, or the machine's Done when it may not be sent at all (the call
        stopped, or a retry's slot came after the deadline). The slot goes back exactly once:
        unused when the request never left, with the answer's feedback otherwise (also when
        the attempt is cancelled in flight: it may have been sent).
        """
        if call.stop is not None:
            return machine.stopped(call.stop)
        clock, limiter = self._clock, self._limiter
        asked = clock.now()
        ticket = None if limiter is None else await limiter.acquire(batch.endpoint,
                                                                    call.priority)
        sent, answer, verdict = False, None, None
        try:
            if self._pacer is not None:  # a burst starts over several loop iterations
                await self._pacer.turn(RANKS[call.priority])
            now = clock.now()
            refused = machine.stopped(call.stop) if call.stop is not None else (
                machine.may_send(now))
            if refused is not None:
                return refused
            sent = True
            Call.sending(batch.record, machine.attempts, now)
            answer, verdict = await self._exchange(batch, machine.delivered)
            sent = verdict.action is not Action.NOT_SENT
        finally:
            if ticket is not None:
                self._feedback(ticket, sent, answer, verdict)
        Call.answered(batch.record, clock.now(), None if answer is None else answer.status,
                      None if verdict.action is Action.OK else verdict.reason)
        if verdict.action is Action.AUTH:
            self._key_ok = False
        elif verdict.action is Action.PAUSE:
            self._paused(batch.endpoint, verdict, answer)
        if self._on_request is not None or log.isEnabledFor(logging.DEBUG):
            self._tell(call, batch, verdict, now - asked,
                       answer.status if answer is not None else None)
        return verdict

    async def _exchange(self, batch: Batch, retried: bool) -> tuple[Answer | None, Verdict]:
        """Sign with the exchange's time, send, judge: the answer (None without one)."""
        ep = batch.endpoint
        batch.gen = self._sync_gen
        query = self._signer.query(ep.method, ep.path, self._clock.wall() + self._offset,
                                   batch.params)
        url = f"{self._base}{ep.path}?{query}"
        request = Request(ep.method, url, None if ep.method == "GET" else batch.body)
        try:
            answer = await self._transport.handle(request)
        except TransportError as exc:
            return None, judge_error(exc)
        rl = answer.ratelimit
        reset_in = None if rl is None else rl.reset_in(self._clock.wall() + self._offset)
        return answer, batch.judge(answer, retried, reset_in)

    def _paused(self, ep: Endpoint, verdict: Verdict, answer: Answer | None) -> None:
        """Say how long a rate-limited request's pools wait (the limiter holds them)."""
        rl = answer.ratelimit if answer is not None else None
        if self._limiter is None:
            log.info("%s: rate limited (%s); no limiter: the retry paused for %s", ep.name,
                     verdict.reason, "a backoff" if verdict.wait is None
                     else f"{verdict.wait:.3f} s")
        elif rl is None:
            log.info("%s: rate limited (%s); pools %s paused for a window", ep.name,
                     verdict.reason, ", ".join(ep.pools))
        else:
            log.info("%s: rate limited (%s); the %d per %d ms pool paused for %.3f s",
                     ep.name, verdict.reason, rl.limit, rl.interval_ms, verdict.wait or 0.0)

    def _feedback(self, ticket: Ticket, sent: bool, answer: Answer | None,
                  verdict: Verdict | None) -> None:
        """Hand the slot back, once, with what the exchange said: never sent (it goes straight
        back), the answer's ``ratelimit-*`` headers, an over-limit answer (the pool pauses until
        the reset the headers name)."""
        limiter = self._limiter
        assert limiter is not None
        if not sent:
            limiter.finish(ticket, NOT_SENT)
            return
        rl = answer.ratelimit if answer is not None else None
        limited = verdict is not None and verdict.action is Action.PAUSE
        if rl is None and not limited:
            limiter.finish(ticket, SENT)
            return
        reset_in = None if rl is None else rl.reset_in(self._clock.wall() + self._offset)
        limiter.finish(ticket, Feedback(headers=rl, reset_in=reset_in, rate_limited=limited))

    def _tell(self, call: Call, batch: Batch, verdict: Verdict, wait: float,
              status: int | None) -> None:
        """Log the attempt at DEBUG and tell the observer, if anyone listens."""
        observer = self._on_request
        record = batch.record
        if observer is not None:
            failure = verdict.failure
            observer(RequestEvent(batch.endpoint.name, call.priority, verdict.outcome,
                                  status,
                                  failure.code if failure is not None else None,
                                  wait, record.answered_at - record.sent_at))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s attempt %d: %d ids, %s, HTTP %s, waited %.3f s, %.3f s: %s",
                      batch.endpoint.name, record.attempts, len(batch.ids), verdict.outcome,
                      status, wait, record.answered_at - record.sent_at,
                      verdict.reason or "ok")

    async def _gate(self, call: Call) -> bool:
        """Until the exchange has accepted this client's key, requests go one at a time.

        Returns True when the caller is the one to try (it must call ``_probed`` after), False
        once the key is known good or the call has stopped.
        """
        while not self._key_ok and call.stop is None:
            probe = self._probe
            if probe is None:
                self._probe = asyncio.get_running_loop().create_future()
                return True
            await asyncio.wait((probe,))  # not cancelled with the waiter: others share it
        return False

    def _probed(self, proven: bool) -> None:
        """The trying batch is done: open the gate if the key got through, else let the next
        waiter try."""
        if proven:
            self._key_ok = True
        probe, self._probe = self._probe, None
        if probe is not None and not probe.done():
            probe.set_result(None)

    async def _resync(self, gen: int) -> None:
        """Re-measure the exchange's clock once for all the batches it rejected.

        ``gen`` is the sync generation the rejected attempt was signed with: if the clock was
        synced since, there is nothing to do; if a sync is under way, wait for it (and share its
        failure). A sync whose leader was cancelled is taken over by a waiter.
        """
        while gen == self._sync_gen:
            running = self._syncing
            if running is not None:
                await asyncio.wait((running,))
                failed = None if running.cancelled() else running.exception()
                if failed is not None:
                    raise failed
                continue
            done = self._syncing = asyncio.get_running_loop().create_future()
            try:
                await self.sync_time()
            except HTXError as exc:
                done.set_exception(exc)
                done.exception()  # retrieved here: waiters, if any, raise it themselves
                raise
            finally:
                self._syncing = None
                if not done.done():
                    done.set_result(None)
            return
