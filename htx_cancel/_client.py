"""CancelClient: the thin async driver over the pure parts (validation, attempts, merging).

The attempt machine (``_attempt``) decides; this module only does what it is told: wait for the
limiter, sign, send, sleep, re-sync the clock, and fold each batch's outcome into the report.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

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
from ._catalog import PRIORITIES, Endpoint, Kind, Margin, Priority, endpoint_for, endpoint_for_path
from ._clock import Clock, LoopClock
from ._credentials import Credentials
from ._errors import DecodeError, HTXError, TransportError
from ._events import RequestEvent, RequestObserver
from ._ids import DIRECTIONS, OFFSETS, chunk, validate_choice, validate_contract_code, validate_ids
from ._limiter import DEFAULT_LIMITS, Limiter, RateLimits, shared_limiter
from ._models import decode_timestamp, encode_body
from ._report import BatchOutcome, BatchRecord, CancelReport, Failure, fail_all, unknown_all
from ._retry import Action, RetryPolicy
from ._scheduler import Ticket
from ._signing import Signer
from ._transport import AiohttpTransport, Answer, Timeouts, Transport

if TYPE_CHECKING:
    import aiohttp

__all__ = ["CancelClient"]

log = logging.getLogger("htx_cancel")


def _signed_host(base_url: str) -> tuple[str, str]:
    """The base URL without a trailing slash, and the host as the signature must name it."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    host = parts.hostname.lower()
    default = 443 if parts.scheme == "https" else 80
    if parts.port is not None and parts.port != default:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}", host


def _check_priority(priority: str) -> None:
    """ValueError unless ``priority`` is high, normal or low."""
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}, got {priority!r}")


class _Call:
    """One call: its deadline and priority, and the report its batches fold into, in order.

    A batch settled before an earlier one waits in ``held`` so the report lists ids in the
    order given; ``flush`` folds whatever is held when the call ends early.
    """

    __slots__ = ("deadline", "held", "next", "priority", "report", "stop")

    def __init__(self, deadline: float | None, priority: Priority,
                 report: CancelReport) -> None:
        self.deadline = deadline
        self.priority = priority
        self.report = report
        self.stop: Failure | None = None  # the authentication failure that stopped the call
        self.next = 0
        self.held: dict[int, BatchOutcome] = {}

    def settle(self, index: int, outcome: BatchOutcome, record: BatchRecord) -> None:
        """Batch ``index`` is settled: fold it, and any held batches that follow it, in."""
        if self.report.on_batch is not None:
            self.report.on_batch(record)
        if index != self.next:
            self.held[index] = outcome
            return
        report = self.report
        report.add(outcome)
        self.next += 1
        held = self.held
        while held and self.next in held:
            report.add(held.pop(self.next))
            self.next += 1

    def flush(self) -> None:
        """Fold in every settled batch still held (the call is ending)."""
        for index in sorted(self.held):
            self.report.add(self.held.pop(index))


class _Batch:
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


