"""The fake exchange in a process of its own, driven over a pipe.

The server's CPU must not count against the client being measured, so it runs in a separate
(spawned) process. The parent sends small commands (start an exchange with options, seed
orders, read counters) and the child answers; the child never outlives the parent's ``with``.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["ExchangeOptions", "ExchangeProcess", "ExchangeStats"]

ACCESS_KEY = "bench-access"
SECRET_KEY = "bench-secret"
CONTRACT = "BTC-USDT"
_REPLY_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class ExchangeOptions:
    """How to configure the fake exchange for one scenario (picklable)."""

    trade_limit: tuple[int, float] = (72, 3.0)
    strategy_limit: tuple[int, float] = (5, 1.0)
    window: str = "sliding"
    rate_limits: bool = True
    jitter: tuple[float, float] = (0.0, 0.0)  # uniform arrival latency, seconds
    seed: int = 1
    algo_limit: tuple[int, float] | None = None  # v5 algo cancels' own pool ("algo")


@dataclass(slots=True)
class ExchangeStats:
    """What the exchange counted since it started (or since ``clear``)."""

    requests: int = 0
    accepted: int = 0
    rejected_1032: int = 0
    max_in_window: dict[str, int] = field(default_factory=dict)
    rejected_by_endpoint: dict[str, int] = field(default_factory=dict)
    open_orders: int = 0


def _latency(jitter: tuple[float, float], seed: int) -> float | Callable[[], float]:
    lo, hi = jitter
    if hi <= 0:
        return 0.0
    rng = random.Random(seed)
    return lambda: rng.uniform(lo, hi)


async def _child_main(conn: Connection) -> None:
    """Serve commands until told to stop or the parent goes away."""
    from htx_cancel.testing import FakeExchange

    loop = asyncio.get_running_loop()
    exchange: FakeExchange | None = None
    try:
        while True:
            try:
                cmd, args = await loop.run_in_executor(None, conn.recv)
            except (EOFError, OSError):
                return
            reply: Any = None
            try:
                if cmd == "start":
                    if exchange is not None:
                        await exchange.close()
                        exchange = None
                    opts: ExchangeOptions = args
                    exchange = FakeExchange(
                        {ACCESS_KEY: SECRET_KEY},
                        trade_limit=opts.trade_limit,
                        strategy_limit=opts.strategy_limit,
                        window=opts.window,  # type: ignore[arg-type]
                        rate_limits=opts.rate_limits,
                        latency=_latency(opts.jitter, opts.seed),
                        seed=opts.seed,
                        algo_limit=opts.algo_limit,
                    )
                    await exchange.start()
                    reply = exchange.base_url
                elif cmd == "seed":
                    assert exchange is not None
                    kind, n = args
                    reply = exchange.seed(CONTRACT, kind, "isolated", n)
                elif cmd == "stats":
                    assert exchange is not None
                    pools = ["trade", *args]
                    by_endpoint: dict[str, int] = {}
                    for r in exchange.requests:
                        if r.err_code == 1032 and not r.accepted:
                            name = r.endpoint or "?"
                            by_endpoint[name] = by_endpoint.get(name, 0) + 1
                    reply = ExchangeStats(
                        requests=len(exchange.requests),
                        accepted=sum(1 for r in exchange.requests if r.accepted),
                        rejected_1032=exchange.rejected_1032,
                        max_in_window={p: exchange.max_in_window(p) for p in pools},
                        rejected_by_endpoint=by_endpoint,
                        open_orders=len(exchange.open_ids()),
                    )
                elif cmd == "timings":
                    assert exchange is not None
                    reply = [(r.arrival, r.answered, r.accepted) for r in exchange.requests]
                elif cmd == "clear":
                    assert exchange is not None
                    exchange.clear_records()
                    exchange.reset_orders()
                elif cmd == "stop":
                    conn.send(("ok", None))
                    return
                else:
                    raise ValueError(f"unknown command {cmd!r}")
            except Exception as exc:  # reported to the parent, which raises it
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
                continue
            conn.send(("ok", reply))
    finally:
        if exchange is not None:
            await exchange.close()


def _child(conn: Connection) -> None:
    """Entry point of the spawned process."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_child_main(conn))


class ExchangeProcess:
    """``with ExchangeProcess() as ex: url = ex.start(ExchangeOptions(...))``; always stopped."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self._proc = ctx.Process(target=_child, args=(child_conn,), daemon=True,
                                 name="fake-htx-exchange")
        self._child_conn = child_conn
        self.base_url = ""

    def __enter__(self) -> ExchangeProcess:
        self._proc.start()
        self._child_conn.close()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def _call(self, cmd: str, args: object = None) -> Any:
        self._conn.send((cmd, args))
        if not self._conn.poll(_REPLY_TIMEOUT):
            raise TimeoutError(f"fake exchange did not answer {cmd!r}")
        status, reply = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"fake exchange: {reply}")
        return reply

    def start(self, options: ExchangeOptions) -> str:
        """(Re)start the exchange with ``options``; its base URL."""
        self.base_url = str(self._call("start", options))
        return self.base_url

    def seed(self, n: int, kind: str = "order") -> list[str]:
        """``n`` fresh open orders of ``kind`` on the benchmark contract."""
        ids: list[str] = self._call("seed", (kind, n))
        return ids

    def stats(self, *strategy_pools: str) -> ExchangeStats:
        """Counters; ``max_in_window`` for the trade pool and the named strategy pools."""
        stats: ExchangeStats = self._call("stats", list(strategy_pools))
        return stats

    def timings(self) -> list[tuple[float, float | None, bool]]:
        """(arrival, answered, accepted) of every request since the start or ``clear``, on the
        exchange's monotonic clock."""
        timings: list[tuple[float, float | None, bool]] = self._call("timings")
        return timings

    def clear(self) -> None:
        """Forget records, limiter arrivals and orders."""
        self._call("clear")

    def close(self) -> None:
        """Stop the child, politely then firmly."""
        if self._proc.pid is None:
            return
        if self._proc.is_alive():
            with contextlib.suppress(Exception):
                self._conn.send(("stop", None))
                self._conn.poll(5.0)
            self._proc.join(5.0)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(2.0)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(2.0)
        self._conn.close()
