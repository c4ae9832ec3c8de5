"""A rate limiter whose pools live in Redis, so every process of one account shares them.

HTX counts its limits per account (UID). Several processes on one account, each with its own
in-process :class:`~htx_cancel.RateLimiter`, would together send several times the limit.
:class:`RedisLimiter` keeps the pools in Redis instead::

    from htx_cancel import CancelClient
    from htx_cancel.redis_limiter import RedisLimiter

    async with RedisLimiter("redis://127.0.0.1:6379/0", account="uid-123") as limiter:
        async with CancelClient(creds, limiter=limiter) as client:
            await client.cancel_orders("BTC-USDT", order_ids=ids)

Needs the ``redis`` extra (``pip install htx_cancel[redis]``). The guarantee is the in-process
one, enforced by one atomic script on the Redis server's clock: a slot is held from grant until
``period + guard`` after the request completed, for every pool of the request at once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import uuid
from collections import deque
from collections.abc import Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import _policy as policy
from . import _redis_scripts as lua
from ._catalog import READ_POOL, TRADE_POOL, Endpoint, Priority
from ._errors import RateLimiterError
from ._limiter import DEFAULT_LIMITS, RateLimiter, RateLimits, check_priority, hold_slot, resolve
from ._scheduler import LEVELS, Ticket
from ._stats import LimiterStats, PoolStats

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["RedisLimiter", "RedisTicket"]

log = logging.getLogger("htx_cancel.redis")

_FIRST_RETRY = 0.001  # a waiter behind a head that has room backs off from here, doubling
_BEHIND_HEAD = 0.001  # waiters behind the head wake this much after it, so it goes first


def _ms(seconds: float) -> int:
    """Whole milliseconds, rounded up."""
    return max(0, math.ceil(seconds * 1000))


class _FallingBack(Exception):
    """Redis went down while a waiter queued: use the fallback."""


def _redis_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean Redis could not be used (or was found down by another waiter)."""
    from redis.exceptions import RedisError

    return (RedisError, OSError, _FallingBack)


class RedisTicket(Ticket):
    """A ticket whose slots are held in Redis under the id ``tid``."""

    __slots__ = ("observed", "plan", "tid")  # observed: the pools whose headers came back

    def __init__(self, endpoint: str, pools: tuple[str, ...], tid: str, plan: _Plan,
                 priority: str) -> None:
        super().__init__(endpoint, pools, priority)
        self.tid = tid
        self.plan = plan
        self.observed: set[str] = set()


class _Plan:
    """The Redis keys and fixed script arguments of one endpoint and priority, built once."""

    __slots__ = ("acquire_args", "acquire_keys", "complete_args", "complete_keys", "pause_keys",
                 "periods", "queue_keys", "release_keys", "warm_keys", "warm_ms")

    def __init__(self, limiter: RedisLimiter, endpoint: Endpoint, level: int) -> None:
        k = limiter.key
        pools = endpoint.pools
        specs = [limiter.limits.spec(p) for p in pools]
        waits = [[k(f"wait:{p}:{lv}") for lv in range(len(LEVELS))] for p in pools]
        strategic = [k(f"qstrategy:{lv}") for lv in range(len(LEVELS))]
        needs = [k(f"qneed:{lv}") for lv in range(len(LEVELS))]
        self.queue_keys = [k(f"q:{level}:{endpoint.name}"), k("qlive"), strategic[level],
                           *(w[level] for w in waits), needs[level]]
        per_pool = [[k(f"pool:{p}"), k(f"pause:{p}"), k(f"hold:{p}"), k(f"count:{p}"), *w,
                     k(f"warm:{p}")] for p, w in zip(pools, waits, strict=True)]
        self.acquire_keys = [*self.queue_keys[:2], *strategic, *needs, k("seq"),
                             *itertools.chain(*per_pool)]
        # a strategy endpoint's reserve is at most what it can send in one trade window
        trade = limiter.limits.spec(TRADE_POOL)
        own = specs[-1]
        cap = policy.per_window((own.limit, own.period), trade.period) if endpoint.strategy else 0
        self.complete_keys = [keys[0] for keys in per_pool]
        self.complete_args = [_ms(s.period + limiter.limits.guard) for s in specs]
        self.acquire_args: list[int | str] = [
            int(endpoint.strategy), _ms(limiter.lease), _ms(limiter.queue_ttl),
            limiter.reserve_cap, _ms(limiter.poll_cap), level, *(s.limit for s in specs),
            *self.complete_args, int(limiter.limits.probe), cap, endpoint.name]
        self.warm_keys = [keys[-1] for keys in per_pool]
        self.warm_ms = _ms(policy.MEMORY * max(s.period for s in specs))
        self.release_keys = list(itertools.chain(*((keys[0], keys[3]) for keys in per_pool)))
        self.pause_keys = {p: keys[1] for p, keys in zip(pools, per_pool, strict=True)}
        self.periods = {s.name: s.period for s in specs}


