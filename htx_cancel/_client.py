"""CancelClient: validation, chunking, the limiter, signing, the transport, retries, merging."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import msgspec

from ._catalog import Endpoint, Kind, Margin, endpoint_for
from ._clock import Clock, LoopClock
from ._credentials import Credentials
from ._errors import HTXError, TransportError
from ._ids import DIRECTIONS, OFFSETS, chunk, validate_choice, validate_contract_code, validate_ids
from ._limiter import DEFAULT_LIMITS, Limiter, RateLimiter, RateLimits, shared_limiter
from ._models import BatchData, RateLimitHeaders, decode_envelope, decode_timestamp, encode_body
from ._report import (
    BatchOutcome,
    BatchRecord,
    CancelReport,
    Failure,
    code_of,
    fail_all,
    merge_all,
    merge_batch,
    unknown_all,
)
from ._retry import MAINTENANCE, RATE_LIMITED, Action, RetryPolicy, classify_code
from ._scheduler import Ticket
from ._signing import Signer
from ._transport import AiohttpTransport, Answer, Timeouts, Transport

if TYPE_CHECKING:
    import aiohttp

__all__ = ["CancelClient"]

log = logging.getLogger("htx_cancel")

_Merge = Callable[[Sequence[str], BatchData | None, bool], BatchOutcome]
NO_ORDERS = 1051


def _merge_ids(ids: Sequence[str], data: BatchData | None, retried: bool) -> BatchOutcome:
    """Merge for by-id cancels."""
    return merge_batch(ids, data, retried=retried)


def _merge_everything(ids: Sequence[str], data: BatchData | None, retried: bool) -> BatchOutcome:
    """Merge for cancel-all: the answer names the ids."""
    return merge_all(data)


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


class _Failed:
    """The last whole-request failure of a batch, to report when the attempts run out."""

    __slots__ = ("failure", "reason")

    def __init__(self, reason: str, failure: Failure | None = None) -> None:
        self.reason = reason
        self.failure = failure


class CancelClient:
    """Cancels HTX USDT-margined swap orders, as fast as the rate limits allow.

    Use it as an async context manager. One client may be shared by many tasks; by default all
    clients of the same access key in this process share one :class:`RateLimiter`.

    ``rate_limits=None`` turns limiting off (for tests and benchmarks). ``session`` lends the
    client an aiohttp session it will not close; ``transport`` replaces the HTTP layer entirely.
    """

    __slots__ = ("_base", "_clock", "_credentials", "_limiter", "_max_in_flight", "_offset",
                 "_retry", "_rng", "_signer", "_transport")

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
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise TypeError("credentials must be a htx_cancel.Credentials")
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
        self._base, host = _signed_host(base_url)
        self._credentials = credentials
        self._signer = Signer(credentials.access_key, credentials.secret_key, host)
        self._clock: Clock = clock or LoopClock()
        if limiter is None and rate_limits is not None:
            limiter = (RateLimiter(rate_limits, clock=clock) if clock is not None
                       else shared_limiter(credentials.access_key, rate_limits))
        self._limiter = limiter
        self._retry = retry
        self._transport: Transport = transport or AiohttpTransport(session, timeouts=timeouts)
        self._max_in_flight = max_in_flight
        self._offset = 0.0
        self._rng = random.Random(seed)

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
        trip.
        """
        before = self._clock.wall()
        answer = await self._transport.get(f"{self._base}/api/v1/timestamp")
        after = self._clock.wall()
        try:
            ts = decode_timestamp(answer.body)
        except msgspec.DecodeError:
            raise TransportError(f"timestamp answer (HTTP {answer.status}) is not JSON") from None
        if ts.status != "ok" or ts.ts <= 0:
            raise TransportError(f"timestamp answer has no time (HTTP {answer.status})")
        self._offset = ts.ts / 1000 - (before + after) / 2
        return self._offset

    # -- public cancels --------------------------------------------------------------------

    async def cancel_orders(self, contract_code: str, order_ids: Iterable[str | int] = (),
                            client_order_ids: Iterable[str | int] = (), *,
                            margin: Margin = "isolated") -> CancelReport:
        """Cancel regular orders by order id and/or client order id (25 per request).

        Order ids and client order ids go in separate requests; an id may not be in both lists.
        """
        ep = endpoint_for("order", margin)
        code = validate_contract_code(contract_code)
        oids = validate_ids(order_ids, "order_id")
        cids = validate_ids(client_order_ids, "client_order_id")
        both = set(oids).intersection(cids)
        if both:
            raise ValueError(f"id {min(both)!r} is given both as order_id and client_order_id")
        jobs = [(ep, "order_id", oids), (ep, "client_order_id", cids)]
        return await self._cancel(code, [j for j in jobs if j[2]])

    async def cancel_trigger_orders(self, contract_code: str, order_ids: Iterable[str | int],
                                    *, margin: Margin = "isolated") -> CancelReport:
        """Cancel trigger orders (20 per request; 10 for cross margin)."""
        return await self._by_kind("trigger", contract_code, order_ids, margin)

    async def cancel_tpsl_orders(self, contract_code: str, order_ids: Iterable[str | int],
                                 *, margin: Margin = "isolated") -> CancelReport:
        """Cancel take-profit / stop-loss orders (10 per request)."""
        return await self._by_kind("tpsl", contract_code, order_ids, margin)

    async def cancel_track_orders(self, contract_code: str, order_ids: Iterable[str | int],
                                  *, margin: Margin = "isolated") -> CancelReport:
        """Cancel trailing (track) orders (10 per request)."""
        return await self._by_kind("track", contract_code, order_ids, margin)

    async def cancel_all_orders(self, contract_code: str, direction: str | None = None,
                                offset: str | None = None, *,
                                margin: Margin = "isolated") -> CancelReport:
        """Cancel every open regular order of a contract, optionally one direction/offset."""
        return await self._cancel_all("order", contract_code, direction, offset, margin)

    async def cancel_all_trigger_orders(self, contract_code: str, direction: str | None = None,
                                        offset: str | None = None, *,
                                        margin: Margin = "isolated") -> CancelReport:
        """Cancel every open trigger order of a contract."""
        return await self._cancel_all("trigger", contract_code, direction, offset, margin)

    async def cancel_all_tpsl_orders(self, contract_code: str, direction: str | None = None,
                                     *, margin: Margin = "isolated") -> CancelReport:
        """Cancel every open tp/sl order of a contract (tp/sl cancel-all takes no offset)."""
        return await self._cancel_all("tpsl", contract_code, direction, None, margin)

    async def cancel_all_track_orders(self, contract_code: str, direction: str | None = None,
                                      offset: str | None = None, *,
                                      margin: Margin = "isolated") -> CancelReport:
        """Cancel every open track order of a contract."""
        return await self._cancel_all("track", contract_code, direction, offset, margin)

    # -- the machinery ---------------------------------------------------------------------

    async def _by_kind(self, kind: Kind, contract_code: str, order_ids: Iterable[str | int],
                       margin: Margin) -> CancelReport:
        """Validate, then cancel strategy orders of one kind by order id."""
        ep = endpoint_for(kind, margin)
        code = validate_contract_code(contract_code)
        ids = validate_ids(order_ids, "order_id")
        return await self._cancel(code, [(ep, "order_id", ids)] if ids else [])

    async def _cancel_all(self, kind: Kind, contract_code: str, direction: str | None,
                          offset: str | None, margin: Margin) -> CancelReport:
        """Validate, then send one cancel-all request."""
        ep = endpoint_for(kind, margin, cancel_all=True)
        body: dict[str, str] = {"contract_code": validate_contract_code(contract_code)}
        if validate_choice("direction", direction, DIRECTIONS) is not None:
            body["direction"] = direction  # type: ignore[assignment]
        if validate_choice("offset", offset, OFFSETS) is not None:
            if not ep.offsets:
                raise ValueError(f"{ep.name} takes no offset, got {offset!r}")
            body["offset"] = offset  # type: ignore[assignment]
        report = CancelReport()
        deadline = self._deadline()
        outcome = await self._batch(ep, None, (), encode_body(body), report, deadline,
                                    _merge_everything)
        report.add(outcome)
        return report

    def _deadline(self) -> float | None:
        """When the retry deadline of a call starting now falls, on the client's clock."""
        d = self._retry.deadline
        return None if d is None else self._clock.now() + d

    async def _cancel(self, contract_code: str,
                      jobs: list[tuple[Endpoint, str, list[str]]]) -> CancelReport:
        """Chunk every job, run the batches with at most ``max_in_flight`` at once, merge.

        Outcomes are folded in batch order, so the report lists ids in the order given.
        """
        report = CancelReport()
        deadline = self._deadline()
        batches = [(ep, field, part) for ep, field, job_ids in jobs
                   for part in chunk(job_ids, ep.max_ids)]
        outcomes: list[BatchOutcome | None] = [None] * len(batches)
        pending = enumerate(batches)

        async def worker() -> None:
            for i, (ep, field, part) in pending:
                body = encode_body({"contract_code": contract_code, field: ",".join(part)})
                outcomes[i] = await self._batch(ep, field, part, body, report, deadline,
                                                _merge_ids)

        workers = min(self._max_in_flight, len(batches))
        if workers == 1:
            await worker()
        elif workers > 1:
            async with asyncio.TaskGroup() as group:
                for _ in range(workers):
                    group.create_task(worker())
        for outcome in outcomes:
            assert outcome is not None  # every batch ran: a failure would have raised
            report.add(outcome)
        return report

    async def _batch(self, ep: Endpoint, field: str | None, ids: Sequence[str], body: bytes,
                     report: CancelReport, deadline: float | None,
                     merge: _Merge) -> BatchOutcome:
        """One batch through its attempts; always returns an outcome for every id."""
        record = BatchRecord(ep.name, tuple(ids), field, queued_at=self._clock.now())
        report.batches.append(record)
        try:
            return await self._attempts(ep, ids, body, record, deadline, merge)
        except HTXError as exc:  # e.g. the time sync after a rejected timestamp failed
            record.error, record.outcome = str(exc), "unknown"
            return unknown_all(ids, str(exc))

    async def _attempts(self, ep: Endpoint, ids: Sequence[str], body: bytes,
                        record: BatchRecord, deadline: float | None,
                        merge: _Merge) -> BatchOutcome:
        """Send, classify, retry; see DESIGN.md "Reliability" for the rules."""
        policy = self._retry
        maybe_delivered = False  # an earlier attempt may have reached the exchange
        resynced = False
        max_attempts = policy.max_attempts
        last = _Failed("not sent")
        while record.attempts < max_attempts:
            record.attempts += 1
            record.error = None
            try:
                answer, ticket = await self._send(ep, body, record)
            except TransportError as exc:
                maybe_delivered, last = True, _Failed(str(exc))
                record.error = last.reason
            else:
                record.status = answer.status
                verdict = self._judge(ep, ids, answer, maybe_delivered, merge, record)
                if isinstance(verdict, BatchOutcome):
                    record.outcome = "ok"
                    return verdict
                last = verdict
                if verdict.failure is None:
                    maybe_delivered = True
                elif verdict.failure.code == RATE_LIMITED:
                    self._pause(ticket, answer)
                    continue  # the limiter holds the pool until the reset; no backoff
                elif classify_code(verdict.failure.code) is Action.RESYNC:
                    if resynced:
                        break
                    resynced = True
                    max_attempts += 1
                    await self.sync_time()
                    continue
                elif classify_code(verdict.failure.code) is Action.FAIL:
                    break
            delay = policy.delay(record.attempts, self._rng)
            if record.attempts >= max_attempts or (
                    deadline is not None and self._clock.now() + delay >= deadline):
                break
            await self._clock.sleep(delay)
        return self._give_up(ids, last, maybe_delivered, record)

    def _give_up(self, ids: Sequence[str], last: _Failed, maybe_delivered: bool,
                 record: BatchRecord) -> BatchOutcome:
        """The attempts are over: a definite rejection fails the ids; anything else is unknown."""
        record.error = last.reason
        if last.failure is not None and not maybe_delivered:
            record.outcome = "failed"
            return fail_all(ids, last.failure)
        record.outcome = "unknown"
        reason = last.reason
        if last.failure is not None:
            reason = f"{reason}, after an earlier attempt got no answer"
        log.warning("%s: %d ids unknown after %d attempts: %s", record.endpoint, len(ids),
                    record.attempts, reason)
        return unknown_all(ids, reason)

    def _judge(self, ep: Endpoint, ids: Sequence[str], answer: Answer, retried: bool,
               merge: _Merge, record: BatchRecord) -> BatchOutcome | _Failed:
        """An outcome if the answer settles the batch, or why it did not."""
        status = answer.status
        if status >= 500:
            return _Failed(f"HTTP {status} from the exchange")
        if status == 429:  # the CDN's limiter: nothing reached the exchange
            return _Failed("HTTP 429", Failure(RATE_LIMITED, "HTTP 429 Too Many Requests"))
        try:
            env = decode_envelope(answer.body)
        except msgspec.DecodeError:
            return _Failed(f"HTTP {status}: answer is not JSON")
        if env.status == "ok":
            if retried and ep.cancel_all:
                record.error = "an earlier attempt got no answer: what it cancelled is not listed"
            return merge(ids, env.data, retried)
        if env.status == "maintain":
            failure = Failure(MAINTENANCE, "exchange under maintenance")
        else:
            code = code_of(env.err_code if env.err_code is not None else env.err_code_dash)
            if code == 0:
                code = status
            failure = Failure(code, env.err_msg or env.err_msg_dash or f"HTTP {status}")
        if ep.cancel_all and failure.code == NO_ORDERS:
            record.error = f"{NO_ORDERS}: {failure.message}"
            return BatchOutcome()
        return _Failed(f"{failure.code}: {failure.message}", failure)

    async def _send(self, ep: Endpoint, body: bytes,
                    record: BatchRecord) -> tuple[Answer, Ticket | None]:
        """Wait for the limiter, sign, post; hand the slot back however it ends."""
        limiter = self._limiter
        ticket = await limiter.acquire(ep) if limiter is not None else None
        clock = self._clock
        try:
            record.sent_at = clock.now()
            query = self._signer.query("POST", ep.path, clock.wall() + self._offset)
            answer = await self._transport.post(f"{self._base}{ep.path}?{query}", body)
        finally:
            record.answered_at = clock.now()
            if ticket is not None and limiter is not None:
                limiter.complete(ticket)
        rl = answer.ratelimit
        if rl is not None and ticket is not None and limiter is not None:
            limiter.observe(ticket, rl.limit, rl.interval_ms, rl.remaining, self._reset_in(rl))
        return answer, ticket

    def _reset_in(self, rl: RateLimitHeaders) -> float:
        """Seconds from now until the exchange's window resets, by the exchange's clock."""
        return rl.reset_in(self._clock.wall() + self._offset)

    def _pause(self, ticket: Ticket | None, answer: Answer) -> None:
        """A 1032: hold the pool the headers name (or all of the request's) until the reset."""
        if ticket is None or self._limiter is None:
            return
        rl = answer.ratelimit
        if rl is None:
            self._limiter.pause(ticket)
        else:
            self._limiter.pause(ticket, rl.limit, rl.interval_ms, self._reset_in(rl))
