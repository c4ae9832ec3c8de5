"""Verification, the driver: ask the exchange what became of each id, cancel again what is live.

It talks to the exchange only through two callables, so it does not depend on the client:
``request(path, body, priority)`` sends one signed read request and returns the decoded answer
(raising the library's errors), and ``recancel(target)`` cancels a target's ids again and
returns a [`CancelReport`][htx_cancel.CancelReport]. Time comes from a `Clock`.
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
    fold_steps,
    info_queries,
    listed_states,
    listing_query,
    not_found,
    parse_info,
    parse_listing,
    parse_v5_page,
)
from ._protocol._plans import V5_HISTORY, V5_MARGIN_MODES, V5_OPENS, v5_page_query
from ._protocol._reads import ListedOrder, parse_v5_orders
from ._report import BatchRecord, CancelReport, Failure

__all__ = ["Feed", "PushWatch", "Recancel", "Requester", "Verifier", "VerifyPolicy"]

log = logging.getLogger("htx_cancel")

CLIENT_WALK_PAGES = 20  # v5: pages of a listing walked for client ids before order info


class Requester(Protocol):
    """``await request(path, body, priority, method=..., attempts=...)``: one signed request
    that is safe to repeat, sent through its attempts (at most ``attempts``); the decoded
    answer, or the library's error (``method="GET"`` for v5's reads; POST otherwise)."""

    def __call__(self, path: str, body: Mapping[str, Any], priority: Priority, /, *,
                 method: str = "POST", attempts: int | None = None) -> Awaitable[Any]: ...



Recancel = Callable[[Target], Awaitable[CancelReport]]
"""``await recancel(target)``: cancel the target's ids once more."""


class PushWatch(Protocol):
    """What verification needs from the order stream (``htx_cancel._stream.Watch``): the
    states its pushes gave, since before the first cancel of the call left."""

    def intact(self, contract_code: str) -> bool:
        """True while every push for the contract since the watch began was received."""
        ...

    def state(self, field: str, id_: str) -> OrderState | None:
        """The latest state a push gave the order (by ``order_id`` or ``client_order_id``)."""
        ...

    async def wait_final(self, contract_code: str, field: str, ids: Sequence[str],
                         within: float, quiet: float | None = None) -> None:
        """Return once every id has a final pushed state, the stream breaks, ``within``
        seconds pass, or (``quiet``) no push came for that long."""
        ...

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class VerifyPolicy:
    """How hard verification tries.

    Negative counts or times, and the zeros named below, are refused with ValueError.

    :param max_recancels: more cancels sent for an order still live after its cancel was accepted
        (default 2; at least 0).
    :param attempts: tries per read request (default 3; at least 1). Reads are safe to repeat: the
        client's one attempt machine repeats them, with its retry policy's backoff.
    :param backoff: seconds of the first wait before asking again about a cancelling or re-cancelled
        order (default 0.2); it doubles up to ``backoff_max``.
    :param backoff_max: the longest of those waits, in seconds (default 2.0).
    :param concurrency: read requests in flight at once (default 16; at least 1); the limiter paces
        them.
    :param listing_passes: reads of a multi-page listing until one is consistent (default 3; at
        least 1).
    :param max_rounds: times verification asks again about orders still in motion (default 8; at
        least 0); the call's deadline, when it has one, usually ends this first.
    :param stream_wait: v5 with the order stream: seconds to wait for the pushes of accepted cancels
        before asking REST about the ids still without a final state (default 2.0).
    :param stream_quiet: v5 with the order stream: ask REST sooner once no push came for this many
        seconds (default 0.5; more than 0).
    :param info_at_most: v5: fewer ids than this are read by order info (one request each) rather
        than through the listings (100 a page); default 3.
    """

    max_recancels: int = 2
    attempts: int = 3
    backoff: float = 0.2
    backoff_max: float = 2.0
    concurrency: int = 16
    listing_passes: int = 3
    max_rounds: int = 8
    stream_wait: float = 2.0
    stream_quiet: float = 0.5
    info_at_most: int = 3

    def __post_init__(self) -> None:
        if self.max_recancels < 0 or self.attempts < 1 or self.concurrency < 1:
            raise ValueError("max_recancels >= 0, attempts >= 1 and concurrency >= 1 required")
        if self.listing_passes < 1 or self.max_rounds < 0:
            raise ValueError("listing_passes >= 1 and max_rounds >= 0 required")
        if self.backoff < 0 or self.backoff_max < 0:
            raise ValueError("backoff and backoff_max must not be negative")
        if self.stream_wait < 0 or self.stream_quiet <= 0 or self.info_at_most < 0:
            raise ValueError("stream_wait >= 0, stream_quiet > 0 and info_at_most >= 0 required")