class _Scripts:
    """The Lua scripts, registered once on the client."""

    __slots__ = ("acquire", "complete", "dequeue", "hold", "observe", "pause", "release",
                 "stats", "warm")

    def __init__(self, client: Redis) -> None:
        self.acquire: AsyncScript = client.register_script(lua.ACQUIRE)
        self.complete: AsyncScript = client.register_script(lua.COMPLETE)
        self.release: AsyncScript = client.register_script(lua.RELEASE)
        self.dequeue: AsyncScript = client.register_script(lua.DEQUEUE)
        self.pause: AsyncScript = client.register_script(lua.PAUSE)
        self.observe: AsyncScript = client.register_script(lua.OBSERVE)
        self.hold: AsyncScript = client.register_script(lua.HOLD)
        self.stats: AsyncScript = client.register_script(lua.STATS)
        self.warm: AsyncScript = client.register_script(lua.WARM)


class _Local:
    """What this process knows of one pool: its own slots, pauses, and outside use."""

    __slots__ = ("busy", "outside", "paused_until", "releases", "spec")

    def __init__(self, limits: RateLimits, name: str) -> None:
        self.spec = limits.spec(name)
        self.busy = 0
        self.releases: deque[float] = deque()
        self.paused_until = 0.0
        # the probe is the in-process limiter's: across processes the pools keep the prior
        self.outside = policy.OutsideUse(self.spec.limit, self.spec.period, self.spec.prior,
                                         probe=False)

    def held(self, now: float) -> int:
        """Completed requests of this process still counted."""
        while self.releases and self.releases[0] <= now:
            self.releases.popleft()
        return len(self.releases)