class CancelClient:
    """Cancels HTX USDT-margined swap orders, as fast as the rate limits allow.

    Use it as an async context manager. One client may be shared by many tasks; by default all
    clients of the same access key and limits in this process share one limiter
    (:func:`~htx_cancel.shared_limiter`); pass ``limiter=`` to use another. ``clock`` is the
    client's own time (retries, deadlines); a limiter keeps its own.

    ``rate_limits=None`` turns limiting off (for tests and benchmarks). ``session`` lends the
    client an aiohttp session it will not close; ``transport`` replaces the HTTP layer entirely
    (see :class:`htx_cancel.testing.MockTransport`). ``on_request`` is called with a
    :class:`~htx_cancel.RequestEvent` after every attempt.
    """

    __slots__ = ("_base", "_clock", "_credentials", "_key_ok", "_limiter", "_max_in_flight",
                 "_offset", "_on_request", "_probe", "_retry", "_rng", "_signer", "_sync_gen",
                 "_syncing", "_transport")

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str = "https://api.hbdm.com",
        rate_limits: RateLimits | None = DEFAULT_LIMITS,
        limiter: Limiter | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeouts: Timeouts = Timeouts(),
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        clock: Clock | None = None,
        max_in_flight: int = 100,
        seed: int | None = None,
        on_request: RequestObserver | None = None,
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise TypeError("credentials must be a htx_cancel.Credentials")
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
        self._base, host = _signed_host(base_url)
        self._credentials = credentials
        self._signer = Signer(credentials.access_key, credentials.secret_key, host,
                              ed25519=credentials.ed25519_sign)
        self._clock: Clock = clock or LoopClock()
        if limiter is None and rate_limits is not None:
            limiter = shared_limiter(credentials.access_key, rate_limits)
        self._limiter = limiter
        self._retry = retry
        self._transport: Transport = transport or AiohttpTransport(session, timeouts=timeouts)
        self._max_in_flight = max_in_flight
        self._offset = 0.0
        self._sync_gen = 0
        self._syncing: asyncio.Future[None] | None = None
        self._key_ok = False  # until the exchange accepts the key once, requests go one by one
        self._probe: asyncio.Future[None] | None = None
        self._rng = random.Random(seed)
        self._on_request = on_request

    def __repr__(self) -> str:
        return f"CancelClient(base_url={self._base!r}, credentials={self._credentials!r})"

    async def __aenter__(self) -> CancelClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if the client made it."""
        await self._transport.close()

    @property
    def limiter(self) -> Limiter | None:
        """The rate limiter this client draws on (None when limiting is off)."""
        return self._limiter

    @property
    def time_offset(self) -> float:
        """Seconds to add to this machine's clock to get the exchange's (see ``sync_time``)."""
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

    # -- public cancels --------------------------------------------------------------------

    async def cancel(self, kind: Kind, contract_code: str, order_ids: Iterable[str | int] = (),
                     *, client_order_ids: Iterable[str | int] = (), margin: Margin = "isolated",
                     priority: Priority = "high",
                     report: CancelReport | None = None) -> CancelReport:
        """Cancel orders of one kind (order, trigger, tpsl, track) by id.

        Ids are checked before anything is sent, de-duplicated and sent in batches of the
        endpoint's size. Order ids and client order ids (regular orders only) go in separate
        requests; an id may not be in both lists. Pass ``report`` to watch it fill as batches
        settle (and keep what was confirmed if the call is cancelled or times out).
        """
        ep = endpoint_for(kind, margin)
        code = validate_contract_code(contract_code)
        _check_priority(priority)
        oids = validate_ids(order_ids, "order_id")
        cids = validate_ids(client_order_ids, "client_order_id")
        if cids and "client_order_id" not in ep.id_fields:
            raise ValueError(f"{ep.name} takes order ids only, not client order ids")
        if cids and oids:
            both = set(oids).intersection(cids)
            if both:
                raise ValueError(f"id {min(both)!r} is given both as order_id and "
                                 "client_order_id")
        jobs = [(field, ids) for field, ids in (("order_id", oids), ("client_order_id", cids))
                if ids]
        call = _Call(self._deadline(), priority, CancelReport() if report is None else report)
        return await self._cancel(call, ep, code, jobs)

    async def cancel_all(self, kind: Kind, contract_code: str, direction: str | None = None,
                         offset: str | None = None, *, margin: Margin = "isolated",
                         priority: Priority = "high",
                         report: CancelReport | None = None) -> CancelReport:
        """Cancel every open order of one kind on a contract, optionally one direction/offset.

        The report lists the ids the exchange names in its answer. (tp/sl cancel-all takes no
        offset.)
        """
        ep = endpoint_for(kind, margin, cancel_all=True)
        body: dict[str, str] = {"contract_code": validate_contract_code(contract_code)}
        _check_priority(priority)
        if validate_choice("direction", direction, DIRECTIONS) is not None:
            body["direction"] = direction  # type: ignore[assignment]
        if validate_choice("offset", offset, OFFSETS) is not None:
            if not ep.offsets:
                raise ValueError(f"{ep.name} takes no offset, got {offset!r}")
            body["offset"] = offset  # type: ignore[assignment]
        call = _Call(self._deadline(), priority, CancelReport() if report is None else report)
        record = BatchRecord(ep.name, (), None, queued_at=self._clock.now())
        call.report.batches.append(record)
        try:
            batch = _Batch(ep, (), encode_body(body), record, True)
            call.settle(0, await self._batch(call, batch), record)
        finally:
            call.flush()
        return call.report

    async def cancel_orders(self, contract_code: str, order_ids: Iterable[str | int] = (),
                            client_order_ids: Iterable[str | int] = (), *,
                            margin: Margin = "isolated", priority: Priority = "high",
                            report: CancelReport | None = None) -> CancelReport:
        """Cancel regular orders by order id and/or client order id (25 per request)."""
        return await self.cancel("order", contract_code, order_ids,
                                 client_order_ids=client_order_ids, margin=margin,
                                 priority=priority, report=report)

    async def cancel_trigger_orders(self, contract_code: str, order_ids: Iterable[str | int],
                                    *, margin: Margin = "isolated", priority: Priority = "high",
                                    report: CancelReport | None = None) -> CancelReport:
        """Cancel trigger orders (20 per request; 10 for cross margin)."""
        return await self.cancel("trigger", contract_code, order_ids, margin=margin,
                                 priority=priority, report=report)

    async def cancel_tpsl_orders(self, contract_code: str, order_ids: Iterable[str | int],
                                 *, margin: Margin = "isolated", priority: Priority = "high",
                                 report: CancelReport | None = None) -> CancelReport:
        """Cancel take-profit / stop-loss orders (10 per request)."""
        return await self.cancel("tpsl", contract_code, order_ids, margin=margin,
                                 priority=priority, report=report)

    async def cancel_track_orders(self, contract_code: str, order_ids: Iterable[str | int],
                                  *, margin: Margin = "isolated", priority: Priority = "high",
                                  report: CancelReport | None = None) -> CancelReport:
        """Cancel trailing (track) orders (10 per request)."""
        return await self.cancel("track", contract_code, order_ids, margin=margin,
                                 priority=priority, report=report)

    async def cancel_all_orders(self, contract_code: str, direction: str | None = None,
                                offset: str | None = None, *, margin: Margin = "isolated",
                                priority: Priority = "high",
                                report: CancelReport | None = None) -> CancelReport:
        """Cancel every open regular order of a contract, optionally one direction/offset."""
        return await self.cancel_all("order", contract_code, direction, offset, margin=margin,
                                     priority=priority, report=report)

    async def cancel_all_trigger_orders(self, contract_code: str, direction: str | None = None,
                                        offset: str | None = None, *,
                                        margin: Margin = "isolated",
                                        priority: Priority = "high",
                                        report: CancelReport | None = None) -> CancelReport:
        """Cancel every open trigger order of a contract."""
        return await self.cancel_all("trigger", contract_code, direction, offset, margin=margin,
                                     priority=priority, report=report)

    async def cancel_all_tpsl_orders(self, contract_code: str, direction: str | None = None,
                                     *, margin: Margin = "isolated",
                                     priority: Priority = "high",
                                     report: CancelReport | None = None) -> CancelReport:
        """Cancel every open tp/sl order of a contract (tp/sl cancel-all takes no offset)."""
        return await self.cancel_all("tpsl", contract_code, direction, margin=margin,
                                     priority=priority, report=report)

    async def cancel_all_track_orders(self, contract_code: str, direction: str | None = None,
                                      offset: str | None = None, *,
                                      margin: Margin = "isolated", priority: Priority = "high",
                                      report: CancelReport | None = None) -> CancelReport:
        """Cancel every open track order of a contract."""
        return await self.cancel_all("track", contract_code, direction, offset, margin=margin,
                                     priority=priority, report=report)

    # -- any other private request ---------------------------------------------------------

    async def request(self, path: str, body: Mapping[str, Any] | None = None, *,
                      method: str = "POST", priority: Priority = "normal",
                      pools: tuple[str, ...] | None = None) -> Any:
        """Send any private linear-swap request through the same limiter; return its JSON.

        ``path`` is ``/linear-swap-api/v1/swap_order`` (or just ``swap_order``); a path the
        catalog does not know needs ``pools`` (``("trade",)`` or ``("read",)``). A POST sends
        ``body`` as JSON; a GET signs and sends it as query parameters. The answer is returned
        decoded (the whole JSON object). A whole-request error is raised as
        :class:`~htx_cancel.APIError` (:class:`~htx_cancel.AuthenticationError` for a rejected
        key); no answer as :class:`~htx_cancel.TransportError` or
        :class:`~htx_cancel.DecodeError`.

        Placements are not idempotent: once the request may have reached the exchange it is
        never sent again. Only what certainly did not leave (a refused connection, a 1032 after
        the pause, a timestamp rejected before a re-sync) is retried.
        """
        method = method.upper()
        if method not in ("GET", "POST"):
            raise ValueError(f"method must be GET or POST, got {method!r}")
        _check_priority(priority)
        ep = endpoint_for_path(path, pools, method=method)
        params: dict[str, str] | None = None
        payload = b""
        if method == "GET":
            params = {str(k): _param(v) for k, v in (body or {}).items()}
        else:
            payload = encode_body({} if body is None else body)
        record = BatchRecord(ep.name, (), None, queued_at=self._clock.now())
        call = _Call(self._deadline(), priority, CancelReport())
        batch = _Batch(ep, (), payload, record, False, params)
        machine = Attempts(self._retry, call.deadline, self._rng, retry_lost=False)
        done = await self._drive(call, batch, machine)
        last = done.last
        if done.outcome == "ok" and last is not None:
            return last.value
        if last is not None and last.error is not None:
            raise last.error
        raise TransportError(f"{ep.name}: {done.reason}")

    # -- the driver ------------------------------------------------------------------------

    def _deadline(self) -> float | None:
        """When the retry deadline of a call starting now falls, on the client's clock."""
        d = self._retry.deadline
        return None if d is None else self._clock.now() + d

    async def _cancel(self, call: _Call, ep: Endpoint, contract_code: str,
                      jobs: list[tuple[str, list[str]]]) -> CancelReport:
        """Chunk every job and run the batches, at most ``max_in_flight`` at once."""
        parts = [(field, part) for field, ids in jobs for part in chunk(ids, ep.max_ids)]
        pending = enumerate(parts)
        report = call.report

        async def worker() -> None:
            for i, (field, part) in pending:
                record = BatchRecord(ep.name, tuple(part), field, queued_at=self._clock.now())
                report.batches.append(record)
                body = encode_body({"contract_code": contract_code, field: ",".join(part)})
                batch = _Batch(ep, part, body, record, True)
                call.settle(i, await self._batch(call, batch), record)

        workers = min(self._max_in_flight, len(parts))
        try:
            if workers == 1:
                await worker()
            elif workers > 1:
                async with asyncio.TaskGroup() as group:
                    for _ in range(workers):
                        group.create_task(worker())
        finally:
            call.flush()
        return report

    async def _batch(self, call: _Call, batch: _Batch) -> BatchOutcome:
        """One batch through its attempts; always returns an outcome for every id."""
        record = batch.record
        if call.stop is not None:
            failure = call.stop
            record.outcome, record.error = "failed", f"not sent: {failure.code}: {failure.message}"
            return fail_all(batch.ids, failure)
        machine = Attempts(self._retry, call.deadline, self._rng)
        done = await self._drive(call, batch, machine)
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

    def _stop(self, call: _Call, batch: _Batch, last: Verdict) -> None:
        """The key or signature was rejected: nothing more of this call is sent."""
        failure = last.failure or Failure(0, last.reason)
        call.stop = call.report.auth_failure = failure
        log.info("%s: key or signature rejected (%s: %s); the call stops, batches not yet "
                 "sent fail with it", batch.endpoint.name, failure.code, failure.message)

    async def _drive(self, call: _Call, batch: _Batch, machine: Attempts) -> Done:
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

    async def _attempt(self, call: _Call, batch: _Batch, machine: Attempts) -> Verdict | Done:
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
                    verdict = judge_cancel(answer.status, answer.body, batch.ids,
                                           cancel_all=ep.cancel_all, retried=machine.delivered)
                else:
                    verdict = judge_request(answer.status, answer.body)
                if verdict.action is Action.PAUSE:
                    self._pause(slot, answer, ep)
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

    def _tell(self, call: _Call, batch: _Batch, verdict: Verdict, wait: float,
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

    async def _gate(self, call: _Call) -> bool:
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

    def _pause(self, ticket: Ticket | None, answer: Answer, ep: Endpoint) -> None:
        """A 1032: hold the pool the headers name (or all of the request's) until the reset."""
        limiter = self._limiter
        rl = answer.ratelimit
        if rl is None:
            log.info("%s: rate limited (1032); pools %s paused for a window", ep.name,
                     ", ".join(ep.pools))
            if ticket is not None and limiter is not None:
                limiter.pause(ticket)
            return
        reset_in = rl.reset_in(self._clock.wall() + self._offset)
        log.info("%s: rate limited (1032); the %d per %d ms pool paused for %.3f s", ep.name,
                 rl.limit, rl.interval_ms, reset_in)
        if ticket is not None and limiter is not None:
            limiter.pause(ticket, rl.limit, rl.interval_ms, reset_in)


def _param(value: object) -> str:
    """A GET parameter as HTX reads it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
