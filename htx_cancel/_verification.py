"""Verification, the driver: ask the exchange what became of each id, cancel again what is live.

It talks to the exchange only through two callables, so it does not depend on the client:
``request(path, body, priority)`` sends one signed read request and returns the decoded answer
(raising the library's errors), and ``recancel(target)`` cancels a target's ids again and
returns a :class:`CancelReport`. Time comes from a :class:`Clock`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, TypeVar

from ._catalog import ApiName, Kind, Margin, Priority
from ._clock import Clock
from ._errors import APIError, AuthenticationError, DecodeError, HTXError, TransportError
from ._order_state import OrderState
from ._protocol import (
    INFO_MAX_IDS,
    NOT_FOUND_CODES,
    REPEATED_CANCEL,
    V5_ALGO_TYPES,
    V5_PAGE_SIZE,
    Finding,
    Listing,
    Query,
    Target,
    adopt,
    algo_page_query,
    fold_states,
    info_queries,
    listed_states,
    listing_query,
    not_found,
    parse_info,
    parse_listing,
    parse_v5_page,
)
from ._report import BatchRecord, CancelReport, Failure

__all__ = ["Feed", "Recancel", "Requester", "Verifier", "VerifyPolicy"]

log = logging.getLogger("htx_cancel")

class Requester(Protocol):
    """``await request(path, body, priority, method=..., attempts=...)``: one signed request
    that is safe to repeat, sent through its attempts (at most ``attempts``); the decoded
    answer, or the library's error (``method="GET"`` for v5's reads; POST otherwise)."""

    def __call__(self, path: str, body: Mapping[str, Any], priority: Priority, /, *,
                 method: str = "POST", attempts: int | None = None) -> Awaitable[Any]: ...



Recancel = Callable[[Target], Awaitable[CancelReport]]
"""``await recancel(target)``: cancel the target's ids once more."""

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class VerifyPolicy:
    """How hard verification tries.

    ``max_recancels``: more cancels sent for an order still live after its cancel was
    accepted. ``attempts``: tries per read request (reads are safe to repeat: the client's
    one attempt machine repeats them, with its retry policy's backoff). ``backoff``:
    the first wait before asking again about a cancelling or re-cancelled order; it doubles
    up to ``backoff_max``. ``concurrency``: read requests in flight at once (the limiter paces
    them). ``listing_passes``: reads of a multi-page listing until one is consistent.
    ``max_rounds``: times verification asks again about orders still in motion (the call's
    deadline, when it has one, usually ends this first).
    """

    max_recancels: int = 2
    attempts: int = 3
    backoff: float = 0.2
    backoff_max: float = 2.0
    concurrency: int = 16
    listing_passes: int = 3
    max_rounds: int = 8

    def __post_init__(self) -> None:
        if self.max_recancels < 0 or self.attempts < 1 or self.concurrency < 1:
            raise ValueError("max_recancels >= 0, attempts >= 1 and concurrency >= 1 required")
        if self.listing_passes < 1 or self.max_rounds < 0:
            raise ValueError("listing_passes >= 1 and max_rounds >= 0 required")
        if self.backoff < 0 or self.backoff_max < 0:
            raise ValueError("backoff and backoff_max must not be negative")


class _Unread(Exception):
    """A read request that settled nothing; the message says why."""


class _NotFound(Exception):
    """Order info answered that none of the asked orders exists."""