class RedisLimiter:
    """The :class:`~htx_cancel.Limiter` of one account, shared through Redis by many processes.

    ``redis`` is a URL (the limiter makes and closes its own client) or a ``redis.asyncio.Redis``
    client (lent; not closed). ``account`` names the account (e.g. its UID): every limiter with
    the same ``key_prefix`` and ``account`` shares the pools. ``limits`` are the account's whole
    limits (``share`` only if something outside Redis uses part of the account).

    ``lease`` is how long an in-flight request's slot is held if its process never reports back
    (it died): it must exceed the client's total request timeout. ``queue_ttl`` is how long a
    waiter's place in the queue outlives its last check. ``poll_cap`` bounds every sleep, since
    completions in other processes cannot wake this one.

    When Redis cannot be used, :class:`~htx_cancel.RateLimiterError` is raised, unless
    ``fallback`` is given: then requests go through an in-process ``RateLimiter(fallback)`` (set
    its ``share`` to this process's part of the account) for ``retry_after`` seconds before Redis
    is tried again, with a warning in the log.
    """

    __slots__ = ("_client", "_down_until", "_fallback", "_grants", "_lanes", "_local",
                 "_own_client", "_pauses", "_plans", "_prefix", "_queued", "_scripts", "_seq",
                 "_tasks",
                 "_token", "_waiting", "account", "lease", "limits", "poll_cap", "queue_ttl",
                 "reserve_cap", "retry_after")

    def __init__(self, redis: str | Redis, account: str, limits: RateLimits = DEFAULT_LIMITS,
                 *, key_prefix: str = "htx_cancel", fallback: RateLimits | None = None,
                 poll_cap: float = 0.05, lease: float = 15.0, queue_ttl: float = 1.0,
                 retry_after: float = 5.0) -> None:
        if not account or any(c in account for c in "{} "):
            raise ValueError(f"account must be a non-empty name without braces or spaces, "
                             f"got {account!r}")
        longest = max(limits.trade[1], limits.read[1], limits.strategy[1]) + limits.guard
        if lease <= longest:
            raise ValueError(f"lease must exceed the longest period plus guard ({longest} s), "
                             f"got {lease}")
        if not 0 < poll_cap * 4 <= queue_ttl:
            raise ValueError(f"need 0 < poll_cap <= queue_ttl / 4, got {poll_cap}, {queue_ttl}")
        self.account = account
        self.limits = limits
        self.lease = lease
        self.queue_ttl = queue_ttl
        self.poll_cap = poll_cap
        self.retry_after = retry_after
        self.reserve_cap = policy.reserve_cap(limits.spec(TRADE_POOL).limit,
                                              limits.strategy_reserve)
        self._client, self._own_client = _make_client(redis)
        self._scripts = _Scripts(self._client)
        self._prefix = f"{key_prefix}:{{{account}}}:"
        self._token = uuid.uuid4().hex[:12]
        self._seq = itertools.count()
        self._plans: dict[tuple[str, int], _Plan] = {}
        self._lanes: dict[tuple[str, int], asyncio.Lock] = {}
        self._local = {p: _Local(limits, p) for p in (TRADE_POOL, READ_POOL)}
        self._waiting = dict.fromkeys(LEVELS, 0)
        self._queued: dict[tuple[str, int], int] = {}  # waiters per lane, told to Redis
        self._grants = 0
        self._pauses = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._fallback = RateLimiter(fallback) if fallback is not None else None
        self._down_until: float | None = None  # using the fallback until then

    def __repr__(self) -> str:
        return f"RedisLimiter(account={self.account!r}, limits={self.limits!r})"

    def key(self, name: str) -> str:
        """The Redis key of ``name`` for this account."""
        return self._prefix + name

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
        """Apply what is pending, then close the Redis client if this limiter made it."""
        await self.flush()
        if self._own_client:
            await self._client.aclose()

    async def ping(self) -> None:
        """Check that Redis answers; RateLimiterError if not."""
        try:
            await self._client.ping()
        except _redis_errors() as exc:
            raise _unusable(exc) from exc

    # -- the Limiter protocol ---------------------------------------------------------------

    async def acquire(self, endpoint: Endpoint, priority: Priority = "normal") -> Ticket:
        """Wait (FIFO per endpoint, across processes) until every pool of ``endpoint`` has room."""
        if self._fallback is not None and self._use_fallback():
            return await self._fallback.acquire(endpoint, priority)
        try:
            return await self._acquire_shared(endpoint, priority)
        except _redis_errors() as exc:
            if self._fallback is None:
                raise _unusable(exc) from exc
            if not isinstance(exc, _FallingBack):
                self._went_down(exc)
            return await self._fallback.acquire(endpoint, priority)

    async def _acquire_shared(self, endpoint: Endpoint, priority: Priority) -> RedisTicket:
        """Queue in this process's lane of the endpoint and priority, then in Redis."""
        key = (endpoint.name, LEVELS[priority])
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = asyncio.Lock()
        self._waiting[priority] += 1
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with lane:  # one waiter per endpoint, priority and process asks Redis
                if self._down_until is not None:
                    raise _FallingBack  # Redis failed while this waiter queued in the lane
                ticket = await self._wait(self._ticket(endpoint, priority))
        finally:
            self._waiting[priority] -= 1
            self._queued[key] -= 1
        self._grants += 1
        for pool in ticket.pools:
            self._pool(pool).busy += 1
        return ticket

    def slot(self, path_or_endpoint: str | Endpoint, *, priority: Priority = "normal",
             pools: tuple[str, ...] | None = None) -> AbstractAsyncContextManager[Ticket]:
        """``async with limiter.slot(path):`` around a request another HTTP client sends.

        As :meth:`htx_cancel.RateLimiter.slot`, across every process of the account.
        """
        check_priority(priority)
        return hold_slot(self, resolve(path_or_endpoint, pools), priority)

    def _pool(self, name: str) -> _Local:
        """This process's view of a pool, made on first use."""
        local = self._local.get(name)
        if local is None:
            local = self._local[name] = _Local(self.limits, name)
        return local

    def _now(self) -> float:
        """This process's monotonic time (for its own view; Redis judges by its clock)."""
        return asyncio.get_running_loop().time()

    def complete(self, ticket: Ticket) -> None:
        """The request was answered or failed: hold its slots ``period + guard`` from now."""
        if not isinstance(ticket, RedisTicket):
            self._fallback_of(ticket).complete(ticket)
            return
        if ticket.granted:
            ticket.granted = False
            plan = ticket.plan
            now = self._now()
            for pool in ticket.pools:
                local = self._pool(pool)
                local.busy -= 1
                local.releases.append(now + plan.periods[pool] + self.limits.guard)
                local.outside.answered(now)
            self._spawn(self._scripts.complete(plan.complete_keys,
                                               [ticket.tid, *plan.complete_args]))
            # headers, if any, are fed back in this loop turn; if none came, nothing is to
            # learn from this answer, but the pools are known to answer: stop probing
            asyncio.get_running_loop().call_soon(self._warm_if_silent, ticket)

    def release_unused(self, ticket: Ticket) -> None:
        """The request never left: its slots go straight back."""
        if not isinstance(ticket, RedisTicket):
            self._fallback_of(ticket).release_unused(ticket)
            return
        if ticket.granted:
            ticket.granted = False
            self._grants -= 1
            for pool in ticket.pools:
                self._pool(pool).busy -= 1
            self._spawn(self._scripts.release(ticket.plan.release_keys, [ticket.tid]))

    def observe(self, ticket: Ticket, limit: int, interval_ms: int, remaining: int,
                reset_in: float) -> None:
        """Hold back slots the exchange says someone outside this limiter is using."""
        if not isinstance(ticket, RedisTicket):
            self._fallback_of(ticket).observe(ticket, limit, interval_ms, remaining, reset_in)
            return
        pool = self._match(ticket, limit, interval_ms)
        snap = ticket.snapshot.get(pool) if pool is not None else None
        if pool is None or snap is None:
            return
        ticket.observed.add(pool)
        mine = self.limits.spec(pool).limit
        outside = self.limits.full(pool)[0] - mine
        self._spawn(self._learn(pool, [mine, *snap, remaining - outside], reset_in))

    async def _learn(self, pool: str, args: list[int], reset_in: float) -> None:
        """Count the outside use in Redis, estimate it here, share the hold through Redis."""
        count = int(await self._scripts.observe([self.key(f"count:{pool}")], args))
        local = self._pool(pool)
        now = self._now()
        local.outside.observe(now, count, reset_in)
        hold = local.outside.hold(now)
        ms = _ms(policy.MEMORY * local.spec.period)
        await self._scripts.hold([self.key(f"hold:{pool}"), self.key(f"warm:{pool}")],
                                 [hold, ms])

    def _warm_if_silent(self, ticket: RedisTicket) -> None:
        """Mark the pools known that no headers spoke of (``_learn`` does the others)."""
        plan = ticket.plan
        keys = [key for pool, key in zip(ticket.pools, plan.warm_keys, strict=True)
                if pool not in ticket.observed]
        if keys:
            self._spawn(self._scripts.warm(keys, [plan.warm_ms]))

    def pause(self, ticket: Ticket, limit: int | None = None, interval_ms: int | None = None,
              reset_in: float | None = None) -> None:
        """After a 1032: pause the pool the headers name (or all of the ticket's) until reset."""
        if not isinstance(ticket, RedisTicket):
            self._fallback_of(ticket).pause(ticket, limit, interval_ms, reset_in)
            return
        plan = ticket.plan
        pool = self._match(ticket, limit, interval_ms)
        now = self._now()
        for name in (pool,) if pool else ticket.pools:
            wait = policy.pause_for(plan.periods[name], reset_in, self.limits.guard)
            local = self._pool(name)
            local.paused_until = max(local.paused_until, now + wait)
            local.outside.rejected(now)
            self._pauses += 1
            self._spawn(self._scripts.pause([plan.pause_keys[name]], [_ms(wait)]))

    # -- statistics -------------------------------------------------------------------------

    def stats(self) -> LimiterStats:
        """What this process knows: its own slots, waiters, pauses and outside estimates.

        The account's pools as every process uses them: :meth:`fetch_stats`.
        """
        now = self._now()
        pools = {}
        for name, local in self._local.items():
            held = local.held(now)
            hold = local.outside.hold(now)
            spec = local.spec
            pools[name] = PoolStats(name, spec.limit, spec.period, local.busy, held,
                                    max(0, spec.limit - local.busy - held - hold), hold,
                                    max(0.0, local.paused_until - now))
        seen = max((p.outside.seen for p in self._local.values()), default=0)
        return LimiterStats(pools, dict(self._waiting), self._grants, self._pauses, seen)

    async def fetch_stats(self) -> LimiterStats:
        """The account's pools as Redis holds them (every process), with one script call.

        Waiters, counters and ``outside_seen`` are this process's.
        """
        names = list(self._local)
        keys = [key for name in names
                for key in (self.key(f"pool:{name}"), self.key(f"pause:{name}"),
                            self.key(f"hold:{name}"))]
        specs = [self._local[name].spec for name in names]
        args = [_ms(spec.period + self.limits.guard) for spec in specs]
        try:
            raw = [int(x) for x in await self._scripts.stats(keys, args)]
        except _redis_errors() as exc:
            raise _unusable(exc) from exc
        mine = self.stats()
        pools = {}
        for i, spec in enumerate(specs):
            flight, held, pause_ms, hold = raw[4 * i: 4 * i + 4]
            pools[spec.name] = PoolStats(spec.name, spec.limit, spec.period, flight, held,
                                         max(0, spec.limit - flight - held - hold), hold,
                                         pause_ms / 1000)
        return LimiterStats(pools, mine.waiting, mine.granted, mine.pauses, mine.outside_seen)

    # -- acquiring ----------------------------------------------------------------------------

    def _ticket(self, endpoint: Endpoint, priority: Priority = "normal") -> RedisTicket:
        """A new ticket with a process-unique id."""
        key = (endpoint.name, LEVELS[priority])
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _Plan(self, endpoint, key[1])
        tid = f"{self._token}:{next(self._seq)}"
        return RedisTicket(endpoint.name, endpoint.pools, tid, plan, priority)

    async def _wait(self, ticket: RedisTicket) -> RedisTicket:
        """Ask Redis until the ticket is granted; sleep as long as Redis says in between."""
        backoff = _FIRST_RETRY
        while True:
            # the lane's waiters count towards a strategy endpoint's reserve, as in-process
            answer = await self._ask(ticket, self._queued.get((ticket.endpoint, ticket.level), 1))
            if answer[0]:
                self._granted(ticket, answer)
                return ticket
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
        plan = ticket.plan
        call = asyncio.ensure_future(self._scripts.acquire(
            plan.acquire_keys, [ticket.tid, *plan.acquire_args, max(1, queued)]))
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
        if int(call.result()[0]):
            # granted in Redis only: this process never counted it, so only Redis gives it back
            self._spawn(self._scripts.release(ticket.plan.release_keys, [ticket.tid]))
        else:
            self._dequeue(ticket)

    def _granted(self, ticket: RedisTicket, answer: Sequence[int]) -> None:
        """Mark the ticket granted and keep each pool's (used, count) for ``observe``."""
        ticket.granted = True
        for i, pool in enumerate(ticket.pools):
            ticket.snapshot[pool] = (answer[3 + 2 * i], answer[4 + 2 * i])

    def _dequeue(self, ticket: RedisTicket) -> None:
        """Take a waiter that gave up out of the queue."""
        self._spawn(self._scripts.dequeue(ticket.plan.queue_keys, [ticket.tid]))

    def _match(self, ticket: Ticket, limit: int | None, interval_ms: int | None) -> str | None:
        """The ticket's pool whose limit and window the headers describe."""
        full = {name: self.limits.full(name) for name in ticket.pools}
        mine = {name: self.limits.spec(name).limit for name in ticket.pools}
        return policy.match_pool(ticket.pools, full, mine, limit, interval_ms)

    # -- background calls and the fallback ----------------------------------------------------

    def _spawn(self, call: Coroutine[Any, Any, Any]) -> None:
        """Run a fire-and-forget script call; ``flush`` and ``close`` wait for it."""
        task = asyncio.ensure_future(self._quietly(call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _quietly(self, call: Coroutine[Any, Any, Any]) -> None:
        """Await a script call; if Redis fails, the slots' leases expire by themselves."""
        try:
            await call
        except _redis_errors() as exc:
            log.warning("Redis call failed (held slots expire after their lease): %s", exc)

    def _use_fallback(self) -> bool:
        """True while Redis is considered down."""
        if self._down_until is None:
            return False
        if asyncio.get_running_loop().time() < self._down_until:
            return True
        self._down_until = None
        log.info("trying Redis again for account %s", self.account)
        return False

    def _went_down(self, exc: BaseException) -> None:
        """Switch to the in-process fallback for ``retry_after`` seconds."""
        self._down_until = asyncio.get_running_loop().time() + self.retry_after
        log.warning("Redis unusable (%s); limiting in-process with %r for %.1f s",
                    exc, self._fallback.limits if self._fallback else None, self.retry_after)

    def _fallback_of(self, ticket: Ticket) -> RateLimiter:
        """The fallback limiter that granted ``ticket``."""
        if self._fallback is None:
            raise TypeError(f"not a ticket of this limiter: {ticket!r}")
        return self._fallback


def _make_client(redis: str | Redis) -> tuple[Redis, bool]:
    """The Redis client to use, and whether this limiter owns it."""
    if not isinstance(redis, str):
        return redis, False
    try:
        from redis.asyncio import Redis
    except ImportError:
        raise RateLimiterError(
            "RedisLimiter needs redis-py: pip install 'htx_cancel[redis]'") from None
    client: Redis = Redis.from_url(redis, socket_connect_timeout=1.0, socket_timeout=2.0)
    return client, True


def _unusable(exc: BaseException) -> RateLimiterError:
    """The error raised when Redis cannot be used and there is no fallback."""
    return RateLimiterError(f"the Redis rate limiter cannot reach Redis "
                            f"({type(exc).__name__}: {exc}); no request was sent")
