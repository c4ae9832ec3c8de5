"""A rate limiter whose pools live in Redis, so every process of one account shares them.

HTX counts its limits per account (UID). Several processes on one account, each with its own
in-process `RateLimiter`, would together send several times the limit.
[`RedisLimiter`][htx_cancel.redis_limiter.RedisLimiter] keeps the pools in Redis instead::

    from htx_cancel import CancelClient
    from htx_cancel.redis_limiter import RedisLimiter

    async with RedisLimiter("redis://127.0.0.1:6379/0", account="uid-123") as limiter:
        async with CancelClient(creds, limiter=limiter) as client:
            await client.cancel_orders("BTC-USDT", order_ids=ids)

Needs the ``redis`` extra (``pip install htx_cancel[redis]``). The guarantee is the in-process
one, enforced by one atomic script on the Redis server's clock: a slot is held from grant until
``period + guard`` after the request completed, for every pool of the request at once.

The process keeps the same books as the in-process limiter (a `Scheduler`
that counts what this process holds), so falling back to the in-process limiter when Redis
fails, coming back when it answers again, and writing its slots back to a Redis that lost them
all carry what the process knows.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import uuid
from collections.abc import Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._catalog import TRADE_POOL, Endpoint, Priority
from .._errors import RateLimiterError
from .._models import RateLimitHeaders
from . import policy
from . import redis_scripts as lua
from .feedback import NOT_SENT, SENT, Feedback
from .limits import DEFAULT_LIMITS, RateLimits
from .local import RateLimiter
from .pools import PoolSpec
from .protocol import Slot, check_priority, hold_slot, resolve
from .redis_client import cluster_if_clustered, guarded, make_client
from .scheduler import LEVELS, Scheduler, Ticket
from .stats import LimiterStats, PoolStats

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

__all__ = ["RedisLimiter", "RedisTicket"]

log = logging.getLogger("htx_cancel.redis")

_FIRST_RETRY = 0.001  # a waiter behind a head that has room backs off from here, doubling
_BEHIND_HEAD = 0.001  # waiters behind the head wake this much after it, so it goes first


def _ms(seconds: float) -> int:
    """Whole milliseconds, rounded up."""
    return max(0, math.ceil(seconds * 1000))


CLOSE_WAIT = 5.0  # seconds close() waits for calls Redis has not answered yet

class _Moved(Exception):
    """A waiter must go the other way: Redis failed (to the fallback) or came back."""


class RedisTicket(Ticket):
    """A ticket granted by Redis: its lane's keys, Redis's counts at grant, the generation.

    :param endpoint: the endpoint's name.
    :param pools: the pools it holds a slot in.
    :param tid: the ticket's id in Redis.
    :param lane: the queue it waited in (set by the limiter).
    :param priority: ``"high"``, ``"normal"`` or ``"low"``.
    """

    __slots__ = ("gen", "lane", "lapses", "shared")

    def __init__(self, endpoint: str, pools: tuple[str, ...], tid: str, lane: _Lane | None,
                 priority: str) -> None:
        super().__init__(endpoint, pools, priority)
        self.tid = tid
        self.lane: _Lane = lane  # type: ignore[assignment]  # set by the limiter at once
        self.gen = ""
        self.shared: dict[str, tuple[int, int]] = {}  # pool -> (slots in use, grants) in Redis
        self.lapses: list[int] = []  # per pool: ms until the last answered slot lapses


class _Lane:
    """The Redis keys and fixed script arguments of one endpoint and priority, built once."""

    __slots__ = ("acquire_args", "acquire_keys", "complete_args", "complete_keys", "pause_keys",
                 "queue_keys", "release_keys", "warm_keys", "warm_ms")

    def __init__(self, limiter: RedisLimiter, name: str, pools: tuple[str, ...],
                 level: int) -> None:
        k = limiter.key
        strategy = len(pools) > 1
        specs = [limiter.limits.spec(p) for p in pools]
        waits = [[k(f"wait:{p}:{lv}") for lv in range(len(LEVELS))] for p in pools]
        strategic = [k(f"qstrategy:{lv}") for lv in range(len(LEVELS))]
        needs = [k(f"qneed:{lv}") for lv in range(len(LEVELS))]
        self.queue_keys = [k(f"q:{level}:{name}"), k("qlive"), strategic[level],
                           *(w[level] for w in waits), needs[level]]
        per_pool = [[k(f"pool:{p}"), k(f"pause:{p}"), k(f"hold:{p}"), k(f"count:{p}"), *w,
                     k(f"warm:{p}"), k(f"floor:{p}")] for p, w in zip(pools, waits, strict=True)]
        self.acquire_keys = [*self.queue_keys[:2], *strategic, *needs, k("seq"), k("gen"),
                             k("settle"), *itertools.chain(*per_pool)]
        # a strategy endpoint's reserve is at most what it can send in one trade window
        trade = limiter.limits.spec(TRADE_POOL)
        own = specs[-1]
        cap = policy.per_window((own.limit, own.period), trade.period) if strategy else 0
        self.complete_keys = [keys[0] for keys in per_pool]
        self.complete_args = [_ms(s.period + limiter.limits.guard) for s in specs]
        self.acquire_args: list[int | str] = [
            int(strategy), _ms(limiter.lease), _ms(limiter.queue_ttl),
            limiter.reserve_cap, _ms(limiter.poll_cap), level, *(s.limit for s in specs),
            *self.complete_args, int(limiter.limits.probe), cap, name]
        self.warm_keys = [keys[-2] for keys in per_pool]
        self.warm_ms = _ms(policy.MEMORY * max(s.period for s in specs))
        self.release_keys = list(itertools.chain(*((keys[0], keys[3]) for keys in per_pool)))
        self.pause_keys = {p: keys[1] for p, keys in zip(pools, per_pool, strict=True)}


class _Scripts:
    """The Lua scripts, registered once on the client (reloaded by redis-py on NOSCRIPT)."""

    __slots__ = ("acquire", "complete", "dequeue", "generation", "hold", "observe", "pause",
                 "release", "seed", "stats", "warm")

    def __init__(self, client: Any) -> None:
        self.acquire: AsyncScript = client.register_script(lua.ACQUIRE)
        self.complete: AsyncScript = client.register_script(lua.COMPLETE)
        self.release: AsyncScript = client.register_script(lua.RELEASE)
        self.dequeue: AsyncScript = client.register_script(lua.DEQUEUE)
        self.pause: AsyncScript = client.register_script(lua.PAUSE)
        self.observe: AsyncScript = client.register_script(lua.OBSERVE)
        self.hold: AsyncScript = client.register_script(lua.HOLD)
        self.stats: AsyncScript = client.register_script(lua.STATS)
        self.warm: AsyncScript = client.register_script(lua.WARM)
        self.seed: AsyncScript = client.register_script(lua.SEED)
        self.generation: AsyncScript = client.register_script(lua.GENERATION)


class RedisLimiter:
    """The [`Limiter`][htx_cancel.Limiter] of one account, shared through Redis by many processes.

    ``redis`` is a URL (the limiter makes and closes its own client: ``redis://``,
    ``rediss://`` for TLS, a node of a Redis Cluster) or a ``redis.asyncio`` client (lent; not
    closed: a ``Redis``, a ``RedisCluster``, or Sentinel's ``master_for(...)``). ``account``
    names the account (e.g. its UID): every limiter with the same ``key_prefix`` and
    ``account`` shares the pools. ``limits`` are the account's whole limits (``share`` only if
    something outside Redis uses part of the account).

    ``lease`` is how long an in-flight request's slot is held if its process never reports back
    (it died): it must exceed the client's total request timeout. ``queue_ttl`` is how long a
    waiter's place in the queue outlives its last check (a dead process's place stops blocking
    the queue after it). ``poll_cap`` bounds every sleep, since completions in other processes
    cannot wake this one.

    When Redis cannot be used, [`RateLimiterError`][htx_cancel.RateLimiterError] is raised, unless
    ``fallback`` is given: then requests go through an in-process ``RateLimiter(fallback)`` (set
    its ``share`` to this process's part of the account) that starts from this process's books
    (what it holds and sent in the current windows), and Redis is tried again every
    ``retry_after`` seconds; when it answers, the held slots are written back and requests go
    through Redis again. Both moves are logged at INFO; ``stats().backend`` says which is used.

    :param redis: a Redis URL (``redis://``, ``rediss://`` for TLS, a node of a Redis Cluster; the
        limiter makes and closes its own client) or a ``redis.asyncio`` client (lent, not closed).
    :param account: names the account (e.g. its UID): every limiter with the same ``key_prefix`` and
        ``account`` shares the pools. Empty, or with braces or spaces, is a ValueError.
    :param limits: the account's whole [`RateLimits`][htx_cancel.RateLimits] (default: HTX's).
    :param key_prefix: the start of every Redis key (default ``htx_cancel``).
    :param fallback: limits for an in-process limiter used while Redis cannot be used (None, the
        default: raise [`RateLimiterError`][htx_cancel.RateLimiterError] instead).
    :param poll_cap: the longest sleep between checks of Redis, in seconds (default 0.05); it must
        be more than 0 and at most ``queue_ttl / 4`` (else a ValueError).
    :param lease: seconds an in-flight request's slot is held if its process never reports back
        (default 15.0); it must exceed the client's total request timeout, and the longest period
        plus ``guard`` (else a ValueError).
    :param queue_ttl: seconds a waiter's place in the queue outlives its last check (default 0.25).
    :param retry_after: seconds between tries of Redis while on the fallback (default 0.2; more than
        0, else a ValueError).
    """

    __slots__ = (
        "_asked_at",
        "_books",
        "_client",
        "_connecting",
        "_down",
        "_fallback",
        "_flying",
        "_gen",
        "_lanes",
        "_locks",
        "_own_client",
        "_prefix",
        "_probe_task",
        "_queued",
        "_redis",
        "_scripts",
        "_seen",
        "_seq",
        "_settle",
        "_tasks",
        "_token",
        "_waiting",
        "_watch_task",
        "account",
        "lease",
        "limits",
        "poll_cap",
        "queue_ttl",
        "reserve_cap",
        "retry_after",
    )

    def __init__(self, redis: str | Any, account: str, limits: RateLimits = DEFAULT_LIMITS,
                 *, key_prefix: str = "htx_cancel", fallback: RateLimits | None = None,
                 poll_cap: float = 0.05, lease: float = 15.0, queue_ttl: float = 0.25,
                 retry_after: float = 0.2) -> None:
        if not account or any(c in account for c in "{} "):
            raise ValueError(f"account must be a non-empty name without braces or spaces, "
                             f"got {account!r}")
        longest = max(limits.trade[1], limits.read[1], limits.strategy[1]) + limits.guard
        if lease <= longest:
            raise ValueError(f"lease must exceed the longest period plus guard ({longest} s), "
                             f"got {lease}")
        if not 0 < poll_cap * 4 <= queue_ttl:
            raise ValueError(f"need 0 < poll_cap <= queue_ttl / 4, got {poll_cap}, {queue_ttl}")
        if retry_after <= 0:
            raise ValueError(f"retry_after must be positive, got {retry_after}")
        self.account = account
        self.limits = limits
        self.lease = lease
        self.queue_ttl = queue_ttl
        self.poll_cap = poll_cap
        self.retry_after = retry_after
        self.reserve_cap = policy.reserve_cap(limits.spec(TRADE_POOL).limit,
                                              limits.strategy_reserve)
        self._own_client = isinstance(redis, str)
        self._redis = redis  # the URL, until the first call has looked at the server
        self._client: Any = make_client(redis) if isinstance(redis, str) else redis
        self._scripts: _Scripts | None = None if self._own_client else _Scripts(redis)
        self._connecting: asyncio.Lock | None = None
        self._prefix = f"{key_prefix}:{{{account}}}:"
        self._token = uuid.uuid4().hex[:12]
        self._seq = itertools.count()
        self._lanes: dict[tuple[str, int], _Lane] = {}
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}
        self._down = False  # on the fallback
        # what this process holds, in the in-process books; the fallback limits from them
        self._books = Scheduler(self._specs(), guard=limits.guard,
                                reserve_cap=limits.strategy_reserve, plan=False)
        self._fallback = (RateLimiter(fallback, scheduler=self._books)
                          if fallback is not None else None)
        self._flying: dict[str, Ticket] = {}  # granted, not finished, by ticket id
        # pool -> (in use at our last answer, of them ours, when, when the last answered lapses)
        self._seen: dict[str, tuple[int, int, float, float]] = {}
        self._asked_at = -math.inf  # when the last acquire script was sent
        self._waiting = dict.fromkeys(LEVELS, 0)
        self._queued: dict[tuple[str, int], int] = {}  # waiters per lane, told to Redis
        self._tasks: set[asyncio.Future[Any]] = set()
        self._gen: str | None = None  # the generation of the account's books we wrote to
        # after a loss of the books, grants wait for the others to write theirs back: the
        # watchers see it within poll_cap, processes on the fallback within retry_after
        self._settle = _ms(retry_after + 2 * poll_cap)
        self._probe_task: asyncio.Task[None] | None = None
        self._watch_task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"RedisLimiter(account={self.account!r}, limits={self.limits!r})"

    def key(self, name: str) -> str:
        """The Redis key of ``name`` for this account.

        :param name: the key's name within the account's keys.
        """
        return self._prefix + name

    @property
    def backend(self) -> str:
        """``"redis"``, or ``"fallback"`` while limiting in-process because Redis failed."""
        return "fallback" if self._down else "redis"

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> RedisLimiter:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def flush(self) -> None:
        """Wait until every completion, release and pause sent to Redis has been applied."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        """Apply what is pending, stop probing, close the Redis client if this limiter made it.

        What Redis has not answered within ``CLOSE_WAIT`` seconds is given up (a WARNING says
        how many calls): closing never hangs on a Redis that stopped answering; the slots those
        calls held lapse with their lease.
        """
        pending = set(self._tasks)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLOSE_WAIT
        while pending:
            left = deadline - loop.time()
            if left <= 0:
                log.warning("RedisLimiter.close: %d Redis calls unanswered after %.0f s, given "
                            "up", len(pending), CLOSE_WAIT)
                for call in pending:
                    call.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                break
            await asyncio.wait(pending, timeout=left)
            pending = set(self._tasks)
        for task in (self._probe_task, self._watch_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._probe_task = self._watch_task = None
        if self._own_client:
            await self._client.aclose()

    async def ping(self) -> None:
        """Check that Redis answers; RateLimiterError if not."""
        client = await self._connect()
        await guarded(client.ping())

    async def _connect(self) -> Any:
        """The client; from a URL, the first call looks whether it names a cluster's node."""
        if self._scripts is not None:
            return self._client
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._scripts is None:
                client, cluster = await cluster_if_clustered(self._client, self._redis)
                self._client, self._scripts = client, _Scripts(client)
                if cluster:
                    log.info("Redis for account %s is a cluster: using a cluster client",
                             self.account)
        return self._client

    async def _run(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run a script; RateLimiterError for anything Redis does wrong."""
        if self._scripts is None:
            await self._connect()
        assert self._scripts is not None
        script: AsyncScript = getattr(self._scripts, name)
        return await guarded(script(keys, args))

    # -- the Limiter protocol ---------------------------------------------------------------

    async def acquire(self, endpoint: Endpoint, priority: Priority = "normal") -> Ticket:
        """Wait (FIFO per endpoint, across processes) until every pool of ``endpoint`` has room.

        :param endpoint: the catalog's endpoint of the request (its pools: trade, read, a strategy
            pool).
        :param priority: ``"high"``, ``"normal"`` (the default) or ``"low"``: higher priorities are
            granted first.
        """
        for pool in endpoint.pools:
            self._books.add_pool(self._spec(pool))
        while True:
            if self._down:
                assert self._fallback is not None
                try:
                    ticket = await self._fallback.acquire(endpoint, priority)
                except _Moved:
                    continue  # Redis came back while it waited: queue there
                ticket.tid = self._new_tid()
                self._flying[ticket.tid] = ticket
                log.debug("granted on the fallback: %s", ticket.endpoint)
                return ticket
            try:
                return await self._acquire_shared(endpoint, priority)
            except _Moved:
                continue
            except RateLimiterError as exc:
                if self._fallback is None:
                    raise
                self._fall_back(exc)

    async def _acquire_shared(self, endpoint: Endpoint, priority: Priority) -> RedisTicket:
        """Queue in this process's lane of the endpoint and priority, then in Redis."""
        key = (endpoint.name, LEVELS[priority])
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._waiting[priority] += 1
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with lock:  # one waiter per endpoint, priority and process asks Redis
                if self._down:
                    raise _Moved  # Redis failed while this waiter queued in the lane
                ticket = await self._wait(self._ticket(endpoint, priority))
        finally:
            self._waiting[priority] -= 1
            self._queued[key] -= 1
        self._books.take(ticket, self._now())
        self._saw(ticket.pools, [used for used, _ in ticket.shared.values()], ticket.lapses)
        self._flying[ticket.tid] = ticket
        self._watch()
        return ticket

    def slot(self, path_or_endpoint: str | Endpoint, *, priority: Priority = "normal",
             pools: tuple[str, ...] | None = None) -> AbstractAsyncContextManager[Slot]:
        """``async with limiter.slot(path) as slot:`` around a request another HTTP client sends.

        As [`RateLimiter.slot()`][htx_cancel.RateLimiter.slot], across every process of the account.

        :param path_or_endpoint: a catalog path (``/linear-swap-api/v1/swap_order``,
            ``/v5/trade/order``), a bare v1 name (``swap_order``), or an endpoint of the catalog.
        :param priority: ``"high"``, ``"normal"`` (the default) or ``"low"``; anything else is a
            ValueError.
        :param pools: the pools the request counts against, such as ``("trade",)``; needed (else a
            ValueError) for a path the catalog does not know, and given for a known one they replace
            the catalog's.
        """
        check_priority(priority)
        return hold_slot(self, resolve(path_or_endpoint, pools), priority)

    def finish(self, ticket: Ticket, feedback: Feedback = SENT) -> None:
        """The ticket's request is over: the books and, on Redis, the account's pools learn it.

        Not sent: its slots go straight back. Sent: held ``period + guard`` from now, then
        [`learn()`][htx_cancel.redis_limiter.RedisLimiter.learn] what its answer said.

        :param ticket: the ticket ``acquire`` returned; each goes back exactly once.
        :param feedback: how the request ended: a [`Feedback`][htx_cancel.Feedback] (default: sent,
            nothing learned from its answer).
        """
        if not ticket.granted:
            return
        self._flying.pop(ticket.tid, None)
        if self._down:
            assert self._fallback is not None
            self._fallback.finish(ticket, feedback)
            return
        self._books.finish(ticket, self._now(), SENT if feedback.sent else NOT_SENT)
        lane = self._lane_of(ticket)
        if not feedback.sent:
            self._spawn(self._run("release", lane.release_keys, [ticket.tid]))
            return
        self._spawn(self._run("complete", lane.complete_keys, [ticket.tid, *lane.complete_args]))
        self.learn(ticket, feedback)

    def learn(self, ticket: Ticket, feedback: Feedback) -> None:
        """What the answer of a finished ticket's request said, for every process.

        Headers: outside use, counted against every process's grants. Over the limit: the
        pool pauses for every process until the exchange's reset. Pools the headers do not
        name are known to answer: no more probing.

        :param ticket: a ticket already finished.
        :param feedback: what its answer said: a [`Feedback`][htx_cancel.Feedback] (headers, a
            1032).
        """
        if self._down:
            assert self._fallback is not None
            self._fallback.learn(ticket, feedback)
            return
        done = self._books.learn(ticket, self._now(), feedback, count_outside=False)
        lane = self._lane_of(ticket)
        headers = feedback.headers
        shared = ticket.shared.get(done.pool) if isinstance(ticket, RedisTicket) and done.pool \
            else None
        if (headers is not None and done.pool is not None and shared is not None
                and isinstance(ticket, RedisTicket) and ticket.gen == self._gen):
            # counted only against the books it was granted from: after a loss of Redis's
            # data the counts start again, and reading our own requests as others' would hold
            # back slots for nothing
            self._spawn(self._learn(done.pool, shared, headers, feedback.reset_in))
        unheard = [key for pool, key in zip(ticket.pools, lane.warm_keys, strict=True)
                   if pool != done.pool]
        if unheard and not feedback.rate_limited:
            self._spawn(self._run("warm", unheard, [lane.warm_ms]))
        for name, wait in done.paused.items():
            self._spawn(self._run("pause", [lane.pause_keys[name]], [_ms(wait)]))

    async def _learn(self, pool: str, shared: tuple[int, int], headers: RateLimitHeaders,
                     reset_in: float | None) -> None:
        """Count the outside use in Redis, estimate it here, share the hold through Redis."""
        spec = self._books.pools[pool].spec
        count = int(await self._run("observe", [self.key(f"count:{pool}")],
                                    [spec.limit, *shared, headers.remaining]))
        outside = self._books.pools[pool].outside
        now = self._now()
        outside.observe(now, count, spec.period if reset_in is None else reset_in)
        await self._run("hold", [self.key(f"hold:{pool}"), self.key(f"warm:{pool}")],
                        [outside.hold(now), _ms(policy.MEMORY * spec.period)])

    # -- statistics -------------------------------------------------------------------------

    def stats(self) -> LimiterStats:
        """What this process knows: its own slots, waiters, pauses and outside estimates, and
        which backend limits it now (``backend``).

        The account's pools as every process uses them:
        [`fetch_stats()`][htx_cancel.redis_limiter.RedisLimiter.fetch_stats].
        """
        mine = self._books.stats(self._now(), self.backend)
        if self._down:
            return mine
        waiting = {name: mine.waiting[name] + self._waiting[name] for name in LEVELS}
        return replace(mine, waiting=waiting)

    async def fetch_stats(self) -> LimiterStats:
        """The account's pools as Redis holds them (every process), with one script call.

        Waiters, counters and ``outside_seen`` are this process's.
        """
        names = list(self._books.pools)
        keys = [key for name in names
                for key in (self.key(f"pool:{name}"), self.key(f"pause:{name}"),
                            self.key(f"hold:{name}"))]
        specs = [self._books.pools[name].spec for name in names]
        args = [_ms(spec.period + self.limits.guard) for spec in specs]
        raw = [int(x) for x in await self._run("stats", keys, args)]
        mine = self.stats()
        pools = {}
        for i, spec in enumerate(specs):
            flight, held, pause_ms, hold = raw[4 * i: 4 * i + 4]
            pools[spec.name] = PoolStats(spec.name, spec.limit, spec.period, flight, held,
                                         max(0, spec.limit - flight - held - hold), hold,
                                         pause_ms / 1000)
        return replace(mine, pools=pools)

    # -- acquiring ----------------------------------------------------------------------------

    def _specs(self) -> list[PoolSpec]:
        """The books' specs of the account's pools."""
        return [self._spec(spec.name) for spec in self.limits.specs()]

    def _spec(self, pool: str) -> PoolSpec:
        """A pool's spec for the books: the account's limits on Redis (which probes by its
        ``warm`` keys, so the books do not), the fallback's while on it."""
        if self._down and self._fallback is not None:
            return self._fallback.limits.spec(pool)
        return replace(self.limits.spec(pool), probe=False)

    def _new_tid(self) -> str:
        return f"{self._token}:{next(self._seq)}"

    def _lane_of(self, ticket: Ticket) -> _Lane:
        """The keys and arguments of the ticket's endpoint and priority."""
        key = (ticket.endpoint, ticket.level)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(self, ticket.endpoint, ticket.pools, ticket.level)
        return lane

    def _ticket(self, endpoint: Endpoint, priority: Priority = "normal") -> RedisTicket:
        """A new ticket with a process-unique id."""
        ticket = RedisTicket(endpoint.name, endpoint.pools, self._new_tid(), None, priority)
        ticket.lane = self._lane_of(ticket)
        return ticket

    async def _wait(self, ticket: RedisTicket) -> RedisTicket:
        """Ask Redis until the ticket is granted; sleep as long as Redis says in between."""
        backoff = _FIRST_RETRY
        while True:
            # the lane's waiters count towards a strategy endpoint's reserve, as in-process
            answer = await self._ask(ticket, self._queued.get((ticket.endpoint, ticket.level), 1))
            if answer[0] > 0:
                self._granted(ticket, answer)
                return ticket
            if answer[0] < 0:  # the account's books are not the ones we wrote to
                await self._seed()
                continue
            n = len(ticket.pools)
            self._saw(ticket.pools, answer[3:3 + n], answer[3 + n:3 + 2 * n])
            wait, at_head = answer[1] / 1000, bool(answer[2])
            if at_head:
                delay = wait
            elif wait > 0:
                delay = wait + _BEHIND_HEAD
            else:  # there is room, but an older waiter (maybe elsewhere) goes first
                delay, backoff = backoff, min(backoff * 2, self.poll_cap)
            try:
                await asyncio.sleep(min(delay, self.poll_cap))
            except asyncio.CancelledError:
                self._dequeue(ticket)
                raise

    async def _ask(self, ticket: RedisTicket, queued: int = 1) -> list[int]:
        """Run the acquire script (``queued``: waiters in the ticket's lane); if the caller is
        cancelled meanwhile, undo what it did."""
        lane = ticket.lane
        self._asked_at = self._now()
        call = asyncio.ensure_future(self._run(
            "acquire", lane.acquire_keys, [ticket.tid, *lane.acquire_args, max(1, queued),
                                           self._gen or ""]))
        self._tasks.add(call)  # flush() waits for it, and for what its undoing spawns
        call.add_done_callback(self._tasks.discard)
        try:
            return [int(x) for x in await asyncio.shield(call)]
        except asyncio.CancelledError:
            call.add_done_callback(lambda done: self._undo(ticket, done))
            raise

    def _undo(self, ticket: RedisTicket, call: asyncio.Future[Any]) -> None:
        """A cancelled waiter's script finished anyway: give back a grant, or leave the queue."""
        if call.cancelled() or call.exception() is not None:
            self._dequeue(ticket)
            return
        if int(call.result()[0]) > 0:
            # granted in Redis only: this process never counted it, so only Redis gives it back
            self._spawn(self._run("release", ticket.lane.release_keys, [ticket.tid]))
        else:
            self._dequeue(ticket)

    def _granted(self, ticket: RedisTicket, answer: Sequence[int]) -> None:
        """Keep each pool's (used, count) in Redis at the grant, for outside use."""
        ticket.gen = self._gen or ""
        for i, pool in enumerate(ticket.pools):
            ticket.shared[pool] = (answer[3 + 2 * i], answer[4 + 2 * i])
        ticket.lapses = list(answer[3 + 2 * len(ticket.pools):])

    def _saw(self, pools: Sequence[str], used: Sequence[int], lapses: Sequence[int]) -> None:
        """Redis said how many slots of these pools are in use (every process's) and in how
        many ms the last answered one lapses: keep it with how many are this process's, for
        the fallback and the floor."""
        now = self._now()
        for pool, n, ms in zip(pools, used, lapses, strict=False):
            self._seen[pool] = (n, self._books.pools[pool].own(now), now, now + ms / 1000)

    def _dequeue(self, ticket: RedisTicket) -> None:
        """Take a waiter that gave up out of the queue."""
        self._spawn(self._run("dequeue", ticket.lane.queue_keys, [ticket.tid]))

    # -- the books in Redis: generations, writing back, the fallback ----------------------------

    def _held(self) -> tuple[list[str], list[int | str], int]:
        """The slots this process holds, and what it last saw in use, as SEED's pool keys and
        arguments; and how many slots it holds."""
        now = self._now()
        lease = _ms(self.lease)
        keys: list[str] = []
        args: list[int | str] = []
        total = 0
        for name, pool in self._books.pools.items():
            pool.own(now)
            flying = [t.tid for t in self._flying.values() if name in t.pools]
            held = [(tid, _ms(until - now)) for until, tid in pool.releases if tid]
            # what was in use at our last answer counts until its last answered slot lapses
            # (slots in flight then are this process's, written back, or a dead one's lease)
            seen, _, _, lapse = self._seen.get(name, (0, 0, now, now))
            seen_ms = _ms(lapse - now)
            if not flying and not held and not (seen and seen_ms):
                continue
            keys += [self.key(f"pool:{name}"), self.key(f"floor:{name}")]
            args += [seen, seen_ms, len(flying) + len(held)]
            for tid in flying:
                args += [tid, lease]
            for tid, ms in held:
                args += [tid, ms]
            total += len(flying) + len(held)
        return keys, args, total

    async def _seed(self) -> None:
        """Write the slots this process holds into Redis and adopt the generation in force.

        A process that wrote to the account before (it had a generation) and finds none makes
        every grant wait until the other processes have written theirs back too.
        """
        while True:
            granted = self._books.granted
            keys, args, total = self._held()
            token = uuid.uuid4().hex[:12]  # taken only if the account has none: a new one
            settle = self._settle if self._gen is not None else 0
            gen = await self._run("seed", [self.key("gen"), self.key("settle"), *keys],
                                  [token, settle, *args])
            if self._books.granted == granted:  # nothing granted meanwhile that it missed
                break
        gen = gen.decode() if isinstance(gen, bytes) else str(gen)
        if self._gen is not None and gen != self._gen:
            log.info("Redis lost the books of account %s (restart, flush or failover): wrote "
                     "back %d slots held here", self.account, total)
        self._gen = gen

    def _fall_back(self, exc: BaseException) -> None:
        """Limit in-process from the books this process keeps; probe Redis until it answers."""
        if self._down:
            return
        self._down = True
        self._books.resize(self._spec(name) for name in self._books.pools)
        now = self._now()
        for name, pool in self._books.pools.items():
            used, mine, at, _ = self._seen.get(name, (0, 0, -math.inf, 0.0))
            # fresh: Redis answered within a poll before the ask that failed (the process was
            # asking all along); else the others may have taken anything since
            if self._asked_at - at > 2 * self.poll_cap:
                # nothing fresh is known of the others: one request goes alone, and its
                # headers say how much of the account they use (if the exchange sends them)
                pool.outside.answered_at = None
                log.debug("fallback %s: own %d, nothing fresh of the others (%.3f s old): "
                          "probe", name, pool.own(now), self._asked_at - at)
                continue
            # the others' part of what was in use at our last answer, beyond their shares, is
            # not ours to take until it lapses; a re-check the shared books had planned would
            # send a probe past it
            pool.outside.recheck_at = None
            beyond = used - mine - (pool.spec.account - pool.limit)
            pool.leave_for_others(max(0, beyond), at + pool.period + 2 * self.limits.guard)
            log.debug("fallback %s: own %d, %d in use (%d ours) %.3f s ago: %d left for others "
                      "for %.3f s", name, pool.own(now), used, mine, now - at, max(0, beyond),
                      at + pool.period + 2 * self.limits.guard - now)
        log.info("Redis unusable for account %s (%s); limiting in-process with %r from what "
                 "this process holds, trying Redis every %.2f s", self.account, exc,
                 self._fallback.limits if self._fallback else None, self.retry_after)
        self._probe_task = asyncio.get_running_loop().create_task(self._probe())

    async def _probe(self) -> None:
        """While on the fallback: every ``retry_after``, try Redis; when it answers, write the
        held slots back and send every waiter to Redis."""
        while self._down:
            await asyncio.sleep(self.retry_after)
            try:
                client = await self._connect()
                await guarded(asyncio.wait_for(client.ping(), self.retry_after * 4))
                await self._seed()
            except RateLimiterError as exc:
                log.debug("Redis still unusable for account %s: %s", self.account, exc)
                continue
            self._down = False
            self._books.resize(self._spec(name) for name in self._books.pools)
            for pool in self._books.pools.values():
                pool.leave_for_others(0, 0.0)
            log.info("Redis answers again for account %s: back on the shared pools", self.account)
            assert self._fallback is not None
            self._fallback.evict(_Moved())
            self._watch()
        self._probe_task = None

    def _watch(self) -> None:
        """While this process holds slots in Redis (or saw others' lately), check the
        generation every ``poll_cap``, so that slots lost with Redis's data are written back
        (and what was in use is known) before others are granted."""
        if self._watch_task is None and not self._down:
            self._watch_task = asyncio.get_running_loop().create_task(self._watching())

    async def _watching(self) -> None:
        try:
            while not self._down:
                now = self._now()
                if not self._flying and not any(p.own(now) for p in self._books.pools.values()) \
                        and all(at + self.lease < now for _, _, at, _ in self._seen.values()):
                    break
                await asyncio.sleep(self.poll_cap)
                try:
                    gen = await self._run("generation", [self.key("gen")], [])
                    gen = gen.decode() if isinstance(gen, bytes) else gen
                    if gen != self._gen:
                        await self._seed()
                except RateLimiterError:
                    continue  # the next acquire falls back, or raises
        finally:
            self._watch_task = None

    # -- background calls ------------------------------------------------------------------

    def _now(self) -> float:
        """This process's monotonic time (for its own books; Redis judges by its clock)."""
        return asyncio.get_running_loop().time()

    def _spawn(self, call: Coroutine[Any, Any, Any]) -> None:
        """Run a fire-and-forget script call; ``flush`` and ``close`` wait for it."""
        task = asyncio.ensure_future(self._quietly(call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _quietly(self, call: Coroutine[Any, Any, Any]) -> None:
        """Await a script call; if Redis fails, the slots' leases expire by themselves."""
        try:
            await call
        except RateLimiterError as exc:
            log.warning("Redis call failed (held slots expire after their lease): %s", exc)
