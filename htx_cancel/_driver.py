"""The thin async driver: it does what the attempt machine says, and nothing else.

Wait for the key gate and a limiter slot, sign, send, judge, sleep, re-sync the clock; one
``Driver`` per client holds what its batches share (the clock offset, the key gate).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence

import msgspec

from ._attempt import (
    RESYNC,
    SEND,
    Attempts,
    Done,
    Sleep,
    Step,
    Verdict,
    judge_cancel,
    judge_error,
    judge_request,
)
from ._catalog import Endpoint, Priority
from ._clock import Clock
from ._errors import AuthenticationError, DecodeError, HTXError, TransportError
from ._events import RequestEvent, RequestObserver
from ._limits import Limiter, Ticket
from ._models import decode_timestamp
from ._report import BatchOutcome, BatchRecord, CancelReport, Failure, fail_all, unknown_all
from ._retry import Action, RetryPolicy
from ._signing import Signer
from ._transport import Answer, Transport

__all__ = ["Batch", "Call", "Driver"]

log = logging.getLogger("htx_cancel")


class Call:
    """One call: its deadline and priority, and the report its batches fold into.

    Each batch is folded in the moment it settles, so the report always holds every settled
    id; ``finish`` puts this call's ids back in the order given if batches settled out of it.
    """

    __slots__ = ("_marks", "_settled", "_shuffled", "_top", "deadline", "priority", "report",
                 "stop")

    def __init__(self, deadline: float | None, priority: Priority,
                 report: CancelReport) -> None:
        self.deadline = deadline
        self.priority = priority
        self.report = report
        self.stop: Failure | None = None  # the authentication failure that stopped the call
        self._marks = (len(report.cancelled), len(report.unknown))  # where this call's ids start
        self._settled: list[tuple[int, BatchOutcome]] = []
        self._top = -1  # the highest batch index settled so far
        self._shuffled = False

    def settle(self, index: int, outcome: BatchOutcome, record: BatchRecord) -> None:
        """Batch ``index`` is settled: fold it in now, then tell ``on_batch``."""
        report = self.report
        report.add(outcome)
        self._settled.append((index, outcome))
        if index > self._top:
            self._top = index
        else:
            self._shuffled = True
        if report.on_batch is not None:
            report.on_batch(record)

    def finish(self) -> None:
        """The call is ending: if batches settled out of order, put its ids in order, once."""
        if not self._shuffled:
            return
        self._shuffled = False
        ordered = sorted(self._settled, key=_first)
        report = self.report
        start, unknown_start = self._marks
        _reorder(report.cancelled, start, [i for _, o in ordered for i in o.cancelled])
        _reorder(report.unknown, unknown_start, [i for _, o in ordered for i in o.unknown])
        failed = report.failed
        for _, outcome in ordered:
            for id_ in outcome.failed:
                failed[id_] = failed.pop(id_)  # moved to the end, in the order given


def _first(item: tuple[int, BatchOutcome]) -> int:
    """Sort key: the batch index."""
    return item[0]


def _reorder(ids: list[str], start: int, mine: list[str]) -> None:
    """Put ``mine`` in the slots of ``ids[start:]`` that hold them, in the order of ``mine``.

    Ids another call put in the same report (a report shared by calls) keep their slots.
    """
    if len(ids) - start == len(mine):  # the usual case: nobody else wrote to this report
        ids[start:] = mine
        return
    own = set(mine)
    supply = iter(mine)
    ids[start:] = [next(supply, id_) if id_ in own else id_ for id_ in ids[start:]]


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


class Driver:
    """Runs batches and requests for one client: limiter, signing, transport, time, key gate."""

    __slots__ = ("_base", "_clock", "_key_ok", "_limiter", "_offset", "_on_request", "_probe",
                 "_retry", "_rng", "_signer", "_sync_gen", "_syncing", "_transport")

    def __init__(self, base: str, signer: Signer, transport: Transport, limiter: Limiter | None,
                 clock: Clock, retry: RetryPolicy, rng: random.Random,
                 on_request: RequestObserver | None) -> None:
        self._base = base
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
        trip. Raises :class:`~htx_cancel.DecodeError` when the answer holds no time.
        """
        before = self._clock.wall()
        answer = await self._transport.get(f"{self._base}/api/v1/timestamp")
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
            record.outcome, record.error = "failed", f"not sent: {failure.code}: {failure.message}"
            return fail_all(batch.ids, failure)
        machine = Attempts(self._retry, call.deadline, self._rng,
                           limited=self._limiter is not None)
        done = await self.drive(call, batch, machine)
        if done.stop and call.stop is None and done.last is not None:
            self._stop(call, batch, done.last)
        record.outcome = done.outcome
        if done.outcome == "ok":
            assert done.last is not None
            record.error = done.reason or None
            outcome: BatchOutcome = done.last.value
            return outcome
        record.error = done.reason
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
        """One attempt: the key gate, a limiter slot, sign, send, judge.

        Returns the verdict, or the machine's Done when it may not be sent at all (the call
        stopped, or a retry's slot came after the deadline); a slot granted to a request that
        was never sent goes back unused.
        """
        limiter = self._limiter
        clock = self._clock
        ep = batch.endpoint
        verdict: Verdict | None = None
        ticket: Ticket | None = None
        try:
            if call.stop is not None:
                return machine.stopped(call.stop)
            if limiter is not None:
                asked = clock.now()
                ticket = await limiter.acquire(ep, call.priority)
                now = clock.now()
            else:
                asked = now = clock.now()
            refused = (machine.may_send(now) if call.stop is None
                       else machine.stopped(call.stop))
            if refused is not None:
                if ticket is not None and limiter is not None:
                    limiter.release_unused(ticket)
                    ticket = None
                return refused
            record = batch.record
            record.attempts = machine.attempts
            record.sent_at = now
            batch.gen = self._sync_gen
            query = self._signer.query(ep.method, ep.path, clock.wall() + self._offset,
                                       batch.params)
            url = f"{self._base}{ep.path}?{query}"
            answer: Answer | None = None
            try:
                if ep.method == "GET":
                    answer = await self._transport.get(url)
                else:
                    answer = await self._transport.post(url, batch.body)
            except TransportError as exc:
                verdict = judge_error(exc)
            record.answered_at = clock.now()
            slot, ticket = ticket, None  # handed back below, exactly once
            if slot is not None and limiter is not None:
                if verdict is not None and verdict.action is Action.NOT_SENT:
                    limiter.release_unused(slot)  # it never left: the slot goes straight back
                else:
                    limiter.complete(slot)
                    rl = answer.ratelimit if answer is not None else None
                    if rl is not None:
                        limiter.observe(slot, rl.limit, rl.interval_ms, rl.remaining,
                                        rl.reset_in(clock.wall() + self._offset))
            if answer is not None:
                record.status = answer.status
                if batch.cancel:
                    verdict = judge_cancel(answer.status, answer.body, ep, batch.ids,
                                           record.id_field, retried=machine.delivered)
                else:
                    verdict = judge_request(answer.status, answer.body)
                if verdict.action is Action.PAUSE:
                    verdict.wait = self._pause(slot, answer, ep)
            assert verdict is not None
            if verdict.action is not Action.OK:
                record.error = verdict.reason
                record.errors += (verdict.reason,)
                if verdict.action is Action.AUTH:
                    self._key_ok = False
            if self._on_request is not None or log.isEnabledFor(logging.DEBUG):
                self._tell(call, batch, verdict, now - asked,
                           answer.status if answer is not None else None)
            return verdict
        finally:
            if ticket is not None and limiter is not None:
                limiter.complete(ticket)  # cancelled while in flight: it may have been sent

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

    def _pause(self, ticket: Ticket | None, answer: Answer, ep: Endpoint) -> float | None:
        """A 1032: hold the pool the headers name (or all of the request's) until the reset.

        Returns the seconds until the reset the headers give (None without headers); with no
        limiter, the attempt machine sleeps that long itself.
        """
        limiter = self._limiter
        rl = answer.ratelimit
        if rl is None:
            if limiter is None:
                log.info("%s: rate limited (1032); no limiter: the retry paused for a backoff",
                         ep.name)
                return None
            log.info("%s: rate limited (1032); pools %s paused for a window", ep.name,
                     ", ".join(ep.pools))
            if ticket is not None:
                limiter.pause(ticket)
            return None
        reset_in = rl.reset_in(self._clock.wall() + self._offset)
        log.info("%s: rate limited (1032); the %d per %d ms pool paused for %.3f s", ep.name,
                 rl.limit, rl.interval_ms, reset_in)
        if ticket is not None and limiter is not None:
            limiter.pause(ticket, rl.limit, rl.interval_ms, reset_in)
        return reset_in