class Verifier:
    """Verifies one report: learns states, cancels live orders again, folds the outcome in."""

    __slots__ = (
        "_clock",
        "_deadline",
        "_open",
        "_policy",
        "_prefetching",
        "_priority",
        "_rc_failed",
        "_rc_unknown",
        "_recancel",
        "_recancels",
        "_refused",
        "_request",
        "_states",
        "_unread",
    )

    def __init__(self, request: Requester, recancel: Recancel, clock: Clock, *,
                 priority: Priority = "high", policy: VerifyPolicy = VerifyPolicy(),
                 deadline: float | None = None) -> None:
        self._request = request
        self._recancel = recancel
        self._clock = clock
        self._priority: Priority = priority
        self._policy = policy
        self._deadline = deadline
        self._states: dict[str, OrderState] = {}
        self._unread: dict[str, str] = {}
        self._recancels: Counter[str] = Counter()
        self._rc_failed: dict[str, Failure] = {}
        self._rc_unknown: dict[str, str] = {}
        self._open = False
        self._refused: str | None = None  # why the exchange rejected the key, once it has
        self._prefetching: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Verifier:
        """Allow :meth:`prefetch` until the block ends."""
        self._open = True
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        """Wait for the reads still running, or cancel them when leaving by an exception."""
        self._open = False
        tasks = set(self._prefetching)
        if not tasks:
            return
        if exc_type is not None:
            for task in tasks:
                task.cancel()
        try:
            await asyncio.wait(tasks)
        except BaseException:  # cancelled while waiting: leave no read behind
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
            raise
        error = _first_error(tasks)  # read even when not raised: no "never retrieved" noise
        if error is not None and exc_type is None:
            raise error

    def prefetch(self, target: Target) -> None:
        """Start learning a regular target's states now, while its cancel goes on.

        Only inside ``async with verifier:``; :meth:`run` waits for these reads and decides
        from them. Strategy listings are read once, in :meth:`run`, not per batch.
        """
        if not self._open or target.listed:
            return
        loop = asyncio.get_running_loop()
        for query in info_queries(target):
            task = loop.create_task(self._ask_info(query, target.field))
            self._prefetching.add(task)
            task.add_done_callback(self._prefetching.discard)

    def feed(self, kind: Kind, margin: Margin | None, contract_code: str,
             api: ApiName = "v1") -> Feed:
        """A ``report.on_batch`` hook that prefetches each settled batch's ids, 50 at a time."""
        return Feed(self, kind, margin, contract_code, api)

    async def run(self, report: CancelReport, targets: Sequence[Target]) -> dict[str, OrderState]:
        """Verify every target's ids, fold the outcome and the states into ``report``, return
        the states learned."""
        if self._prefetching:
            tasks = set(self._prefetching)
            await asyncio.wait(tasks)
            error = _first_error(tasks)
            if error is not None:
                raise error
        eligible = {*report.cancelled, *report.unknown}
        if len(targets) == 1:
            await self._settle(report, targets[0], eligible)
        elif targets:
            async with asyncio.TaskGroup() as group:
                for target in targets:
                    group.create_task(self._settle(report, target, eligible))
        fold_states(report, self._states, self._unread, self._recancels, self._rc_failed,
             self._rc_unknown)
        states = self._states
        counts = Counter(s.value for s in states.values())
        log.info("verified %d ids: %s", len(states),
                 ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing learned")
        return dict(states)

    # -- one target: learn, re-cancel, ask again -----------------------------------------------

    async def _settle(self, report: CancelReport, target: Target, eligible: set[str]) -> None:
        """Learn the target's states; re-cancel live ones, ask again while any is in motion."""
        policy, states = self._policy, self._states
        await self._learn(target, [i for i in target.ids if i not in states])
        delay = policy.backoff
        for _ in range(policy.max_rounds):
            moving = [i for i in target.ids if i in eligible and (s := states.get(i)) is not None
                      and (s.live or s is OrderState.CANCELLING)]
            again = [i for i in moving if states[i].live
                     and self._recancels[i] < policy.max_recancels]
            if not again and not any(states[i] is OrderState.CANCELLING for i in moving):
                return
            if again:
                await self._cancel_again(report, target.with_ids(again))
            if not self._time_for(delay):
                return
            await self._clock.sleep(delay)
            delay = min(delay * 2, policy.backoff_max)
            await self._learn(target, [i for i in moving if states.get(i) is not None
                                       and not states[i].live] + again)

    async def _cancel_again(self, report: CancelReport, target: Target) -> None:
        """Cancel a target's ids once more; their states are stale until asked again."""
        ids = target.ids
        log.info("%d orders still live after their cancel: cancelling again", len(ids))
        for id_ in ids:
            self._recancels[id_] += 1
            self._states.pop(id_, None)
            self._rc_failed.pop(id_, None)
            self._rc_unknown.pop(id_, None)
        try:
            sub = await self._recancel(target)
        except HTXError as exc:
            self._rc_unknown.update(dict.fromkeys(ids, f"the cancel failed: {exc}"))
            return
        adopt(report, sub)
        asked = set(ids)
        for id_, failure in sub.failed.items():
            if id_ in asked and failure.code != REPEATED_CANCEL:  # 1071: it is cancelled
                self._rc_failed[id_] = failure
        for id_ in sub.unknown:
            self._rc_unknown[id_] = sub.unknown_reasons.get(id_, "no answer")

    def _time_for(self, delay: float) -> bool:
        """True when waiting ``delay`` still ends before the deadline."""
        return self._deadline is None or self._clock.now() + delay < self._deadline

    # -- learning states -----------------------------------------------------------------------

    async def _learn(self, target: Target, ids: Sequence[str]) -> None:
        """Learn the states of ``ids`` (a subset of the target's) into ``self._states``."""
        if not ids:
            return
        if target.listed:
            await self._learn_listed(target, ids)
            return
        queries = info_queries(target.with_ids(ids))
        await self._each(queries, lambda q: self._ask_info(q, target.field))

    async def _ask_info(self, query: Query, id_field: str) -> None:
        """One order-info request, folded into the states learned."""
        try:
            answer = await self._ask(query)
            finding = parse_info(query.ids, id_field, answer)
        except _NotFound:
            finding = not_found(query.ids)
        except (_Unread, ValueError) as exc:
            finding = Finding(unread=dict.fromkeys(query.ids, f"order info failed: {exc}"))
        self._record(finding)

    async def _learn_listed(self, target: Target, ids: Sequence[str]) -> None:
        """Read the strategy listing until a pass is consistent; absent ids are gone."""
        if target.api == "v5":
            await self._learn_algo(target, ids)
            return
        seen: frozenset[str] = frozenset()
        try:
            for _ in range(self._policy.listing_passes):
                pages = await self._read_listing(target)
                seen = frozenset().union(*(p.ids for p in pages))
                if _consistent(pages, seen):
                    self._record(Finding(states=listed_states(ids, seen)))
                    return
        except (_Unread, _NotFound, ValueError) as exc:
            reason = f"the open-orders listing failed: {exc}"
        else:
            reason = "the open-orders listing kept changing while it was read"
        # Listed ids are certainly open; an absent one may only have moved to another page.
        listed = [i for i in ids if i in seen]
        unread = {i: reason for i in ids if i not in seen}
        self._record(Finding(states=dict.fromkeys(listed, OrderState.OPEN), unread=unread))

    async def _learn_algo(self, target: Target, ids: Sequence[str]) -> None:
        """v5 algo orders: every type's open listing, walked by its id cursor; absent is gone.

        A cursor cannot skip an order that stays open while others leave (unlike v1's page
        numbers), so one pass is enough.
        """
        seen: set[str] = set()
        try:
            for algo_type in V5_ALGO_TYPES:
                cursor: str | None = None
                while True:
                    page = parse_v5_page(await self._ask(algo_page_query(target, algo_type,
                                                                         cursor)))
                    seen.update(page)
                    if len(page) < V5_PAGE_SIZE:
                        break
                    cursor = max(page, key=int)
        except (_Unread, _NotFound, ValueError) as exc:
            reason = f"the open algo-order listing failed: {exc}"
            listed = [i for i in ids if i in seen]
            self._record(Finding(states=dict.fromkeys(listed, OrderState.OPEN),
                                 unread={i: reason for i in ids if i not in seen}))
            return
        self._record(Finding(states=listed_states(ids, seen)))

    async def _read_listing(self, target: Target) -> list[Listing]:
        """Every page of a strategy listing: the first, then the rest at once."""
        first = parse_listing(await self._ask(listing_query(target, 1)))
        pages: list[Listing | None] = [first, *([None] * (first.total_page - 1))]

        async def page(index: int) -> None:
            pages[index - 1] = parse_listing(await self._ask(listing_query(target, index)))

        await self._each(range(2, first.total_page + 1), page)
        return [p for p in pages if p is not None]

    def _record(self, finding: Finding) -> None:
        """Keep what a query learned; forget older reasons for ids now settled."""
        self._states.update(finding.states)
        for id_ in finding.states:
            self._unread.pop(id_, None)
        for id_, why in finding.unread.items():
            self._states.pop(id_, None)
            self._unread[id_] = why

    async def _each(self, items: Sequence[_T], run: Callable[[_T], Awaitable[None]]) -> None:
        """Run ``run`` on every item, at most ``concurrency`` at once."""
        if not items:
            return
        pending: Iterator[_T] = iter(items)

        async def worker() -> None:
            for item in pending:
                await run(item)

        workers = min(self._policy.concurrency, len(items))
        if workers == 1:
            await worker()
            return
        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(worker())

    async def _ask(self, query: Query) -> Any:
        """One read request, ``_Unread`` when it settled nothing.

        The read is repeatable: the client's attempt machine tries it up to the policy's
        ``attempts`` times (lost answers, busy, maintenance, rate limits); what reaches here
        is final.
        """
        if self._refused is not None:  # a rejected key costs one read, not one per query
            raise _Unread(f"not sent: {self._refused}")
        try:
            return await self._request(query.path, query.body, self._priority,
                                       method=query.method, attempts=self._policy.attempts)
        except AuthenticationError as exc:
            self._refused = str(exc)
            raise _Unread(str(exc)) from None
        except APIError as exc:
            if exc.code in NOT_FOUND_CODES:
                raise _NotFound from None
            raise _Unread(str(exc)) from None
        except (TransportError, DecodeError) as exc:
            raise _Unread(str(exc) or type(exc).__name__) from None


class Feed:
    """Collects the ids of cancel batches as they settle and prefetches their states.

    Called with each settled batch's record (``report.on_batch``); ids wait until 50 of one id
    field are collected (order info's request size), and ``flush`` sends the rest.
    """

    __slots__ = ("_api", "_buffers", "_contract_code", "_kind", "_margin", "_verifier")

    def __init__(self, verifier: Verifier, kind: Kind, margin: Margin | None,
                 contract_code: str, api: ApiName = "v1") -> None:
        self._verifier = verifier
        self._kind: Kind = kind
        self._margin = margin
        self._api: ApiName = api
        self._contract_code = contract_code
        self._buffers: dict[str, list[str]] = {}

    def __call__(self, record: BatchRecord) -> None:
        # A batch refused as a whole (a rejected key, a settlement) waits for run(), which
        # skips reads a rejected key would make.
        if record.id_field is None or self._kind != "order" or record.outcome == "failed":
            return
        buffer = self._buffers.setdefault(record.id_field, [])
        buffer.extend(record.ids)
        while len(buffer) >= INFO_MAX_IDS:
            self._send(record.id_field, buffer[:INFO_MAX_IDS])
            del buffer[:INFO_MAX_IDS]

    def flush(self) -> None:
        """Prefetch whatever is still collected."""
        for field, buffer in self._buffers.items():
            if buffer:
                self._send(field, buffer)
        self._buffers.clear()

    def _send(self, field: str, ids: list[str]) -> None:
        """Prefetch one request's worth of ids."""
        self._verifier.prefetch(Target(self._kind, self._margin, self._contract_code, field,
                                       tuple(ids), self._api))


def _first_error(tasks: set[asyncio.Task[None]]) -> BaseException | None:
    """The first error of finished reads (a bug: reads turn failures into reasons)."""
    errors = [e for t in tasks if not t.cancelled() and (e := t.exception()) is not None]
    return errors[0] if errors else None


def _consistent(pages: Sequence[Listing], seen: frozenset[str]) -> bool:
    """True when a listing read page by page cannot have skipped an order.

    One page is one snapshot. Over several pages, an order removed from an earlier page while
    later ones are read shifts the rest forward, so one could slip past unseen: accept the
    pass only when every page agrees on the size and every order it counts was seen.
    """
    if len(pages) == 1:
        return True
    sizes = {(p.total_page, p.total_size) for p in pages}
    return len(sizes) == 1 and len(seen) == pages[0].total_size