class _Unread(Exception):
    """A read request that settled nothing; the message says why."""


class _NotFound(Exception):
    """Order info answered that none of the asked orders exists."""


class Verifier:
    """Verifies one report: learns states, cancels live orders again, folds the outcome in."""

    __slots__ = (
        "_clock",
        "_deadline",
        "_fruitless",
        "_interest",
        "_live_first",
        "_live_reads",
        "_margins",
        "_mode_known",
        "_mode_lock",
        "_open",
        "_order_of",
        "_policy",
        "_prefetch_lock",
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
        "_watch",
        "reads",
    )

    def __init__(self, request: Requester, recancel: Recancel, clock: Clock, *,
                 priority: Priority = "high", policy: VerifyPolicy = VerifyPolicy(),
                 deadline: float | None = None, watch: PushWatch | None = None,
                 order_ids: Mapping[str, str] | None = None) -> None:
        self._request = request
        # v5: the exchange's id of each client order id, as the cancel answers named them (the
        # report's live map: a client id v5 forgot is still found by its order id)
        self._order_of: Mapping[str, str] = {} if order_ids is None else order_ids
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
        self._watch = watch
        self._live_reads: Counter[str] = Counter()  # v5: reads in a row that showed it live
        self._live_first: dict[str, float] = {}  # when a read first showed it live
        self._margins = list(V5_MARGIN_MODES)  # history's margin modes, the one seen first
        self._fruitless: set[str] = set()
        self._mode_known = False
        self._interest: set[str] = set()  # v5: every id verification is asked about
        self._mode_lock = asyncio.Lock()
        self._prefetch_lock = asyncio.Lock()
        self.reads = 0  # read requests sent (each repeat of one counted once)

    async def __aenter__(self) -> Verifier:
        """Allow `prefetch()` until the block ends."""
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

        Only inside ``async with verifier:``; `run()` waits for these reads and decides
        from them. Strategy listings are read once, in `run()`, not per batch.
        """
        if not self._open or target.listed:
            return
        loop = asyncio.get_running_loop()
        if target.api == "v5":
            if self._watch is not None and self._watch.intact(target.contract_code):
                return  # the pushes will tell
            task = loop.create_task(self._prefetch_v5(target))
            self._prefetching.add(task)
            task.add_done_callback(self._prefetching.discard)
            return
        for query in info_queries(target):
            task = loop.create_task(self._ask_info(query, target.field))
            self._prefetching.add(task)
            task.add_done_callback(self._prefetching.discard)

    async def _prefetch_v5(self, target: Target) -> None:
        """Read a settled chunk's states once HTX's state has caught up with the answers
        (``backoff`` later); ids seen live are asked again by `run()`."""
        self._interest.update(target.ids)
        await self._clock.sleep(self._policy.backoff)
        async with self._prefetch_lock:  # one walk at a time: pages of one settle others' ids
            ids = [i for i in target.ids if i not in self._states]
            if target.field == "client_order_id" and ids:
                ids = await self._by_order_ids(target, ids)
            if len(ids) >= self._policy.info_at_most:
                # the history only: what is not there yet is read once, by run()
                await self._history(target, set(ids))
                return
        if ids:
            await self._each(info_queries(target.with_ids(ids)),
                             lambda q: self._ask_info(q, target.field))

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
        asked = {*report.cancelled, *report.failed, *report.unknown}
        for _ in fold_steps(report, self._states, self._unread, self._recancels,
                            self._rc_failed, self._rc_unknown):
            await asyncio.sleep(0)  # 10,000 ids would hold the loop for tens of ms
        states = {i: st for i, st in self._states.items() if i in asked}
        counts = Counter(s.value for s in states.values())
        log.info("verified %d ids: %s", len(states),
                 ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing learned")
        return states

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
                     and self._recancels[i] < policy.max_recancels
                     and (target.api != "v5" or self._live_reads[i] >= 2)]
            # v5: a state can lag its cancel's answer; an order seen live once is read again
            # after the backoff before it is cancelled again.
            lagging = [i for i in moving if states[i].live and i not in again
                       and self._recancels[i] < policy.max_recancels]
            if not again and not lagging and not any(
                    states[i] is OrderState.CANCELLING for i in moving):
                return
            if again:
                await self._cancel_again(report, target.with_ids(again))
            if not self._time_for(delay):
                return
            await self._clock.sleep(delay)
            delay = min(delay * 2, policy.backoff_max)
            await self._learn(target, [i for i in moving if states.get(i) is not None
                                       and not states[i].live] + lagging + again)

    async def _cancel_again(self, report: CancelReport, target: Target) -> None:
        """Cancel a target's ids once more; their states are stale until asked again."""
        ids = target.ids
        log.info("%d orders still live after their cancel: cancelling again", len(ids))
        for id_ in ids:
            self._recancels[id_] += 1
            self._live_reads.pop(id_, None)
            self._live_first.pop(id_, None)
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
        if target.api == "v5":
            await self._learn_v5(target, ids)
            return
        queries = info_queries(target.with_ids(ids))
        await self._each(queries, lambda q: self._ask_info(q, target.field))

    # -- v5: the pushes, then the listings (100 a page), then order info for the rest ----------

    async def _learn_v5(self, target: Target, ids: Sequence[str]) -> None:
        """Learn v5 regular orders' states at the least cost.

        With an intact order stream, wait (``stream_wait`` at most) for each id's final push;
        what is still not final, and everything without the stream, is read from the history
        and the open-orders listing, walked by order id from the ids asked about; order info,
        one id a request, only for what neither settled.
        """
        pending = list(dict.fromkeys(ids))
        if target.field == "client_order_id":
            pending = await self._by_order_ids(target, pending)
            if not pending:
                return
        watch, code, field = self._watch, target.contract_code, target.field
        if watch is not None and watch.intact(code):
            wait = self._policy.stream_wait
            if self._deadline is not None:
                wait = max(0.0, min(wait, self._deadline - self._clock.now()))
            await watch.wait_final(code, field, pending, wait, self._policy.stream_quiet)
            pushed = {i: st for i in pending
                      if (st := watch.state(field, i)) is not None and st.final}
            self._record(Finding(states=pushed))
            pending = [i for i in pending if i not in pushed]
            if not pending:
                return
        if len(pending) >= self._policy.info_at_most:
            self._interest.update(pending)
            listed = await self._sweep(target, pending)
            states = self._states
            pending = [i for i in pending if i not in listed
                       and ((st := states.get(i)) is None or not st.final)]
        if pending:
            await self._each(info_queries(target.with_ids(pending)),
                             lambda q: self._ask_info(q, field))

    async def _by_order_ids(self, target: Target, client_ids: list[str]) -> list[str]:
        """Learn client ids through the order ids their cancel answers named (v5 forgets a
        client id once the order is done); the client ids this learned nothing of."""
        known = {cid: oid for cid in client_ids if (oid := self._order_of.get(cid))}
        if not known:
            return client_ids
        by_order = Target(target.kind, target.margin, target.contract_code, "order_id",
                          tuple(known.values()), target.api)
        await self._learn_v5(by_order, list(known.values()))
        states, unread = self._states, self._unread
        learned = {cid: states[oid] for cid, oid in known.items() if oid in states}
        why = {cid: unread[oid] for cid, oid in known.items()
               if oid not in states and oid in unread}
        self._record(Finding(states=learned, unread=why))
        return [cid for cid in client_ids if cid not in learned]

    async def _sweep(self, target: Target, ids: Sequence[str]) -> dict[str, OrderState]:
        """The states the history (each margin mode, the one that had orders first) and then
        the open-orders listing give ``ids``."""
        found = await self._history(target, set(ids))
        pending = set(ids).difference(found)
        if pending:
            found.update(await self._walk(target, V5_OPENS, pending, None))
        return found

    async def _history(self, target: Target, pending: set[str]) -> dict[str, OrderState]:
        """The states v5's history gives ``pending`` ids: each margin mode it needs, the one
        that listed orders first; a mode that listed none while another did is not asked
        again by this verification (order info reads what it would have)."""
        if self._mode_known:
            return await self._history_walks(target, pending)
        async with self._mode_lock:  # the first walks learn the mode; the others wait for it
            return await self._history_walks(target, pending)

    async def _history_walks(self, target: Target,
                             pending: set[str]) -> dict[str, OrderState]:
        """`_history()`'s walks, one margin mode after the other."""
        found: dict[str, OrderState] = {}
        hits: list[str] = []
        empty: list[str] = []
        for mode in [m for m in self._margins if m not in self._fruitless]:
            if not pending:
                break
            got = await self._walk(target, V5_HISTORY, pending, mode)
            (hits if got else empty).append(mode)
            found.update(got)
            pending = pending.difference(got)
        if hits:
            self._mode_known = True
            self._fruitless.update(empty)
            if self._margins[0] != hits[0]:
                self._margins.remove(hits[0])
                self._margins.insert(0, hits[0])
        return found

    async def _walk(self, target: Target, path: str, pending: set[str],
                    mode: str | None) -> dict[str, OrderState]:
        """Walk one v5 listing for ``pending`` ids: by order id, up from the smallest asked,
        jumping over stretches that hold none of them; by client order id (which gives no
        place to start), down from the newest, ``CLIENT_WALK_PAGES`` pages at most (or a page
        per 100 ids and two more, when that is more). Client ids whose order id a cancel
        answer named go by order id instead (`_by_order_ids()`).

        A read that fails ends the walk: what it did not settle goes to order info. Every
        state a page gives an id being verified is kept at once (other walks, running at the
        same time over overlapping stretches, then skip it).
        """
        got: dict[str, OrderState] = {}
        by_client = target.field == "client_order_id"
        interest, states = self._interest, self._states

        def take(page: list[ListedOrder]) -> None:
            seen: dict[str, OrderState] = {}
            for order in page:
                key = order.client_order_id if by_client else order.order_id
                if key is None or order.state is None:
                    continue
                if key in pending:
                    got[key] = seen[key] = order.state
                elif key in interest:
                    seen[key] = order.state
            self._record(Finding(states=seen))

        def settled(id_: str) -> bool:
            return id_ in got or ((s := states.get(id_)) is not None and s.final)

        try:
            if by_client:
                cursor: int | None = None
                # a client id gives no place to start: walk down from the newest, further
                # than the ids alone would need (others' orders sit between them), capped
                for _ in range(max(-(-len(pending) // V5_PAGE_SIZE) + 2, CLIENT_WALK_PAGES)):
                    page = await self._page(target, path, cursor, mode, "prev")
                    take(page)
                    if len(page) < V5_PAGE_SIZE or len(got) == len(pending):
                        break
                    cursor = min(int(o.order_id) for o in page)
                return got
            wanted = sorted(int(i) for i in pending if not settled(i))
            if not wanted:
                return got
            at = 0  # wanted[at] is the smallest asked id not yet passed
            cursor = wanted[0] - 1
            for _ in range(len(wanted)):  # never more pages than order info would cost
                page = await self._page(target, path, cursor, mode, "next")
                take(page)
                if len(page) < V5_PAGE_SIZE:
                    break
                last = max(int(o.order_id) for o in page)
                while at < len(wanted) and (wanted[at] <= last or settled(str(wanted[at]))):
                    at += 1
                if at == len(wanted):
                    break
                cursor = max(last, wanted[at] - 1)
        except (_Unread, _NotFound, ValueError) as exc:
            log.info("%s stopped (%s); order info reads what it did not settle", path, exc)
        return got

    async def _page(self, target: Target, path: str, cursor: int | None, mode: str | None,
                    direct: str) -> list[ListedOrder]:
        """One page of a v5 listing."""
        query = v5_page_query(target, path, cursor, margin_mode=mode, direct=direct)
        return parse_v5_orders(await self._ask(query))

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
        live, first = self._live_reads, self._live_first
        now = self._clock.now()
        for id_, state in finding.states.items():
            self._unread.pop(id_, None)
            if not state.live:
                live.pop(id_, None)
                first.pop(id_, None)
            elif id_ not in first:
                first[id_] = now
                live[id_] = 1
            elif now - first[id_] >= self._policy.backoff / 2:
                live[id_] = 2  # seen live again, a backoff later: not the lag
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
        self.reads += 1
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
        size = V5_PAGE_SIZE if self._api == "v5" else INFO_MAX_IDS  # a request's worth
        while len(buffer) >= size:
            self._send(record.id_field, buffer[:size])
            del buffer[:size]

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
